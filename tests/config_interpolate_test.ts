/** Environment interpolation: syntax, defaults, escapes, and positions of problems. */
import assert from "node:assert/strict";
import { interpolate, interpolateString } from "../lib/config/interpolate.ts";
import { ConfigError, type ConfigProblem, parseConfigText } from "../lib/config/mod.ts";

const env: Record<string, string | undefined> = { TEAM: "blue", EMPTY: "", SECRET: "s3cret" };
const options = { lookup: (name: string) => env[name] };

Deno.test("${env.NAME} and ${NAME} are replaced; text around them is kept", () => {
  assert.deepEqual(interpolateString("team-${env.TEAM}/${TEAM}!", options), {
    value: "team-blue/blue!",
    problems: [],
  });
});

Deno.test("${NAME:-default} uses the default when unset or empty, as sh does", () => {
  assert.equal(interpolateString("${NOPE:-fallback}", options).value, "fallback");
  assert.equal(interpolateString("${EMPTY:-fallback}", options).value, "fallback");
  assert.equal(interpolateString("${env.TEAM:-fallback}", options).value, "blue");
  assert.equal(interpolateString("${NOPE:-}", options).value, "");
  assert.equal(interpolateString("${NOPE:-a:b/c d}", options).value, "a:b/c d");
});

Deno.test("an empty but set variable without a default is empty, not missing", () => {
  assert.deepEqual(interpolateString("[${EMPTY}]", options), { value: "[]", problems: [] });
});

Deno.test("$${ is a literal ${ and is not interpolated", () => {
  assert.deepEqual(interpolateString("cost: $${TEAM} and $$ and $x", options), {
    value: "cost: ${TEAM} and $$ and $x",
    problems: [],
  });
});

Deno.test("a missing variable is a problem naming it; the reference is left as written", () => {
  const result = interpolateString("Bearer ${env.TOKEN}", options, ["headers", "Auth"]);
  assert.equal(result.value, "Bearer ${env.TOKEN}");
  assert.equal(result.problems.length, 1);
  assert.deepEqual(result.problems[0].path, ["headers", "Auth"]);
  assert.equal(result.problems[0].token, "${env.TOKEN}");
  assert.match(result.problems[0].message, /environment variable TOKEN is not set/);
  assert.match(result.problems[0].hint ?? "", /\$\{TOKEN:-value\}/);
});

Deno.test("malformed references are problems", () => {
  for (const input of ["${}", "${1X}", "${A B}", "${env.}", "${A:-${B}}", "open ${A"]) {
    const result = interpolateString(input, options);
    assert.equal(result.problems.length, 1, input);
  }
  assert.match(interpolateString("open ${A", options).problems[0].message, /unterminated/);
});

Deno.test("preserve keeps chosen references for later (e.g. ${callbackPort})", () => {
  const preserve = (path: (string | number)[], name: string) =>
    name === "callbackPort" && path.at(-1) === "callbackRedirectURL";
  const kept = interpolateString("https://x/${callbackPort}/cb", { ...options, preserve }, [
    "callbackRedirectURL",
  ]);
  assert.deepEqual(kept, { value: "https://x/${callbackPort}/cb", problems: [] });
  const elsewhere = interpolateString("${callbackPort}", { ...options, preserve }, ["url"]);
  assert.equal(elsewhere.problems.length, 1);
});

Deno.test("interpolate walks maps and lists, touching strings only, without mutating", () => {
  const data = { a: ["${TEAM}", 1, true, null], b: { "${TEAM}": "x${TEAM}" } };
  const result = interpolate(data, options);
  assert.deepEqual(result.value, { a: ["blue", 1, true, null], b: { "${TEAM}": "xblue" } });
  assert.equal(data.a[0], "${TEAM}");
  const missing = interpolate({ list: ["ok", "${NOPE}"] }, options);
  assert.deepEqual(missing.problems.map((p) => p.path), [["list", 1]]);
});

async function problemsOf(
  text: string,
  fakeEnv: Record<string, string | undefined>,
): Promise<ConfigProblem[]> {
  try {
    await parseConfigText(text, "i.yaml", { env: fakeEnv });
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  assert.fail("expected a ConfigError");
}

const REMOTE = `agents:
  root:
    model: openai/gpt-4o
    instruction: |
      Line one.
      Team: \${env.TEAM}, owner \${OWNER}.
    toolsets:
      - type: mcp
        remote:
          url: "\${MCP_URL:-https://mcp.example.com/mcp}"
          headers: { Authorization: "Bearer \${env.TOKEN}" }
          oauth:
            clientId: abc
            clientSecret: \${SECRET}
            callbackRedirectURL: https://tunnel.example.com:\${callbackPort}/cb
`;

Deno.test("loaded configs are interpolated everywhere; ${callbackPort} is kept", async () => {
  const loaded = await parseConfigText(REMOTE, "i.yaml", {
    env: { TEAM: "blue", OWNER: "ann", TOKEN: "t0k", SECRET: "s3" },
  });
  const root = loaded.config.agents.root;
  assert.equal(root.instruction, "Line one.\nTeam: blue, owner ann.\n");
  const remote = root.toolsets?.[0].remote;
  assert.equal(remote?.url, "https://mcp.example.com/mcp");
  assert.equal(remote?.headers?.Authorization, "Bearer t0k");
  assert.equal(remote?.oauth?.clientSecret, "s3");
  assert.equal(remote?.oauth?.callbackRedirectURL, "https://tunnel.example.com:${callbackPort}/cb");
});

Deno.test("missing variables: each named at the exact line:col of its reference", async () => {
  const problems = await problemsOf(REMOTE, { TEAM: "blue" });
  assert.deepEqual(
    problems.map((p) => `${p.line}:${p.col}: ${p.message}`),
    [
      "6:32: agents.root.instruction: environment variable OWNER is not set (used as ${OWNER})",
      "11:45: agents.root.toolsets[0].remote.headers.Authorization: environment variable TOKEN " +
      "is not set (used as ${env.TOKEN})",
      "14:27: agents.root.toolsets[0].remote.oauth.clientSecret: environment variable SECRET " +
      "is not set (used as ${SECRET})",
    ],
  );
});

Deno.test("an unresolved value is not also reported by the checks of that value", async () => {
  const text = `agents:
  root:
    model: openai/gpt-4o
    toolsets:
      - type: mcp
        remote:
          url: \${MCP_URL}
`;
  const problems = await problemsOf(text, {});
  // Only the missing variable: not also "url is not a valid URL".
  assert.deepEqual(problems.map((p) => `${p.line}:${p.col}`), ["7:16"]);
  assert.match(problems[0].message, /MCP_URL is not set/);
});

Deno.test("interpolated values are validated: a bad URL from the environment is caught", async () => {
  const text = `agents:
  root:
    model: openai/gpt-4o
    toolsets:
      - type: mcp
        remote:
          url: \${MCP_URL}
`;
  const problems = await problemsOf(text, { MCP_URL: "not a url" });
  assert.deepEqual(problems.map((p) => `${p.line}:${p.col}: ${p.message}`), [
    "7:16: agents.root.toolsets[0].remote.url is not a valid URL",
  ]);
});

Deno.test("the process environment is used when no env option is given", async () => {
  const name = "DAGENT_TEST_INTERPOLATE_TEAM";
  Deno.env.set(name, "green");
  try {
    const loaded = await parseConfigText(
      `agents:\n  root:\n    model: openai/gpt-4o\n    description: \${${name}}\n`,
      "p.yaml",
    );
    assert.equal(loaded.config.agents.root.description, "green");
  } finally {
    Deno.env.delete(name);
  }
});
