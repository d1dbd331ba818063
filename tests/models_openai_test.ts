/**
 * The OpenAI-compatible provider end to end against the scripted model server over real HTTP
 * on 127.0.0.1: streaming text, tool calls in many deltas, parallel calls, usage, errors,
 * retries and cancellation.
 */
import { collect, text } from "./helpers/streams.ts";
import assert from "node:assert/strict";
import { buildOpenAIBody, createOpenAIProvider, type OpenAIOptions } from "../lib/models/openai.ts";
import type { ChatRequest, StreamEvent } from "../lib/models/types.ts";
import { DagentError } from "../lib/errors.ts";
import {
  type ScriptedServerOptions,
  startScriptedModelServer,
} from "../fixtures/models/scripted_server.ts";

const KEY = "sk-test-0123456789abcdef";

const request: ChatRequest = {
  system: "You are terse.",
  messages: [{ role: "user", content: "Hi ✓ there 🌍" }],
  tools: [{
    name: "lookup",
    description: "Looks things up",
    inputSchema: { type: "object", properties: { q: { type: "string" } } },
  }],
};

async function withServer(
  opts: ScriptedServerOptions,
  fn: (
    server: ReturnType<typeof startScriptedModelServer>,
    provider: (extra?: Partial<OpenAIOptions>) => ReturnType<typeof createOpenAIProvider>,
  ) => Promise<void>,
): Promise<void> {
  const server = startScriptedModelServer({ apiKey: KEY, ...opts });
  try {
    await fn(server, (extra = {}) =>
      createOpenAIProvider({
        id: "openai/gpt-test",
        model: "gpt-test",
        baseUrl: server.openaiBaseUrl,
        apiKey: KEY,
        retry: { baseDelayMs: 1, maxDelayMs: 5 },
        ...extra,
      }));
  } finally {
    await server.close();
  }
}

Deno.test("openai: text streams in order with multi-byte characters split across chunks", async () => {
  const answer = "Grüße — ✓ done 🌍🚀 ok";
  await withServer(
    { script: [{ text: answer, usage: { input: 12, output: 7 } }] },
    async (server, p) => {
      const events = await collect(p({ maxTokens: 100, temperature: 0.2 }).stream(request));
      assert.equal(text(events), answer);
      assert.ok(events.filter((e) => e.type === "text").length > 3, "many deltas");
      assert.deepEqual(events.at(-2), { type: "usage", inputTokens: 12, outputTokens: 7 });
      assert.deepEqual(events.at(-1), { type: "done", stopReason: "end_turn" });
      const sent = server.requests[0];
      assert.equal(sent.path, "/v1/chat/completions");
      assert.equal(sent.headers.authorization, `Bearer ${KEY}`);
      assert.equal(sent.body?.stream, true);
      assert.equal(sent.body?.max_tokens, 100);
      assert.equal(sent.body?.temperature, 0.2);
      assert.deepEqual(sent.body?.messages, [
        { role: "system", content: "You are terse." },
        { role: "user", content: "Hi ✓ there 🌍" },
      ]);
      assert.deepEqual(sent.body?.tools, [{
        type: "function",
        function: {
          name: "lookup",
          description: "Looks things up",
          parameters: { type: "object", properties: { q: { type: "string" } } },
        },
      }]);
    },
  );
});

Deno.test("openai: a tool call split into many argument deltas arrives whole", async () => {
  const args = { q: "weather in Zürich", days: [1, 2, 3], nested: { deep: "✓" } };
  await withServer({
    script: [{
      text: "Let me check.",
      toolCalls: [{ id: "call_A", name: "lookup", arguments: args }],
    }],
    argPiece: 1,
    chunkSizes: [1],
  }, async (_server, p) => {
    const events = await collect(p().stream(request));
    assert.equal(text(events), "Let me check.");
    const calls = events.filter((e) => e.type === "tool_call");
    assert.deepEqual(calls, [{
      type: "tool_call",
      call: { id: "call_A", name: "lookup", arguments: args },
    }]);
    assert.deepEqual(events.at(-1), { type: "done", stopReason: "tool_use" });
  });
});

Deno.test("openai: parallel tool calls with interleaved deltas keep their own arguments", async () => {
  await withServer({
    script: [{
      interleave: true,
      toolCalls: [
        { id: "c1", name: "lookup", arguments: { q: "first" } },
        { id: "c2", name: "lookup", arguments: { q: "second one" } },
        { id: "c3", name: "other", arguments: {} },
      ],
    }],
  }, async (_server, p) => {
    const events = await collect(p().stream(request));
    const calls = events.flatMap((e) => e.type === "tool_call" ? [e.call] : []);
    assert.deepEqual(calls, [
      { id: "c1", name: "lookup", arguments: { q: "first" } },
      { id: "c2", name: "lookup", arguments: { q: "second one" } },
      { id: "c3", name: "other", arguments: {} },
    ]);
  });
});

Deno.test("openai: broken tool arguments give {} with argumentsError and a warning", async () => {
  await withServer({
    script: [{ toolCalls: [{ id: "c1", name: "lookup", rawArguments: '{"q": "unterminated' }] }],
  }, async (_server, p) => {
    const events = await collect(p().stream(request));
    const call = events.find((e) => e.type === "tool_call");
    assert.ok(call?.type === "tool_call");
    assert.deepEqual(call.call.arguments, {});
    assert.match(call.call.argumentsError ?? "", /not valid JSON/);
    assert.ok(events.some((e) => e.type === "warning" && e.message.includes("lookup")));
  });
});

Deno.test("openai: conversation history with tool calls and results is sent in wire form", async () => {
  await withServer({ script: [{ text: "ok" }] }, async (server, p) => {
    await collect(
      p().stream({
        messages: [
          { role: "user", content: "q" },
          {
            role: "assistant",
            content: "",
            toolCalls: [{ id: "c1", name: "lookup", arguments: { q: "x" } }],
          },
          { role: "tool", toolCallId: "c1", name: "lookup", content: "boom", isError: true },
        ],
        tools: [],
      }),
    );
    const body = server.requests[0].body!;
    assert.deepEqual(body.messages, [
      { role: "user", content: "q" },
      {
        role: "assistant",
        content: null,
        tool_calls: [{
          id: "c1",
          type: "function",
          function: { name: "lookup", arguments: '{"q":"x"}' },
        }],
      },
      { role: "tool", tool_call_id: "c1", content: "Error: boom" },
    ]);
    assert.equal(body.tools, undefined);
  });
});

Deno.test("openai: a wrong key is a clear 401 error that names what to fix, without the key", async () => {
  await withServer({ script: [{ text: "never" }] }, async (server, p) => {
    const wrong = "sk-wrong-key-987654321";
    await assert.rejects(
      collect(
        p({ apiKey: wrong, keyHint: "Check that OPENAI_API_KEY holds a valid key." }).stream(
          request,
        ),
      ),
      (err: unknown) => {
        assert.ok(err instanceof DagentError);
        assert.equal(err.code, "model.unauthorized");
        assert.match(err.message, /openai\/gpt-test: the API key was rejected \(HTTP 401/);
        assert.match(err.hint ?? "", /OPENAI_API_KEY/);
        assert.ok(!err.message.includes(wrong));
        return true;
      },
    );
    assert.equal(server.requests.length, 1, "401 is not retried");
  });
});

Deno.test("openai: 429 with retry-after waits as asked, then succeeds", async () => {
  await withServer({
    script: [{ status: 429, retryAfter: 1, errorMessage: "slow down" }, { text: "after wait" }],
  }, async (server, p) => {
    const started = Date.now();
    const events = await collect(p().stream(request));
    const waited = Date.now() - started;
    assert.equal(server.requests.length, 2);
    assert.equal(text(events), "after wait");
    const warning = events.find((e) => e.type === "warning");
    assert.ok(warning?.type === "warning");
    assert.match(warning.message, /rate limited \(HTTP 429\); retrying in 1 s/);
    assert.ok(waited >= 950, `honoured retry-after (waited ${waited} ms)`);
  });
});

Deno.test("openai: 429 asking for more than the cap fails at once with the wait", async () => {
  await withServer({
    script: [{ status: 429, retryAfter: 3600 }, { text: "never" }],
  }, async (server, p) => {
    await assert.rejects(collect(p().stream(request)), (err: unknown) => {
      assert.ok(err instanceof DagentError);
      assert.equal(err.code, "model.rate_limited");
      assert.match(err.message, /asks to wait 3600 s/);
      return true;
    });
    assert.equal(server.requests.length, 1);
  });
});

Deno.test("openai: 5xx is retried a bounded number of times, then a clear error", async () => {
  await withServer({
    script: [
      { status: 503, errorMessage: "overloaded" },
      { status: 500 },
      { status: 502 },
      { status: 500 },
      { text: "not reached" },
    ],
  }, async (server, p) => {
    await assert.rejects(collect(p({ retry: { maxRetries: 2, baseDelayMs: 1 } }).stream(request)), (
      err: unknown,
    ) => {
      assert.ok(err instanceof DagentError);
      assert.equal(err.code, "model.server_error");
      assert.match(err.message, /HTTP 502.*3 attempts/);
      return true;
    });
    assert.equal(server.requests.length, 3);
    assert.equal(server.remaining, 2);
  });
});

Deno.test("openai: a 5xx then success recovers", async () => {
  await withServer({ script: [{ status: 500 }, { text: "fine" }] }, async (server, p) => {
    const events = await collect(p().stream(request));
    assert.equal(text(events), "fine");
    assert.equal(server.requests.length, 2);
  });
});

Deno.test("openai: 404 names the model and base_url", async () => {
  await withServer(
    { script: [{ status: 404, errorMessage: "model 'gpt-test' not found" }] },
    async (
      _server,
      p,
    ) => {
      await assert.rejects(
        collect(p({ notFoundHint: "Run: ollama pull gpt-test" }).stream(request)),
        (
          err: unknown,
        ) => {
          assert.ok(err instanceof DagentError);
          assert.equal(err.code, "model.not_found");
          assert.match(err.message, /HTTP 404: model 'gpt-test' not found/);
          assert.equal(err.hint, "Run: ollama pull gpt-test");
          return true;
        },
      );
    },
  );
});

Deno.test("openai: cancelling mid-stream stops promptly and releases the connection", async () => {
  await withServer({ script: [{ text: "first words", hang: true }] }, async (server, p) => {
    const controller = new AbortController();
    const seen: StreamEvent[] = [];
    const reason = new DOMException("stopped by the user", "AbortError");
    await assert.rejects(
      (async () => {
        for await (const e of p().stream(request, { signal: controller.signal })) {
          seen.push(e);
          if (e.type === "text") controller.abort(reason);
        }
      })(),
      (err: unknown) => err === reason,
    );
    assert.equal(seen.length, 1);
    await server.disconnected();
  });
});

Deno.test("openai: a stream that ends before finishing is reported as cut off", async () => {
  await withServer({ script: [{ text: "half", cutOff: true }] }, async (_server, p) => {
    await assert.rejects(collect(p().stream(request)), (err: unknown) => {
      assert.ok(err instanceof DagentError);
      assert.equal(err.code, "model.cut_off");
      return true;
    });
  });
});

Deno.test("openai: an in-band error event becomes a DagentError", async () => {
  await withServer(
    { script: [{ text: "x", streamError: true, errorMessage: "context too long" }] },
    async (
      _server,
      p,
    ) => {
      await assert.rejects(collect(p().stream(request)), /mid-stream: context too long/);
    },
  );
});

Deno.test("openai: a stalled first byte times out with a clear message", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) conns.push(conn); // accept, never answer
  })();
  try {
    const provider = createOpenAIProvider({
      id: "dmr/ai/smollm2",
      model: "ai/smollm2",
      baseUrl: `http://127.0.0.1:${listener.addr.port}/engines/v1`,
      firstByteTimeoutMs: 200,
    });
    await assert.rejects(collect(provider.stream(request)), (err: unknown) => {
      assert.ok(err instanceof DagentError);
      assert.equal(err.code, "model.timeout");
      assert.match(err.message, /did not answer within 0.2 s/);
      return true;
    });
  } finally {
    listener.close();
    await accepting.catch(() => {});
    for (const c of conns) c.close();
  }
});

Deno.test("openai: no key means no Authorization header (local servers)", async () => {
  await withServer({ apiKey: undefined, script: [{ text: "local" }] }, async (server, p) => {
    const events = await collect(p({ apiKey: undefined }).stream(request));
    assert.equal(text(events), "local");
    assert.equal(server.requests[0].headers.authorization, undefined);
  });
});

Deno.test("openai: api.openai.com gets max_completion_tokens, compatible servers max_tokens", () => {
  const base = { id: "openai/o3", model: "o3", baseUrl: "https://api.openai.com/v1" };
  const req: ChatRequest = { messages: [{ role: "user", content: "x" }], tools: [] };
  const official = buildOpenAIBody({ ...base, maxCompletionTokens: true, maxTokens: 50 }, req);
  assert.equal(official.max_completion_tokens, 50);
  assert.equal(official.max_tokens, undefined);
  const compatible = buildOpenAIBody({ ...base, maxTokens: 50 }, { ...req, maxTokens: 70 });
  assert.equal(compatible.max_tokens, 70, "the request's maxTokens wins over the config");
  assert.deepEqual(compatible.stream_options, { include_usage: true });
});
