/**
 * --record / --replay: a run recorded against the scripted server replays the identical
 * events with the server gone; a changed run fails with a clear divergence error; the key
 * never reaches the file.
 */
import { collect } from "./helpers/streams.ts";
import assert from "node:assert/strict";
import { createProvider } from "../lib/models/resolve.ts";
import {
  compareRequests,
  type RecordedExchange,
  Recorder,
  Replayer,
} from "../lib/models/record.ts";
import type { ChatRequest, ModelProvider, StreamEvent } from "../lib/models/types.ts";
import type { Config } from "../lib/config/types.ts";
import { DagentError } from "../lib/errors.ts";
import { startScriptedModelServer } from "../fixtures/models/scripted_server.ts";

const KEY = "sk-record-test-secret-42424242";

const tools = [{
  name: "lookup",
  description: "Looks things up",
  inputSchema: { type: "object", properties: { q: { type: "string" } } },
}];

/** A two-exchange conversation: a tool call, then the final answer after the tool result. */
async function conversation(provider: ModelProvider): Promise<StreamEvent[][]> {
  const first: ChatRequest = {
    system: "sys",
    messages: [{ role: "user", content: "find x" }],
    tools,
  };
  const events1 = await collect(provider.stream(first));
  const call = events1.find((e) => e.type === "tool_call");
  assert.ok(call?.type === "tool_call");
  const second: ChatRequest = {
    ...first,
    messages: [
      ...first.messages,
      { role: "assistant", content: "", toolCalls: [call.call] },
      { role: "tool", toolCallId: call.call.id, name: "lookup", content: "x is 42" },
    ],
  };
  const events2 = await collect(provider.stream(second));
  return [events1, events2];
}

for (const provider of ["openai", "anthropic"] as const) {
  Deno.test(`record/replay (${provider}): replay yields identical events without the server`, async () => {
    const dir = await Deno.makeTempDir();
    const file = `${dir}/run.jsonl`;
    const server = startScriptedModelServer({
      apiKey: KEY,
      script: [
        { text: "Looking ✓", toolCalls: [{ id: "c1", name: "lookup", arguments: { q: "x" } }] },
        { text: "x is 42 🎉", usage: { input: 40, output: 9 } },
      ],
    });
    const config: Config = {
      agents: {},
      models: {
        m: {
          provider,
          model: "test-model",
          base_url: provider === "openai" ? server.openaiBaseUrl : server.anthropicBaseUrl,
          token_key: "TEST_MODEL_KEY",
        },
      },
    };
    let recorded: StreamEvent[][];
    try {
      const live = createProvider("m", config, {
        env: { TEST_MODEL_KEY: KEY },
        recordPath: file,
      });
      recorded = await conversation(live);
      assert.equal(server.requests.length, 2);
    } finally {
      await server.close();
    }
    const text = await Deno.readTextFile(file);
    assert.ok(!text.includes(KEY), "the API key is not in the recording");
    assert.ok(!/authorization|x-api-key/i.test(text), "no auth headers in the recording");
    const lines = text.trim().split("\n").map((l) => JSON.parse(l) as RecordedExchange);
    assert.deepEqual(lines.map((l) => [l.n, l.provider, l.outcome]), [
      [1, `${provider}/test-model`, "complete"],
      [2, `${provider}/test-model`, "complete"],
    ]);
    assert.equal((await Deno.stat(file)).mode! & 0o777, 0o600);

    // The server is closed: a replay that touched the network would fail.
    const replay = createProvider("m", config, { env: {}, replayPath: file });
    const replayed = await conversation(replay);
    assert.deepEqual(replayed, recorded);
    assert.equal(Replayer.open(file).remaining, 0);
    await Deno.remove(dir, { recursive: true });
  });
}

Deno.test("record/replay: a run that differs fails naming the exchange and the difference", async () => {
  const dir = await Deno.makeTempDir();
  const file = `${dir}/run.jsonl`;
  const server = startScriptedModelServer({ script: [{ text: "one" }, { text: "two" }] });
  const config: Config = {
    agents: {},
    models: { local: { provider: "ollama", model: "llama3", base_url: server.openaiBaseUrl } },
  };
  try {
    const live = createProvider("local", config, { recordPath: file });
    await collect(live.stream({ messages: [{ role: "user", content: "hello" }], tools }));
    await collect(live.stream({
      messages: [
        { role: "user", content: "hello" },
        { role: "assistant", content: "one" },
        { role: "user", content: "again" },
      ],
      tools,
    }));
  } finally {
    await server.close();
  }

  const replayer = new Replayer(file);
  const replay = replayer.provider("ollama/llama3");
  // Same first request (CRLF and trailing space are normalized away).
  const first = await collect(replay.stream({
    messages: [{ role: "user", content: "hello \r\n" }],
    tools,
  }));
  assert.equal(first.find((e) => e.type === "text")?.type, "text");
  await assert.rejects(
    collect(replay.stream({
      messages: [
        { role: "user", content: "hello" },
        { role: "assistant", content: "one" },
        { role: "user", content: "something else" },
      ],
      tools,
    })),
    (err: unknown) => {
      assert.ok(err instanceof DagentError);
      assert.equal(err.code, "model.replay_diverged");
      assert.equal(
        err.message,
        'the run diverged from the recording at exchange 2: messages[2].content: recorded "again", ' +
          'this run sent "something else"',
      );
      return true;
    },
  );

  const other = new Replayer(file).provider("openai/gpt-4o");
  await assert.rejects(
    collect(other.stream({ messages: [{ role: "user", content: "hello" }], tools })),
    /exchange 1: model: recorded ollama\/llama3, this run uses openai\/gpt-4o/,
  );

  const extra = new Replayer(file);
  const p = extra.provider("ollama/llama3");
  await collect(p.stream({ messages: [{ role: "user", content: "hello" }], tools }));
  await assert.rejects(
    collect(p.stream({
      messages: [
        { role: "user", content: "hello" },
        { role: "assistant", content: "one" },
        { role: "user", content: "again" },
      ],
      tools: [],
    })),
    /exchange 2: tools: this run sent 0 entries, the recording has 1/,
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("record/replay: a recorded error is replayed as the same DagentError", async () => {
  const dir = await Deno.makeTempDir();
  const file = `${dir}/run.jsonl`;
  const server = startScriptedModelServer({ apiKey: "right-key-xyz", script: [{ text: "x" }] });
  const config: Config = {
    agents: {},
    models: { m: { provider: "openai", model: "gpt-x", base_url: server.openaiBaseUrl } },
  };
  let live: DagentError | undefined;
  try {
    const p = createProvider("m", config, {
      env: { OPENAI_API_KEY: "wrong-key-abc" },
      recordPath: file,
    });
    await collect(p.stream({ messages: [{ role: "user", content: "hi" }], tools: [] })).catch(
      (err) => (live = err),
    );
  } finally {
    await server.close();
  }
  assert.ok(live instanceof DagentError);
  assert.ok(!(await Deno.readTextFile(file)).includes("wrong-key-abc"));
  const replay = new Replayer(file).provider("openai/gpt-x");
  await assert.rejects(
    collect(replay.stream({ messages: [{ role: "user", content: "hi" }], tools: [] })),
    (err: unknown) =>
      err instanceof DagentError && err.code === live!.code && err.message === live!.message,
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("record/replay: a missing or corrupt recording is a clear error", async () => {
  const dir = await Deno.makeTempDir();
  assert.throws(() => new Replayer(`${dir}/nope.jsonl`), /cannot read the recording/);
  await Deno.writeTextFile(`${dir}/bad.jsonl`, '{"v":1}\n');
  assert.throws(
    () => new Replayer(`${dir}/bad.jsonl`),
    /bad\.jsonl:1 is not a recorded model exchange/,
  );
  assert.throws(() => new Recorder(`${dir}/missing-dir/x.jsonl`), /cannot write the recording/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("compareRequests: key order and undefined members do not matter; schemas do", () => {
  const a: ChatRequest = {
    messages: [{ role: "user", content: "x" }],
    tools: [
      { name: "b", inputSchema: { type: "object", properties: {} } },
      { name: "a", inputSchema: { properties: {}, type: "object" } },
    ],
  };
  const b: ChatRequest = {
    messages: [{ content: "x", role: "user" }],
    tools: [
      { name: "a", description: "changed words", inputSchema: { type: "object", properties: {} } },
      { name: "b", inputSchema: { type: "object", properties: {} } },
    ],
  };
  assert.equal(compareRequests(a, b), undefined);
  const c = structuredClone(b);
  c.tools[1].inputSchema = { type: "object", properties: { z: { type: "string" } } };
  assert.match(
    compareRequests(a, c) ?? "",
    /^tools\[1\]\.inputSchema\.properties\.z: recorded nothing/,
  );
});
