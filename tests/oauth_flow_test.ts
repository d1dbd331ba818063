/**
 * End-to-end OAuth flow tests: the real flow (lib/oauth/authorize.ts + fetch.ts) driven by a
 * real MCP SDK client against the fixture authorization and MCP servers on 127.0.0.1, with a
 * test browser that follows the authorization redirect to the real callback server.
 */
import assert from "node:assert/strict";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { createOAuthContext } from "../lib/oauth/context.ts";
import type { OAuthContext, OAuthTarget } from "../lib/oauth/context.ts";
import { createOAuthFetch, ServerAuth } from "../lib/oauth/fetch.ts";
import type { FetchLike } from "../lib/oauth/fetch.ts";
import { MemoryTokenStore } from "../lib/oauth/store.ts";
import type { TokenStore } from "../lib/oauth/store.ts";
import { ScriptedElicitation } from "../lib/runtime/elicitation.ts";
import type { SignInAnswer } from "../lib/runtime/elicitation.ts";
import { OAuthError } from "../lib/oauth/errors.ts";
import { generateSelfSignedCertificate } from "../lib/oauth/cert.ts";
import { captureRedirect, followAuthorization, startOAuthScenario } from "../fixtures/oauth/mod.ts";
import type { OAuthScenario, RequestLog, ScenarioName } from "../fixtures/oauth/mod.ts";

interface Harness {
  ctx: OAuthContext;
  elicitation: ScriptedElicitation;
  /** Authorization URLs the "browser" was sent to. */
  opened: string[];
}

function harness(
  options: { store?: TokenStore; signIn?: SignInAnswer[]; caCerts?: string[] } = {},
): Harness {
  const elicitation = new ScriptedElicitation({ signIn: options.signIn });
  const opened: string[] = [];
  const ctx = createOAuthContext({
    store: options.store ?? new MemoryTokenStore(),
    elicitation,
    browser: {
      open: async (url) => {
        opened.push(url);
        await followAuthorization(url, { caCerts: options.caCerts });
      },
    },
  });
  return { ctx, elicitation, opened };
}

function targetFor(scenario: OAuthScenario, extra: Partial<OAuthTarget> = {}): OAuthTarget {
  return {
    serverUrl: scenario.mcpUrl,
    server: scenario.name,
    oauth: scenario.clientId
      ? { clientId: scenario.clientId, clientSecret: scenario.clientSecret }
      : undefined,
    ...extra,
  };
}

/** Connects a real SDK client through the OAuth-aware fetch. */
async function connect(url: string, fetch: FetchLike): Promise<Client> {
  const client = new Client({ name: "dagent-test", version: "0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { fetch }));
  return client;
}

async function whoami(client: Client): Promise<Record<string, unknown>> {
  const result = await client.callTool({ name: "whoami", arguments: {} });
  assert.equal(result.isError, undefined, JSON.stringify(result));
  const content = result.content as Array<{ type: string; text: string }>;
  return JSON.parse(content[0].text);
}

/** Requests that were OAuth traffic (everything but the MCP endpoint itself). */
function authRequests(log: RequestLog): number {
  return log.entries.filter((entry) => entry.kind !== "mcp").length;
}

function allAuthRequests(scenario: OAuthScenario): number {
  const logs = new Set([scenario.as.log, scenario.mcp.log]);
  return [...logs].reduce((sum, log) => sum + authRequests(log), 0);
}

const COLD_SCENARIOS: ScenarioName[] = [
  "dcr",
  "no-dcr-path-issuer",
  "oidc-only",
  "prm-root-only",
  "prm-custom-url",
  "legacy-with-metadata",
  "legacy-no-metadata",
];

for (const name of COLD_SCENARIOS) {
  Deno.test(`cold sign-in then warm start: ${name}`, async () => {
    const scenario = startOAuthScenario(name);
    const store = new MemoryTokenStore();
    try {
      const { ctx, elicitation, opened } = harness({ store });
      const target = targetFor(scenario);
      const client = await connect(scenario.mcpUrl, createOAuthFetch(new ServerAuth(ctx, target)));
      const me = await whoami(client);
      await client.close();
      assert.equal(elicitation.signInPrompts.length, 1);
      assert.equal(opened.length, 1);
      if (scenario.clientId) assert.equal(me.clientId, scenario.clientId);
      const cold = allAuthRequests(scenario);
      assert.ok(cold > 0);
      console.log(`  ${name}: ${cold} auth requests on a cold sign-in`);

      // A later process with the same store: no discovery, no registration, no token request.
      scenario.as.log.clear();
      scenario.mcp.log.clear();
      const warm = harness({ store });
      const again = await connect(
        scenario.mcpUrl,
        createOAuthFetch(new ServerAuth(warm.ctx, target)),
      );
      assert.deepEqual(await whoami(again), me);
      await again.close();
      assert.equal(allAuthRequests(scenario), 0);
      assert.equal(warm.elicitation.signInPrompts.length, 0);
    } finally {
      await scenario.close();
    }
  });
}

Deno.test("a Client ID Metadata Document is used as the client id where supported", async () => {
  const scenario = startOAuthScenario("cimd");
  let documentUrl = "";
  const documents = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () =>
      Response.json({
        client_id: documentUrl,
        client_name: "dagent",
        redirect_uris: ["http://127.0.0.1/callback"],
        token_endpoint_auth_method: "none",
        grant_types: ["authorization_code", "refresh_token"],
      }),
  );
  documentUrl = `http://127.0.0.1:${documents.addr.port}/dagent-client.json`;
  try {
    const { ctx } = harness();
    const target = targetFor(scenario, { oauth: { clientMetadataUrl: documentUrl } });
    const client = await connect(scenario.mcpUrl, createOAuthFetch(new ServerAuth(ctx, target)));
    assert.equal((await whoami(client)).clientId, documentUrl);
    await client.close();
    assert.equal(scenario.as.log.countKind("register"), 0);
  } finally {
    await documents.shutdown();
    await scenario.close();
  }
});

Deno.test("without DCR or clientId the error names remote.oauth.clientId and is not a decline", async () => {
  const scenario = startOAuthScenario("no-dcr-path-issuer");
  try {
    const { ctx, elicitation } = harness();
    const target = targetFor(scenario, { oauth: undefined, server: "slack" });
    const auth = new ServerAuth(ctx, target);
    const failure = await createOAuthFetch(auth)(scenario.mcpUrl, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
      },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
    }).then(() => undefined, (e) => e);
    assert.ok(failure instanceof OAuthError, String(failure));
    assert.equal(failure.code, "oauth.no_registration");
    assert.match(failure.message + (failure.hint ?? ""), /remote\.oauth\.clientId/);
    assert.match(failure.message, /slack/);
    assert.equal(elicitation.signInPrompts.length, 0, "no prompt before the client is known");
    assert.equal(auth.declined, false, "an error is not a decline");
    assert.equal(scenario.as.log.countKind("authorize"), 0);
  } finally {
    await scenario.close();
  }
});

Deno.test("a decline sticks for the session, fails fast, and leaves other servers alone", async () => {
  const declinedScenario = startOAuthScenario("dcr");
  const otherScenario = startOAuthScenario("dcr");
  try {
    const { ctx, elicitation, opened } = harness({ signIn: ["decline", "accept"] });
    const declinedFetch = createOAuthFetch(
      new ServerAuth(ctx, targetFor(declinedScenario, { server: "notion" })),
    );
    const first = await connect(declinedScenario.mcpUrl, declinedFetch).then(() => null, (e) => e);
    assert.match(
      String(first?.message ?? first),
      /authorization was declined for notion in this session/,
    );
    declinedScenario.mcp.log.clear();
    for (let i = 0; i < 3; i++) {
      const again = await declinedFetch(declinedScenario.mcpUrl, { method: "POST", body: "{}" })
        .then(() => null, (e) => e);
      assert.ok(again instanceof OAuthError);
      assert.equal(again.code, "oauth.declined");
    }
    assert.equal(declinedScenario.mcp.log.total, 0, "requests after a decline never leave");
    assert.equal(elicitation.signInPrompts.length, 1, "asked once only");
    assert.equal(opened.length, 0, "no browser after a decline");

    const other = await connect(
      otherScenario.mcpUrl,
      createOAuthFetch(new ServerAuth(ctx, targetFor(otherScenario, { server: "linear" }))),
    );
    await whoami(other);
    await other.close();
    assert.equal(elicitation.signInPrompts.length, 2);
  } finally {
    await declinedScenario.close();
    await otherScenario.close();
  }
});

Deno.test("step-up: a 403 insufficient_scope re-authorizes with the union of scopes", async () => {
  const scenario = startOAuthScenario("step-up");
  try {
    const { ctx, elicitation } = harness();
    const client = await connect(
      scenario.mcpUrl,
      createOAuthFetch(new ServerAuth(ctx, targetFor(scenario))),
    );
    const result = await client.callTool({ name: "admin_action", arguments: {} });
    assert.notEqual(result.isError, true, JSON.stringify(result));
    await client.close();
    assert.equal(elicitation.signInPrompts.length, 2);
    const second = elicitation.signInPrompts[1].scopes;
    assert.ok(second.includes("mcp:read") && second.includes("admin"), second.join(" "));
  } finally {
    await scenario.close();
  }
});

Deno.test("100 concurrent calls on an expired token cause exactly one refresh", async () => {
  const scenario = startOAuthScenario("expired-tokens");
  try {
    const { ctx } = harness();
    const auth = new ServerAuth(ctx, targetFor(scenario));
    const client = await connect(scenario.mcpUrl, createOAuthFetch(auth));
    // The sign-in issued an already-expired token, and connecting refreshed it once.
    scenario.as.expireAll();
    scenario.as.log.clear();
    const results = await Promise.all(
      Array.from({ length: 100 }, () => client.callTool({ name: "whoami", arguments: {} })),
    );
    await client.close();
    assert.equal(results.filter((r: { isError?: unknown }) => r.isError).length, 0);
    assert.equal(scenario.as.log.countKind("token", "refresh_token"), 1);
    assert.equal(scenario.as.log.countKind("authorize"), 0);
  } finally {
    await scenario.close();
  }
});

Deno.test("refresh rotation: the rotated refresh token is stored and used next time", async () => {
  const scenario = startOAuthScenario("refresh-rotation");
  const store = new MemoryTokenStore();
  try {
    const { ctx } = harness({ store });
    const target = targetFor(scenario);
    const client = await connect(scenario.mcpUrl, createOAuthFetch(new ServerAuth(ctx, target)));
    const first = await store.loadToken(scenario.mcpUrl);
    scenario.as.expireAll();
    await whoami(client);
    const second = await store.loadToken(scenario.mcpUrl);
    assert.ok(first?.refreshToken && second?.refreshToken);
    assert.notEqual(second.refreshToken, first.refreshToken);
    scenario.as.expireAll();
    await whoami(client);
    await client.close();
    assert.equal(scenario.as.log.countKind("token", "refresh_token"), 2);
    assert.equal(scenario.as.log.countKind("authorize"), 1);
  } finally {
    await scenario.close();
  }
});

Deno.test("a revoked refresh token (invalid_grant) leads to a new sign-in", async () => {
  const scenario = startOAuthScenario("refresh-rotation");
  try {
    const { ctx, elicitation } = harness();
    const client = await connect(
      scenario.mcpUrl,
      createOAuthFetch(new ServerAuth(ctx, targetFor(scenario))),
    );
    scenario.as.revokeAll();
    await whoami(client);
    await client.close();
    assert.equal(elicitation.signInPrompts.length, 2);
  } finally {
    await scenario.close();
  }
});

Deno.test("the bearer token goes to the MCP server's origin only", async () => {
  const scenario = startOAuthScenario("dcr");
  const seen: Array<string | null> = [];
  const other = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    seen.push(req.headers.get("authorization"));
    return new Response("ok");
  });
  try {
    const { ctx } = harness();
    const oauthFetch = createOAuthFetch(new ServerAuth(ctx, targetFor(scenario)));
    const client = await connect(scenario.mcpUrl, oauthFetch);
    await whoami(client);
    await client.close();
    const response = await oauthFetch(`http://127.0.0.1:${other.addr.port}/x`);
    await response.text();
    // Same host, other port: another origin.
    assert.deepEqual(seen, [null]);
  } finally {
    await other.shutdown();
    await scenario.close();
  }
});

Deno.test("a redirect to another origin never carries the token", async () => {
  const scenario = startOAuthScenario("dcr");
  const seen: Array<string | null> = [];
  const elsewhere = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    seen.push(req.headers.get("authorization"));
    return new Response("{}");
  });
  const store = new MemoryTokenStore();
  try {
    const { ctx } = harness({ store });
    const target = targetFor(scenario);
    const client = await connect(scenario.mcpUrl, createOAuthFetch(new ServerAuth(ctx, target)));
    await client.close();
    // A server on the MCP origin that redirects elsewhere.
    const redirector = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      () => Response.redirect(`http://127.0.0.1:${elsewhere.addr.port}/steal`, 307),
    );
    try {
      const token = await store.loadToken(scenario.mcpUrl);
      const redirectUrl = `http://127.0.0.1:${redirector.addr.port}/mcp`;
      await store.saveToken(redirectUrl, { ...token!, resource: redirectUrl });
      const fetchVia = createOAuthFetch(
        new ServerAuth(harness({ store }).ctx, { serverUrl: redirectUrl, server: "moved" }),
      );
      const failure = await fetchVia(redirectUrl, { method: "POST", body: "{}" })
        .then(() => null, (e) => e);
      assert.ok(failure instanceof OAuthError);
      assert.equal(failure.code, "oauth.cross_origin_redirect");
      assert.deepEqual(seen, []);
    } finally {
      await redirector.shutdown();
    }
  } finally {
    await elsewhere.shutdown();
    await scenario.close();
  }
});

Deno.test("a protected resource document for another resource stops before authorizing", async () => {
  const scenario = startOAuthScenario("dcr", {
    mcp: { prmResource: "https://evil.example/mcp" },
  });
  try {
    const { ctx, elicitation } = harness();
    const failure = await connect(
      scenario.mcpUrl,
      createOAuthFetch(new ServerAuth(ctx, targetFor(scenario))),
    ).then(() => null, (e) => e);
    assert.match(String(failure?.message ?? failure), /resource/i);
    assert.equal(elicitation.signInPrompts.length, 0);
    assert.equal(scenario.as.log.countKind("authorize"), 0);
    assert.equal(scenario.as.log.countKind("register"), 0);
  } finally {
    await scenario.close();
  }
});

Deno.test("HTTPS loopback callback (tls: true) with a real TLS client trusting the certificate", async () => {
  const scenario = startOAuthScenario("dcr");
  try {
    const certificate = await generateSelfSignedCertificate();
    const { ctx, elicitation, opened } = harness({ caCerts: [certificate.certPem] });
    ctx.generateCertificate = () => Promise.resolve(certificate);
    const target = targetFor(scenario, { oauth: { tls: true } });
    const client = await connect(scenario.mcpUrl, createOAuthFetch(new ServerAuth(ctx, target)));
    await whoami(client);
    await client.close();
    const redirectUri = new URL(opened[0]).searchParams.get("redirect_uri") ?? "";
    assert.match(redirectUri, /^https:\/\/127\.0\.0\.1:\d+\/callback$/);
    assert.equal(
      elicitation.messages.filter((m) => m.includes("self-signed")).length,
      1,
      "the user is told once why the browser warns",
    );
  } finally {
    await scenario.close();
  }
});

Deno.test("headless: the pasted final address (or bare code) completes the sign-in", async () => {
  for (const pasteBareCode of [false, true]) {
    const scenario = startOAuthScenario("dcr", { as: { issParameter: false } });
    try {
      const elicitation = new ScriptedElicitation({
        redirects: [async ({ authorizationUrl }) => {
          const finalUrl = await captureRedirect(authorizationUrl);
          return pasteBareCode ? new URL(finalUrl).searchParams.get("code")! : finalUrl;
        }],
      });
      const ctx = createOAuthContext({
        store: new MemoryTokenStore(),
        elicitation,
        browser: { noBrowser: true },
      });
      const client = await connect(
        scenario.mcpUrl,
        createOAuthFetch(new ServerAuth(ctx, targetFor(scenario))),
      );
      await whoami(client);
      await client.close();
      assert.ok(elicitation.messages.some((m) => m.includes(scenario.as.endpoints.authorization)));
    } finally {
      await scenario.close();
    }
  }
});

Deno.test("headless: a pasted address with another state is refused", async () => {
  const scenario = startOAuthScenario("dcr");
  try {
    const elicitation = new ScriptedElicitation({
      redirects: [async ({ authorizationUrl }) => {
        const finalUrl = new URL(await captureRedirect(authorizationUrl));
        finalUrl.searchParams.set("state", "forged");
        return finalUrl.href;
      }],
    });
    const ctx = createOAuthContext({
      store: new MemoryTokenStore(),
      elicitation,
      browser: { noBrowser: true },
    });
    const failure = await connect(
      scenario.mcpUrl,
      createOAuthFetch(new ServerAuth(ctx, targetFor(scenario))),
    ).then(() => null, (e) => e);
    assert.ok(failure instanceof OAuthError, String(failure));
    assert.equal(failure.code, "oauth.state_mismatch");
    assert.equal(scenario.as.log.countKind("token"), 0);
  } finally {
    await scenario.close();
  }
});

Deno.test("a dynamic registration is reused on the next sign-in although the port changed", async () => {
  const scenario = startOAuthScenario("dcr");
  const store = new MemoryTokenStore();
  try {
    for (let run = 0; run < 2; run++) {
      const { ctx } = harness({ store });
      const auth = new ServerAuth(ctx, targetFor(scenario));
      await auth.login();
    }
    assert.equal(scenario.as.log.countKind("register"), 1);
    assert.equal(scenario.as.log.countKind("authorize"), 2);
  } finally {
    await scenario.close();
  }
});

Deno.test("same-origin redirects: 307 keeps method, body and token; 303 becomes a GET", async () => {
  const seen: Array<{ path: string; method: string; body: string; auth: string | null }> = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const path = new URL(req.url).pathname;
    seen.push({
      path,
      method: req.method,
      body: await req.text(),
      auth: req.headers.get("authorization"),
    });
    if (path === "/old") return new Response(null, { status: 307, headers: { location: "/new" } });
    if (path === "/see-other") {
      return new Response(null, { status: 303, headers: { location: "/new" } });
    }
    return new Response("ok");
  });
  const serverUrl = `http://127.0.0.1:${server.addr.port}/old`;
  const store = new MemoryTokenStore();
  await store.saveToken(serverUrl, {
    accessToken: "token-for-this-origin",
    tokenType: "Bearer",
    scopes: [],
    issuer: "http://127.0.0.1/issuer",
    tokenEndpoint: "http://127.0.0.1/token",
    tokenEndpointAuthMethod: "none",
    clientId: "c",
    resource: serverUrl,
  });
  try {
    const oauthFetch = createOAuthFetch(
      new ServerAuth(harness({ store }).ctx, { serverUrl, server: "moved" }),
    );
    const stream = new Response("streamed body").body!;
    for (const [path, body] of [["/old", "string body"], ["/see-other", stream]] as const) {
      const response = await oauthFetch(`http://127.0.0.1:${server.addr.port}${path}`, {
        method: "POST",
        body,
      });
      assert.equal(await response.text(), "ok");
    }
    assert.deepEqual(seen.map(({ path, method, body }) => [path, method, body]), [
      ["/old", "POST", "string body"],
      ["/new", "POST", "string body"],
      ["/see-other", "POST", "streamed body"],
      ["/new", "GET", ""],
    ]);
    assert.ok(seen.every((entry) => entry.auth === "Bearer token-for-this-origin"));
  } finally {
    await server.shutdown();
  }
});

Deno.test("client_credentials with a client secret: no prompt, no browser, a token for the resource", async () => {
  const scenario = startOAuthScenario("dcr", {
    as: {
      dcr: false,
      clientCredentials: true,
      preRegistered: [{
        clientId: "robot",
        clientSecret: "s3cret",
        authMethod: "client_secret_basic",
      }],
    },
  });
  try {
    const { ctx, elicitation, opened } = harness();
    const target = targetFor(scenario, {
      oauth: { clientId: "robot", clientSecret: "s3cret", grantType: "client_credentials" },
    });
    const client = await connect(scenario.mcpUrl, createOAuthFetch(new ServerAuth(ctx, target)));
    assert.equal((await whoami(client)).clientId, "robot");
    await client.close();
    assert.equal(elicitation.signInPrompts.length, 0);
    assert.equal(opened.length, 0);
    assert.equal(scenario.as.log.countKind("token", "client_credentials"), 1);
    assert.equal(scenario.as.log.countKind("authorize"), 0);
  } finally {
    await scenario.close();
  }
});

Deno.test("client_credentials with private_key_jwt (ES256 key from a PEM file)", async () => {
  const keys = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
    "sign",
    "verify",
  ]);
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", keys.privateKey));
  const pem = `-----BEGIN PRIVATE KEY-----\n${
    btoa(String.fromCharCode(...pkcs8)).replace(/.{64}/g, "$&\n")
  }\n-----END PRIVATE KEY-----\n`;
  const dir = await Deno.makeTempDir({ prefix: "dagent-jwt-" });
  const keyFile = `${dir}/key.pem`;
  await Deno.writeTextFile(keyFile, pem, { mode: 0o600 });
  const scenario = startOAuthScenario("dcr", {
    as: {
      dcr: false,
      clientCredentials: true,
      authMethods: ["private_key_jwt"],
      preRegistered: [{
        clientId: "signer",
        authMethod: "private_key_jwt",
        publicKey: keys.publicKey,
      }],
    },
  });
  try {
    const { ctx } = harness();
    const target = targetFor(scenario, {
      oauth: { clientId: "signer", privateKeyFile: keyFile, grantType: "client_credentials" },
    });
    const client = await connect(scenario.mcpUrl, createOAuthFetch(new ServerAuth(ctx, target)));
    assert.equal((await whoami(client)).clientId, "signer");
    await client.close();
  } finally {
    await scenario.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("callbackRedirectURL is sent as redirect_uri while the listener stays on loopback", async () => {
  const scenario = startOAuthScenario("dcr", { as: { issParameter: false } });
  try {
    const tunnel = "https://tunnel.example/dagent/callback";
    let pastedFrom = "";
    const elicitation = new ScriptedElicitation({
      redirects: [async ({ authorizationUrl }) => {
        // The provider sends the browser to the tunnel, which forwards to the loopback port;
        // here the user pastes the address the browser ended on.
        pastedFrom = await captureRedirect(authorizationUrl);
        return pastedFrom;
      }],
    });
    const ctx = createOAuthContext({
      store: new MemoryTokenStore(),
      elicitation,
      browser: { noBrowser: true },
    });
    const target = targetFor(scenario, { oauth: { callbackRedirectURL: tunnel } });
    const client = await connect(scenario.mcpUrl, createOAuthFetch(new ServerAuth(ctx, target)));
    await whoami(client);
    await client.close();
    assert.ok(pastedFrom.startsWith(tunnel + "?"), pastedFrom);
  } finally {
    await scenario.close();
  }
});

Deno.test("a stored token is not reused when the configured scopes grew", async () => {
  const scenario = startOAuthScenario("dcr");
  const store = new MemoryTokenStore();
  try {
    const first = harness({ store });
    await new ServerAuth(first.ctx, targetFor(scenario, { oauth: { scopes: ["mcp:read"] } }))
      .login();
    const same = new ServerAuth(
      harness({ store }).ctx,
      targetFor(scenario, { oauth: { scopes: ["mcp:read"] } }),
    );
    assert.ok(await same.currentToken(), "same scopes: the stored token is used");
    const grown = new ServerAuth(
      harness({ store }).ctx,
      targetFor(scenario, { oauth: { scopes: ["mcp:read", "mcp:write"] } }),
    );
    assert.equal(await grown.currentToken(), undefined, "more scopes: sign in again");
  } finally {
    await scenario.close();
  }
});

Deno.test("a 401 that arrives after another request's sign-in uses that token: one prompt", async () => {
  const scenario = startOAuthScenario("dcr");
  try {
    const { ctx, elicitation } = harness();
    let signedIn!: () => void;
    const signInDone = new Promise<void>((resolve) => signedIn = resolve);
    ctx.onAuthEvent = (event) => {
      if (event.outcome === "signed_in") signedIn();
    };
    // The second bare request's 401 is held until the first request's sign-in has finished.
    let bare = 0;
    const base: typeof fetch = async (input, init) => {
      const request = new Request(input, init);
      const response = await fetch(request);
      if (response.status === 401 && !request.headers.has("authorization") && ++bare === 2) {
        await signInDone;
      }
      return response;
    };
    const oauthFetch = createOAuthFetch(new ServerAuth(ctx, targetFor(scenario)), base);
    const call = () =>
      oauthFetch(scenario.mcpUrl, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
        },
        body: JSON.stringify({
          jsonrpc: "2.0",
          id: 1,
          method: "initialize",
          params: {
            protocolVersion: "2025-06-18",
            capabilities: {},
            clientInfo: { name: "t", version: "0" },
          },
        }),
      }).then((response) => response.text().then(() => response.status));
    assert.deepEqual(await Promise.all([call(), call()]), [200, 200]);
    assert.equal(elicitation.signInPrompts.length, 1);
    assert.equal(scenario.as.log.countKind("authorize"), 1);
  } finally {
    await scenario.close();
  }
});
