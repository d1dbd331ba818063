/**
 * `dagent exec` and `dagent run` end to end, as subprocesses: a scripted model server
 * speaking the real OpenAI wire format drives the agent; tools come from the bundled stdio
 * MCP server and from an OAuth-protected MCP fixture signed in with --yes and a scripted
 * browser. Also --record then --replay with the model server gone.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { startScriptedModelServer } from "../fixtures/models/scripted_server.ts";
import type { ScriptedServer, ScriptedTurn } from "../fixtures/models/scripted_server.ts";
import { startOAuthScenario } from "../fixtures/oauth/mod.ts";
import { type CliRun, MAIN, runDagent } from "./helpers/cli.ts";

const STDIO_SERVER = fileURLToPath(new URL("../fixtures/mcp/stdio_server.ts", import.meta.url));
const BROWSER = `${Deno.execPath()} run --allow-net ${
  fileURLToPath(new URL("../fixtures/oauth/browser_cli.ts", import.meta.url))
}`;
const KEY = "sk-test-not-a-real-key";

function config(extra = ""): string {
  return `version: "2"
models:
  scripted:
    provider: openai
    model: scripted-1
    base_url: \${MODEL_URL}
    token_key: TEST_MODEL_KEY
agents:
  root:
    model: scripted
    instruction: Use your tools.
    max_iterations: 3
    sub_agents: [helper]
    toolsets:
${extra}
      - type: mcp
        name: local
        command: ${Deno.execPath()}
        args: ["run", "${STDIO_SERVER}"]
  helper:
    model: scripted
    description: Adds numbers.
    toolsets:
      - type: mcp
        name: local
        tools: [add]
        command: ${Deno.execPath()}
        args: ["run", "${STDIO_SERVER}"]
`;
}

async function withRun(
  script: ScriptedTurn[],
  extraConfig: string,
  run: (ctx: {
    model: ScriptedServer;
    dagent: (args: string[], env?: Record<string, string>) => Promise<CliRun>;
    configPath: string;
    home: string;
  }) => Promise<void>,
): Promise<void> {
  const model = startScriptedModelServer({ script, apiKey: KEY });
  const home = await Deno.makeTempDir({ prefix: "dagent-run-" });
  const configPath = `${home}/agent.yaml`;
  await Deno.writeTextFile(configPath, config(extraConfig));
  const dagent = (args: string[], env: Record<string, string> = {}) =>
    runDagent(args, {
      env: {
        MODEL_URL: model.openaiBaseUrl,
        TEST_MODEL_KEY: KEY,
        DAGENT_HOME: `${home}/dagent`,
        DAGENT_KEYCHAIN: "off",
        ...env,
      },
    });
  try {
    await run({ model, dagent, configPath, home });
  } finally {
    await model.close();
    await Deno.remove(home, { recursive: true });
  }
}

/** The messages the model received in request `index`. */
function messagesOf(model: ScriptedServer, index: number): Array<Record<string, unknown>> {
  return model.requests[index].body!.messages as Array<Record<string, unknown>>;
}

Deno.test("exec: a read-only tool runs, its result reaches the model, the answer goes to stdout", async () => {
  await withRun(
    [
      { toolCalls: [{ name: "echo", arguments: { text: "ping" } }] },
      { text: "The server said ping." },
    ],
    "",
    async ({ model, dagent, configPath }) => {
      const outcome = await dagent(["exec", configPath, "echo ping please"]);
      assert.equal(outcome.code, 0, outcome.stderr);
      assert.equal(outcome.stdout, "The server said ping.\n");
      assert.match(outcome.stderr, /→ local\.echo \{"text":"ping"\}/);
      const second = messagesOf(model, 1);
      const toolMessage = second.find((m) => m.role === "tool");
      assert.equal(toolMessage?.content, "ping");
      assert.ok(!outcome.stderr.includes(KEY) && !outcome.stdout.includes(KEY));
    },
  );
});

Deno.test("exec: without a terminal or --yolo a tool call needing approval is rejected, and the model is told", async () => {
  await withRun(
    [
      { toolCalls: [{ name: "fail", arguments: { reason: "x" } }] },
      { text: "I was not allowed to." },
    ],
    "",
    async ({ model, dagent, configPath }) => {
      const outcome = await dagent(["exec", configPath, "try it"]);
      assert.equal(outcome.code, 0, outcome.stderr);
      assert.match(outcome.stderr, /✗ fail: the tool call fail was not run/);
      const toolMessage = messagesOf(model, 1).find((m) => m.role === "tool");
      assert.match(String(toolMessage?.content), /--yolo/);
    },
  );
});

Deno.test("exec --yolo runs it; --json streams typed events", async () => {
  await withRun(
    [
      {
        toolCalls: [
          { name: "add", arguments: { a: 2, b: 3 } },
          { name: "slow", arguments: { ms: 1 } },
        ],
      },
      { text: "5" },
    ],
    "",
    async ({ dagent, configPath }) => {
      const outcome = await dagent(["exec", configPath, "add", "--yolo", "--json"]);
      assert.equal(outcome.code, 0, outcome.stderr);
      const events = outcome.stdout.trim().split("\n").map((line) => JSON.parse(line));
      const types = events.map((event) => event.type);
      for (
        const type of [
          "turn_start",
          "tool_call",
          "tool_approval",
          "tool_result",
          "usage",
          "turn_end",
        ]
      ) {
        assert.ok(types.includes(type), `missing ${type} in ${types.join(",")}`);
      }
      const approvals = events.filter((event) => event.type === "tool_approval");
      assert.deepEqual(approvals.map((event) => [event.tool, event.by]), [
        ["add", "read_only"],
        ["slow", "yolo"],
      ]);
      assert.equal(events.find((event) => event.type === "tool_result").text, "5");
      assert.equal(events.at(-1).type, "turn_end");
    },
  );
});

Deno.test("exec: transfer_task runs the sub-agent and returns its answer", async () => {
  await withRun(
    [
      {
        toolCalls: [{ name: "transfer_task", arguments: { agent: "helper", task: "add 1 and 2" } }],
      },
      { toolCalls: [{ name: "add", arguments: { a: 1, b: 2 } }] },
      { text: "helper says 3" },
      { text: "The helper found 3." },
    ],
    "",
    async ({ model, dagent, configPath }) => {
      const outcome = await dagent(["exec", configPath, "delegate", "--yolo"]);
      assert.equal(outcome.code, 0, outcome.stderr);
      assert.equal(outcome.stdout, "The helper found 3.\n");
      assert.match(outcome.stderr, /⇢ helper: add 1 and 2/);
      // The sub-agent only sees its own allow-listed tools.
      const helperTools = (model.requests[1].body!.tools as Array<{ function: { name: string } }>)
        .map((tool) => tool.function.name);
      assert.deepEqual(helperTools, ["add"]);
      const result = messagesOf(model, 3).find((m) => m.role === "tool");
      assert.equal(result?.content, "helper says 3");
    },
  );
});

Deno.test("exec: max_iterations stops the turn with exit 1 and says why", async () => {
  const call = { toolCalls: [{ name: "echo", arguments: { text: "again" } }] };
  await withRun([call, call, call, call], "", async ({ dagent, configPath }) => {
    const outcome = await dagent(["exec", configPath, "loop"]);
    assert.equal(outcome.code, 1);
    assert.match(outcome.stderr, /stopped after 3 tool-call rounds \(max_iterations is 3\)/);
    assert.match(outcome.stderr, /agents\.root\.max_iterations/);
    assert.equal(outcome.stdout, "");
  });
});

Deno.test("exec --yes answers a server's elicitation with the form's defaults", async () => {
  await withRun(
    [
      { toolCalls: [{ name: "ask", arguments: { question: "Deploy?", default: "ship it" } }] },
      { text: "done" },
    ],
    "",
    async ({ model, dagent, configPath }) => {
      const outcome = await dagent(["exec", configPath, "ask me", "--yolo", "--yes"]);
      assert.equal(outcome.code, 0, outcome.stderr);
      const toolMessage = messagesOf(model, 1).find((m) => m.role === "tool");
      assert.equal(toolMessage?.content, "answer: ship it");
    },
  );
});

Deno.test("exec signs in to an OAuth-protected MCP server with --yes, then uses its tool", async () => {
  const scenario = startOAuthScenario("dcr");
  try {
    const extra = `      - type: mcp
        name: protected
        remote:
          url: ${scenario.mcpUrl}`;
    await withRun(
      [
        { toolCalls: [{ name: "whoami", arguments: {} }] },
        { text: "Signed in and called whoami." },
      ],
      extra,
      async ({ model, dagent, configPath }) => {
        const outcome = await dagent(["exec", configPath, "who am I", "--yes", "--yolo"], {
          BROWSER,
        });
        assert.equal(outcome.code, 0, outcome.stderr);
        assert.match(outcome.stderr, /Open this address to sign in to protected/);
        const toolMessage = messagesOf(model, 1).find((m) => m.role === "tool");
        assert.match(String(toolMessage?.content), /"scopes":\["mcp:read"\]/);
        assert.equal(scenario.as.log.countKind("authorize"), 1);
      },
    );
  } finally {
    await scenario.close();
  }
});

Deno.test("--record then --replay reproduces the run without the model server", async () => {
  const home = await Deno.makeTempDir({ prefix: "dagent-replay-" });
  const recording = `${home}/run.jsonl`;
  let recordedConfig = "";
  try {
    await withRun(
      [
        { toolCalls: [{ name: "add", arguments: { a: 20, b: 22 } }] },
        { text: "It is 42." },
      ],
      "",
      async ({ dagent, configPath }) => {
        const outcome = await dagent(["exec", configPath, "add", "--yolo", "--record", recording]);
        assert.equal(outcome.code, 0, outcome.stderr);
        assert.equal(outcome.stdout, "It is 42.\n");
        recordedConfig = await Deno.readTextFile(configPath);
        assert.ok(!(await Deno.readTextFile(recording)).includes(KEY), "no key in the recording");
      },
    );
    // The model server is gone now; no key is needed either.
    const configPath = `${home}/agent.yaml`;
    await Deno.writeTextFile(configPath, recordedConfig);
    const replay = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-all",
        MAIN,
        "exec",
        configPath,
        "add",
        "--yolo",
        "--replay",
        recording,
      ],
      env: { MODEL_URL: "http://127.0.0.1:9/v1", NO_COLOR: "1", DAGENT_HOME: `${home}/dagent` },
      stdin: "null",
    }).output();
    const decoder = new TextDecoder();
    assert.equal(replay.code, 0, decoder.decode(replay.stderr));
    assert.equal(decoder.decode(replay.stdout), "It is 42.\n");

    const diverged = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-all",
        MAIN,
        "exec",
        configPath,
        "subtract",
        "--yolo",
        "--replay",
        recording,
      ],
      env: { MODEL_URL: "http://127.0.0.1:9/v1", NO_COLOR: "1", DAGENT_HOME: `${home}/dagent` },
      stdin: "null",
    }).output();
    assert.equal(diverged.code, 1);
    assert.match(decoder.decode(diverged.stderr), /diverged from the recording at exchange 1/);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("run: piped messages, /reset and /exit", async () => {
  await withRun(
    [
      { text: "first answer" },
      { text: "second answer" },
    ],
    "",
    async ({ model, configPath }) => {
      const child = new Deno.Command(Deno.execPath(), {
        args: ["run", "--allow-all", MAIN, "run", configPath, "hello"],
        env: {
          MODEL_URL: model.openaiBaseUrl,
          TEST_MODEL_KEY: KEY,
          NO_COLOR: "1",
          DAGENT_KEYCHAIN: "off",
        },
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const writer = child.stdin.getWriter();
      await writer.write(new TextEncoder().encode("/reset\nagain\n/exit\nnever sent\n"));
      await writer.close();
      const output = await child.output();
      const stdout = new TextDecoder().decode(output.stdout);
      assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
      assert.equal(stdout, "first answer\nsecond answer\n");
      assert.equal(model.requests.length, 2);
      // After /reset the second request carries only the new message.
      const messages = messagesOf(model, 1).filter((m) => m.role !== "system");
      assert.deepEqual(messages.map((m) => m.content), ["again"]);
    },
  );
});

Deno.test("exec with audit enabled writes a signed log that verifies, and holds no secrets", async () => {
  await withRun(
    [
      { toolCalls: [{ name: "add", arguments: { a: 1, b: 1 } }] },
      { text: "2" },
    ],
    "",
    async ({ dagent, configPath, home }) => {
      const auditDir = `${home}/audit/`;
      await Deno.writeTextFile(
        configPath,
        (await Deno.readTextFile(configPath)) + `audit:\n  enabled: true\n  path: ${auditDir}\n`,
      );
      const outcome = await dagent(["exec", configPath, "add", "--yolo"]);
      assert.equal(outcome.code, 0, outcome.stderr);
      const [entry] = [...Deno.readDirSync(auditDir)];
      const log = `${auditDir}${entry.name}`;
      const verify = await dagent(["audit", "verify", log]);
      assert.equal(verify.code, 0, verify.stdout + verify.stderr);
      const shown = await dagent(["audit", "show", log, "--json"]);
      const types = JSON.parse(shown.stdout).map((record: { type: string }) => record.type);
      assert.deepEqual(types, [
        "session_start",
        "model_call",
        "tool_call",
        "tool_result",
        "model_call",
        "session_end",
      ]);
      const text = await Deno.readTextFile(log);
      assert.ok(!text.includes(KEY), "the model key never reaches the audit log");
      assert.ok(!text.includes('"a":1'), "arguments are hashed unless include_arguments is set");
    },
  );
});
