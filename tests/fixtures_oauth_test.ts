/**
 * The OAuth fixtures behave as the specs say, checked with plain fetch: discovery locations,
 * DCR, the code flow with PKCE, refresh rotation, expired tokens, the MCP server's challenges,
 * audience and scope checks, client authentication methods, CIMD, hostile modes, the browser.
 */
import assert from "node:assert/strict";
import {
  type AuthorizationServer,
  captureRedirect,
  followAuthorization,
  type OAuthScenario,
  SCENARIOS,
  startAuthorizationServer,
  startOAuthScenario,
  startProtectedMcpServer,
} from "../fixtures/oauth/mod.ts";
import { generateSelfSignedCertificate } from "../lib/oauth/cert.ts";

const REDIRECT = "http://127.0.0.1:45678/callback";

function b64url(bytes: Uint8Array): string {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

async function pkce(): Promise<{ verifier: string; challenge: string }> {
  const verifier = b64url(crypto.getRandomValues(new Uint8Array(32)));
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return { verifier, challenge: b64url(new Uint8Array(digest)) };
}

async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url);
  const text = await res.text();
  return { status: res.status, body: res.ok ? JSON.parse(text) : {} };
}

async function status(url: string): Promise<number> {
  const res = await fetch(url);
  await res.body?.cancel();
  return res.status;
}

async function register(as: AuthorizationServer, meta: Record<string, unknown> = {}) {
  const res = await fetch(as.endpoints.registration, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ client_name: "test", redirect_uris: [REDIRECT], ...meta }),
  });
  return { status: res.status, body: await res.json() };
}

interface AuthorizeParams {
  clientId: string;
  resource?: string;
  scope?: string;
  redirectUri?: string;
  challenge?: string;
  state?: string;
}

function authorizationUrl(as: AuthorizationServer, p: AuthorizeParams): string {
  const url = new URL(as.endpoints.authorization);
  url.searchParams.set("response_type", "code");
  url.searchParams.set("client_id", p.clientId);
  url.searchParams.set("redirect_uri", p.redirectUri ?? REDIRECT);
  url.searchParams.set("state", p.state ?? "st-1");
  if (p.challenge) {
    url.searchParams.set("code_challenge", p.challenge);
    url.searchParams.set("code_challenge_method", "S256");
  }
  if (p.scope) url.searchParams.set("scope", p.scope);
  if (p.resource) url.searchParams.set("resource", p.resource);
  return url.href;
}

/** Runs /authorize and returns the redirect's query parameters. */
async function authorize(as: AuthorizationServer, p: AuthorizeParams): Promise<URLSearchParams> {
  return new URL(await captureRedirect(authorizationUrl(as, p))).searchParams;
}

async function token(
  as: AuthorizationServer,
  form: Record<string, string>,
  basic?: { id: string; secret: string },
): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const headers: Record<string, string> = {
    "content-type": "application/x-www-form-urlencoded",
  };
  if (basic) {
    const enc = (s: string) => encodeURIComponent(s);
    headers.authorization = `Basic ${btoa(`${enc(basic.id)}:${enc(basic.secret)}`)}`;
  }
  const res = await fetch(as.endpoints.token, {
    method: "POST",
    headers,
    body: new URLSearchParams(form),
  });
  return { status: res.status, body: await res.json(), headers: res.headers };
}

/** Registers a public client and runs the whole code flow; returns the token response. */
async function codeFlow(s: OAuthScenario, scope = "mcp:read") {
  const reg = await register(s.as, { token_endpoint_auth_method: "none" });
  assert.equal(reg.status, 201);
  const clientId = reg.body.client_id as string;
  const { verifier, challenge } = await pkce();
  const q = await authorize(s.as, { clientId, challenge, scope, resource: s.mcp.resource });
  const res = await token(s.as, {
    grant_type: "authorization_code",
    code: q.get("code")!,
    redirect_uri: REDIRECT,
    code_verifier: verifier,
    client_id: clientId,
    resource: s.mcp.resource,
  });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return { clientId, tokens: res.body };
}

async function mcpCall(
  url: string,
  accessToken: string | undefined,
  method: string,
  params: Record<string, unknown> = {},
): Promise<{ status: number; wwwAuthenticate: string | null; body: unknown }> {
  const headers: Record<string, string> = {
    "content-type": "application/json",
    accept: "application/json, text/event-stream",
    "mcp-protocol-version": "2025-06-18",
  };
  if (accessToken) headers.authorization = `Bearer ${accessToken}`;
  const res = await fetch(url, {
    method: "POST",
    headers,
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch { /* not JSON */ }
  return { status: res.status, wwwAuthenticate: res.headers.get("www-authenticate"), body };
}

const INIT = {
  protocolVersion: "2025-06-18",
  capabilities: {},
  clientInfo: { name: "test", version: "1" },
};

function toolText(body: unknown): string {
  return (body as { result: { content: { text: string }[] } }).result.content[0].text;
}

Deno.test("AS metadata: RFC 8414 at the root without an issuer path, nothing else", async () => {
  const as = startAuthorizationServer({ dcr: true });
  try {
    const { status: st, body } = await getJson(`${as.url}/.well-known/oauth-authorization-server`);
    assert.equal(st, 200);
    assert.equal(body.issuer, as.issuer);
    assert.equal(body.registration_endpoint, as.endpoints.registration);
    assert.deepEqual(body.code_challenge_methods_supported, ["S256"]);
    assert.equal(await status(`${as.url}/.well-known/openid-configuration`), 404);
    assert.equal(as.log.countKind("as-metadata"), 1);
  } finally {
    await as.close();
  }
});

Deno.test("AS metadata: issuer path /t is inserted after the well-known prefix; no DCR", async () => {
  const as = startAuthorizationServer({ issuerPath: "/t" });
  try {
    assert.equal(as.issuer, `${as.url}/t`);
    const { status: st, body } = await getJson(
      `${as.url}/.well-known/oauth-authorization-server/t`,
    );
    assert.equal(st, 200);
    assert.equal(body.issuer, `${as.url}/t`);
    assert.equal(body.token_endpoint, `${as.url}/t/token`);
    assert.equal("registration_endpoint" in body, false);
    assert.equal(await status(`${as.url}/.well-known/oauth-authorization-server`), 404);
    assert.equal(await status(`${as.url}/t/register`), 404);
  } finally {
    await as.close();
  }
});

Deno.test("AS metadata: OIDC only, inserted and appended forms; pkce [] not advertised", async () => {
  const as = startAuthorizationServer({
    issuerPath: "/t",
    metadata: "oidc",
    oidcPathAppend: true,
    pkceMethods: [],
  });
  try {
    for (
      const url of [`/.well-known/openid-configuration/t`, `/t/.well-known/openid-configuration`]
    ) {
      const { status: st, body } = await getJson(as.url + url);
      assert.equal(st, 200, url);
      assert.equal(body.issuer, as.issuer);
      assert.ok(body.jwks_uri);
      assert.equal("code_challenge_methods_supported" in body, false);
    }
    assert.equal(await status(`${as.url}/.well-known/oauth-authorization-server/t`), 404);
  } finally {
    await as.close();
  }
});

Deno.test("AS metadata: 'none' serves no document but default endpoints still answer", async () => {
  const as = startAuthorizationServer({ metadata: "none", dcr: true });
  try {
    assert.equal(await status(`${as.url}/.well-known/oauth-authorization-server`), 404);
    assert.equal(await status(`${as.url}/.well-known/openid-configuration`), 404);
    assert.equal((await register(as)).status, 201);
  } finally {
    await as.close();
  }
});

Deno.test("DCR: registers with a secret, rejects non-loopback http redirects", async () => {
  const as = startAuthorizationServer({ dcr: true });
  try {
    const ok = await register(as, { token_endpoint_auth_method: "client_secret_basic" });
    assert.equal(ok.status, 201);
    assert.equal(typeof ok.body.client_id, "string");
    assert.equal(typeof ok.body.client_secret, "string");
    assert.equal(ok.body.client_secret_expires_at, 0);
    assert.deepEqual(ok.body.redirect_uris, [REDIRECT]);
    const pub = await register(as, { token_endpoint_auth_method: "none" });
    assert.equal(pub.body.client_secret, undefined);
    const bad = await register(as, { redirect_uris: ["http://evil.example/cb"] });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error, "invalid_redirect_uri");
    const none = await register(as, { redirect_uris: [] });
    assert.equal(none.body.error, "invalid_redirect_uri");
    const big = await fetch(as.endpoints.registration, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ client_name: "x".repeat(100_000) }),
    });
    assert.equal(big.status, 413);
    await big.body?.cancel();
  } finally {
    await as.close();
  }
});

Deno.test("code flow: PKCE S256 verified, state and iss returned, code single-use", async () => {
  const s = startOAuthScenario("dcr");
  try {
    const reg = await register(s.as, { token_endpoint_auth_method: "client_secret_basic" });
    const clientId = reg.body.client_id as string;
    const secret = reg.body.client_secret as string;
    const { verifier, challenge } = await pkce();
    // A different loopback port than registered is fine (RFC 8252 §7.3).
    const redirectUri = "http://127.0.0.1:39999/callback";
    const q = await authorize(s.as, {
      clientId,
      challenge,
      redirectUri,
      state: "xyz",
      scope: "mcp:read",
      resource: s.mcpUrl,
    });
    assert.equal(q.get("state"), "xyz");
    assert.equal(q.get("iss"), s.as.issuer);
    const code = q.get("code")!;
    const form = {
      grant_type: "authorization_code",
      code,
      redirect_uri: redirectUri,
      resource: s.mcpUrl,
    };
    const wrong = await token(s.as, { ...form, code_verifier: (await pkce()).verifier }, {
      id: clientId,
      secret,
    });
    assert.equal(wrong.status, 400);
    assert.equal(wrong.body.error, "invalid_grant");
    // The failed attempt consumed the code.
    const q2 = await authorize(s.as, {
      clientId,
      challenge,
      redirectUri,
      scope: "mcp:read",
      resource: s.mcpUrl,
    });
    const good = await token(s.as, { ...form, code: q2.get("code")!, code_verifier: verifier }, {
      id: clientId,
      secret,
    });
    assert.equal(good.status, 200, JSON.stringify(good.body));
    assert.equal(good.body.token_type, "Bearer");
    assert.equal(good.body.expires_in, 3600);
    assert.equal(good.body.scope, "mcp:read");
    assert.equal(good.headers.get("cache-control"), "no-store");
    const info = s.as.introspect(good.body.access_token as string)!;
    assert.equal(info.active, true);
    assert.equal(info.resource, s.mcpUrl);
    const again = await token(s.as, { ...form, code: q2.get("code")!, code_verifier: verifier }, {
      id: clientId,
      secret,
    });
    assert.equal(again.body.error, "invalid_grant");
    // Reuse revoked what the code produced (RFC 6749 §4.1.2).
    assert.equal(s.as.introspect(good.body.access_token as string)!.active, false);
  } finally {
    await s.close();
  }
});

Deno.test("authorize: errors before redirect validation are pages, after are redirects", async () => {
  const s = startOAuthScenario("dcr");
  try {
    const reg = await register(s.as, { token_endpoint_auth_method: "none" });
    const clientId = reg.body.client_id as string;
    const unknown = await fetch(authorizationUrl(s.as, { clientId: "nope" }), {
      redirect: "manual",
    });
    assert.equal(unknown.status, 400);
    await unknown.body?.cancel();
    const badRedirect = await fetch(
      authorizationUrl(s.as, { clientId, redirectUri: "http://127.0.0.1:1/other" }),
      { redirect: "manual" },
    );
    assert.equal(badRedirect.status, 400);
    await badRedirect.body?.cancel();
    const { challenge } = await pkce();
    const noPkce = await authorize(s.as, { clientId, resource: s.mcpUrl });
    assert.equal(noPkce.get("error"), "invalid_request");
    const noResource = await authorize(s.as, { clientId, challenge });
    assert.equal(noResource.get("error"), "invalid_target");
    const badScope = await authorize(s.as, {
      clientId,
      challenge,
      resource: s.mcpUrl,
      scope: "offline_access",
    });
    assert.equal(badScope.get("error"), "invalid_scope");
    assert.equal(badScope.get("state"), "st-1");
  } finally {
    await s.close();
  }
});

Deno.test("hostile authorize: HTML error_description and a wrong iss reach the client verbatim", async () => {
  const evil = `<script>alert("x")</script>`;
  const as = startAuthorizationServer({
    dcr: true,
    autoApprove: "deny",
    errorDescription: evil,
    issParameter: true,
    wrongIss: true,
  });
  try {
    const reg = await register(as, { token_endpoint_auth_method: "none" });
    const q = await authorize(as, {
      clientId: reg.body.client_id as string,
      challenge: (await pkce()).challenge,
    });
    assert.equal(q.get("error"), "access_denied");
    assert.equal(q.get("error_description"), evil);
    assert.equal(q.get("state"), "st-1");
    assert.notEqual(q.get("iss"), as.issuer);
    assert.equal(q.get("code"), null);
  } finally {
    await as.close();
  }
});

Deno.test("refresh rotation: a new refresh token each time; reuse is invalid_grant and revokes", async () => {
  const s = startOAuthScenario("refresh-rotation");
  try {
    const { clientId, tokens } = await codeFlow(s);
    const first = await token(s.as, {
      grant_type: "refresh_token",
      refresh_token: tokens.refresh_token as string,
      client_id: clientId,
    });
    assert.equal(first.status, 200);
    assert.notEqual(first.body.refresh_token, tokens.refresh_token);
    assert.equal(s.as.introspect(first.body.access_token as string)!.resource, s.mcpUrl);
    const reuse = await token(s.as, {
      grant_type: "refresh_token",
      refresh_token: tokens.refresh_token as string,
      client_id: clientId,
    });
    assert.equal(reuse.status, 400);
    assert.equal(reuse.body.error, "invalid_grant");
    // Reuse detection revoked the whole family (OAuth 2.1 §4.3.1).
    const next = await token(s.as, {
      grant_type: "refresh_token",
      refresh_token: first.body.refresh_token as string,
      client_id: clientId,
    });
    assert.equal(next.body.error, "invalid_grant");
    assert.equal(s.mcp.log.countKind("token", "refresh_token"), 0); // separate origin
    assert.equal(s.as.log.countKind("token", "refresh_token"), 3);
    assert.equal(s.as.log.countKind("token", "authorization_code"), 1);
  } finally {
    await s.close();
  }
});

Deno.test("expired-tokens: issued tokens are already expired (401), refreshed ones work", async () => {
  const s = startOAuthScenario("expired-tokens");
  try {
    const { clientId, tokens } = await codeFlow(s);
    assert.equal(tokens.expires_in, 0);
    assert.equal(s.as.introspect(tokens.access_token as string)!.active, false);
    const denied = await mcpCall(s.mcpUrl, tokens.access_token as string, "initialize", INIT);
    assert.equal(denied.status, 401);
    assert.match(denied.wwwAuthenticate!, /error="invalid_token"/);
    const refreshed = await token(s.as, {
      grant_type: "refresh_token",
      refresh_token: tokens.refresh_token as string,
      client_id: clientId,
    });
    assert.equal(refreshed.body.expires_in, 3600);
    assert.equal(refreshed.body.refresh_token, undefined); // no rotation: keep the old one
    const ok = await mcpCall(s.mcpUrl, refreshed.body.access_token as string, "initialize", INIT);
    assert.equal(ok.status, 200);
  } finally {
    await s.close();
  }
});

Deno.test("MCP 401: challenge names the path-suffixed PRM, which names the AS", async () => {
  const s = startOAuthScenario("dcr", { mcp: { challengeScope: "mcp:read" } });
  try {
    const res = await mcpCall(s.mcpUrl, undefined, "initialize", INIT);
    assert.equal(res.status, 401);
    const prmUrl = `${s.mcp.origin}/.well-known/oauth-protected-resource/mcp`;
    assert.equal(res.wwwAuthenticate, `Bearer resource_metadata="${prmUrl}", scope="mcp:read"`);
    const prm = await getJson(prmUrl);
    assert.equal(prm.body.resource, s.mcpUrl);
    assert.deepEqual(prm.body.authorization_servers, [s.as.issuer]);
    assert.deepEqual(prm.body.scopes_supported, ["mcp:read"]);
    assert.equal(await status(`${s.mcp.origin}/.well-known/oauth-protected-resource`), 404);
    const bogus = await mcpCall(s.mcpUrl, "not-a-token", "initialize", INIT);
    assert.equal(bogus.status, 401);
    assert.match(bogus.wwwAuthenticate!, /^Bearer error="invalid_token"/);
  } finally {
    await s.close();
  }
});

Deno.test("MCP: PRM root-only, custom-only and none are where they should be", async () => {
  for (const [name, expect] of [["prm-root-only", "root"], ["prm-custom-url", "custom"]] as const) {
    const s = startOAuthScenario(name);
    try {
      const res = await mcpCall(s.mcpUrl, undefined, "tools/list");
      const m = /resource_metadata="([^"]+)"/.exec(res.wwwAuthenticate ?? "");
      assert.ok(m, name);
      assert.equal(m[1], s.mcp.resourceMetadataUrl);
      assert.equal(await status(m[1]), 200);
      const pathSuffixed = `${s.mcp.origin}/.well-known/oauth-protected-resource/mcp`;
      assert.equal(await status(pathSuffixed), 404);
      const root = `${s.mcp.origin}/.well-known/oauth-protected-resource`;
      assert.equal(await status(root), expect === "root" ? 200 : 404);
    } finally {
      await s.close();
    }
  }
});

Deno.test("MCP: tools work, admin_action needs admin (403 insufficient_scope step-up)", async () => {
  const s = startOAuthScenario("step-up");
  try {
    const { clientId, tokens } = await codeFlow(s, "mcp:read");
    const at = tokens.access_token as string;
    const who = await mcpCall(s.mcpUrl, at, "tools/call", { name: "whoami", arguments: {} });
    assert.equal(who.status, 200);
    assert.deepEqual(JSON.parse(toolText(who.body)), { clientId, scopes: ["mcp:read"] });
    const echo = await mcpCall(s.mcpUrl, at, "tools/call", {
      name: "echo",
      arguments: { text: "hi" },
    });
    assert.equal(toolText(echo.body), "hi");
    const admin = await mcpCall(s.mcpUrl, at, "tools/call", { name: "admin_action" });
    assert.equal(admin.status, 403);
    assert.match(admin.wwwAuthenticate!, /^Bearer error="insufficient_scope"/);
    assert.match(admin.wwwAuthenticate!, /scope="mcp:read admin"/);
    assert.match(admin.wwwAuthenticate!, /resource_metadata="http:\/\/127\.0\.0\.1:\d+\//);
    const stepped = await codeFlow(s, "mcp:read admin");
    const ok = await mcpCall(s.mcpUrl, stepped.tokens.access_token as string, "tools/call", {
      name: "admin_action",
      arguments: {},
    });
    assert.equal(ok.status, 200);
    assert.equal(toolText(ok.body), "admin action done");
  } finally {
    await s.close();
  }
});

Deno.test("MCP: a token for server A is refused by server B (audience, RFC 8707)", async () => {
  const a = startOAuthScenario("dcr");
  const b = startProtectedMcpServer({ as: a.as, path: "/other" });
  try {
    const { tokens } = await codeFlow(a);
    const at = tokens.access_token as string;
    assert.equal((await mcpCall(a.mcpUrl, at, "initialize", INIT)).status, 200);
    const res = await mcpCall(b.url, at, "initialize", INIT);
    assert.equal(res.status, 401);
    assert.match(res.wwwAuthenticate!, /error="invalid_token"/);
    assert.equal(b.log.countKind("mcp"), 1);
  } finally {
    await b.close();
    await a.close();
  }
});

Deno.test("request log counts a cold flow per endpoint", async () => {
  const s = startOAuthScenario("dcr");
  try {
    await mcpCall(s.mcpUrl, undefined, "initialize", INIT);
    await status(`${s.mcp.origin}/.well-known/oauth-protected-resource/mcp`);
    await status(`${s.as.url}/.well-known/oauth-authorization-server`);
    const { tokens } = await codeFlow(s);
    await mcpCall(s.mcpUrl, tokens.access_token as string, "initialize", INIT);
    assert.equal(s.mcp.log.countKind("mcp"), 2);
    assert.equal(s.mcp.log.countKind("prm"), 1);
    assert.equal(s.mcp.log.count("/mcp", "POST"), 2);
    assert.deepEqual(
      s.as.log.entries.map((e) => [e.kind, e.status]),
      [["as-metadata", 200], ["register", 201], ["authorize", 302], ["token", 200]],
    );
    assert.equal(s.as.log.count("/token"), 1);
    s.as.log.clear();
    assert.equal(s.as.log.total, 0);
  } finally {
    await s.close();
  }
});

Deno.test("pre-registered client (Slack-like): basic with form-encoded secret, post, wrong secret", async () => {
  const secret = "s3cr:et +&%";
  const as = startAuthorizationServer({
    issuerPath: "/t",
    authMethods: ["client_secret_basic", "client_secret_post"],
    preRegistered: [
      { clientId: "123.456", clientSecret: secret, authMethod: "client_secret_basic" },
      {
        clientId: "post.client",
        clientSecret: secret,
        authMethod: "client_secret_post",
        redirectUris: ["http://127.0.0.1/callback"],
      },
    ],
  });
  try {
    const flow = async (clientId: string) => {
      const { verifier, challenge } = await pkce();
      const q = await authorize(as, { clientId, challenge });
      return { code: q.get("code")!, verifier, error: q.get("error") };
    };
    const one = await flow("123.456");
    const basic = await token(as, {
      grant_type: "authorization_code",
      code: one.code,
      redirect_uri: REDIRECT,
      code_verifier: one.verifier,
    }, { id: "123.456", secret });
    assert.equal(basic.status, 200, JSON.stringify(basic.body));
    const two = await flow("post.client");
    const wrong = await token(as, {
      grant_type: "authorization_code",
      code: two.code,
      redirect_uri: REDIRECT,
      code_verifier: two.verifier,
      client_id: "post.client",
      client_secret: "nope",
    });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body.error, "invalid_client");
    const viaBasic = await token(as, { grant_type: "refresh_token", refresh_token: "x" }, {
      id: "post.client",
      secret,
    });
    assert.equal(viaBasic.status, 401);
    assert.match(viaBasic.headers.get("www-authenticate")!, /^Basic/);
    const asPublic = await token(as, { grant_type: "refresh_token", client_id: "123.456" });
    assert.equal(asPublic.body.error, "invalid_client"); // "none" is not supported here
  } finally {
    await as.close();
  }
});

Deno.test("private_key_jwt client_credentials: ES256 assertion verified, bad aud refused", async () => {
  const keys = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
    "sign",
    "verify",
  ]) as CryptoKeyPair;
  const as = startAuthorizationServer({
    clientCredentials: true,
    authMethods: ["private_key_jwt"],
    preRegistered: [{
      clientId: "robot",
      authMethod: "private_key_jwt",
      publicKey: await crypto.subtle.exportKey("jwk", keys.publicKey),
    }],
  });
  const sign = async (claims: Record<string, unknown>) => {
    const enc = (o: unknown) => b64url(new TextEncoder().encode(JSON.stringify(o)));
    const input = `${enc({ alg: "ES256", typ: "JWT" })}.${enc(claims)}`;
    const sig = await crypto.subtle.sign(
      { name: "ECDSA", hash: "SHA-256" },
      keys.privateKey,
      new TextEncoder().encode(input),
    );
    return `${input}.${b64url(new Uint8Array(sig))}`;
  };
  const claims = (aud: string) => ({
    iss: "robot",
    sub: "robot",
    aud,
    exp: Math.floor(Date.now() / 1000) + 60,
    jti: crypto.randomUUID(),
  });
  const form = (assertion: string) => ({
    grant_type: "client_credentials",
    client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
    client_assertion: assertion,
  });
  try {
    const ok = await token(as, form(await sign(claims(as.endpoints.token))));
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.body.refresh_token, undefined);
    assert.equal(as.introspect(ok.body.access_token as string)!.clientId, "robot");
    const badAud = await token(as, form(await sign(claims("https://elsewhere.example"))));
    assert.equal(badAud.body.error, "invalid_client");
    const expired = await token(
      as,
      form(await sign({ ...claims(as.issuer), exp: Math.floor(Date.now() / 1000) - 5 })),
    );
    assert.equal(expired.body.error, "invalid_client");
  } finally {
    await as.close();
  }
});

Deno.test("CIMD: a URL client id is fetched and checked against its document", async () => {
  const s = startOAuthScenario("cimd");
  let docClientId = "";
  const docServer = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () =>
      Response.json({
        client_id: docClientId,
        client_name: "dagent",
        redirect_uris: [REDIRECT],
        token_endpoint_auth_method: "none",
      }),
  );
  try {
    const meta = await getJson(`${s.as.url}/.well-known/oauth-authorization-server`);
    assert.equal(meta.body.client_id_metadata_document_supported, true);
    assert.equal("registration_endpoint" in meta.body, false);
    const docUrl = `http://127.0.0.1:${docServer.addr.port}/client.json`;
    docClientId = docUrl;
    const { verifier, challenge } = await pkce();
    const q = await authorize(s.as, { clientId: docUrl, challenge, resource: s.mcpUrl });
    const res = await token(s.as, {
      grant_type: "authorization_code",
      code: q.get("code")!,
      redirect_uri: REDIRECT,
      code_verifier: verifier,
      client_id: docUrl,
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    // A document whose client_id is not its own URL is refused.
    docClientId = "https://someone-else.example/client.json";
    const other = `http://127.0.0.1:${docServer.addr.port}/other.json`;
    const refused = await fetch(authorizationUrl(s.as, { clientId: other, challenge }), {
      redirect: "manual",
    });
    assert.equal(refused.status, 400);
    await refused.body?.cancel();
  } finally {
    await docServer.shutdown();
    await s.close();
  }
});

Deno.test("revocation: a revoked access token is refused by the MCP server", async () => {
  const s = startOAuthScenario("dcr");
  try {
    const meta = await getJson(`${s.as.url}/.well-known/oauth-authorization-server`);
    assert.equal(meta.body.revocation_endpoint, s.as.endpoints.revocation);
    const { clientId, tokens } = await codeFlow(s);
    const res = await fetch(s.as.endpoints.revocation, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token: tokens.access_token as string, client_id: clientId }),
    });
    assert.equal(res.status, 200);
    await res.body?.cancel();
    const denied = await mcpCall(s.mcpUrl, tokens.access_token as string, "initialize", INIT);
    assert.equal(denied.status, 401);
  } finally {
    await s.close();
  }
});

Deno.test("legacy 2025-03-26: AS on the MCP origin, with and without metadata", async () => {
  const withMeta = startOAuthScenario("legacy-with-metadata");
  const bare = startOAuthScenario("legacy-no-metadata");
  try {
    for (const s of [withMeta, bare]) {
      assert.equal(s.as.url, s.mcp.origin);
      const res = await mcpCall(s.mcpUrl, undefined, "initialize", INIT);
      assert.equal(res.status, 401);
      assert.equal(res.wwwAuthenticate, "Bearer");
      assert.equal(await status(`${s.mcp.origin}/.well-known/oauth-protected-resource/mcp`), 404);
      assert.equal(await status(`${s.mcp.origin}/.well-known/oauth-protected-resource`), 404);
      assert.equal(s.as.endpoints.token, `${s.mcp.origin}/token`);
      // Without a resource parameter (a 2025-03-26 client), the token still works here.
      const reg = await register(s.as, { token_endpoint_auth_method: "none" });
      const { verifier, challenge } = await pkce();
      const clientId = reg.body.client_id as string;
      const q = await authorize(s.as, { clientId, challenge });
      const t = await token(s.as, {
        grant_type: "authorization_code",
        code: q.get("code")!,
        redirect_uri: REDIRECT,
        code_verifier: verifier,
        client_id: clientId,
      });
      const ok = await mcpCall(s.mcpUrl, t.body.access_token as string, "initialize", INIT);
      assert.equal(ok.status, 200);
      assert.equal(s.mcp.log, s.as.log);
    }
    const wellKnown = `/.well-known/oauth-authorization-server`;
    assert.equal(await status(withMeta.mcp.origin + wellKnown), 200);
    assert.equal(await status(bare.mcp.origin + wellKnown), 404);
  } finally {
    await withMeta.close();
    await bare.close();
  }
});

Deno.test("hostile metadata: one that never answers, one that sends 10 MB", async () => {
  const hang = startAuthorizationServer({ hang: "metadata" });
  const huge = startAuthorizationServer({ hugeMetadata: true });
  try {
    await assert.rejects(
      fetch(`${hang.url}/.well-known/oauth-authorization-server`, {
        signal: AbortSignal.timeout(200),
      }),
      (e: Error) => e.name === "TimeoutError",
    );
    const res = await fetch(`${huge.url}/.well-known/oauth-authorization-server`);
    const size = (await res.arrayBuffer()).byteLength;
    assert.ok(size >= 10 * 1024 * 1024, `got ${size} bytes`);
  } finally {
    await hang.close();
    await huge.close();
  }
});

Deno.test("non-Bearer token_type is issued when configured (for client rejection tests)", async () => {
  const s = startOAuthScenario("dcr", { as: { tokenType: "mac" } });
  try {
    const { tokens } = await codeFlow(s);
    assert.equal(tokens.token_type, "mac");
  } finally {
    await s.close();
  }
});

Deno.test("browser: follows the redirect to an http and an https loopback callback", async () => {
  const s = startOAuthScenario("dcr");
  const cert = await generateSelfSignedCertificate();
  const seen: string[] = [];
  const callback = (req: Request) => {
    const code = new URL(req.url).searchParams.get("code");
    seen.push(code ?? "");
    return new Response(`<p>signed in</p>`, { headers: { "content-type": "text/html" } });
  };
  const plain = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, callback);
  const tls = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {}, cert: cert.certPem, key: cert.keyPem },
    callback,
  );
  try {
    const reg = await register(s.as, {
      token_endpoint_auth_method: "none",
      redirect_uris: ["http://127.0.0.1/callback", "https://127.0.0.1/callback"],
    });
    const clientId = reg.body.client_id as string;
    const { challenge } = await pkce();
    const httpUrl = `http://127.0.0.1:${plain.addr.port}/callback`;
    const r1 = await followAuthorization(
      authorizationUrl(s.as, { clientId, challenge, redirectUri: httpUrl, resource: s.mcpUrl }),
    );
    assert.equal(r1.status, 200);
    assert.equal(r1.body, "<p>signed in</p>");
    assert.ok(r1.finalUrl.startsWith(`${httpUrl}?code=`));
    const httpsUrl = `https://127.0.0.1:${tls.addr.port}/callback`;
    const r2 = await followAuthorization(
      authorizationUrl(s.as, { clientId, challenge, redirectUri: httpsUrl, resource: s.mcpUrl }),
      { caCerts: [cert.certPem] },
    );
    assert.equal(r2.status, 200);
    assert.ok(r2.finalUrl.startsWith(`${httpsUrl}?code=`));
    assert.equal(seen.length, 2);
    assert.ok(seen.every((c) => c.length > 20));
    const captured = await captureRedirect(
      authorizationUrl(s.as, { clientId, challenge, redirectUri: httpUrl, resource: s.mcpUrl }),
    );
    assert.ok(captured.startsWith(`${httpUrl}?code=`));
    assert.equal(seen.length, 2); // not followed
    // An error page from the AS is returned, not followed.
    const page = await followAuthorization(authorizationUrl(s.as, { clientId: "unknown" }));
    assert.equal(page.status, 400);
  } finally {
    await plain.shutdown();
    await tls.shutdown();
    await s.close();
  }
});

Deno.test("every named scenario starts, challenges an anonymous call, and closes", async () => {
  for (const name of SCENARIOS) {
    const s = startOAuthScenario(name);
    try {
      const res = await mcpCall(s.mcpUrl, undefined, "initialize", INIT);
      assert.equal(res.status, 401, name);
      assert.match(res.wwwAuthenticate!, /^Bearer/, name);
      assert.equal(Boolean(s.clientId), name === "no-dcr-path-issuer", name);
    } finally {
      await s.close();
    }
  }
});

Deno.test("no-dcr-path-issuer scenario: the pre-registered client reaches whoami", async () => {
  const s = startOAuthScenario("no-dcr-path-issuer");
  try {
    const meta = await getJson(`${s.as.url}/.well-known/oauth-authorization-server/t`);
    assert.equal(meta.body.issuer, `${s.as.url}/t`);
    assert.equal("registration_endpoint" in meta.body, false);
    const { verifier, challenge } = await pkce();
    const q = await authorize(s.as, {
      clientId: s.clientId!,
      challenge,
      scope: "mcp:read",
      resource: s.mcpUrl,
    });
    const t = await token(s.as, {
      grant_type: "authorization_code",
      code: q.get("code")!,
      redirect_uri: REDIRECT,
      code_verifier: verifier,
      resource: s.mcpUrl,
    }, { id: s.clientId!, secret: s.clientSecret! });
    assert.equal(t.status, 200, JSON.stringify(t.body));
    const who = await mcpCall(s.mcpUrl, t.body.access_token as string, "tools/call", {
      name: "whoami",
      arguments: {},
    });
    assert.equal(JSON.parse(toolText(who.body)).clientId, "123.456");
  } finally {
    await s.close();
  }
});
