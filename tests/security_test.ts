/**
 * The OAuth security battery (issues 3 and 4): hostile servers, browsers, stores and lock
 * files against the real flow (lib/oauth) on 127.0.0.1. Every case asserts two things: nothing
 * leaks (no access token, refresh token or client secret, no raw `<script` in any message,
 * page, log line or request to a wrong origin) and the failure is clear (a DagentError with a
 * stable code, naming the toolset, with a hint saying what to do next).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DagentError } from "../lib/errors.ts";
import { createOAuthContext } from "../lib/oauth/context.ts";
import type { OAuthContext, OAuthTarget } from "../lib/oauth/context.ts";
import { createOAuthFetch, ServerAuth } from "../lib/oauth/fetch.ts";
import type { FetchLike } from "../lib/oauth/fetch.ts";
import type { HttpOptions } from "../lib/oauth/http.ts";
import { startCallbackServer } from "../lib/oauth/callback.ts";
import { FileTokenStore } from "../lib/oauth/file_store.ts";
import { withServerLock } from "../lib/oauth/lock.ts";
import { locksDir, tokenFilePath } from "../lib/oauth/paths.ts";
import { MemoryTokenStore } from "../lib/oauth/store.ts";
import type { StoredToken, TokenStore } from "../lib/oauth/store.ts";
import { bearerChallenge, parseWwwAuthenticate } from "../lib/oauth/www_authenticate.ts";
import { NonInteractiveElicitation, ScriptedElicitation } from "../lib/runtime/elicitation.ts";
import type { ElicitationHandler, SignInAnswer } from "../lib/runtime/elicitation.ts";
import { captureRedirect, followAuthorization, startOAuthScenario } from "../fixtures/oauth/mod.ts";
import type { OAuthScenario } from "../fixtures/oauth/mod.ts";
import {
  type BodyMeter,
  type CraftedOptions,
  type CraftedServer,
  meteredResponse,
  startCraftedServer,
  startRecordingServer,
} from "../fixtures/oauth/hostile.ts";

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/** The payload every echo test carries. */
const SCRIPT = `<script>alert(document.cookie)</script>`;
/** The toolset name used in every flow (each message must name it). */
const SERVER = "hostile-docs";

/** Everything a run could leak through: text the user or a log sees. */
interface Witness {
  texts: string[];
  secrets: string[];
}

/**
 * Asserts that no text holds a raw `<script` and no secret (tokens, client secrets) appears
 * in any of them.
 */
function assertNoLeak(witness: Witness, label: string): void {
  const secrets = witness.secrets.filter((s) => s.length >= 8);
  for (const text of witness.texts) {
    assert.doesNotMatch(text, /<script/i, `${label}: raw script text in: ${text.slice(0, 300)}`);
    for (const secret of secrets) {
      assert.ok(!text.includes(secret), `${label}: a secret leaked into: ${text.slice(0, 300)}`);
    }
  }
}

/** The printable parts of an error. */
function errorTexts(error: unknown): string[] {
  if (!(error instanceof Error)) return [String(error)];
  const hint = error instanceof DagentError ? error.hint ?? "" : "";
  return [error.message, hint, String(error)];
}

/**
 * Asserts the failure is clear: a DagentError with `code`, a short one-line-ish message that
 * names `names` (the toolset), and a hint that says what to do (matching `hint` when given).
 */
function assertClearError(
  error: unknown,
  expect: { code: string; names?: string; hint?: RegExp; message?: RegExp },
): asserts error is DagentError {
  assert.ok(error instanceof DagentError, `expected a DagentError, got: ${error}`);
  assert.equal(error.code, expect.code, `code of: ${error.message}`);
  if (expect.names) {
    assert.ok(error.message.includes(expect.names), `names ${expect.names}: ${error.message}`);
  }
  assert.ok((error.hint ?? "").trim().length > 10, `a hint says what to do: ${error.message}`);
  if (expect.hint) assert.match(`${error.message} ${error.hint}`, expect.hint);
  if (expect.message) assert.match(error.message, expect.message);
  assert.ok(error.message.length <= 500, `message is short (${error.message.length} chars)`);
  assert.doesNotMatch(error.message, /\n\s+at /, "no stack trace in the message");
  // deno-lint-ignore no-control-regex
  assert.doesNotMatch(error.message, /[\u0000-\u0008\u000b-\u001f\u007f]/, "no control chars");
}

/** Awaits `promise` expecting it to reject; returns the rejection. */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  const outcome = await promise.then((value) => ({ value }), (error) => ({ error }));
  assert.ok("error" in outcome, "expected a failure, but it succeeded");
  return outcome.error;
}

/** One request that left through the spy fetch. */
interface SpiedRequest {
  url: string;
  method: string;
  headers: Headers;
  body: string;
}

/**
 * A fetch that records every outgoing request (URL, headers, body) and the small JSON
 * answers (so tests learn the tokens a server issued without trusting dagent's store).
 */
function spyFetch(): { fetch: typeof fetch; requests: SpiedRequest[]; answers: string[] } {
  const requests: SpiedRequest[] = [];
  const answers: string[] = [];
  const spy = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    const body = request.body ? await request.clone().text() : "";
    requests.push({ url: request.url, method: request.method, headers: request.headers, body });
    const response = await fetch(request);
    const length = Number(response.headers.get("content-length") ?? "NaN");
    if (Number.isFinite(length) && length <= 64 * 1024) answers.push(await response.clone().text());
    return response;
  };
  return { fetch: spy as typeof fetch, requests, answers };
}

/** Tokens and secrets found in JSON answers (token and registration responses). */
function secretsIn(answers: string[]): string[] {
  const found: string[] = [];
  for (const text of answers) {
    try {
      const doc = JSON.parse(text);
      for (const name of ["access_token", "refresh_token", "client_secret", "id_token"]) {
        if (typeof doc?.[name] === "string") found.push(doc[name]);
      }
    } catch { /* not JSON */ }
  }
  return found;
}

interface Harness {
  ctx: OAuthContext;
  elicitation: ScriptedElicitation;
  spy: ReturnType<typeof spyFetch>;
  /** Authorization URLs handed to the "browser". */
  opened: string[];
  /** Pages the browser ended on. */
  pages: string[];
  /** Browser visits still running (await before the test ends). */
  browsing: Promise<unknown>[];
  /** console.* lines written while the harness was active. */
  logs: string[];
  /** Restores console; awaits browser visits. */
  done(): Promise<void>;
  /** Every text the user or a log could see, plus the error's. */
  witness(error?: unknown, extraSecrets?: string[]): Witness;
}

function harness(options: {
  store?: TokenStore;
  signIn?: SignInAnswer[];
  http?: Partial<HttpOptions>;
  /** The browser: default follows the authorization redirect to the callback. */
  visit?: (url: string) => Promise<string | undefined>;
  callbackTimeoutMs?: number;
  lockDir?: string;
} = {}): Harness {
  const elicitation = new ScriptedElicitation({ signIn: options.signIn });
  const spy = spyFetch();
  const opened: string[] = [];
  const pages: string[] = [];
  const browsing: Promise<unknown>[] = [];
  const logs: string[] = [];
  const saved = { log: console.log, error: console.error, warn: console.warn };
  const capture = (...args: unknown[]) => logs.push(args.map(String).join(" "));
  console.log = console.error = console.warn = capture;
  const visit = options.visit ??
    (async (url: string) => (await followAuthorization(url, { timeoutMs: 5_000 })).body);
  const ctx = createOAuthContext({
    store: options.store ?? new MemoryTokenStore(),
    elicitation,
    http: { timeoutMs: 3_000, maxBytes: 1024 * 1024, fetch: spy.fetch, ...options.http },
    browser: {
      open: (url) => {
        opened.push(url);
        const visiting = visit(url).then((page) => page !== undefined && pages.push(page));
        browsing.push(visiting.catch(() => {}));
        return visiting;
      },
    },
    callbackTimeoutMs: options.callbackTimeoutMs ?? 5_000,
    lockDir: options.lockDir,
  });
  return {
    ctx,
    elicitation,
    spy,
    opened,
    pages,
    browsing,
    logs,
    async done() {
      Object.assign(console, saved);
      await Promise.all(browsing);
    },
    witness(error, extraSecrets = []) {
      return {
        texts: [
          ...errorTexts(error ?? ""),
          ...elicitation.messages,
          ...elicitation.signInPrompts.map((p) => JSON.stringify(p)),
          ...pages,
          ...logs,
          ...opened,
          ...spy.requests.map((r) => r.url),
        ],
        secrets: [...secretsIn(spy.answers), ...extraSecrets],
      };
    },
  };
}

/** A JSON-RPC POST like an MCP transport sends. */
function mcpPost(oauthFetch: FetchLike, url: string): Promise<Response> {
  return oauthFetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
  });
}

/** Runs one request through a fresh ServerAuth for `url`; returns auth and the outcome. */
async function signInVia(
  h: Harness,
  url: string,
  extra: Partial<OAuthTarget> = {},
): Promise<{ auth: ServerAuth; fetch: FetchLike; error?: unknown; response?: Response }> {
  const auth = new ServerAuth(h.ctx, { serverUrl: url, server: SERVER, ...extra });
  const oauthFetch = createOAuthFetch(auth, h.spy.fetch);
  try {
    const response = await mcpPost(oauthFetch, url);
    await response.body?.cancel();
    return { auth, fetch: oauthFetch, response };
  } catch (error) {
    return { auth, fetch: oauthFetch, error };
  }
}

/** Starts a crafted server, runs `fn`, always closes both the harness and the server. */
async function withCrafted(
  options: CraftedOptions,
  fn: (server: CraftedServer) => Promise<void>,
): Promise<void> {
  const server = startCraftedServer(options);
  try {
    await fn(server);
  } finally {
    await server.close();
  }
}

async function withScenario(
  scenario: OAuthScenario,
  fn: (scenario: OAuthScenario) => Promise<void>,
): Promise<void> {
  try {
    await fn(scenario);
  } finally {
    await scenario.close();
  }
}

/** Requests in the spy log whose URL is not on `origin`. */
function offOrigin(h: Harness, origin: string): SpiedRequest[] {
  return h.spy.requests.filter((r) => new URL(r.url).origin !== origin);
}

async function getPage(url: string): Promise<{ response: Response; body: string }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  return { response, body: await response.text() };
}

function assertPageHeaders(response: Response): void {
  assert.equal(response.headers.get("content-security-policy"), "default-src 'none'");
  assert.equal(response.headers.get("x-content-type-options"), "nosniff");
  assert.match(response.headers.get("content-type") ?? "", /^text\/html/);
}

// ---------------------------------------------------------------------------------------------
// The callback page escapes everything it echoes
// ---------------------------------------------------------------------------------------------

const ECHO_CASES: Array<{ name: string; query: Record<string, string>; server?: string }> = [
  { name: "error", query: { error: SCRIPT } },
  { name: "error_description", query: { error: "access_denied", error_description: SCRIPT } },
  { name: "state", query: { code: "c", state: SCRIPT } },
  { name: "code", query: { code: SCRIPT } },
  { name: "iss", query: { code: "c", iss: SCRIPT } },
  { name: "an unknown parameter", query: { code: "c", [`x${SCRIPT}`]: SCRIPT } },
  { name: "the toolset name", query: { error: "server_error" }, server: `<img src=x>${SCRIPT}` },
];

for (const echo of ECHO_CASES) {
  Deno.test(`callback page: script in ${echo.name} is escaped, CSP set, secrets kept`, async () => {
    const state = `state-${crypto.randomUUID()}`;
    const callback = await startCallbackServer({
      expectedState: state,
      server: echo.server ?? SERVER,
      timeoutMs: 5_000,
    });
    try {
      const query = new URLSearchParams({ state, ...echo.query });
      const { response, body } = await getPage(`${callback.redirectUri}?${query}`);
      assertPageHeaders(response);
      assert.doesNotMatch(body, /<script/i);
      assert.doesNotMatch(body, /<img/i);
      // The page never repeats the expected state (it is the CSRF secret of this sign-in).
      if (echo.name !== "state") assert.ok(!body.includes(state), "state not echoed");
      if (echo.name === "error" || echo.name === "error_description" || echo.server) {
        assert.match(body, /&lt;script&gt;/, "echoed, escaped");
      }
      if (echo.name === "state") {
        assert.equal(response.status, 400);
        assert.match(body, /does not belong to the sign-in/);
      } else {
        const params = await callback.result;
        assert.equal(params.get("state"), state, "the response was handed over as data");
      }
    } finally {
      await callback.close();
    }
  });
}

Deno.test("callback: wrong paths are refused and do not consume the wait", async () => {
  const state = `state-${crypto.randomUUID()}`;
  const callback = await startCallbackServer({ expectedState: state, server: SERVER });
  try {
    const origin = new URL(callback.redirectUri).origin;
    const query = new URLSearchParams({ code: SCRIPT, state });
    for (const path of ["/evil", "/callback/", "/CALLBACK", "/callbackx", "/"]) {
      const { response, body } = await getPage(`${origin}${path}?${query}`);
      assert.equal(response.status, 404, path);
      assertPageHeaders(response);
      assert.doesNotMatch(body, /<script/i);
      assert.ok(!body.includes(state));
    }
    const good = await getPage(
      `${callback.redirectUri}?${new URLSearchParams({ code: "c1", state })}`,
    );
    assert.equal(good.response.status, 200);
    assert.equal((await callback.result).get("code"), "c1");
  } finally {
    await callback.close();
  }
});

Deno.test("callback: hit twice, the second hit changes nothing and echoes nothing", async () => {
  const state = `state-${crypto.randomUUID()}`;
  const callback = await startCallbackServer({ expectedState: state, server: SERVER });
  try {
    await getPage(`${callback.redirectUri}?${new URLSearchParams({ code: "first", state })}`);
    const second = await getPage(
      `${callback.redirectUri}?${new URLSearchParams({ code: "second", state, error: SCRIPT })}`,
    );
    assertPageHeaders(second.response);
    assert.match(second.body, /already completed/);
    assert.doesNotMatch(second.body, /<script|second/i);
    assert.equal((await callback.result).get("code"), "first");
  } finally {
    await callback.close();
  }
});

Deno.test("callback: after the timeout the wait fails clearly and the port is closed", async () => {
  const state = `state-${crypto.randomUUID()}`;
  const callback = await startCallbackServer({
    expectedState: state,
    server: SERVER,
    timeoutMs: 50,
  });
  const error = await rejection(callback.result);
  await callback.close();
  assertClearError(error, {
    code: "oauth.callback_timeout",
    names: SERVER,
    hint: /dagent auth login/,
  });
  assertNoLeak({ texts: errorTexts(error), secrets: [state] }, "timeout");
  const late = await rejection(
    fetch(`${callback.redirectUri}?${new URLSearchParams({ code: "late", state })}`),
  );
  assert.ok(late instanceof TypeError, `the late browser cannot connect: ${late}`);
});

// ---------------------------------------------------------------------------------------------
// Authorization response: state, iss, errors, timeouts
// ---------------------------------------------------------------------------------------------

Deno.test("flow: script in the server's error_description is escaped in the callback page", async () => {
  await withScenario(
    startOAuthScenario("dcr", { as: { autoApprove: "deny", errorDescription: SCRIPT } }),
    async (scenario) => {
      const h = harness();
      try {
        const { error, auth } = await signInVia(h, scenario.mcpUrl);
        await h.done();
        assertClearError(error, { code: "oauth.declined", names: SERVER });
        assert.equal(h.pages.length, 1, "the browser saw the callback page");
        assert.match(h.pages[0], /&lt;script&gt;/);
        assert.equal(scenario.as.log.countKind("token"), 0);
        assert.equal(
          auth.declined,
          false,
          "a server-side denial is an error, not a session decline",
        );
        // Everything but the message (checked in the next test) is clean.
        assertNoLeak(h.witness(), "deny");
      } finally {
        await h.done();
      }
    },
  );
});

// Was a bug: sanitizeServerText kept markup, so processCallbackParams put the server's
// `<script>…` error_description verbatim into the message (which --json output and any UI
// render). Server text kept in a message now has `<`/`>` replaced by look-alikes.
Deno.test({
  name: "flow: script in the server's error_description is not echoed raw in the message",
  async fn() {
    await withScenario(
      startOAuthScenario("dcr", { as: { autoApprove: "deny", errorDescription: SCRIPT } }),
      async (scenario) => {
        const h = harness();
        try {
          const { error } = await signInVia(h, scenario.mcpUrl);
          await h.done();
          assertClearError(error, {
            code: "oauth.declined",
            names: SERVER,
            message: /‹script›alert\(document\.cookie\)‹\/script›/,
          });
          assertNoLeak(h.witness(error), "deny message");
        } finally {
          await h.done();
        }
      },
    );
  },
});

Deno.test("flow: a forged state at the callback is refused; the flow times out cleanly", async () => {
  await withCrafted({ authorizeParams: () => ({ state: `forged-${SCRIPT}` }) }, async (server) => {
    const h = harness({ callbackTimeoutMs: 300 });
    try {
      const { error, auth } = await signInVia(h, server.mcpUrl);
      await h.done();
      assertClearError(error, { code: "oauth.callback_timeout", names: SERVER });
      assert.equal(server.hits("/token").length, 0, "no code was exchanged");
      assert.match(h.pages[0] ?? "", /does not belong to the sign-in/);
      assert.equal(auth.declined, false);
      assertNoLeak(h.witness(error), "forged state");
    } finally {
      await h.done();
    }
  });
});

Deno.test("flow: a wrong iss (mix-up) is refused before the code is exchanged", async () => {
  await withScenario(startOAuthScenario("dcr", { as: { wrongIss: true } }), async (scenario) => {
    const h = harness();
    try {
      const { error, auth } = await signInVia(h, scenario.mcpUrl);
      await h.done();
      assertClearError(error, { code: "oauth.iss_mismatch", names: SERVER, hint: /again/ });
      assert.equal(scenario.as.log.countKind("token"), 0);
      assert.equal(auth.declined, false);
      assertNoLeak(h.witness(error), "wrong iss");
    } finally {
      await h.done();
    }
  });
});

Deno.test("flow: a missing iss when the server advertises RFC 9207 is refused", async () => {
  await withCrafted({
    metadata: () => ({ authorization_response_iss_parameter_supported: true }),
    authorizeParams: () => ({ iss: null }),
  }, async (server) => {
    const h = harness();
    try {
      const { error } = await signInVia(h, server.mcpUrl);
      await h.done();
      assertClearError(error, { code: "oauth.iss_mismatch", names: SERVER, message: /lacks/ });
      assert.equal(server.hits("/token").length, 0);
      assertNoLeak(h.witness(error), "missing iss");
    } finally {
      await h.done();
    }
  });
});

Deno.test("flow: a script iss is refused and never echoed", async () => {
  await withCrafted({
    metadata: () => ({ authorization_response_iss_parameter_supported: true }),
    authorizeParams: () => ({ iss: SCRIPT }),
  }, async (server) => {
    const h = harness();
    try {
      const { error } = await signInVia(h, server.mcpUrl);
      await h.done();
      assertClearError(error, { code: "oauth.iss_mismatch", names: SERVER });
      assert.equal(server.hits("/token").length, 0);
      assertNoLeak(h.witness(error), "script iss");
    } finally {
      await h.done();
    }
  });
});

Deno.test("flow: the browser never comes back; timeout is an error, not a decline", async () => {
  await withCrafted({}, async (server) => {
    let authorizationUrl = "";
    const h = harness({
      callbackTimeoutMs: 200,
      visit: (url) => {
        authorizationUrl = url;
        return Promise.resolve(undefined);
      },
    });
    try {
      const { error, auth } = await signInVia(h, server.mcpUrl);
      assertClearError(error, { code: "oauth.callback_timeout", names: SERVER, hint: /login/ });
      assert.equal(auth.declined, false, "a timeout is not a decline");
      // The browser arrives after the flow gave up: nobody listens any more.
      const late = await rejection(followAuthorization(authorizationUrl, { timeoutMs: 2_000 }));
      assert.ok(late instanceof TypeError, String(late));
      assert.equal(server.hits("/token").length, 0);
      assertNoLeak(h.witness(error), "late browser");
    } finally {
      await h.done();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Discovery: resource, endpoints, issuer
// ---------------------------------------------------------------------------------------------

/** Asserts a flow stopped before any authorization, registration or token request. */
function assertStoppedEarly(h: Harness, server: CraftedServer, allowed: string[] = []): void {
  for (const path of ["/authorize", "/token", "/register"].filter((p) => !allowed.includes(p))) {
    assert.equal(server.hits(path).length, 0, `no request to ${path}`);
  }
  assert.equal(h.elicitation.signInPrompts.length, 0, "the user was not asked");
  assert.equal(h.opened.length, 0, "no browser was opened");
}

Deno.test("discovery: a PRM for another resource stops before any authorize/register request", async () => {
  await withCrafted({
    prm: () => ({
      resource: "https://evil.example/mcp",
      authorization_servers: ["https://evil.example"],
    }),
  }, async (server) => {
    const h = harness();
    try {
      const { error, auth } = await signInVia(h, server.mcpUrl);
      assertClearError(error, {
        code: "oauth.resource_mismatch",
        names: SERVER,
        hint: /remote\.url/,
      });
      assertStoppedEarly(h, server);
      assert.equal(server.hits("/.well-known/oauth-authorization-server").length, 0);
      assert.deepEqual(offOrigin(h, server.origin), [], "nothing went to evil.example");
      assert.equal(auth.declined, false);
      assertNoLeak(h.witness(error), "resource mismatch");
    } finally {
      await h.done();
    }
  });
});

// Was a bug: the oauth.resource_mismatch message echoed a `resource` holding `<script>` raw,
// as the shared sanitizer kept markup.
Deno.test({
  name: "discovery: a PRM resource holding script is not echoed raw",
  async fn() {
    await withCrafted({
      prm: () => ({ resource: `https://evil.example/${SCRIPT}`, authorization_servers: [] }),
    }, async (server) => {
      const h = harness();
      try {
        const { error } = await signInVia(h, server.mcpUrl);
        assertClearError(error, { code: "oauth.resource_mismatch", names: SERVER });
        assertStoppedEarly(h, server);
        assertNoLeak(h.witness(error), "script resource");
      } finally {
        await h.done();
      }
    });
  },
});

Deno.test("discovery: a PRM naming an http authorization server off loopback is refused", async () => {
  await withCrafted({
    prm: (origin) => ({
      resource: `${origin}/mcp`,
      authorization_servers: ["http://evil.example/as"],
    }),
  }, async (server) => {
    const h = harness();
    try {
      const { error } = await signInVia(h, server.mcpUrl);
      assertClearError(error, { code: "oauth.insecure_endpoint", names: SERVER, message: /https/ });
      assertStoppedEarly(h, server);
      assert.deepEqual(offOrigin(h, server.origin), []);
      assertNoLeak(h.witness(error), "http AS");
    } finally {
      await h.done();
    }
  });
});

const BAD_ENDPOINTS: Array<{ field: string; value: string; expect: RegExp }> = [
  { field: "authorization_endpoint", value: "http://example.com/authorize", expect: /https/ },
  { field: "token_endpoint", value: "http://example.com/token", expect: /https/ },
  { field: "registration_endpoint", value: "http://example.com/register", expect: /https/ },
  { field: "revocation_endpoint", value: "http://example.com/revoke", expect: /https/ },
  { field: "authorization_endpoint", value: "javascript:alert(document.cookie)", expect: /https/ },
  {
    field: "authorization_endpoint",
    value: `data:text/html,${SCRIPT}`,
    // Was a bug: safeUrl echoed the opaque (not percent-encoded) path of a data: URL raw.
    expect: /\(a data: URL\): OAuth endpoints must use https/,
  },
  { field: "token_endpoint", value: "/token", expect: /absolute/ },
  { field: "authorization_endpoint", value: "//evil.example/authorize", expect: /absolute/ },
  { field: "token_endpoint", value: "https://user:pass@evil.example/token", expect: /https/ },
];

for (const bad of BAD_ENDPOINTS) {
  const name = `metadata: ${bad.field} = ${bad.value.slice(0, 40)} is refused before any request`;
  Deno.test(name, async () => {
    await withCrafted({ metadata: () => ({ [bad.field]: bad.value }) }, async (server) => {
      const h = harness();
      try {
        const { error } = await signInVia(h, server.mcpUrl);
        assertClearError(error, {
          code: "oauth.insecure_endpoint",
          names: SERVER,
          message: bad.expect,
        });
        assertStoppedEarly(h, server);
        assert.deepEqual(offOrigin(h, server.origin), [], "nothing left for another host");
        assert.ok(!error.message.includes("pass@"), "no credentials from the URL echoed");
        assertNoLeak(h.witness(error, ["pass@evil"]), bad.field);
      } finally {
        await h.done();
      }
    });
  });
}

Deno.test("metadata: an issuer that is not the one asked for is refused (RFC 8414 §3.3)", async () => {
  await withCrafted({ metadata: () => ({ issuer: "https://evil.example" }) }, async (server) => {
    const h = harness();
    try {
      const { error } = await signInVia(h, server.mcpUrl);
      assertClearError(error, { code: "oauth.issuer_mismatch", names: SERVER, hint: /operator/ });
      assertStoppedEarly(h, server);
      assertNoLeak(h.witness(error), "issuer mismatch");
    } finally {
      await h.done();
    }
  });
});

Deno.test("metadata: PKCE S256 not advertised is refused before the user is asked", async () => {
  await withCrafted(
    { metadata: () => ({ code_challenge_methods_supported: ["plain"] }) },
    async (server) => {
      const h = harness();
      try {
        const { error } = await signInVia(h, server.mcpUrl);
        assertClearError(error, { code: "oauth.pkce_unsupported", names: SERVER, hint: /pkce/ });
        assertStoppedEarly(h, server);
        assertNoLeak(h.witness(error), "pkce");
      } finally {
        await h.done();
      }
    },
  );
});

// ---------------------------------------------------------------------------------------------
// Oversized, never-ending and hanging answers
// ---------------------------------------------------------------------------------------------

Deno.test("metadata: a 10 MB document is cut at the cap, quickly, with a clear error", async () => {
  let meter: BodyMeter | undefined;
  const server: CraftedServer = startCraftedServer({
    routes: {
      "/.well-known/oauth-authorization-server": () => {
        const metered = meteredResponse(server, {
          totalBytes: 10 * 1024 * 1024,
          prefix: `{"issuer":"${server.origin}","padding":"`,
        });
        meter = metered.meter;
        return metered.response;
      },
    },
  });
  const h = harness({ http: { maxBytes: 256 * 1024 } });
  try {
    const started = performance.now();
    const { error } = await signInVia(h, server.mcpUrl);
    const elapsed = performance.now() - started;
    assertClearError(error, { code: "oauth.too_large", names: SERVER });
    assert.ok(elapsed < 3_000, `bounded time (${Math.round(elapsed)} ms)`);
    // dagent hung up long before the end: the server saw its reader go away (what was sent
    // beyond the cap sat in kernel socket buffers, never in dagent's memory).
    assert.equal(await meter!.ended, "cancelled", `read stopped early (${meter!.sent} bytes sent)`);
    assert.ok(meter!.sent < 10 * 1024 * 1024);
    assertStoppedEarly(h, server);
    assertNoLeak(h.witness(error), "10 MB");
  } finally {
    await h.done();
    await server.close();
  }
});

Deno.test("metadata: a body that never ends is cut by the timeout", async () => {
  let meter: BodyMeter | undefined;
  const server: CraftedServer = startCraftedServer({
    routes: {
      "/.well-known/oauth-protected-resource/mcp": () => {
        const metered = meteredResponse(server, {
          totalBytes: Infinity,
          chunkBytes: 16,
          intervalMs: 20,
          prefix: '{"resource":"',
        });
        meter = metered.meter;
        return metered.response;
      },
    },
  });
  const h = harness({ http: { timeoutMs: 400 } });
  try {
    const started = performance.now();
    const { error } = await signInVia(h, server.mcpUrl);
    const elapsed = performance.now() - started;
    assertClearError(error, { code: "oauth.timeout", names: SERVER, hint: /reachable/ });
    assert.ok(elapsed < 2_000, `bounded time (${Math.round(elapsed)} ms)`);
    assert.ok(meter!.sent > 0 && meter!.sent < 64 * 1024, `${meter!.sent} bytes`);
    assert.equal(await meter!.ended, "cancelled", "dagent hung up");
    assertStoppedEarly(h, server);
    assertNoLeak(h.witness(error), "endless");
  } finally {
    await h.done();
    await server.close();
  }
});

Deno.test("metadata: a server that never answers is cut by the timeout", async () => {
  await withScenario(startOAuthScenario("dcr", { as: { hang: "metadata" } }), async (scenario) => {
    const h = harness({ http: { timeoutMs: 300 } });
    try {
      const started = performance.now();
      const { error } = await signInVia(h, scenario.mcpUrl);
      assert.ok(performance.now() - started < 2_000);
      assertClearError(error, { code: "oauth.timeout", names: SERVER });
      assert.equal(scenario.as.log.countKind("authorize"), 0);
      assert.equal(h.elicitation.signInPrompts.length, 0);
      assertNoLeak(h.witness(error), "hang");
    } finally {
      await h.done();
    }
  });
});

Deno.test("token endpoint: a 10 MB answer is refused and nothing is stored", async () => {
  const store = new MemoryTokenStore();
  const server: CraftedServer = startCraftedServer({
    token: () =>
      meteredResponse(server, {
        totalBytes: 10 * 1024 * 1024,
        prefix: '{"access_token":"at-huge-token-value","token_type":"Bearer","pad":"',
      }).response,
  });
  const h = harness({ store, http: { maxBytes: 128 * 1024 } });
  try {
    const { error, auth } = await signInVia(h, server.mcpUrl);
    assertClearError(error, { code: "oauth.too_large", names: SERVER });
    assert.equal(await store.loadToken(server.mcpUrl), undefined);
    assert.equal(auth.declined, false);
    assertNoLeak(h.witness(error, ["at-huge-token-value"]), "huge token answer");
  } finally {
    await h.done();
    await server.close();
  }
});

// ---------------------------------------------------------------------------------------------
// Tokens: never in URLs, never to another origin, never over a redirect
// ---------------------------------------------------------------------------------------------

Deno.test("tokens: never in any URL, and the bearer goes to the MCP origin only", async () => {
  await withScenario(startOAuthScenario("refresh-rotation"), async (scenario) => {
    const h = harness();
    try {
      const { error, response } = await signInVia(h, scenario.mcpUrl);
      assert.equal(error, undefined, String(error));
      assert.equal(response?.status, 200);
      // Force a refresh too, so a refresh token travels once.
      scenario.as.expireAll();
      const again = await mcpPost(
        createOAuthFetch(new ServerAuth(h.ctx, { serverUrl: scenario.mcpUrl, server: SERVER })),
        scenario.mcpUrl,
      );
      await again.body?.cancel();
      await h.done();
      const secrets = secretsIn(h.spy.answers);
      assert.ok(secrets.length >= 2, "the test saw the issued tokens");
      const mcpOrigin = new URL(scenario.mcpUrl).origin;
      const bearers = h.spy.requests.filter((r) =>
        /^bearer /i.test(r.headers.get("authorization") ?? "")
      );
      assert.ok(bearers.length > 0, "the token was used");
      for (const request of bearers) assert.equal(new URL(request.url).origin, mcpOrigin);
      assertNoLeak(h.witness(), "URLs and messages");
      for (const url of [...h.opened, ...scenario.as.log.entries.map((e) => e.path)]) {
        for (const secret of secrets) assert.ok(!url.includes(secret), "no token in a URL");
      }
    } finally {
      await h.done();
    }
  });
});

Deno.test("tokens: a client secret goes only to the token endpoint, in the Basic header", async () => {
  await withScenario(startOAuthScenario("no-dcr-path-issuer"), async (scenario) => {
    const h = harness();
    try {
      const { error } = await signInVia(h, scenario.mcpUrl, {
        oauth: { clientId: scenario.clientId, clientSecret: scenario.clientSecret },
      });
      assert.equal(error, undefined, String(error));
      await h.done();
      const secret = scenario.clientSecret!;
      const carrying = h.spy.requests.filter((r) =>
        [...r.headers.values()].some((v) => v.startsWith("Basic ")) || r.body.includes(secret) ||
        r.url.includes(secret)
      );
      assert.ok(carrying.length >= 1);
      for (const request of carrying) {
        assert.equal(request.url, scenario.as.endpoints.token);
        assert.ok(!request.url.includes(secret) && !request.body.includes(secret));
      }
      assertNoLeak(h.witness(undefined, [secret]), "client secret");
    } finally {
      await h.done();
    }
  });
});

Deno.test("tokens: the OAuth fetch never sends the token to another origin (port or host name)", async () => {
  const sink = startRecordingServer({ "/x": () => new Response("ok") });
  await withCrafted({}, async (server) => {
    const h = harness();
    try {
      const { fetch: oauthFetch, error } = await signInVia(h, server.mcpUrl);
      assert.equal(error, undefined, String(error));
      assert.equal(server.issued.length, 1);
      const port = new URL(server.origin).port;
      for (const url of [`${sink.origin}/x`, `http://localhost:${port}/mcp`]) {
        const response = await mcpPost(oauthFetch, url);
        await response.body?.cancel();
      }
      const viaLocalhost = server.requests.filter((r) => new URL(r.url).hostname === "localhost");
      assert.equal(viaLocalhost.length, 1);
      for (const request of [...sink.requests, ...viaLocalhost]) {
        assert.equal(request.headers.authorization, undefined, request.url);
      }
      assert.equal(h.elicitation.signInPrompts.length, 1, "another origin's 401 starts nothing");
      assertNoLeak(h.witness(undefined, server.issued), "other origin");
    } finally {
      await h.done();
    }
  });
  await sink.close();
});

for (const status of [302, 307, 308]) {
  Deno.test(`tokens: a ${status} from the MCP server to another origin never carries the token`, async () => {
    const sink = startRecordingServer({ "/steal": () => new Response("{}") });
    const server: CraftedServer = startCraftedServer({
      routes: {
        "/mcp": (req) => {
          const token = /^Bearer (.+)$/.exec(req.headers.get("authorization") ?? "")?.[1];
          if (token && server.issued.includes(token)) {
            return Response.redirect(`${sink.origin}/steal`, status);
          }
          return new Response("{}", {
            status: 401,
            headers: { "www-authenticate": "Bearer" },
          });
        },
      },
    });
    const h = harness();
    try {
      const { error } = await signInVia(h, server.mcpUrl);
      assertClearError(error, { code: "oauth.cross_origin_redirect", hint: /remote\.url/ });
      assert.equal(sink.requests.length, 0, "nothing reached the other origin");
      assertNoLeak(h.witness(error, server.issued), "redirect");
    } finally {
      await h.done();
      await server.close();
      await sink.close();
    }
  });
}

Deno.test({
  name: "tokens: the cross-origin redirect error names the toolset",
  async fn() {
    const sink = startRecordingServer({});
    const server: CraftedServer = startCraftedServer({
      routes: {
        "/mcp": (req) => {
          const token = /^Bearer (.+)$/.exec(req.headers.get("authorization") ?? "")?.[1];
          return token && server.issued.includes(token)
            ? Response.redirect(`${sink.origin}/steal`, 307)
            : new Response("{}", { status: 401, headers: { "www-authenticate": "Bearer" } });
        },
      },
    });
    const h = harness();
    try {
      const { error } = await signInVia(h, server.mcpUrl);
      assertClearError(error, { code: "oauth.cross_origin_redirect", names: SERVER });
    } finally {
      await h.done();
      await server.close();
      await sink.close();
    }
  },
});

Deno.test("token endpoint: a redirect elsewhere is not followed; code and verifier stay home", async () => {
  const sink = startRecordingServer({ "/token": () => new Response("{}") });
  await withCrafted({
    token: () => Response.redirect(`${sink.origin}/token`, 307),
  }, async (server) => {
    const h = harness();
    try {
      const { error, auth } = await signInVia(h, server.mcpUrl);
      assertClearError(error, { code: "oauth.redirect_refused", names: SERVER });
      assert.equal(sink.requests.length, 0, "the code and PKCE verifier never left");
      assert.equal(auth.declined, false);
      assertNoLeak(h.witness(error), "token redirect");
    } finally {
      await h.done();
    }
  });
  await sink.close();
});

// ---------------------------------------------------------------------------------------------
// Token and registration responses
// ---------------------------------------------------------------------------------------------

Deno.test("token response: token_type mac is rejected and nothing is stored", async () => {
  await withScenario(startOAuthScenario("dcr", { as: { tokenType: "mac" } }), async (scenario) => {
    const store = new MemoryTokenStore();
    const h = harness({ store });
    try {
      const { error, auth } = await signInVia(h, scenario.mcpUrl);
      assertClearError(error, {
        code: "oauth.invalid_token_response",
        names: SERVER,
        message: /Bearer/,
      });
      assert.equal(await store.loadToken(scenario.mcpUrl), undefined);
      assert.ok(secretsIn(h.spy.answers).length > 0, "a (mac) token was issued");
      assert.equal(auth.declined, false);
      assert.equal(scenario.mcp.log.entries.filter((e) => e.kind === "mcp").length, 1);
      assertNoLeak(h.witness(error), "mac");
    } finally {
      await h.done();
    }
  });
});

Deno.test("token response: no access_token is rejected; its refresh token is not stored", async () => {
  const refresh = `rt-${crypto.randomUUID()}`;
  const store = new MemoryTokenStore();
  await withCrafted({
    token: () => Response.json({ token_type: "Bearer", refresh_token: refresh, expires_in: 60 }),
  }, async (server) => {
    const h = harness({ store });
    try {
      const { error } = await signInVia(h, server.mcpUrl);
      assertClearError(error, { code: "oauth.invalid_token_response", message: /access_token/ });
      assert.equal(await store.loadToken(server.mcpUrl), undefined);
      assertNoLeak(h.witness(error, [refresh]), "no access_token");
    } finally {
      await h.done();
    }
  });
});

const HOSTILE_DESCRIPTION = "\u001b[31mRED\u0007\r\nInjected: fake prompt> " + "A".repeat(10_000);

function assertSanitized(error: DagentError): void {
  assert.ok(error.message.length < 400, `truncated (${error.message.length} chars)`);
  assert.ok(!error.message.includes("\u001b") && !error.message.includes("\n"));
  assert.match(error.message, /RED/, "the useful start is kept");
  assert.match(error.message, /…/, "marked as cut");
}

Deno.test("token response: a 10 KB error_description with control characters is cut and cleaned", async () => {
  await withCrafted({
    token: () =>
      Response.json({ error: "invalid_request", error_description: HOSTILE_DESCRIPTION }, {
        status: 400,
      }),
  }, async (server) => {
    const h = harness();
    try {
      const { error } = await signInVia(h, server.mcpUrl);
      assertClearError(error, { code: "oauth.token_error", names: SERVER });
      assertSanitized(error);
      assertNoLeak(h.witness(error), "token error text");
    } finally {
      await h.done();
    }
  });
});

Deno.test("registration: a response without client_id fails clearly; its secret is not echoed", async () => {
  const secret = `cs-${crypto.randomUUID()}`;
  await withCrafted({
    register: () => Response.json({ client_secret: secret }, { status: 201 }),
  }, async (server) => {
    const h = harness();
    try {
      const { error } = await signInVia(h, server.mcpUrl);
      assertClearError(error, {
        code: "oauth.registration_failed",
        names: SERVER,
        hint: /remote\.oauth\.clientId/,
        message: /client_id/,
      });
      assertStoppedEarly(h, server, ["/register"]);
      assertNoLeak(h.witness(error, [secret]), "no client_id");
    } finally {
      await h.done();
    }
  });
});

Deno.test("registration: an HTML page with script fails clearly and is not echoed", async () => {
  await withCrafted({
    register: () =>
      new Response(`<html><body>${SCRIPT}<p>Login required</p></body></html>`, {
        status: 200,
        headers: { "content-type": "text/html" },
      }),
  }, async (server) => {
    const h = harness();
    try {
      const { error } = await signInVia(h, server.mcpUrl);
      assertClearError(error, { code: "oauth.registration_failed", names: SERVER });
      assert.doesNotMatch(error.message, /Login required/);
      assertStoppedEarly(h, server, ["/register"]);
      assertNoLeak(h.witness(error), "html registration");
    } finally {
      await h.done();
    }
  });
});

Deno.test("registration: a 10 KB error_description with control characters is cut and cleaned", async () => {
  await withCrafted({
    register: () =>
      Response.json({ error: "invalid_client_metadata", error_description: HOSTILE_DESCRIPTION }, {
        status: 400,
      }),
  }, async (server) => {
    const h = harness();
    try {
      const { error } = await signInVia(h, server.mcpUrl);
      assertClearError(error, { code: "oauth.registration_failed", names: SERVER });
      assertSanitized(error);
      assertStoppedEarly(h, server, ["/register"]);
      assertNoLeak(h.witness(error), "registration error text");
    } finally {
      await h.done();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// WWW-Authenticate challenges
// ---------------------------------------------------------------------------------------------

const FOREIGN_METADATA = [
  "http://evil.example/.well-known/oauth-protected-resource",
  "javascript:alert(document.cookie)",
  "file:///etc/passwd",
];

for (const url of FOREIGN_METADATA) {
  Deno.test(`challenge: resource_metadata ${url.slice(0, 30)} is refused before any request`, async () => {
    await withCrafted({ challenge: () => `Bearer resource_metadata="${url}"` }, async (server) => {
      const h = harness();
      try {
        const { error } = await signInVia(h, server.mcpUrl);
        assertClearError(error, { code: "oauth.insecure_endpoint", names: SERVER });
        assert.deepEqual(offOrigin(h, server.origin), [], "nothing left for the named host");
        assert.equal(server.hits("/.well-known/oauth-protected-resource/mcp").length, 0);
        assertStoppedEarly(h, server);
        assertNoLeak(h.witness(error), "foreign metadata");
      } finally {
        await h.done();
      }
    });
  });
}

const GARBAGE_CHALLENGES = [
  "",
  "Bearer",
  'Bearer resource_metadata="',
  'Bearer resource_metadata="\\',
  "Bearer ,,,,=,=,=",
  'Bearer realm="a", , error="x\\"y", scope=',
  'Basic realm=x, Bearer error=invalid_token, scope="a\tb"',
  "Bearer abc==def",
  "=====",
  '"unterminated',
  "Bearer " + "a=".repeat(5_000),
  `Bearer error_description="${SCRIPT}"`,
  "\u0000\u0001Bearer\u007f",
];

/**
 * Challenges whose resource_metadata is not a URL. Was a bug: discovery resolved it unguarded
 * and a raw TypeError ("Invalid URL: 'http://['…") escaped; now `oauth.invalid_metadata`
 * naming the toolset, before any metadata request.
 */
const CRASHING_CHALLENGES = [
  'Bearer resource_metadata="http://["',
  'Bearer resource_metadata="http://127.0.0.1:notaport/x"',
];

Deno.test("challenge: WWW-Authenticate garbage never throws from the parser", () => {
  for (const value of [...GARBAGE_CHALLENGES, ...CRASHING_CHALLENGES]) {
    const challenges = parseWwwAuthenticate(value);
    assert.ok(Array.isArray(challenges), value);
    const response = new Response(null, {
      status: 401,
      headers: value.includes("\u0000") ? {} : { "www-authenticate": value },
    });
    const bearer = bearerChallenge(response);
    assert.ok(bearer === undefined || typeof bearer === "object");
  }
  assert.deepEqual(parseWwwAuthenticate(["garbage ,,", 'Bearer scope="a b"']).at(-1)?.params, {
    scope: "a b",
  });
});

for (const value of [...GARBAGE_CHALLENGES, ...CRASHING_CHALLENGES]) {
  if (value.includes("\u0000")) continue;
  const unusableUrl = CRASHING_CHALLENGES.includes(value);
  const name = `challenge: a garbage header (${
    JSON.stringify(value.slice(0, 40))
  }) never escapes as a crash`;
  Deno.test(name, async () => {
    await withCrafted({ challenge: () => value }, async (server) => {
      const h = harness();
      try {
        const { error } = await signInVia(h, server.mcpUrl);
        if (unusableUrl) {
          assertClearError(error, {
            code: "oauth.invalid_metadata",
            names: SERVER,
            hint: /resource_metadata.*operator/,
          });
          assertStoppedEarly(h, server);
          const metadata = h.spy.requests.filter((r) => r.url.includes("/.well-known/"));
          assert.deepEqual(metadata.map((r) => r.url), [], "no metadata request was made");
        } else if (error !== undefined) {
          // Either the well-known metadata carries the sign-in through, or a clear error.
          assertClearError(error, { code: error instanceof DagentError ? error.code : "?" });
        } else {
          assert.equal(server.issued.length, 1);
        }
        assertNoLeak(h.witness(error), "garbage challenge");
      } finally {
        await h.done();
      }
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Consent: decline, errors that are not declines, nobody to ask
// ---------------------------------------------------------------------------------------------

Deno.test("decline: no browser, no token request, later requests fail fast without leaving", async () => {
  await withScenario(startOAuthScenario("dcr"), async (scenario) => {
    const h = harness({ signIn: ["decline"] });
    try {
      const { error, auth, fetch: oauthFetch } = await signInVia(h, scenario.mcpUrl);
      assertClearError(error, {
        code: "oauth.declined",
        names: SERVER,
        hint: /dagent auth login/,
        message: /declined for hostile-docs in this session/,
      });
      assert.equal(auth.declined, true);
      assert.equal(h.opened.length, 0, "no browser");
      assert.equal(scenario.as.log.countKind("authorize"), 0);
      assert.equal(scenario.as.log.countKind("token"), 0);
      const before = scenario.mcp.log.total + scenario.as.log.total;
      for (let i = 0; i < 3; i++) {
        const started = performance.now();
        const again = await rejection(mcpPost(oauthFetch, scenario.mcpUrl));
        assert.ok(performance.now() - started < 100, "fails fast");
        assertClearError(again, { code: "oauth.declined", names: SERVER });
      }
      assert.equal(scenario.mcp.log.total + scenario.as.log.total, before, "nothing left");
      assert.equal(h.elicitation.signInPrompts.length, 1, "asked once");
      assertNoLeak(h.witness(error), "decline");
    } finally {
      await h.done();
    }
  });
});

Deno.test("decline: an error inside the flow is reported as an error, never as a decline", async () => {
  let fail = true;
  let crafted: CraftedServer | undefined;
  await withCrafted({
    token: () => {
      if (fail) return Response.json({ error: "server_error" }, { status: 500 });
      const access = `at-${crypto.randomUUID()}`;
      crafted!.issued.push(access);
      return Response.json({ access_token: access, token_type: "Bearer" });
    },
  }, async (server) => {
    crafted = server;
    const h = harness();
    try {
      const { error, auth, fetch: oauthFetch } = await signInVia(h, server.mcpUrl);
      assertClearError(error, { code: "oauth.token_error", names: SERVER });
      assert.doesNotMatch(error.message, /declined/);
      assert.equal(auth.declined, false);
      fail = false;
      // The next request signs in again (asks again) instead of failing as declined.
      const next = await mcpPost(oauthFetch, server.mcpUrl);
      await next.body?.cancel();
      assert.equal(next.status, 200);
      assert.equal(h.elicitation.signInPrompts.length, 2, "asked again");
      assert.equal(server.hits("/token").length, 2);
      assertNoLeak(h.witness(error, server.issued), "error not decline");
    } finally {
      await h.done();
    }
  });
});

Deno.test("consent: without a terminal or --yes the sign-in fails clearly, nothing opens", async () => {
  await withCrafted({}, async (server) => {
    const lines: string[] = [];
    const elicitation: ElicitationHandler = new NonInteractiveElicitation({
      yes: false,
      configPath: "agent.yaml",
      write: (line) => lines.push(line),
    });
    const opened: string[] = [];
    const ctx = createOAuthContext({
      store: new MemoryTokenStore(),
      elicitation,
      http: { timeoutMs: 3_000 },
      browser: { open: (url) => Promise.resolve(opened.push(url)) },
    });
    const auth = new ServerAuth(ctx, { serverUrl: server.mcpUrl, server: SERVER });
    const error = await rejection(mcpPost(createOAuthFetch(auth), server.mcpUrl));
    assertClearError(error, {
      code: "oauth.needs_login",
      names: SERVER,
      hint: /dagent auth login agent\.yaml hostile-docs/,
    });
    assert.equal(opened.length, 0);
    assert.equal(auth.declined, false, "no answer is not a decline");
    assert.equal(server.hits("/authorize").length, 0);
    assertNoLeak({ texts: [...errorTexts(error), ...lines], secrets: [] }, "non-interactive");
  });
});

// ---------------------------------------------------------------------------------------------
// The token store and the sign-in lock
// ---------------------------------------------------------------------------------------------

function storedToken(serverUrl: string, accessToken: string): StoredToken {
  return {
    accessToken,
    refreshToken: `rt-${crypto.randomUUID()}`,
    tokenType: "Bearer",
    expiresAt: Date.now() + 3_600_000,
    scopes: [],
    issuer: new URL(serverUrl).origin,
    tokenEndpoint: `${new URL(serverUrl).origin}/token`,
    tokenEndpointAuthMethod: "none",
    clientId: "crafted-client",
    resource: serverUrl,
  };
}

Deno.test("store: a token file other users can read is refused with a chmod 600 hint", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await withCrafted({}, async (server) => {
      const secret = `at-${crypto.randomUUID()}`;
      const token = storedToken(server.mcpUrl, secret);
      const file = tokenFilePath(dir);
      await Deno.writeTextFile(
        file,
        JSON.stringify({ version: 1, tokens: { [server.mcpUrl]: token }, clients: {} }),
      );
      await Deno.chmod(file, 0o644);
      const h = harness({ store: new FileTokenStore(dir, { onWarning: () => {} }) });
      try {
        const { error } = await signInVia(h, server.mcpUrl);
        assertClearError(error, {
          code: "store.insecure_permissions",
          message: /0644/,
          hint: new RegExp(`chmod 600 ${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`),
        });
        assert.equal(server.requests.length, 0, "nothing was sent with a token nobody trusts");
        assertNoLeak(h.witness(error, [secret, token.refreshToken!]), "0644");
        assert.equal((await Deno.stat(file)).mode! & 0o777, 0o644, "the file was not touched");
      } finally {
        await h.done();
      }
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("store: a corrupt token file is set aside (kept), reported without its content", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const secret = `at-${crypto.randomUUID()}`;
    const file = tokenFilePath(dir);
    const corrupt = `{"version":1,"tokens":{"x":{"accessToken":"${secret}"`;
    await Deno.writeTextFile(file, corrupt, { mode: 0o600 });
    await Deno.chmod(file, 0o600);
    const warnings: DagentError[] = [];
    const store = new FileTokenStore(dir, { onWarning: (w) => warnings.push(w) });
    assert.equal(await store.loadToken("http://127.0.0.1/mcp"), undefined);
    assert.equal(warnings.length, 1);
    assertClearError(warnings[0], { code: "store.corrupt", message: /moved to/ });
    assertNoLeak({ texts: errorTexts(warnings[0]), secrets: [secret] }, "corrupt");
    const aside = [...Deno.readDirSync(dir)].filter((e) => e.name.includes(".corrupt-"));
    assert.equal(aside.length, 1, "set aside, not deleted");
    assert.equal(await Deno.readTextFile(join(dir, aside[0].name)), corrupt, "kept byte for byte");
    // The store works again, with a private file.
    await store.saveToken("http://127.0.0.1/mcp", storedToken("http://127.0.0.1/mcp", "at-new"));
    assert.equal((await Deno.stat(file)).mode! & 0o777, 0o600);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** The pid of a process that has exited (spawned and reaped here). */
async function deadPid(): Promise<number> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", ""],
    stdout: "null",
    stderr: "null",
  }).spawn();
  await child.status;
  return child.pid;
}

async function writeLock(dir: string, key: string, pid: number): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(key));
  const hex = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
  await Deno.mkdir(locksDir(dir), { recursive: true, mode: 0o700 });
  const file = join(locksDir(dir), `${hex}.lock`);
  await Deno.writeTextFile(
    file,
    JSON.stringify({ pid, hostname: Deno.hostname(), createdAt: Date.now(), nonce: "left" }),
  );
  return file;
}

Deno.test("lock: a lock file left by a dead process is taken over at once", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = await writeLock(dir, "https://mcp.example/mcp", await deadPid());
    let waited = false;
    const started = performance.now();
    const result = await withServerLock(dir, "https://mcp.example/mcp", () => Promise.resolve(42), {
      timeoutMs: 5_000,
      onWait: () => waited = true,
    });
    assert.equal(result, 42);
    assert.equal(waited, false, "no waiting on a dead owner");
    assert.ok(performance.now() - started < 1_000);
    await assert.rejects(Deno.stat(file), Deno.errors.NotFound, "released afterwards");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("lock: a live holder makes the wait end with a clear message naming the lock file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = await writeLock(dir, "https://mcp.example/mcp", Deno.pid);
    const error = await rejection(
      withServerLock(dir, "https://mcp.example/mcp", () => Promise.resolve(1), { timeoutMs: 200 }),
    );
    assertClearError(error, { code: "oauth.lock_timeout", message: new RegExp(`pid ${Deno.pid}`) });
    assert.ok(error.hint!.includes(file), "says which file to delete");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("lock: a sign-in recovers a lock left by a dead dagent and stores the token", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await withCrafted({}, async (server) => {
      await writeLock(dir, server.mcpUrl, await deadPid());
      const store = new FileTokenStore(dir, { onWarning: () => {} });
      const h = harness({ store, lockDir: dir });
      try {
        const { error, response } = await signInVia(h, server.mcpUrl);
        assert.equal(error, undefined, String(error));
        assert.equal(response?.status, 200);
        assert.equal((await store.loadToken(server.mcpUrl))?.accessToken, server.issued[0]);
        assert.equal(h.elicitation.messages.some((m) => m.includes("Waiting")), false);
        assertNoLeak(h.witness(undefined, server.issued), "stale lock flow");
      } finally {
        await h.done();
      }
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// ---------------------------------------------------------------------------------------------
// Headless sign-in (--no-browser): the pasted address is checked like a callback
// ---------------------------------------------------------------------------------------------

Deno.test("headless: a pasted address of another sign-in (script in its state) is refused", async () => {
  await withScenario(startOAuthScenario("dcr"), async (scenario) => {
    const elicitation = new ScriptedElicitation({
      redirects: [async ({ authorizationUrl }) => {
        const pasted = new URL(await captureRedirect(authorizationUrl));
        pasted.searchParams.set("state", SCRIPT);
        return pasted.href;
      }],
    });
    const ctx = createOAuthContext({
      store: new MemoryTokenStore(),
      elicitation,
      http: { timeoutMs: 3_000 },
      browser: { noBrowser: true },
    });
    const auth = new ServerAuth(ctx, { serverUrl: scenario.mcpUrl, server: SERVER });
    const error = await rejection(mcpPost(createOAuthFetch(auth), scenario.mcpUrl));
    assertClearError(error, { code: "oauth.state_mismatch", names: SERVER, hint: /again/ });
    assert.equal(scenario.as.log.countKind("token"), 0, "the code was not exchanged");
    assert.equal(auth.declined, false);
    assertNoLeak({ texts: [...errorTexts(error), ...elicitation.messages], secrets: [] }, "paste");
  });
});
