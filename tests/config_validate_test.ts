/**
 * Schema and semantic validation against the configs in tests/configs: every good
 * config loads; every bad config yields exactly the problems listed at its end as
 * `# expect: LINE:COL message-start` lines.
 */
import assert from "node:assert/strict";
import { ConfigError, type ConfigProblem, loadConfig, parseConfigText } from "../lib/config/mod.ts";
import { checkSemantics, isLoopbackHost } from "../lib/config/validate.ts";

const CONFIGS = new URL("./configs/", import.meta.url);

async function yamlFiles(dir: URL): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile && entry.name.endsWith(".yaml")) names.push(entry.name);
  }
  return names.sort();
}

async function problemsOfFile(path: string): Promise<ConfigProblem[]> {
  try {
    await loadConfig(path, { env: {} });
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

const goodFiles = await yamlFiles(new URL("good/", CONFIGS));
const badFiles = await yamlFiles(new URL("bad/", CONFIGS));

Deno.test("tests/configs holds good and bad configs", () => {
  assert.ok(goodFiles.length >= 4, `good configs: ${goodFiles}`);
  assert.ok(badFiles.length >= 15, `bad configs: ${badFiles}`);
});

for (const name of goodFiles) {
  Deno.test(`good config ${name} validates`, async () => {
    const path = new URL(`good/${name}`, CONFIGS).pathname;
    assert.deepEqual(await problemsOfFile(path), []);
  });
}

for (const name of badFiles) {
  Deno.test(`bad config ${name} fails with the expected FILE:LINE:COL problems`, async () => {
    const path = new URL(`bad/${name}`, CONFIGS).pathname;
    const text = await Deno.readTextFile(path);
    const expected = [...text.matchAll(/^# expect: (\d+):(\d+) (.+)$/gm)].map((m) => ({
      at: `${m[1]}:${m[2]}`,
      start: m[3],
    }));
    assert.ok(expected.length > 0, `${name} lists no '# expect:' lines`);
    const problems = await problemsOfFile(path);
    assert.deepEqual(
      problems.map((p) => `${p.line}:${p.col}`),
      expected.map((e) => e.at),
      problems.map((p) => `${p.line}:${p.col} ${p.message}`).join("\n"),
    );
    problems.forEach((problem, i) => {
      assert.equal(problem.file, path);
      assert.ok(
        problem.message.startsWith(expected[i].start),
        `problem ${i}: '${problem.message}' should start with '${expected[i].start}'`,
      );
    });
  });
}

/** The problems of an inline config, as `LINE:COL message` (hint after ` | `). */
async function check(text: string): Promise<string[]> {
  try {
    await parseConfigText(text, "c.yaml", { env: {} });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.problems.map((p) =>
      `${p.line}:${p.col} ${p.message}${p.hint ? ` | ${p.hint}` : ""}`
    );
  }
  return [];
}

Deno.test("misspelt keys suggest the nearest valid key, at every level", async () => {
  const problems = await check(`agents:
  root:
    modle: openai/gpt-4o
    model: openai/gpt-4o
    toolsets:
      - tpye: think
        type: think
`);
  assert.deepEqual(problems, [
    "3:5 unknown key 'modle' in agents.root | did you mean 'model'?",
    "6:9 unknown key 'tpye' in agents.root.toolsets[0] | did you mean 'type'?",
  ]);
});

Deno.test("no root agent: the problem says which agents exist", async () => {
  const problems = await check(
    "agents:\n  Root: { model: openai/gpt-4o }\n  b: { model: openai/gpt-4o }\n",
  );
  assert.deepEqual(problems, [
    "1:1 no agent is named 'root' (agents: Root, b) | commands run 'root' unless given " +
    "--agent; did you mean to name 'Root' root?",
  ]);
});

Deno.test("a sub-agent cycle is reported once, at the link that closes it", async () => {
  const problems = await check(`agents:
  root: { model: openai/gpt-4o, sub_agents: [a, b] }
  a: { model: openai/gpt-4o, sub_agents: [b] }
  b: { model: openai/gpt-4o, sub_agents: [a] }
`);
  assert.deepEqual(problems, [
    "4:43 sub-agents form a cycle: a → b → a | remove 'a' from the sub_agents of 'b' " +
    "(or another link of the cycle)",
  ]);
});

Deno.test("sub-agent trees without cycles (shared children) are fine", async () => {
  assert.deepEqual(
    await check(`agents:
  root: { model: openai/gpt-4o, sub_agents: [a, b] }
  a: { model: openai/gpt-4o, sub_agents: [c] }
  b: { model: openai/gpt-4o, sub_agents: [c] }
  c: { model: openai/gpt-4o }
`),
    [],
  );
});

Deno.test("oauth on a non-mcp toolset is refused; on an mcp remote it is fine", async () => {
  const base = (type: string) =>
    `agents:\n  root:\n    model: openai/gpt-4o\n    toolsets:\n      - type: ${type}\n` +
    `        remote: { url: "https://a.example.com/mcp", oauth: { clientId: x } }\n`;
  assert.deepEqual(await check(base("mcp")), []);
  const problems = await check(base("shell"));
  assert.equal(problems.length, 1);
  assert.match(problems[0], /^6:9 'remote' applies only to toolsets of type mcp/);
});

Deno.test("client_credentials with a private key and a client id is fine", async () => {
  const text = `agents:
  root:
    model: openai/gpt-4o
    toolsets:
      - type: mcp
        remote:
          url: https://a.example.com/mcp
          oauth: { grantType: client_credentials, clientId: bot, privateKeyFile: k.pem }
`;
  assert.deepEqual(await check(text), []);
});

Deno.test("checkSemantics tolerates data of any shape (the schema reports it)", () => {
  for (
    const data of [
      null,
      42,
      [],
      { agents: [] },
      { agents: { root: null } },
      { agents: { root: { toolsets: [null, 3, { type: 7 }, { type: "mcp", remote: [] }] } } },
      { agents: { root: { sub_agents: [null, 1, "root"] } }, models: [] },
    ]
  ) {
    assert.doesNotThrow(() => checkSemantics(data), JSON.stringify(data));
  }
});

Deno.test("loopback hosts: 127.0.0.0/8, ::1 and localhost only", () => {
  for (const host of ["127.0.0.1", "127.1.2.3", "localhost", "[::1]", "::1", "LOCALHOST"]) {
    assert.ok(isLoopbackHost(host), host);
  }
  for (const host of ["128.0.0.1", "localhost.example.com", "10.0.0.1", "[::2]", "0.0.0.0"]) {
    assert.ok(!isLoopbackHost(host), host);
  }
});
