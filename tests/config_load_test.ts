/**
 * The config loader: every error class gets an exact FILE:LINE:COL, all problems are
 * collected, and positions of valid configs can be looked up.
 */
import assert from "node:assert/strict";
import {
  ConfigError,
  type ConfigProblem,
  formatProblem,
  loadConfig,
  MAX_CONFIG_BYTES,
  parseConfigText,
} from "../lib/config/mod.ts";
import { DagentError, ExitCode } from "../lib/errors.ts";

/** Runs `fn`, which must throw a ConfigError, and returns its problems. */
async function problemsOf(fn: () => unknown): Promise<ConfigProblem[]> {
  try {
    await fn();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  assert.fail("expected a ConfigError");
}

/** The problems as `FILE:LINE:COL: message` lines (hints left out). */
function heads(problems: ConfigProblem[]): string[] {
  return problems.map((p) => `${p.file}:${p.line}:${p.col}: ${p.message}`);
}

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "dagent-config-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const VALID = `version: "2"
agents:
  root:
    model: openai/gpt-4o
    toolsets:
      - type: mcp
        name: remote
        remote:
          url: https://mcp.example.com/mcp
`;

Deno.test("a valid config loads, typed, with positions of its elements", async () => {
  const loaded = await parseConfigText(VALID, "agent.yaml", { env: {} });
  assert.equal(loaded.path, "agent.yaml");
  assert.equal(loaded.config.agents.root.model, "openai/gpt-4o");
  assert.equal(loaded.config.agents.root.toolsets?.[0].remote?.url, "https://mcp.example.com/mcp");
  assert.deepEqual(loaded.locate(["agents", "root", "toolsets", 0, "remote", "url"]), {
    line: 9,
    col: 16,
  });
  assert.deepEqual(loaded.locate(["agents", "root", "toolsets", "0"]), { line: 6, col: 9 });
  assert.deepEqual(loaded.locate([]), { line: 1, col: 1 });
  assert.equal(loaded.locate(["agents", "nobody"]), undefined);
  assert.equal(loaded.locate(["agents", "root", "toolsets", 5]), undefined);
});

Deno.test("missing file: FILE:1:1 no such file", async () => {
  await withTempDir(async (dir) => {
    const file = `${dir}/nope.yaml`;
    const problems = await problemsOf(() => loadConfig(file));
    assert.deepEqual(heads(problems), [`${file}:1:1: no such file`]);
  });
});

Deno.test("a directory: FILE:1:1 and a hint naming the YAML files in it", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/agent.yaml`, VALID);
    const problems = await problemsOf(() => loadConfig(dir));
    assert.deepEqual(heads(problems), [`${dir}:1:1: this is a directory, not a config file`]);
    assert.match(problems[0].hint ?? "", /agent\.yaml/);
  });
});

Deno.test("a huge file is refused from its size, before reading", async () => {
  await withTempDir(async (dir) => {
    const file = `${dir}/huge.yaml`;
    await Deno.writeTextFile(file, "");
    await Deno.truncate(file, MAX_CONFIG_BYTES + 1); // sparse: no 4 MiB written
    const problems = await problemsOf(() => loadConfig(file));
    assert.deepEqual(heads(problems), [
      `${file}:1:1: the file is too large (4.0 MiB; the limit is 4 MiB)`,
    ]);
  });
});

Deno.test("non-UTF-8 bytes: the line and column of the first bad byte", async () => {
  await withTempDir(async (dir) => {
    const file = `${dir}/latin1.yaml`;
    const head = new TextEncoder().encode("agents:\n  root:\n    model: caf");
    await Deno.writeFile(file, new Uint8Array([...head, 0xe9, 0x0a]));
    const problems = await problemsOf(() => loadConfig(file));
    assert.deepEqual(heads(problems), [
      `${file}:3:15: the file is not valid UTF-8 (byte 0xE9 at offset ${head.length})`,
    ]);
    assert.equal(problems[0].hint, "save the file as UTF-8");
  });
});

Deno.test("non-UTF-8 after multi-byte characters counts columns in characters", async () => {
  const bytes = new Uint8Array([
    ...new TextEncoder().encode("# ünïcödé\nagents: é"),
    0xc3, // a lead byte with no continuation
    0x28,
  ]);
  await withTempDir(async (dir) => {
    const file = `${dir}/bad.yaml`;
    await Deno.writeFile(file, bytes);
    const problems = await problemsOf(() => loadConfig(file));
    assert.equal(heads(problems)[0].split(": ")[0], `${file}:2:10`);
  });
});

Deno.test("an empty file and a comments-only file: 1:1 the file is empty", async () => {
  for (const text of ["", "\n\n", "# just a comment\n# and another\n"]) {
    const problems = await problemsOf(() => parseConfigText(text, "empty.yaml", { env: {} }));
    assert.deepEqual(heads(problems), ["empty.yaml:1:1: the file is empty"]);
    assert.match(problems[0].hint ?? "", /agents:/);
  }
});

Deno.test("YAML syntax errors are positioned and stop further checks", async () => {
  const problems = await problemsOf(() =>
    parseConfigText('agents:\n  root:\n    model: "openai/gpt-4o\n', "syntax.yaml", {
      env: {},
    })
  );
  assert.deepEqual(heads(problems), [
    'syntax.yaml:4:1: invalid YAML: Missing closing "quote',
  ]);
  const tabs = await problemsOf(() =>
    parseConfigText("agents:\n  root:\n\tmodel: x\n", "tabs.yaml", { env: {} })
  );
  assert.equal(heads(tabs)[0], "tabs.yaml:3:1: invalid YAML: Tabs are not allowed as indentation");
  assert.match(tabs[0].hint ?? "", /spaces/);
});

Deno.test("a second YAML document is a problem", async () => {
  const problems = await problemsOf(() =>
    parseConfigText("agents: {}\n---\nagents: {}\n", "two.yaml", { env: {} })
  );
  assert.equal(problems[0].line, 2);
  assert.match(problems[0].message, /invalid YAML/);
  assert.match(problems[0].hint ?? "", /one YAML document/);
});

Deno.test("wrong type: the value's position and a hint to quote a number", async () => {
  const text = `agents:
  root:
    model: openai/gpt-4o
    toolsets:
      - type: mcp
        remote:
          url: https://slack.example.com/mcp
          oauth:
            clientId: 1234567890.1234567890
`;
  const problems = await problemsOf(() => parseConfigText(text, "t.yaml", { env: {} }));
  assert.deepEqual(heads(problems), [
    "t.yaml:9:23: agents.root.toolsets[0].remote.oauth.clientId must be a string, not a number",
  ]);
  assert.equal(
    problems[0].hint,
    'quote it to keep it as written: clientId: "1234567890.1234567890"',
  );
  assert.equal(problems[0].path, "agents.root.toolsets[0].remote.oauth.clientId");
});

Deno.test("unknown key: the key's position and 'did you mean' the nearest valid key", async () => {
  const text = "agents:\n  root:\n    model: openai/gpt-4o\n    sub_agent: [x]\n";
  const problems = await problemsOf(() => parseConfigText(text, "k.yaml", { env: {} }));
  assert.deepEqual(heads(problems), ["k.yaml:4:5: unknown key 'sub_agent' in agents.root"]);
  assert.equal(problems[0].hint, "did you mean 'sub_agents'?");
});

Deno.test("unknown key with nothing near it lists the valid keys", async () => {
  const text = "agents:\n  root: { model: openai/gpt-4o }\naudit: { zzzzzz: true }\n";
  const problems = await problemsOf(() => parseConfigText(text, "k.yaml", { env: {} }));
  assert.deepEqual(heads(problems), ["k.yaml:3:10: unknown key 'zzzzzz' in audit"]);
  assert.equal(
    problems[0].hint,
    "valid keys here: enabled, path, include_arguments, include_results",
  );
});

Deno.test("bad reference: the referring value's position and the nearest name", async () => {
  const text = `models:
  sonnet: { provider: anthropic, model: claude-sonnet-4-0 }
agents:
  root:
    model: sonet
    sub_agents: [helpr]
  helper:
    model: sonnet
`;
  const problems = await problemsOf(() => parseConfigText(text, "r.yaml", { env: {} }));
  assert.deepEqual(heads(problems), [
    "r.yaml:5:12: agents.root.model 'sonet' is not a key of 'models' nor a provider/model name",
    "r.yaml:6:18: sub-agent 'helpr' of agent 'root' is not defined in 'agents'",
  ]);
  assert.equal(problems[0].hint, "did you mean 'sonnet'?");
  assert.equal(problems[1].hint, "did you mean 'helper'?");
});

Deno.test("duplicate keys name both places, and checking goes on", async () => {
  const text = "agents:\n  root:\n    model: openai/gpt-4o\n    model: nowhere\n";
  const problems = await problemsOf(() => parseConfigText(text, "d.yaml", { env: {} }));
  assert.deepEqual(heads(problems), [
    "d.yaml:4:5: duplicate key 'model' (first defined at line 3)",
    "d.yaml:4:12: agents.root.model 'nowhere' is not a key of 'models' nor a provider/model name",
  ]);
});

Deno.test("every problem is reported, sorted by position, in one ConfigError", async () => {
  const text = `agents:
  root:
    model: nothing
    max_iterations: many
    toolsets:
      - type: shel
      - type: mcp
`;
  let caught: unknown;
  try {
    await parseConfigText(text, "all.yaml", { env: {} });
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof ConfigError);
  assert.ok(caught instanceof DagentError);
  assert.equal(caught.exitCode, ExitCode.Usage);
  assert.equal(caught.code, "config");
  assert.deepEqual(caught.problems.map((p) => `${p.line}:${p.col}`), [
    "3:12",
    "4:21",
    "6:15",
    "7:9",
  ]);
  // The message alone is a complete report, for commands that only print it.
  assert.match(caught.message, /^invalid config all\.yaml \(4 problems\):\n/);
  for (const problem of caught.problems) assert.ok(caught.message.includes(formatProblem(problem)));
});

Deno.test("formatProblem prints FILE:LINE:COL: message and an indented hint", () => {
  assert.equal(
    formatProblem({ file: "a.yaml", line: 3, col: 7, message: "bad", hint: "fix it" }),
    "a.yaml:3:7: bad\n  hint: fix it",
  );
  assert.equal(
    formatProblem({ file: "a.yaml", line: 1, col: 1, message: "bad" }),
    "a.yaml:1:1: bad",
  );
});

Deno.test("a non-map document is a positioned problem", async () => {
  const problems = await problemsOf(() =>
    parseConfigText("# c\n- agents\n", "list.yaml", { env: {} })
  );
  assert.deepEqual(heads(problems), ["list.yaml:2:1: the config must be a map, not a list"]);
});

Deno.test("CRLF line endings and a BOM keep positions right", async () => {
  const bytes = new Uint8Array([
    0xef,
    0xbb,
    0xbf,
    ...new TextEncoder().encode("agents:\r\n  root:\r\n    modl: x\r\n"),
  ]);
  await withTempDir(async (dir) => {
    const file = `${dir}/crlf.yaml`;
    await Deno.writeFile(file, bytes);
    const problems = await problemsOf(() => loadConfig(file));
    assert.deepEqual(heads(problems), [
      `${file}:2:3: agents.root is missing the required key 'model'`,
      `${file}:3:5: unknown key 'modl' in agents.root`,
    ]);
  });
});

Deno.test("merge keys are expanded and positions found through them", async () => {
  const text = `x-base: &base
  model: openai/gpt-4o
agents:
  root:
    <<: *base
    add_date: true
`;
  const loaded = await parseConfigText(text, "m.yaml", { env: {} });
  assert.equal(loaded.config.agents.root.model, "openai/gpt-4o");
  assert.deepEqual(loaded.locate(["agents", "root", "model"]), { line: 2, col: 10 });
});

Deno.test("an alias bomb is refused with a problem, not expanded", async () => {
  const lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]'];
  for (let i = 1; i < 8; i++) {
    lines.push(`a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(", ")}]`);
  }
  const problems = await problemsOf(() =>
    parseConfigText(lines.join("\n") + "\n", "bomb.yaml", { env: {} })
  );
  assert.equal(problems.length, 1);
  assert.match(problems[0].message, /^the YAML cannot be expanded/);
});

Deno.test("a __proto__ key is an unknown key, not a prototype", async () => {
  const text = "agents:\n  root:\n    model: openai/gpt-4o\n    __proto__: { polluted: true }\n";
  const problems = await problemsOf(() => parseConfigText(text, "p.yaml", { env: {} }));
  assert.deepEqual(heads(problems), ["p.yaml:4:5: unknown key '__proto__' in agents.root"]);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

Deno.test("problems never echo secret values", async () => {
  const text = `agents:
  root:
    model: openai/gpt-4o
    toolsets:
      - type: mcp
        remote:
          url: https://mcp.example.com/mcp
          oauth: { clientSecret: "sup3r-s3cret-value", callbackPort: 99999 }
`;
  let caught: unknown;
  try {
    await parseConfigText(text, "s.yaml", { env: {} });
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof ConfigError);
  assert.equal(caught.problems.length, 2);
  assert.ok(!caught.message.includes("sup3r"));
  assert.ok(!JSON.stringify(caught.problems).includes("sup3r"));
});
