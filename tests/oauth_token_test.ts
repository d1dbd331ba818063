import assert from "node:assert/strict";
import { OAuthError } from "../lib/oauth/errors.ts";
import { oauthFetch } from "../lib/oauth/http.ts";
import {
  buildAuthorizationUrl,
  buildRevocationRequest,
  buildTokenRequest,
  chooseAuthMethod,
  processCallbackParams,
  processTokenResponse,
} from "../lib/oauth/token.ts";

const META = { issuer: "https://as.example", token_endpoint: "https://as.example/token" };
const enc = (v: unknown) => new TextEncoder().encode(typeof v === "string" ? v : JSON.stringify(v));

function isCode(code: string) {
  return (e: unknown) => {
    assert.ok(e instanceof OAuthError, `expected OAuthError, got ${e}`);
    assert.equal(e.code, code);
    return true;
  };
}

Deno.test("token: authorization URL has code, PKCE S256, state, resource, scope", () => {
  const url = buildAuthorizationUrl({
    meta: { authorization_endpoint: "https://as.example/authorize?tenant=t1" },
    clientId: "cid",
    redirectUri: "http://127.0.0.1:3118/callback",
    state: "st",
    codeChallenge: "ch",
    scope: ["a", "b"],
    resource: "https://mcp.example/mcp",
  });
  const q = url.searchParams;
  assert.equal(url.origin + url.pathname, "https://as.example/authorize");
  assert.equal(q.get("tenant"), "t1");
  assert.equal(q.get("response_type"), "code");
  assert.equal(q.get("client_id"), "cid");
  assert.equal(q.get("redirect_uri"), "http://127.0.0.1:3118/callback");
  assert.equal(q.get("state"), "st");
  assert.equal(q.get("code_challenge"), "ch");
  assert.equal(q.get("code_challenge_method"), "S256");
  assert.equal(q.get("scope"), "a b");
  assert.equal(q.get("resource"), "https://mcp.example/mcp");
  const noScope = buildAuthorizationUrl({
    meta: { authorization_endpoint: "https://as.example/authorize" },
    clientId: "c",
    redirectUri: "r",
    state: "s",
    codeChallenge: "c",
    scope: "",
    resource: "https://mcp.example",
  });
  assert.equal(noScope.searchParams.has("scope"), false);
  assert.throws(
    () =>
      buildAuthorizationUrl({
        meta: { authorization_endpoint: "http://as.example/authorize" },
        clientId: "c",
        redirectUri: "r",
        state: "s",
        codeChallenge: "c",
        resource: "x",
      }),
    isCode("oauth.insecure_endpoint"),
  );
});

Deno.test("token: chooseAuthMethod", () => {
  const basicOnly = { token_endpoint_auth_methods_supported: ["client_secret_basic"] };
  const postOnly = { token_endpoint_auth_methods_supported: ["client_secret_post", "none"] };
  assert.equal(chooseAuthMethod({}, { tokenEndpointAuthMethod: "none" }), "none");
  assert.equal(chooseAuthMethod({}, { clientSecret: "s" }), "client_secret_basic");
  assert.equal(chooseAuthMethod(postOnly, { clientSecret: "s" }), "client_secret_post");
  assert.equal(
    chooseAuthMethod(postOnly, {
      clientSecret: "s",
      tokenEndpointAuthMethod: "client_secret_basic",
    }),
    "client_secret_post",
  );
  assert.equal(
    chooseAuthMethod(basicOnly, {
      clientSecret: "s",
      tokenEndpointAuthMethod: "client_secret_post",
    }),
    "client_secret_basic",
  );
  assert.equal(
    chooseAuthMethod({}, { clientSecret: "s", tokenEndpointAuthMethod: "client_secret_post" }),
    "client_secret_basic",
    "no list means the RFC 8414 default, client_secret_basic",
  );
  assert.equal(
    chooseAuthMethod(postOnly, { tokenEndpointAuthMethod: "private_key_jwt" }),
    "private_key_jwt",
  );
});

Deno.test("token: authorization_code request with auth none", async () => {
  const req = await buildTokenRequest(
    META,
    {
      type: "authorization_code",
      code: "the code",
      redirectUri: "http://127.0.0.1:1/callback",
      codeVerifier: "v",
    },
    { clientId: "cid", tokenEndpointAuthMethod: "none" },
    { resource: "https://mcp.example/mcp" },
  );
  assert.equal(req.method, "POST");
  assert.equal(req.url, "https://as.example/token");
  assert.equal(req.headers.get("content-type"), "application/x-www-form-urlencoded");
  assert.equal(req.headers.get("authorization"), null);
  const form = new URLSearchParams(await req.text());
  assert.deepEqual(Object.fromEntries(form), {
    grant_type: "authorization_code",
    code: "the code",
    redirect_uri: "http://127.0.0.1:1/callback",
    code_verifier: "v",
    resource: "https://mcp.example/mcp",
    client_id: "cid",
  });
});

Deno.test("token: client_secret_basic form-urlencodes id and secret before base64", async () => {
  const req = await buildTokenRequest(
    META,
    { type: "refresh_token", refreshToken: "rt", scope: ["a", "b"] },
    {
      clientId: "my app:1",
      clientSecret: "p@ss:w+rd/é %",
      tokenEndpointAuthMethod: "client_secret_basic",
    },
    { resource: "https://mcp.example" },
  );
  const auth = req.headers.get("authorization")!;
  assert.match(auth, /^Basic /);
  const decoded = new TextDecoder().decode(
    Uint8Array.from(atob(auth.slice(6)), (c) => c.charCodeAt(0)),
  );
  assert.equal(decoded, "my+app%3A1:p%40ss%3Aw%2Brd%2F%C3%A9+%25");
  const form = new URLSearchParams(await req.text());
  assert.equal(form.get("grant_type"), "refresh_token");
  assert.equal(form.get("refresh_token"), "rt");
  assert.equal(form.get("scope"), "a b");
  assert.equal(form.get("resource"), "https://mcp.example");
  assert.equal(form.has("client_secret"), false);
  assert.equal(form.has("client_id"), false);
});

Deno.test("token: client_secret_post and client_credentials", async () => {
  const req = await buildTokenRequest(
    META,
    { type: "client_credentials", scope: "x" },
    { clientId: "cid", clientSecret: "sec", tokenEndpointAuthMethod: "client_secret_post" },
    { resource: "https://mcp.example" },
  );
  const form = Object.fromEntries(new URLSearchParams(await req.text()));
  assert.deepEqual(form, {
    grant_type: "client_credentials",
    scope: "x",
    resource: "https://mcp.example",
    client_id: "cid",
    client_secret: "sec",
  });
  await assert.rejects(
    buildTokenRequest(META, { type: "client_credentials" }, {
      clientId: "cid",
      tokenEndpointAuthMethod: "client_secret_post",
    }),
    isCode("oauth.token_error"),
  );
});

Deno.test("token: private_key_jwt signs an assertion for the token endpoint", async () => {
  const pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
    "sign",
    "verify",
  ]);
  const der = new Uint8Array(await crypto.subtle.exportKey("pkcs8", pair.privateKey));
  const pem = `-----BEGIN PRIVATE KEY-----\n${
    btoa(String.fromCharCode(...der))
  }\n-----END PRIVATE KEY-----`;
  const req = await buildTokenRequest(
    META,
    { type: "client_credentials" },
    { clientId: "svc", tokenEndpointAuthMethod: "private_key_jwt" },
    { resource: "https://mcp.example", privateKey: pem },
  );
  const form = new URLSearchParams(await req.text());
  assert.equal(
    form.get("client_assertion_type"),
    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
  );
  const [h, p, s] = form.get("client_assertion")!.split(".");
  const b64 = (x: string) =>
    Uint8Array.from(
      atob(x.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((x.length + 3) % 4)),
      (c) => c.charCodeAt(0),
    );
  const ok = await crypto.subtle.verify(
    { name: "ECDSA", hash: "SHA-256" },
    pair.publicKey,
    b64(s),
    new TextEncoder().encode(`${h}.${p}`),
  );
  assert.equal(ok, true);
  const payload = JSON.parse(new TextDecoder().decode(b64(p)));
  assert.equal(payload.aud, "https://as.example/token");
  assert.equal(payload.iss, "svc");
  await assert.rejects(
    buildTokenRequest(META, { type: "client_credentials" }, {
      clientId: "svc",
      tokenEndpointAuthMethod: "private_key_jwt",
    }),
    isCode("oauth.invalid_key"),
  );
});

Deno.test("token: revocation request (RFC 7009)", async () => {
  const req = await buildRevocationRequest(
    { revocation_endpoint: "https://as.example/revoke" },
    "tok",
    "refresh_token",
    { clientId: "cid", tokenEndpointAuthMethod: "none" },
  );
  assert.equal(req.url, "https://as.example/revoke");
  assert.deepEqual(Object.fromEntries(new URLSearchParams(await req.text())), {
    token: "tok",
    token_type_hint: "refresh_token",
    client_id: "cid",
  });
  await assert.rejects(
    buildRevocationRequest({}, "tok", undefined, {
      clientId: "c",
      tokenEndpointAuthMethod: "none",
    }),
    isCode("oauth.discovery_failed"),
  );
});

Deno.test("token: a valid response, Bearer in any case, expiry and scopes", () => {
  const now = 1_700_000_000_000;
  const set = processTokenResponse(
    new Response(null, { status: 200 }),
    enc({
      access_token: "at",
      token_type: "bEaReR",
      expires_in: 3600,
      refresh_token: "rt",
      scope: "a  b",
    }),
    { requestedScopes: ["x"], now },
  );
  assert.deepEqual(set, {
    accessToken: "at",
    tokenType: "Bearer",
    refreshToken: "rt",
    expiresAt: now + 3_600_000,
    scopes: ["a", "b"],
  });
  const minimal = processTokenResponse(
    new Response(null, { status: 200 }),
    enc({ access_token: "at", token_type: "Bearer", expires_in: "60" }),
    { requestedScopes: ["x", "y"], now },
  );
  assert.deepEqual(minimal, {
    accessToken: "at",
    tokenType: "Bearer",
    expiresAt: now + 60_000,
    scopes: ["x", "y"],
  });
});

Deno.test("token: invalid success responses are rejected without echoing the token", () => {
  const cases: unknown[] = [
    { access_token: "SECRET-AT", token_type: "mac" },
    { access_token: "SECRET-AT" },
    { access_token: "SECRET-AT", token_type: "DPoP" },
    { token_type: "Bearer" },
    { access_token: "", token_type: "Bearer" },
    { access_token: "SECRET-AT", token_type: "Bearer", expires_in: "soon" },
    "not json",
    [],
  ];
  for (const doc of cases) {
    assert.throws(
      () =>
        processTokenResponse(new Response(null, { status: 200 }), enc(doc), {
          requestedScopes: [],
          server: "gh",
        }),
      (e: unknown) => {
        isCode("oauth.invalid_token_response")(e);
        assert.ok(!(e as Error).message.includes("SECRET"), "token not echoed");
        assert.ok((e as Error).message.includes('"gh"'));
        return true;
      },
      JSON.stringify(doc),
    );
  }
});

Deno.test("token: error responses become token_error / invalid_grant, sanitized", () => {
  assert.throws(
    () =>
      processTokenResponse(
        new Response(null, { status: 400 }),
        enc({ error: "invalid_grant", error_description: "refresh token revoked" }),
        { requestedScopes: [] },
      ),
    (e: unknown) => {
      isCode("oauth.invalid_grant")(e);
      assert.equal((e as OAuthError).oauthError, "invalid_grant");
      assert.match((e as Error).message, /refresh token revoked/);
      return true;
    },
  );
  const hostile = "<script>alert(1)</script>\u0000\u001b[31m" + "x".repeat(5000);
  assert.throws(
    () =>
      processTokenResponse(
        new Response(null, { status: 401 }),
        enc({ error: "invalid_client", error_description: hostile }),
        { requestedScopes: [] },
      ),
    (e: unknown) => {
      isCode("oauth.token_error")(e);
      const msg = (e as Error).message;
      assert.equal((e as OAuthError).oauthError, "invalid_client");
      assert.ok(msg.length < 400, `truncated (${msg.length})`);
      assert.ok(![...msg].some((c) => c.charCodeAt(0) < 0x20), "no control characters");
      assert.match((e as OAuthError).hint!, /clientSecret/);
      return true;
    },
  );
  assert.throws(
    () =>
      processTokenResponse(new Response(null, { status: 502 }), enc("<html>" + "y".repeat(10000)), {
        requestedScopes: [],
      }),
    (e: unknown) =>
      isCode("oauth.token_error")(e) && /HTTP 502/.test((e as Error).message) &&
      !(e as Error).message.includes("yyyy"),
  );
  assert.throws(
    () =>
      processTokenResponse(new Response(null, { status: 200 }), enc({ error: "slow_down" }), {
        requestedScopes: [],
      }),
    isCode("oauth.token_error"),
  );
});

Deno.test("token: callback parameters — state, iss (RFC 9207), error, code", () => {
  const p = (q: Record<string, string>) => new URLSearchParams(q);
  const base = {
    expectedState: "S",
    expectedIssuer: "https://as.example",
    issRequired: true,
    server: "gh",
  };
  assert.deepEqual(
    processCallbackParams(p({ code: "c", state: "S", iss: "https://as.example" }), base),
    { code: "c" },
  );
  assert.deepEqual(
    processCallbackParams(p({ code: "c", state: "S" }), { ...base, issRequired: false }),
    { code: "c" },
  );
  assert.throws(
    () => processCallbackParams(p({ code: "c", state: "T", iss: "https://as.example" }), base),
    isCode("oauth.state_mismatch"),
  );
  assert.throws(
    () => processCallbackParams(p({ code: "c", iss: "https://as.example" }), base),
    isCode("oauth.state_mismatch"),
  );
  assert.throws(
    () => processCallbackParams(p({ code: "c", state: "S" }), base),
    isCode("oauth.iss_mismatch"),
  );
  assert.throws(
    () =>
      processCallbackParams(p({ code: "c", state: "S", iss: "https://evil.example" }), {
        ...base,
        issRequired: false,
      }),
    isCode("oauth.iss_mismatch"),
  );
  assert.throws(
    () =>
      processCallbackParams(
        p({ error: "access_denied", state: "S", iss: "https://as.example" }),
        base,
      ),
    (e: unknown) => isCode("oauth.declined")(e) && (e as OAuthError).oauthError === "access_denied",
  );
  assert.throws(
    () =>
      processCallbackParams(p({ error: "access_denied", state: "X" }), {
        ...base,
        issRequired: false,
      }),
    isCode("oauth.state_mismatch"),
    "an error response with a foreign state is not believed",
  );
  assert.throws(
    () =>
      processCallbackParams(
        p({
          error: "server_error",
          error_description: "<img src=x onerror=alert(1)>\n" + "z".repeat(900),
          state: "S",
        }),
        { ...base, issRequired: false },
      ),
    (e: unknown) => {
      isCode("oauth.authorization_failed")(e);
      assert.ok((e as Error).message.length < 400);
      assert.ok(!(e as Error).message.includes("\n"));
      return true;
    },
  );
  assert.throws(
    () => processCallbackParams(p({ state: "S" }), { ...base, issRequired: false }),
    isCode("oauth.invalid_callback"),
  );
});

Deno.test("token: a full token round trip against a loopback token endpoint", async () => {
  const seen: { auth: string | null; form: Record<string, string> }[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    seen.push({
      auth: req.headers.get("authorization"),
      form: Object.fromEntries(new URLSearchParams(await req.text())),
    });
    return Response.json({ access_token: "at1", token_type: "bearer", expires_in: 10 });
  });
  try {
    const endpoint = `http://127.0.0.1:${server.addr.port}/token`;
    const req = await buildTokenRequest(
      { token_endpoint: endpoint },
      {
        type: "authorization_code",
        code: "c",
        redirectUri: "http://127.0.0.1/cb",
        codeVerifier: "v",
      },
      { clientId: "id", clientSecret: "s", tokenEndpointAuthMethod: "client_secret_basic" },
      { resource: "http://127.0.0.1:9/mcp" },
    );
    const { response, body } = await oauthFetch(req);
    const set = processTokenResponse(response, body, { requestedScopes: ["r"], now: 0 });
    assert.deepEqual(set, {
      accessToken: "at1",
      tokenType: "Bearer",
      expiresAt: 10_000,
      scopes: ["r"],
    });
    assert.equal(seen[0].auth, `Basic ${btoa("id:s")}`);
    assert.equal(seen[0].form.resource, "http://127.0.0.1:9/mcp");
    assert.equal(seen[0].form.code_verifier, "v");
  } finally {
    await server.shutdown();
  }
});
