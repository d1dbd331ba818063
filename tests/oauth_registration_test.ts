import assert from "node:assert/strict";
import type { AuthorizationServerMetadata } from "../lib/oauth/discovery.ts";
import { OAuthError } from "../lib/oauth/errors.ts";
import {
  buildRegistrationRequest,
  processRegistrationResponse,
  resolveClient,
} from "../lib/oauth/registration.ts";
import { MemoryTokenStore, type StoredClient } from "../lib/oauth/store.ts";

const REDIRECT = "http://127.0.0.1:3118/callback";
const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

function isCode(code: string) {
  return (e: unknown) => {
    assert.ok(e instanceof OAuthError, `expected OAuthError, got ${e}`);
    assert.equal(e.code, code);
    return true;
  };
}

function meta(extra: Partial<AuthorizationServerMetadata> = {}): AuthorizationServerMetadata {
  return {
    issuer: "https://as.example",
    authorization_endpoint: "https://as.example/authorize",
    token_endpoint: "https://as.example/token",
    ...extra,
  };
}

/** A fetch that must not be called. */
const noNetwork = (() => {
  throw new Error("no request expected");
}) as typeof fetch;

/** A loopback DCR endpoint that records what it received. */
function dcrServer(answer: (doc: Record<string, unknown>) => Response) {
  const received: Record<string, unknown>[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const doc = await req.json();
    received.push(doc);
    return answer(doc);
  });
  return {
    endpoint: `http://127.0.0.1:${server.addr.port}/register`,
    received,
    close: () => server.shutdown(),
  };
}

Deno.test("registration: request body per RFC 7591 for a native public client", async () => {
  const req = buildRegistrationRequest(meta({ registration_endpoint: "https://as.example/reg" }), {
    redirectUris: [REDIRECT],
    scope: "a b",
  });
  assert.equal(req.method, "POST");
  assert.equal(req.headers.get("content-type"), "application/json");
  assert.deepEqual(await req.json(), {
    client_name: "dagent",
    application_type: "native",
    grant_types: ["authorization_code", "refresh_token"],
    response_types: ["code"],
    token_endpoint_auth_method: "none",
    redirect_uris: [REDIRECT],
    scope: "a b",
  });
  assert.throws(
    () => buildRegistrationRequest(meta(), { redirectUris: [REDIRECT], server: "slack" }),
    isCode("oauth.no_registration"),
  );
  assert.throws(
    () =>
      buildRegistrationRequest(meta({ registration_endpoint: "http://as.example/reg" }), {
        redirectUris: [REDIRECT],
      }),
    isCode("oauth.insecure_endpoint"),
  );
});

Deno.test("registration: response processing", () => {
  const c = processRegistrationResponse(
    new Response(null, { status: 201 }),
    enc({
      client_id: "dyn",
      client_secret: "sec",
      client_secret_expires_at: 2_000_000_000,
      token_endpoint_auth_method: "client_secret_post",
      redirect_uris: [REDIRECT],
    }),
    "https://as.example",
  );
  assert.deepEqual(c, {
    clientId: "dyn",
    clientSecret: "sec",
    clientSecretExpiresAt: 2_000_000_000_000,
    issuer: "https://as.example",
    redirectUris: [REDIRECT],
    tokenEndpointAuthMethod: "client_secret_post",
  });
  const pub = processRegistrationResponse(
    new Response(null, { status: 201 }),
    enc({
      client_id: "p",
      client_secret_expires_at: 0,
      token_endpoint_auth_method: "tls_client_auth",
    }),
    "https://as.example",
    { redirectUris: [REDIRECT] },
  );
  assert.deepEqual(pub, {
    clientId: "p",
    issuer: "https://as.example",
    redirectUris: [REDIRECT],
    tokenEndpointAuthMethod: "none",
  });
  assert.throws(
    () =>
      processRegistrationResponse(
        new Response(null, { status: 400 }),
        enc({
          error: "invalid_redirect_uri",
          error_description: "<b>bad</b>\r\n" + "q".repeat(1000),
        }),
        "https://as.example",
        { server: "x" },
      ),
    (e: unknown) => {
      isCode("oauth.registration_failed")(e);
      assert.equal((e as OAuthError).oauthError, "invalid_redirect_uri");
      assert.ok((e as Error).message.length < 400 && !(e as Error).message.includes("\r"));
      return true;
    },
  );
  assert.throws(
    () =>
      processRegistrationResponse(
        new Response(null, { status: 201 }),
        enc({ client_secret: "s" }),
        "i",
      ),
    isCode("oauth.registration_failed"),
  );
});

Deno.test("resolveClient: config clientId skips registration, picks the auth method", async () => {
  const store = new MemoryTokenStore();
  const m = meta({ registration_endpoint: "https://as.example/reg" });
  const http = { fetch: noNetwork };
  const base = { meta: m, redirectUri: REDIRECT, store, server: "slack", http };
  const basic = await resolveClient({ ...base, oauth: { clientId: "123.456", clientSecret: "s" } });
  assert.equal(basic.source, "config");
  assert.deepEqual(basic.client, {
    clientId: "123.456",
    clientSecret: "s",
    issuer: "https://as.example",
    redirectUris: [REDIRECT],
    tokenEndpointAuthMethod: "client_secret_basic",
  });
  const post = await resolveClient({
    ...base,
    meta: { ...m, token_endpoint_auth_methods_supported: ["client_secret_post"] },
    oauth: { clientId: "c", clientSecret: "s" },
  });
  assert.equal(post.client.tokenEndpointAuthMethod, "client_secret_post");
  const pub = await resolveClient({ ...base, oauth: { clientId: "c" } });
  assert.equal(pub.client.tokenEndpointAuthMethod, "none");
  const jwt = await resolveClient({ ...base, oauth: { clientId: "c", privateKeyEnv: "K" } });
  assert.equal(jwt.client.tokenEndpointAuthMethod, "private_key_jwt");
  assert.equal(
    await store.loadClient("https://as.example"),
    undefined,
    "config clients are not stored",
  );
});

Deno.test("resolveClient: Client ID Metadata Document only when the server supports it", async () => {
  const store = new MemoryTokenStore();
  const oauth = { clientMetadataUrl: "https://me.example/dagent.json" };
  const got = await resolveClient({
    meta: meta({
      client_id_metadata_document_supported: true,
      registration_endpoint: "https://as.example/reg",
    }),
    oauth,
    redirectUri: REDIRECT,
    store,
    server: "s",
    http: { fetch: noNetwork },
  });
  assert.equal(got.source, "metadata_document");
  assert.equal(got.client.clientId, "https://me.example/dagent.json");
  assert.equal(got.client.tokenEndpointAuthMethod, "none");
  await assert.rejects(
    resolveClient({
      meta: meta(),
      oauth,
      redirectUri: REDIRECT,
      store,
      server: "s",
      http: { fetch: noNetwork },
    }),
    isCode("oauth.no_registration"),
    "unsupported CIMD falls through to the remaining options",
  );
});

Deno.test("resolveClient: DCR against a loopback endpoint, then the stored registration", async () => {
  let n = 0;
  const srv = dcrServer((doc) =>
    Response.json({
      client_id: `dyn-${++n}`,
      redirect_uris: doc.redirect_uris,
      token_endpoint_auth_method: "none",
    }, { status: 201 })
  );
  try {
    const store = new MemoryTokenStore();
    const issuer = "http://127.0.0.1:1";
    const m = meta({ issuer, registration_endpoint: srv.endpoint });
    const input = { meta: m, redirectUri: REDIRECT, scope: "s1", store, server: "s", http: {} };
    const first = await resolveClient(input);
    assert.equal(first.source, "dynamic");
    assert.equal(first.client.clientId, "dyn-1");
    assert.deepEqual(srv.received[0].redirect_uris, [REDIRECT]);
    assert.equal(srv.received[0].scope, "s1");
    assert.deepEqual((await store.loadClient(issuer))?.clientId, "dyn-1");

    const second = await resolveClient(input);
    assert.equal(second.source, "stored");
    assert.equal(srv.received.length, 1, "no second registration");

    // RFC 8252 §7.3: a loopback IP redirect matches on any port.
    const otherPort = await resolveClient({
      ...input,
      redirectUri: "http://127.0.0.1:4000/callback",
    });
    assert.equal(otherPort.source, "stored", "a loopback registration is reused on another port");

    const otherPath = await resolveClient({
      ...input,
      redirectUri: "http://127.0.0.1:4000/elsewhere",
    });
    assert.equal(
      otherPath.source,
      "dynamic",
      "a registration without this redirect URI is not reused",
    );
    assert.equal(srv.received.length, 2);
  } finally {
    await srv.close();
  }
});

Deno.test("resolveClient: a registration is never reused with another issuer, nor when expired", async () => {
  const store = new MemoryTokenStore();
  const other: StoredClient = {
    clientId: "from-a",
    issuer: "https://a.example",
    redirectUris: [REDIRECT],
    tokenEndpointAuthMethod: "none",
  };
  await store.saveClient("https://a.example", other);
  await assert.rejects(
    resolveClient({
      meta: meta(),
      redirectUri: REDIRECT,
      store,
      server: "b",
      http: { fetch: noNetwork },
    }),
    isCode("oauth.no_registration"),
  );
  await store.saveClient("https://as.example", {
    ...other,
    issuer: "https://as.example",
    clientSecret: "old",
    clientSecretExpiresAt: Date.now() - 1000,
  });
  await assert.rejects(
    resolveClient({
      meta: meta(),
      redirectUri: REDIRECT,
      store,
      server: "b",
      http: { fetch: noNetwork },
    }),
    isCode("oauth.no_registration"),
  );
  await store.saveClient("https://as.example", { ...other, issuer: "https://as.example" });
  const ok = await resolveClient({
    meta: meta(),
    redirectUri: REDIRECT,
    store,
    server: "b",
    http: { fetch: noNetwork },
  });
  assert.equal(ok.source, "stored");
});

Deno.test("resolveClient: no registration endpoint → the actionable error naming the toolset", async () => {
  await assert.rejects(
    resolveClient({
      meta: meta(),
      redirectUri: REDIRECT,
      store: new MemoryTokenStore(),
      server: "slack",
      http: { fetch: noNetwork },
    }),
    (e: unknown) => {
      isCode("oauth.no_registration")(e);
      assert.match(
        (e as Error).message,
        /"slack" does not support automatic client registration: register an OAuth app with the provider and set remote\.oauth\.clientId \(and remote\.oauth\.clientSecret\)/,
      );
      return true;
    },
  );
});

Deno.test("resolveClient: client_credentials without a redirect URI registers a confidential client", async () => {
  const srv = dcrServer(() =>
    Response.json({ client_id: "svc", client_secret: "ss" }, { status: 201 })
  );
  try {
    const got = await resolveClient({
      meta: meta({ issuer: "http://127.0.0.1:2", registration_endpoint: srv.endpoint }),
      redirectUri: "",
      store: new MemoryTokenStore(),
      server: "s",
      http: {},
    });
    assert.equal(got.source, "dynamic");
    assert.deepEqual(got.client.redirectUris, []);
    assert.equal(got.client.tokenEndpointAuthMethod, "client_secret_basic");
    assert.deepEqual(srv.received[0].grant_types, ["client_credentials"]);
    assert.equal("redirect_uris" in srv.received[0], false);
  } finally {
    await srv.close();
  }
});
