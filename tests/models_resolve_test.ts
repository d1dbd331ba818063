/**
 * Model references and API keys: `models:` keys and inline provider/model, the key from
 * token_key or the provider's variable, keyless local servers, clear errors.
 */
import { collect } from "./helpers/streams.ts";
import assert from "node:assert/strict";
import { createProvider, resolveModel } from "../lib/models/resolve.ts";
import type { Config } from "../lib/config/types.ts";
import { DagentError, ExitCode } from "../lib/errors.ts";
import { startScriptedModelServer } from "../fixtures/models/scripted_server.ts";

const config: Config = {
  agents: {},
  models: {
    claude: { provider: "anthropic", model: "claude-sonnet-4-0", max_tokens: 8000 },
    custom: { provider: "openai", model: "gpt-4o", token_key: "MY_OPENAI_KEY" },
    groq: { provider: "groq", model: "llama-3", base_url: "https://api.groq.example/openai/v1" },
  },
};

Deno.test("resolve: models keys, inline refs and built-in defaults", () => {
  const claude = resolveModel("claude", config);
  assert.equal(claude.id, "anthropic/claude-sonnet-4-0");
  assert.equal(claude.wire, "anthropic");
  assert.equal(claude.baseUrl, "https://api.anthropic.com");
  assert.equal(claude.keyEnv, "ANTHROPIC_API_KEY");
  assert.equal(claude.name, "claude");

  const inline = resolveModel("openai/gpt-4o", config);
  assert.deepEqual([inline.id, inline.baseUrl, inline.keyEnv, inline.name], [
    "openai/gpt-4o",
    "https://api.openai.com/v1",
    "OPENAI_API_KEY",
    undefined,
  ]);
  const dmr = resolveModel("dmr/ai/smollm2", config);
  assert.deepEqual([dmr.model, dmr.baseUrl, dmr.keyEnv, dmr.wire], [
    "ai/smollm2",
    "http://localhost:12434/engines/v1",
    undefined,
    "openai",
  ]);
  const ollama = resolveModel("ollama/llama3.2", config);
  assert.deepEqual([ollama.baseUrl, ollama.keyEnv], ["http://localhost:11434/v1", undefined]);
  assert.equal(resolveModel("custom", config).keyEnv, "MY_OPENAI_KEY");
  const groq = resolveModel("groq", config);
  assert.deepEqual([groq.wire, groq.baseUrl, groq.keyEnv], [
    "openai",
    "https://api.groq.example/openai/v1",
    undefined,
  ]);
});

Deno.test("resolve: unknown references suggest the nearest name", () => {
  assert.throws(() => resolveModel("claud", config), (err: unknown) => {
    assert.ok(err instanceof DagentError);
    assert.equal(err.code, "model.unknown");
    assert.equal(err.exitCode, ExitCode.Usage);
    assert.equal(err.hint, "did you mean 'claude'?");
    return true;
  });
  assert.throws(
    () => resolveModel("opnai/gpt-4o", config),
    (err: unknown) => err instanceof DagentError && err.hint === "did you mean 'openai/gpt-4o'?",
  );
  assert.throws(() => resolveModel("nothing-like-it", config), /unknown model 'nothing-like-it'/);
});

Deno.test("resolve: a missing key is an error naming the variable", () => {
  assert.throws(() => createProvider("openai/gpt-4o", config, { env: {} }), (err: unknown) => {
    assert.ok(err instanceof DagentError);
    assert.equal(err.code, "model.no_key");
    assert.match(err.message, /needs an API key, but OPENAI_API_KEY is not set/);
    assert.match(err.hint ?? "", /token_key/);
    return true;
  });
  assert.throws(
    () => createProvider("claude", config, { env: { OPENAI_API_KEY: "x" } }),
    /ANTHROPIC_API_KEY is not set/,
  );
  assert.throws(
    () => createProvider("custom", config, { env: { OPENAI_API_KEY: "sk-present" } }),
    (err: unknown) =>
      err instanceof DagentError && /MY_OPENAI_KEY is not set/.test(err.message) &&
      /models\.custom\.token_key names MY_OPENAI_KEY/.test(err.hint ?? ""),
  );
  // Local servers need no key; neither does a replay.
  assert.equal(createProvider("ollama/llama3", config, { env: {} }).id, "ollama/llama3");
  assert.equal(createProvider("dmr/ai/smollm2", config, { env: {} }).id, "dmr/ai/smollm2");
});

Deno.test("resolve: the provider reads token_key and sends config settings", async () => {
  const server = startScriptedModelServer({ apiKey: "k-from-token-key", script: [{ text: "hi" }] });
  try {
    const cfg: Config = {
      agents: {},
      models: {
        m: {
          provider: "openai",
          model: "gpt-4o",
          base_url: server.openaiBaseUrl,
          token_key: "MY_KEY",
          temperature: 0.3,
          max_tokens: 123,
          parallel_tool_calls: false,
        },
      },
    };
    const provider = createProvider("m", cfg, {
      env: (n) => n === "MY_KEY" ? "k-from-token-key" : undefined,
    });
    const events = await collect(provider.stream({
      messages: [{ role: "user", content: "x" }],
      tools: [{ name: "t", inputSchema: { type: "object" } }],
    }));
    assert.deepEqual(events.at(-1), { type: "done", stopReason: "end_turn" });
    const body = server.requests[0].body!;
    assert.equal(body.model, "gpt-4o");
    assert.equal(body.temperature, 0.3);
    assert.equal(body.max_tokens, 123, "a custom base_url gets max_tokens");
    assert.equal(body.parallel_tool_calls, false);
  } finally {
    await server.close();
  }
});

Deno.test("resolve: an unreachable local server says what to start", async () => {
  // A port that was free a moment ago: nothing listens there.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  const cfg: Config = {
    agents: {},
    models: {
      local: { provider: "ollama", model: "llama3", base_url: `http://127.0.0.1:${port}/v1` },
    },
  };
  const provider = createProvider("local", cfg, { retry: { maxRetries: 1, baseDelayMs: 1 } });
  await assert.rejects(
    collect(provider.stream({ messages: [{ role: "user", content: "x" }], tools: [] })),
    (err: unknown) => {
      assert.ok(err instanceof DagentError);
      assert.equal(err.code, "model.unreachable");
      assert.match(err.message, /could not reach the model server at http:\/\/127\.0\.0\.1:/);
      assert.match(err.hint ?? "", /ollama serve/);
      return true;
    },
  );
});
