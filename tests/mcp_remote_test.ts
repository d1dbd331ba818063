/**
 * The guarded fetch under the remote transports: header deadline, body cap (whole body,
 * or per event on event streams), DagentError pass-through, and network errors named.
 */
import assert from "node:assert/strict";
import { guardFetch } from "../lib/mcp/remote.ts";
import { DagentError } from "../lib/errors.ts";

/** Serves `handler` on 127.0.0.1:0 for the duration of `body`. */
async function serve(
  handler: (request: Request) => Response | Promise<Response>,
  body: (url: string) => Promise<void>,
) {
  const ready = Promise.withResolvers<number>();
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: ({ port }) => ready.resolve(port),
  }, handler);
  try {
    await body(`http://127.0.0.1:${await ready.promise}/mcp`);
  } finally {
    await server.shutdown();
  }
}

const guard = (
  options: { timeoutMs?: number; maxBytes?: number; onError?: (e: DagentError) => void } = {},
) => guardFetch(fetch, { name: "t", timeoutMs: 2_000, maxBytes: 1024, ...options });

Deno.test("guardFetch: a body over the cap fails with a clear error, reported once", async () => {
  const reported: DagentError[] = [];
  await serve(() => new Response("x".repeat(5000)), async (url) => {
    const response = await guard({ onError: (e) => reported.push(e) })(url, { method: "POST" });
    await assert.rejects(response.text(), (error: unknown) => {
      assert.ok(error instanceof DagentError);
      assert.equal(error.code, "mcp.response_too_large");
      return true;
    });
  });
  assert.equal(reported.length, 1);
});

Deno.test("guardFetch: event streams are capped per event, not in total", async () => {
  const event = `data: ${"y".repeat(600)}\n\n`;
  await serve(
    () => new Response(event.repeat(5), { headers: { "content-type": "text/event-stream" } }),
    async (url) => {
      const text = await (await guard()(url)).text();
      assert.equal(text, event.repeat(5));
    },
  );
  await serve(() =>
    new Response(`data: ${"z".repeat(2000)}\n\n`, {
      headers: { "content-type": "text/event-stream" },
    }), async (url) => {
    const response = await guard()(url);
    await assert.rejects(response.text(), /larger than/);
  });
});

Deno.test("guardFetch: a server that never answers hits the deadline", async () => {
  const release = Promise.withResolvers<void>();
  await serve(async () => {
    await release.promise;
    return new Response("late");
  }, async (url) => {
    try {
      await assert.rejects(guard({ timeoutMs: 200 })(url, { method: "POST" }), (error: unknown) => {
        assert.ok(error instanceof DagentError);
        assert.equal(error.code, "mcp.timeout");
        assert.match(error.message, /did not answer within 0\.2 s/);
        return true;
      });
    } finally {
      release.resolve();
    }
  });
});

Deno.test("guardFetch: a DagentError from the wrapped fetch passes through unchanged", async () => {
  const original = new DagentError("sign-in declined", { code: "oauth.declined" });
  const seen: DagentError[] = [];
  const guarded = guardFetch(() => Promise.reject(original), {
    name: "t",
    timeoutMs: 1_000,
    maxBytes: 1024,
    onError: (e) => seen.push(e),
  });
  await assert.rejects(guarded("http://127.0.0.1:9/mcp"), (error: unknown) => error === original);
  assert.deepEqual(seen, [original]);
});

Deno.test("guardFetch: the caller's abort stays an abort (closing a transport is not an error)", async () => {
  const release = Promise.withResolvers<void>();
  await serve(async () => {
    await release.promise;
    return new Response("late");
  }, async (url) => {
    const controller = new AbortController();
    const pending = guard()(url, { signal: controller.signal });
    controller.abort();
    try {
      await assert.rejects(pending, (error: unknown) => !(error instanceof DagentError));
    } finally {
      release.resolve();
    }
  });
});
