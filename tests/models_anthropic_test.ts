/**
 * The Anthropic Messages provider end to end against the scripted model server over real
 * HTTP on 127.0.0.1.
 */
import { collect, text } from "./helpers/streams.ts";
import assert from "node:assert/strict";
import { type AnthropicOptions, createAnthropicProvider } from "../lib/models/anthropic.ts";
import type { ChatRequest } from "../lib/models/types.ts";
import { DagentError } from "../lib/errors.ts";
import {
  type ScriptedServerOptions,
  startScriptedModelServer,
} from "../fixtures/models/scripted_server.ts";

const KEY = "sk-ant-test-abcdef0123456789";

const request: ChatRequest = {
  system: "Be brief.",
  messages: [{ role: "user", content: "Wetter in Zürich?" }],
  tools: [{
    name: "weather",
    description: "Weather by city",
    inputSchema: { type: "object", properties: { city: { type: "string" } } },
  }],
};

async function withServer(
  opts: ScriptedServerOptions,
  fn: (
    server: ReturnType<typeof startScriptedModelServer>,
    provider: (extra?: Partial<AnthropicOptions>) => ReturnType<typeof createAnthropicProvider>,
  ) => Promise<void>,
): Promise<void> {
  const server = startScriptedModelServer({ apiKey: KEY, ...opts });
  try {
    await fn(server, (extra = {}) =>
      createAnthropicProvider({
        id: "anthropic/claude-test",
        model: "claude-test",
        baseUrl: server.anthropicBaseUrl,
        apiKey: KEY,
        retry: { baseDelayMs: 1, maxDelayMs: 5 },
        ...extra,
      }));
  } finally {
    await server.close();
  }
}

Deno.test("anthropic: text streams with usage and the request is in Messages form", async () => {
  const answer = "Es ist sonnig ☀️ und 21 °C — schön!";
  await withServer({
    script: [{ text: answer, usage: { input: 30, output: 12 } }],
    lineEnding: "\r",
  }, async (server, p) => {
    const events = await collect(p({ maxTokens: 256 }).stream(request));
    assert.equal(text(events), answer);
    assert.deepEqual(events.at(-2), { type: "usage", inputTokens: 30, outputTokens: 12 });
    assert.deepEqual(events.at(-1), { type: "done", stopReason: "end_turn" });
    const sent = server.requests[0];
    assert.equal(sent.path, "/v1/messages");
    assert.equal(sent.headers["x-api-key"], KEY);
    assert.equal(sent.headers["anthropic-version"], "2023-06-01");
    assert.equal(sent.headers.authorization, undefined);
    assert.deepEqual(sent.body, {
      model: "claude-test",
      max_tokens: 256,
      stream: true,
      system: "Be brief.",
      messages: [{ role: "user", content: [{ type: "text", text: "Wetter in Zürich?" }] }],
      tools: [{
        name: "weather",
        description: "Weather by city",
        input_schema: { type: "object", properties: { city: { type: "string" } } },
      }],
    });
  });
});

Deno.test("anthropic: tool_use blocks in many input_json deltas, several in one turn", async () => {
  await withServer({
    script: [{
      text: "Checking both.",
      toolCalls: [
        { id: "toolu_1", name: "weather", arguments: { city: "Zürich", units: ["°C"] } },
        { id: "toolu_2", name: "weather", arguments: { city: "東京" } },
      ],
    }],
    argPiece: 1,
    chunkSizes: [3, 1],
  }, async (_server, p) => {
    const events = await collect(p().stream(request));
    assert.equal(text(events), "Checking both.");
    assert.deepEqual(events.flatMap((e) => e.type === "tool_call" ? [e.call] : []), [
      { id: "toolu_1", name: "weather", arguments: { city: "Zürich", units: ["°C"] } },
      { id: "toolu_2", name: "weather", arguments: { city: "東京" } },
    ]);
    assert.deepEqual(events.at(-1), { type: "done", stopReason: "tool_use" });
  });
});

Deno.test("anthropic: tool results are sent as tool_result blocks of one user message", async () => {
  await withServer({ script: [{ text: "done" }] }, async (server, p) => {
    await collect(
      p().stream({
        messages: [
          { role: "user", content: "go" },
          {
            role: "assistant",
            content: "Two calls.",
            toolCalls: [
              { id: "t1", name: "weather", arguments: { city: "A" } },
              { id: "t2", name: "weather", arguments: { city: "B" } },
            ],
          },
          { role: "tool", toolCallId: "t1", name: "weather", content: "sunny" },
          {
            role: "tool",
            toolCallId: "t2",
            name: "weather",
            content: "no such city",
            isError: true,
          },
          { role: "user", content: "and?" },
        ],
        tools: [],
      }),
    );
    const body = server.requests[0].body!;
    assert.deepEqual(body.messages, [
      { role: "user", content: [{ type: "text", text: "go" }] },
      {
        role: "assistant",
        content: [
          { type: "text", text: "Two calls." },
          { type: "tool_use", id: "t1", name: "weather", input: { city: "A" } },
          { type: "tool_use", id: "t2", name: "weather", input: { city: "B" } },
        ],
      },
      {
        role: "user",
        content: [
          { type: "tool_result", tool_use_id: "t1", content: "sunny" },
          { type: "tool_result", tool_use_id: "t2", content: "no such city", is_error: true },
          { type: "text", text: "and?" },
        ],
      },
    ]);
    assert.equal(body.max_tokens, 8192, "the API requires max_tokens; a default is sent");
    assert.equal(body.tools, undefined);
  });
});

Deno.test("anthropic: a wrong key is a clear 401 error without the key", async () => {
  await withServer({ script: [{ text: "never" }] }, async (server, p) => {
    const wrong = "sk-ant-wrong-5555555555";
    await assert.rejects(
      collect(p({ apiKey: wrong, keyHint: "Check ANTHROPIC_API_KEY." }).stream(request)),
      (err: unknown) => {
        assert.ok(err instanceof DagentError);
        assert.equal(err.code, "model.unauthorized");
        assert.match(err.message, /anthropic\/claude-test: the API key was rejected \(HTTP 401/);
        assert.equal(err.hint, "Check ANTHROPIC_API_KEY.");
        assert.ok(!err.message.includes(wrong));
        return true;
      },
    );
    assert.equal(server.requests.length, 1);
  });
});

Deno.test("anthropic: 429 then 529 overloaded are retried, then the answer streams", async () => {
  await withServer({
    script: [{ status: 429, retryAfter: "0" }, { status: 529 }, { text: "third time" }],
  }, async (server, p) => {
    const events = await collect(p().stream(request));
    assert.equal(text(events), "third time");
    assert.equal(server.requests.length, 3);
    const warnings = events.filter((e) => e.type === "warning");
    assert.equal(warnings.length, 2);
  });
});

Deno.test("anthropic: 5xx retries are bounded", async () => {
  await withServer({
    script: [{ status: 500 }, { status: 500 }, { status: 500 }, { status: 500 }, { text: "x" }],
  }, async (server, p) => {
    await assert.rejects(collect(p().stream(request)), (err: unknown) => {
      assert.ok(err instanceof DagentError);
      assert.equal(err.code, "model.server_error");
      assert.match(err.message, /4 attempts/);
      return true;
    });
    assert.equal(server.requests.length, 4, "1 try + 3 retries (the default)");
  });
});

Deno.test("anthropic: an in-band overloaded error event is a DagentError", async () => {
  await withServer({ script: [{ text: "partial", streamError: true }] }, async (_server, p) => {
    await assert.rejects(collect(p().stream(request)), (err: unknown) => {
      assert.ok(err instanceof DagentError);
      assert.equal(err.code, "model.overloaded");
      assert.match(err.message, /mid-stream: Overloaded/);
      return true;
    });
  });
});

Deno.test("anthropic: cancelling mid-stream stops promptly and releases the connection", async () => {
  await withServer({ script: [{ text: "some words then a stall", hang: true }] }, async (
    server,
    p,
  ) => {
    const controller = new AbortController();
    let texts = 0;
    await assert.rejects(
      (async () => {
        for await (const e of p().stream(request, { signal: controller.signal })) {
          if (e.type === "text") {
            texts++;
            controller.abort();
          }
        }
      })(),
      (err: unknown) => err instanceof DOMException && err.name === "AbortError",
    );
    assert.equal(texts, 1);
    await server.disconnected();
  });
});

Deno.test("anthropic: a stream without message_stop is cut off", async () => {
  await withServer({ script: [{ text: "half", cutOff: true }] }, async (_server, p) => {
    await assert.rejects(collect(p().stream(request)), /cut off/);
  });
});

Deno.test("anthropic: max_tokens stop reason is reported", async () => {
  await withServer(
    { script: [{ text: "trunc", stopReason: "max_tokens" }] },
    async (_server, p) => {
      const events = await collect(p().stream(request));
      assert.deepEqual(events.at(-1), { type: "done", stopReason: "max_tokens" });
    },
  );
});
