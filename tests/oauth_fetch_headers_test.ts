/**
 * The headers the OAuth-aware fetch sends: the caller's own, whatever form they came in
 * (Headers, pairs, record; repeated names joined), plus the bearer token — and the token
 * only to the MCP server's origin, however the URL is spelled.
 */
import assert from "node:assert/strict";
import { createOAuthContext } from "../lib/oauth/context.ts";
import { createOAuthFetch, ServerAuth } from "../lib/oauth/fetch.ts";
import { MemoryTokenStore } from "../lib/oauth/store.ts";
import { ScriptedElicitation } from "../lib/runtime/elicitation.ts";

const TOKEN = "at-headers-test-0123456789";

/** A loopback server that answers 200 and records the headers of each request. */
async function withRecordingServer(
  fn: (url: string, seen: Headers[]) => Promise<void>,
): Promise<void> {
  const seen: Headers[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    seen.push(request.headers);
    return new Response("{}", { headers: { "content-type": "application/json" } });
  });
  try {
    await fn(`http://127.0.0.1:${server.addr.port}/mcp`, seen);
  } finally {
    await server.shutdown();
  }
}

async function oauthFetchFor(url: string) {
  const store = new MemoryTokenStore();
  await store.saveToken(url, {
    accessToken: TOKEN,
    tokenType: "Bearer",
    scopes: [],
    issuer: "http://127.0.0.1:9/",
    tokenEndpoint: "http://127.0.0.1:9/token",
    tokenEndpointAuthMethod: "none",
    clientId: "client",
    resource: url,
  });
  const ctx = createOAuthContext({ store, elicitation: new ScriptedElicitation() });
  return createOAuthFetch(new ServerAuth(ctx, { serverUrl: url, server: "headers" }));
}

Deno.test("oauth fetch: the caller's headers arrive in every form, with the token added", async () => {
  await withRecordingServer(async (url, seen) => {
    const send = await oauthFetchFor(url);
    const forms: HeadersInit[] = [
      new Headers({ "X-Trace": "a", Accept: "application/json" }),
      [["X-Trace", "a"], ["accept", "application/json"]],
      { "X-Trace": "a", ACCEPT: "application/json" },
    ];
    for (const headers of forms) {
      await (await send(url, { method: "POST", headers, body: "{}" })).body?.cancel();
    }
    assert.equal(seen.length, forms.length);
    for (const headers of seen) {
      assert.equal(headers.get("x-trace"), "a");
      assert.equal(headers.get("accept"), "application/json");
      assert.equal(headers.get("authorization"), `Bearer ${TOKEN}`);
    }
  });
});

Deno.test("oauth fetch: repeated header names are joined; the caller's Authorization is replaced", async () => {
  await withRecordingServer(async (url, seen) => {
    const send = await oauthFetchFor(url);
    await (await send(url, {
      headers: [["X-Tag", "one"], ["x-tag", "two"], ["Authorization", "Bearer stale"]],
    })).body?.cancel();
    await (await send(url, { headers: { "X-Tag": "one", "x-tag": "two" } })).body?.cancel();
    for (const headers of seen) {
      assert.equal(headers.get("x-tag"), "one, two");
      assert.equal(headers.get("authorization"), `Bearer ${TOKEN}`);
    }
    // A header named like an Object.prototype key is a header like any other.
    await (await send(url, { headers: { ["__proto__"]: "x", constructor: "y" } })).body?.cancel();
    assert.equal(seen[2].get("__proto__"), "x");
    assert.equal(seen[2].get("constructor"), "y");
  });
});

Deno.test("oauth fetch: the token goes to the server's origin however it is spelled, and nowhere else", async () => {
  await withRecordingServer(async (url, seen) => {
    const send = await oauthFetchFor(url);
    const { origin, port } = new URL(url);
    const authorization = async (target: string) => {
      await (await send(target)).body?.cancel();
      return seen.at(-1)?.get("authorization");
    };
    // The same socket under another name is another origin: no token.
    assert.equal(await authorization(`http://localhost:${port}/mcp`), null);
    // Spellings of the same origin that are not its serialization are parsed, and get it.
    assert.equal(await authorization(`HTTP://127.0.0.1:${port}/mcp`), `Bearer ${TOKEN}`);
    assert.equal(await authorization(origin), `Bearer ${TOKEN}`);
    assert.equal(await authorization(`${origin}/other?x=1`), `Bearer ${TOKEN}`);
  });
});
