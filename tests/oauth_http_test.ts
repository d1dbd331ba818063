import assert from "node:assert/strict";
import { OAuthError, sanitizeServerText } from "../lib/oauth/errors.ts";
import {
  assertSecureUrl,
  isLoopbackUrl,
  oauthFetch,
  readJson,
  safeUrl,
} from "../lib/oauth/http.ts";

/** Starts a loopback server for one test; `close()` stops it. */
function serve(handler: (req: Request) => Response | Promise<Response>) {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, handler);
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    close: () => server.shutdown(),
  };
}

function isCode(code: string) {
  return (e: unknown) => {
    assert.ok(e instanceof OAuthError, `expected OAuthError, got ${e}`);
    assert.equal(e.code, code);
    return true;
  };
}

Deno.test("http: isLoopbackUrl", () => {
  for (
    const u of [
      "http://127.0.0.1:1/x",
      "http://127.8.9.10/",
      "http://[::1]:3/",
      "http://localhost/",
      "https://LOCALHOST:8/",
      "http://a.localhost/",
    ]
  ) {
    assert.equal(isLoopbackUrl(u), true, u);
  }
  for (
    const u of [
      "http://128.0.0.1/",
      "http://127.0.0.1.nip.io/",
      "http://[::2]/",
      "file:///etc/passwd",
      "not a url",
      "http://localhost.example.com/",
    ]
  ) {
    assert.equal(isLoopbackUrl(u), false, u);
  }
});

Deno.test("http: assertSecureUrl refuses non-https, non-loopback and odd URLs", () => {
  assert.equal(assertSecureUrl("https://as.example/token", "token endpoint").host, "as.example");
  assert.equal(assertSecureUrl("http://127.0.0.1:9/t", "token endpoint").port, "9");
  for (
    const u of [
      "http://as.example/token",
      "javascript:alert(1)",
      "/relative",
      "ftp://x/",
      "https://user:pw@as.example/",
    ]
  ) {
    assert.throws(() => assertSecureUrl(u, "token endpoint", "gh"), (e: unknown) => {
      isCode("oauth.insecure_endpoint")(e);
      assert.ok((e as Error).message.includes('"gh"'));
      assert.ok(!(e as Error).message.includes("pw@"), "no credentials echoed");
      return true;
    });
  }
});

Deno.test("http: insecure URL is refused before any request", async () => {
  let calls = 0;
  const fakeFetch = (() => {
    calls++;
    return Promise.resolve(new Response("{}"));
  }) as typeof fetch;
  await assert.rejects(
    oauthFetch(new Request("http://as.example/.well-known/x"), { fetch: fakeFetch }),
    isCode("oauth.insecure_endpoint"),
  );
  assert.equal(calls, 0);
});

Deno.test("http: reads the body, sends MCP-Protocol-Version on GET, counts requests", async () => {
  const seen: (string | null)[] = [];
  const srv = serve((req) => {
    seen.push(req.headers.get("mcp-protocol-version"));
    return Response.json({ ok: true });
  });
  try {
    const urls: string[] = [];
    const { response, body } = await oauthFetch(new Request(`${srv.url}/meta`), {
      onRequest: (u) => urls.push(u),
    });
    assert.equal(response.status, 200);
    assert.deepEqual(readJson(body), { ok: true });
    await oauthFetch(new Request(`${srv.url}/post`, { method: "POST", body: "x" }));
    await oauthFetch(new Request(`${srv.url}/meta`), { protocolVersion: "2025-06-18" });
    assert.deepEqual(seen, ["2025-11-25", null, "2025-06-18"]);
    assert.deepEqual(urls, [`${srv.url}/meta`]);
  } finally {
    await srv.close();
  }
});

Deno.test("http: a redirect is refused, never followed", async () => {
  let followed = false;
  const srv = serve((req) => {
    if (new URL(req.url).pathname === "/elsewhere") followed = true;
    return new Response(null, { status: 302, headers: { location: "/elsewhere" } });
  });
  try {
    await assert.rejects(
      oauthFetch(new Request(`${srv.url}/start`)),
      isCode("oauth.redirect_refused"),
    );
    assert.equal(followed, false);
  } finally {
    await srv.close();
  }
});

Deno.test("http: a server that never answers times out promptly", async () => {
  const gotRequest = Promise.withResolvers<void>();
  const release = Promise.withResolvers<Response>();
  const srv = serve(() => {
    gotRequest.resolve();
    // Hold the response until the test is over.
    return release.promise;
  });
  try {
    const start = performance.now();
    await assert.rejects(
      oauthFetch(new Request(`${srv.url}/hang`), { timeoutMs: 200, server: "slow" }),
      (e: unknown) => {
        isCode("oauth.timeout")(e);
        assert.match((e as Error).message, /"slow".*\/hang.*0\.2 s/);
        return true;
      },
    );
    await gotRequest.promise;
    assert.ok(performance.now() - start < 5_000, "aborted promptly");
  } finally {
    release.resolve(new Response("late"));
    await srv.close();
  }
});

Deno.test("http: a body that stalls after the headers times out too", async () => {
  const cancelled = Promise.withResolvers<void>();
  const srv = serve(() =>
    new Response(
      new ReadableStream({
        start(c) {
          c.enqueue(new TextEncoder().encode('{"partial":'));
        },
        cancel() {
          cancelled.resolve();
        },
      }),
    )
  );
  try {
    await assert.rejects(
      oauthFetch(new Request(`${srv.url}/stall`), { timeoutMs: 200 }),
      isCode("oauth.timeout"),
    );
    await cancelled.promise;
  } finally {
    await srv.close();
  }
});

Deno.test("http: a 10 MB stream is cut at the cap and the stream is cancelled", async () => {
  const chunk = new Uint8Array(64 * 1024).fill(0x61);
  let sent = 0;
  const cancelled = Promise.withResolvers<void>();
  const srv = serve(() =>
    new Response(
      new ReadableStream({
        pull(c) {
          if (sent >= 10 * 1024 * 1024) return c.close();
          sent += chunk.byteLength;
          c.enqueue(chunk);
        },
        cancel() {
          cancelled.resolve();
        },
      }),
    )
  );
  try {
    await assert.rejects(
      oauthFetch(new Request(`${srv.url}/big`), { maxBytes: 1024 * 1024 }),
      isCode("oauth.too_large"),
    );
    await cancelled.promise;
    assert.ok(sent < 10 * 1024 * 1024, `stopped early (sent ${sent} bytes)`);
  } finally {
    await srv.close();
  }
});

Deno.test("http: a declared Content-Length above the cap is refused without reading", async () => {
  const srv = serve(() => new Response("x".repeat(5000)));
  try {
    await assert.rejects(
      oauthFetch(new Request(`${srv.url}/`), { maxBytes: 4096 }),
      isCode("oauth.too_large"),
    );
    const ok = await oauthFetch(new Request(`${srv.url}/`), { maxBytes: 5000 });
    assert.equal(ok.body.byteLength, 5000);
  } finally {
    await srv.close();
  }
});

Deno.test("http: connection refused is oauth.http_error", async () => {
  const srv = serve(() => new Response("x"));
  const url = srv.url;
  await srv.close();
  await assert.rejects(oauthFetch(new Request(`${url}/`)), isCode("oauth.http_error"));
});

Deno.test("http: readJson accepts objects only", () => {
  const enc = (s: string) => new TextEncoder().encode(s);
  assert.deepEqual(readJson(enc('{"a":1}')), { a: 1 });
  for (const bad of ["[]", "null", '"s"', "1", "<html>", ""]) {
    assert.throws(() => readJson(enc(bad)), isCode("oauth.invalid_json"));
  }
});

Deno.test("sanitizeServerText: markup becomes look-alikes, controls spaces, long text is cut", () => {
  assert.equal(sanitizeServerText("a <b>x</b>\u0000\n y"), "a ‹b›x‹/b› y");
  assert.equal(sanitizeServerText(42), "");
  assert.equal(sanitizeServerText("x".repeat(50), 10), "x".repeat(10) + "…");
});

Deno.test("safeUrl: http(s) without query or credentials; other schemes show only the scheme", () => {
  assert.equal(safeUrl("https://u:p@a.example/p?q=1#f"), "https://a.example/p");
  assert.equal(safeUrl("data:text/html,<script>x</script>"), "a data: URL");
  assert.equal(safeUrl("javascript:alert(1)"), "a javascript: URL");
  assert.equal(safeUrl("not a url"), "(invalid URL)");
});
