/**
 * The guarded fetch under the remote transports: header deadline, body cap (whole body,
 * or per event on event streams), DagentError pass-through, and network errors named.
 * The fast path (a network body with a Content-Length within the cap, handed on unread)
 * is checked against servers that lie about the length, stall, or compress.
 */
import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
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

/**
 * A raw HTTP/1.1 server on 127.0.0.1:0 for responses Deno.serve will not send (a wrong
 * Content-Length, a body that stalls): `respond` gets each connection once the request
 * head has arrived. Every connection is closed when `body` ends.
 */
async function serveRaw(
  respond: (conn: Deno.Conn) => Promise<void>,
  body: (url: string) => Promise<void>,
) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Deno.Conn[] = [];
  const handled: Promise<void>[] = [];
  const accepting = (async () => {
    for await (const conn of listener) {
      conns.push(conn);
      handled.push(readHead(conn).then(() => respond(conn)).catch(() => {}));
    }
  })();
  try {
    await body(`http://127.0.0.1:${listener.addr.port}/mcp`);
  } finally {
    listener.close();
    await accepting.catch(() => {});
    for (const conn of conns) {
      try {
        conn.close();
      } catch { /* already closed */ }
    }
    await Promise.all(handled);
  }
}

/** Reads a request head (up to the blank line); GET requests have no body to skip. */
async function readHead(conn: Deno.Conn) {
  const buffer = new Uint8Array(4096);
  let text = "";
  while (!text.includes("\r\n\r\n")) {
    const n = await conn.read(buffer);
    if (n === null) throw new Error("closed before the request head");
    text += new TextDecoder().decode(buffer.subarray(0, n));
  }
}

const write = (conn: Deno.Conn, text: string) => conn.write(new TextEncoder().encode(text));

/**
 * Sends `text` and then nothing, until the client hangs up or 1.5 s pass (then closes):
 * a stall the guard must cut, which fails a test lacking the cut instead of hanging it.
 */
async function stall(conn: Deno.Conn, text: string) {
  await write(conn, text);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const gaveUp = new Promise<void>((resolve) => (timer = setTimeout(resolve, 1_500)));
  const hungUp = conn.read(new Uint8Array(1)).then(() => {}, () => {});
  await Promise.race([gaveUp, hungUp]);
  clearTimeout(timer);
  conn.close();
}

/** Expects `pending` to be refused; a response it did get is dropped, not left open. */
async function refused(pending: Promise<Response>, check: (error: unknown) => boolean) {
  await assert.rejects(pending.then(async (r) => (await r.body?.cancel(), r)), check);
}
const head = (length: number, type = "application/json") =>
  `HTTP/1.1 200 OK\r\ncontent-type: ${type}\r\ncontent-length: ${length}\r\n\r\n`;

const guard = (
  options: { timeoutMs?: number; maxBytes?: number; onError?: (e: DagentError) => void } = {},
) => guardFetch(fetch, { name: "t", timeoutMs: 2_000, maxBytes: 1024, ...options });

const isTooLarge = (error: unknown) => {
  assert.ok(error instanceof DagentError);
  assert.equal(error.code, "mcp.response_too_large");
  assert.match(error.message, /larger than 1 KiB/);
  return true;
};

const isTimeout = (error: unknown) => {
  assert.ok(error instanceof DagentError);
  assert.equal(error.code, "mcp.timeout");
  assert.match(error.message, /did not answer within 0\.2 s/);
  return true;
};

Deno.test("guardFetch: a body over the cap fails with a clear error, reported once", async () => {
  const reported: DagentError[] = [];
  await serve(() => new Response("x".repeat(5000)), async (url) => {
    const guarded = guard({ onError: (e) => reported.push(e) });
    await refused(guarded(url, { method: "POST" }), isTooLarge);
  });
  assert.equal(reported.length, 1);
});

Deno.test("guardFetch: a body within the cap arrives whole, with its headers", async () => {
  const reported: DagentError[] = [];
  const json = JSON.stringify({ jsonrpc: "2.0", id: 1, result: { text: "y".repeat(900) } });
  await serve(
    () =>
      new Response(json, {
        headers: { "content-type": "application/json", "mcp-session-id": "s1" },
      }),
    async (url) => {
      const guarded = guard({ onError: (e) => reported.push(e) });
      const response = await guarded(url, { method: "POST", signal: new AbortController().signal });
      assert.equal(response.status, 200);
      assert.equal(response.headers.get("mcp-session-id"), "s1");
      assert.equal(response.headers.get("content-length"), String(json.length));
      assert.deepEqual(await response.json(), JSON.parse(json));
    },
  );
  assert.deepEqual(reported, []);
});

Deno.test("guardFetch: a Content-Length over the cap is refused without reading the body", async () => {
  const reported: DagentError[] = [];
  // Headers only: reading the body would stall, and fail as something else.
  await serveRaw((conn) => stall(conn, head(5_000_000)), async (url) => {
    const guarded = guard({ timeoutMs: 5_000, onError: (e) => reported.push(e) });
    await refused(guarded(url), isTooLarge);
  });
  assert.equal(reported.length, 1);
});

Deno.test("guardFetch: a server sending more than its Content-Length is held to it", async () => {
  await serveRaw(async (conn) => {
    await write(conn, head(10) + "0123456789" + "x".repeat(5000));
  }, async (url) => {
    assert.equal(await (await guard()(url)).text(), "0123456789");
  });
});

Deno.test("guardFetch: a body cut short of its Content-Length fails, not truncated", async () => {
  await serveRaw(async (conn) => {
    await write(conn, head(100) + "0123456789");
    conn.close();
  }, async (url) => {
    const response = await guard()(url);
    await assert.rejects(response.text());
  });
});

Deno.test("guardFetch: a Content-Length from a wrapped fetch's own Response is checked", async () => {
  const reported: DagentError[] = [];
  const lying = () =>
    Promise.resolve(new Response("x".repeat(5000), { headers: { "content-length": "10" } }));
  const guarded = guardFetch(lying, {
    name: "t",
    timeoutMs: 2_000,
    maxBytes: 1024,
    onError: (e) => reported.push(e),
  });
  await refused(guarded("http://127.0.0.1:9/mcp"), isTooLarge);
  assert.equal(reported.length, 1);
});

Deno.test("guardFetch: a compressed body is capped once decoded", async () => {
  const small = new Uint8Array(gzipSync("x".repeat(500)));
  const bomb = new Uint8Array(gzipSync("x".repeat(100_000)));
  assert.ok(bomb.byteLength < 1024);
  await serve((request) =>
    new Response(request.url.endsWith("/big") ? bomb : small, {
      headers: { "content-encoding": "gzip", "content-type": "application/json" },
    }), async (url) => {
    assert.equal(await (await guard()(url)).text(), "x".repeat(500));
    await refused(guard()(url.replace(/mcp$/, "big")), isTooLarge);
  });
});

Deno.test("guardFetch: a body without a Content-Length is capped while it is read", async () => {
  const chunks = (count: number) =>
    new ReadableStream({
      pull(controller) {
        if (count-- === 0) controller.close();
        else controller.enqueue(new TextEncoder().encode("z".repeat(300)));
      },
    });
  await serve((request) => new Response(chunks(request.url.endsWith("/big") ? 100 : 3)), async (
    url,
  ) => {
    const response = await guard()(url);
    assert.equal(response.headers.get("content-length"), null);
    assert.equal(await response.text(), "z".repeat(900));
    await refused(guard()(url.replace(/mcp$/, "big")), isTooLarge);
  });
});

Deno.test("guardFetch: a plain body that stalls is cut by the deadline", async () => {
  const reported: DagentError[] = [];
  // With a Content-Length (handed on unread: the deadline stays on while it is read).
  await serveRaw((conn) => stall(conn, head(100) + "0123456789"), async (url) => {
    const response = await guard({ timeoutMs: 200, onError: (e) => reported.push(e) })(url);
    await assert.rejects(response.text(), isTimeout);
  });
  assert.equal(reported.length, 1);
  // Without one (read before the guarded fetch resolves).
  await serveRaw(async (conn) => {
    await stall(conn, "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\na\r\n0123456789\r\n");
  }, async (url) => {
    await refused(guard({ timeoutMs: 200 })(url), isTimeout);
  });
});

Deno.test("guardFetch: the caller's abort while a body is read stays an abort", async () => {
  await serveRaw((conn) => stall(conn, head(100) + "0123456789"), async (url) => {
    const caller = new AbortController();
    const response = await guard()(url, { signal: caller.signal });
    const reading = response.text();
    caller.abort();
    await assert.rejects(reading, (error: unknown) => !(error instanceof DagentError));
  });
});

Deno.test("guardFetch: each request keeps its own deadline while others come and go", async () => {
  const reported: DagentError[] = [];
  const releases: Array<() => void> = [];
  await serve(async (request) => {
    if (request.url.endsWith("/slow")) {
      // Answers after 1.5 s at the latest: a deadline that never fires fails the test.
      const answer = Promise.withResolvers<void>();
      const timer = setTimeout(answer.resolve, 1_500);
      releases.push(() => (clearTimeout(timer), answer.resolve()));
      await answer.promise;
    }
    return new Response("ok");
  }, async (url) => {
    const guarded = guard({ timeoutMs: 200, onError: (e) => reported.push(e) });
    const unread = await guarded(url);
    // Let time pass, so the slow request's deadline comes well after the first one's.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = performance.now();
    const slow = guarded(url.replace(/mcp$/, "slow"));
    try {
      // Requests that finish before the slow one's deadline do not lift it ...
      for (let i = 0; i < 5; i++) assert.equal(await (await guarded(url)).text(), "ok");
      await assert.rejects(slow, isTimeout);
      // ... the first one's, due 100 ms earlier, did not cut it short ...
      assert.ok(performance.now() - started >= 195, "the slow request timed out early");
      // ... but did cut the first body, still unread at its deadline.
      await assert.rejects(unread.text(), isTimeout);
    } finally {
      for (const release of releases) release();
    }
  });
  assert.equal(reported.length, 2);
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

Deno.test("guardFetch: an event stream outlives the deadline until it ends", async () => {
  const reported: DagentError[] = [];
  const encoder = new TextEncoder();
  let timer: ReturnType<typeof setTimeout> | undefined;
  await serve(() =>
    new Response(
      new ReadableStream({
        start(controller) {
          controller.enqueue(encoder.encode("data: first\n\n"));
          // The second event comes well after the 100 ms deadline (as an answer would,
          // after an elicitation).
          timer = setTimeout(() => {
            controller.enqueue(encoder.encode("data: second\n\n"));
            controller.close();
          }, 300);
        },
      }),
      { headers: { "content-type": "text/event-stream" } },
    ), async (url) => {
    const response = await guard({ timeoutMs: 100, onError: (e) => reported.push(e) })(url);
    assert.equal(await response.text(), "data: first\n\ndata: second\n\n");
  });
  clearTimeout(timer);
  assert.deepEqual(reported, []);
});

Deno.test("guardFetch: a server that never answers hits the deadline", async () => {
  const release = Promise.withResolvers<void>();
  await serve(async () => {
    await release.promise;
    return new Response("late");
  }, async (url) => {
    try {
      await assert.rejects(guard({ timeoutMs: 200 })(url, { method: "POST" }), isTimeout);
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
