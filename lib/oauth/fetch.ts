/**
 * The OAuth-aware `fetch` handed to MCP transports: it attaches the bearer token to
 * requests for the MCP server's own origin (and nowhere else), refreshes ahead of expiry
 * with a single refresh however many requests wait, authorizes on a 401 and retries once,
 * steps up on a 403 `insufficient_scope`, and fails fast once the user has declined.
 * @module
 */
import { authorize, declinedError, requestToken } from "./authorize.ts";
import type { OAuthContext, OAuthTarget } from "./context.ts";
import { canonicalResourceUri } from "./discovery.ts";
import { OAuthError } from "./errors.ts";
import { oauthFetch } from "./http.ts";
import { withServerLock } from "./lock.ts";
import { buildRevocationRequest } from "./token.ts";
import type { StoredClient, StoredToken } from "./store.ts";
import { bearerChallenge } from "./www_authenticate.ts";
import type { BearerChallenge } from "./www_authenticate.ts";

/** Step-ups allowed per request before giving up (issue: at most 2). */
const MAX_STEP_UPS = 2;
/** Same-origin redirects followed per request. */
const MAX_REDIRECTS = 5;

/** Per-server token state: the cached token and the one flow (refresh or sign-in) in flight. */
export class ServerAuth {
  readonly target: OAuthTarget;
  readonly #ctx: OAuthContext;
  readonly #resource: string;
  #token: StoredToken | undefined;
  #loaded = false;
  #inFlight: Promise<StoredToken> | undefined;

  constructor(ctx: OAuthContext, target: OAuthTarget) {
    this.#ctx = ctx;
    this.target = target;
    this.#resource = canonicalResourceUri(target.serverUrl);
  }

  /** True when the user declined to sign in to this server earlier in the session. */
  get declined(): boolean {
    return this.#ctx.declined.has(this.#resource);
  }

  /**
   * The token to send now, refreshed first when it is about to expire; undefined when
   * there is none (the request goes out bare and the server's 401 starts a sign-in).
   */
  async currentToken(): Promise<StoredToken | undefined> {
    if (this.#inFlight) return await this.#inFlight;
    const token = await this.#load();
    if (!token) return undefined;
    if (!this.#expiresSoon(token)) return token;
    if (token.refreshToken) return await this.#singleFlight(() => this.#refresh(token));
    this.#token = undefined;
    return undefined;
  }

  /** The stored token, if usable for this config (same scopes or fewer than granted). */
  async #load(): Promise<StoredToken | undefined> {
    if (!this.#loaded) {
      this.#loaded = true;
      const stored = await this.#ctx.store.loadToken(this.target.serverUrl);
      this.#token = stored && this.#usable(stored) ? stored : undefined;
    }
    return this.#token;
  }

  /** A stored token is not reused when the configured scopes grew beyond what it was granted. */
  #usable(token: StoredToken): boolean {
    const wanted = this.target.oauth?.scopes ?? [];
    if (!wanted.every((scope) => token.scopes.includes(scope))) return false;
    return !this.target.oauth?.clientId || this.target.oauth.clientId === token.clientId;
  }

  #expiresSoon(token: StoredToken): boolean {
    if (token.expiresAt === undefined) return false;
    const now = this.#ctx.now?.() ?? Date.now();
    return token.expiresAt - (this.#ctx.refreshSkewMs ?? 60_000) <= now;
  }

  /**
   * Called when the server rejected `sent` (401, or 403 for a step-up): refreshes when that
   * can help, else runs the authorization flow. Concurrent callers share one flow.
   */
  async recover(
    sent: StoredToken | undefined,
    challenge: BearerChallenge | undefined,
    options: { stepUp?: boolean; forceSignIn?: boolean } = {},
  ): Promise<StoredToken> {
    const stepUp = options.stepUp ?? false;
    if (this.declined) throw declinedError(this.target);
    if (this.#inFlight) return await this.#inFlight;
    // Another request already replaced the token we sent (or got one while this request
    // went out without): use that one instead of signing in again.
    if (this.#token && this.#token.accessToken !== sent?.accessToken) return this.#token;
    return await this.#singleFlight(async () => {
      if (!stepUp && !options.forceSignIn && sent?.refreshToken) {
        try {
          return await this.#refresh(sent);
        } catch (error) {
          if (!(error instanceof OAuthError) || error.code !== "oauth.invalid_grant") throw error;
          // RFC 6749 §5.2 invalid_grant: the refresh token is dead; sign in again.
        }
      }
      return await this.#authorize(challenge, sent?.scopes ?? [], stepUp);
    });
  }

  /**
   * Makes sure a token is held before connecting: a stored (or refreshed) token is used
   * as is, with no traffic; else `probe` is sent bare and, when the server answers 401,
   * the sign-in runs. Resolves to what happened.
   */
  async ensureSignedIn(
    probe: () => Promise<Response>,
  ): Promise<"stored" | "signed_in" | "not_needed"> {
    if (this.declined) throw declinedError(this.target);
    if (await this.currentToken()) return "stored";
    const response = await probe();
    await response.body?.cancel();
    if (response.status !== 401) return "not_needed";
    await this.recover(undefined, bearerChallenge(response));
    return "signed_in";
  }

  /** The stored token as it is, without refreshing or checking scopes (`dagent auth status`). */
  async storedToken(): Promise<StoredToken | undefined> {
    return await this.#ctx.store.loadToken(this.target.serverUrl);
  }

  /**
   * Forgets this server's token, revoking it first (RFC 7009 §2) when the server has a
   * revocation endpoint, and the dynamic registration it used. Revocation failures are
   * reported, not fatal: the local copy is deleted either way.
   */
  async logout(): Promise<{ hadToken: boolean; revoked: boolean; revokeError?: string }> {
    const token = await this.#ctx.store.loadToken(this.target.serverUrl);
    this.#token = undefined;
    if (!token) return { hadToken: false, revoked: false };
    let revoked = false;
    let revokeError: string | undefined;
    if (token.revocationEndpoint) {
      try {
        const client = await this.#clientFor(token);
        // RFC 7009 §2.1: revoking the refresh token also ends its access tokens where
        // supported; the access token is revoked too for servers that do not link them.
        const tokens: Array<[string, "refresh_token" | "access_token"]> = [
          ...(token.refreshToken
            ? [[token.refreshToken, "refresh_token"] as [string, "refresh_token"]]
            : []),
          [token.accessToken, "access_token"],
        ];
        for (const [value, hint] of tokens) {
          const request = await buildRevocationRequest(
            token.revocationEndpoint,
            value,
            hint,
            client,
            {
              server: this.target.server,
            },
          );
          const { response } = await oauthFetch(request, {
            ...this.#ctx.http,
            server: this.target.server,
            what: "revocation endpoint",
            metadata: false,
          });
          if (!response.ok) throw new Error(`HTTP ${response.status}`);
        }
        revoked = true;
      } catch (error) {
        revokeError = error instanceof Error ? error.message : String(error);
      }
    }
    await this.#ctx.store.deleteToken(this.target.serverUrl);
    if (this.target.oauth?.clientId !== token.clientId) {
      await this.#ctx.store.deleteClient(token.issuer);
    }
    return { hadToken: true, revoked, revokeError };
  }

  /** Signs in now (for `dagent auth login`), whatever is stored. */
  async login(challenge?: BearerChallenge): Promise<StoredToken> {
    this.#ctx.declined.delete(this.#resource);
    return await this.#singleFlight(() => this.#authorize(challenge, [], false));
  }

  async #singleFlight(run: () => Promise<StoredToken>): Promise<StoredToken> {
    if (this.#inFlight) return await this.#inFlight;
    const flight = run().then((token) => {
      this.#token = token;
      return token;
    });
    this.#inFlight = flight;
    try {
      return await flight;
    } finally {
      this.#inFlight = undefined;
    }
  }

  /** The authorization flow, serialized across processes when the store is on disk. */
  async #authorize(
    challenge: BearerChallenge | undefined,
    heldScopes: string[],
    stepUp: boolean,
  ): Promise<StoredToken> {
    const run = () => authorize(this.#ctx, this.target, { challenge, heldScopes, stepUp });
    const lockDir = this.#ctx.lockDir;
    if (!lockDir) return await run();
    const before = this.#token?.accessToken;
    return await withServerLock(lockDir, this.target.serverUrl, async () => {
      // While we waited, another dagent process may have signed in: use its token.
      const stored = await this.#ctx.store.loadToken(this.target.serverUrl);
      if (
        !stepUp && stored && stored.accessToken !== before && this.#usable(stored) &&
        !this.#expiresSoon(stored)
      ) {
        return stored;
      }
      return await run();
    }, {
      onWait: () =>
        this.#ctx.elicitation.notify(
          `Waiting for another dagent process to finish signing in to ${this.target.server}…`,
        ),
    });
  }

  /** RFC 6749 §6: refresh with what was stored; no discovery needed. */
  async #refresh(token: StoredToken): Promise<StoredToken> {
    const client = await this.#clientFor(token);
    const set = await requestToken(
      this.#ctx,
      this.target,
      { token_endpoint: token.tokenEndpoint, issuer: token.issuer },
      client,
      { type: "refresh_token", refreshToken: token.refreshToken! },
      token.resource,
      token.scopes,
    );
    const refreshed: StoredToken = {
      ...token,
      ...set,
      // RFC 6749 §6: the server may keep the old refresh token (no rotation).
      refreshToken: set.refreshToken ?? token.refreshToken,
    };
    await this.#ctx.store.saveToken(this.target.serverUrl, refreshed);
    this.#ctx.onAuthEvent?.({
      server: this.target.server,
      issuer: refreshed.issuer,
      scopes: refreshed.scopes,
      outcome: "refreshed",
    });
    return refreshed;
  }

  /** The client credentials to refresh with: config first, else the stored registration. */
  async #clientFor(token: StoredToken): Promise<StoredClient> {
    const oauth = this.target.oauth;
    if (oauth?.clientId === token.clientId) {
      return {
        clientId: token.clientId,
        clientSecret: oauth.clientSecret,
        issuer: token.issuer,
        redirectUris: [],
        tokenEndpointAuthMethod: token.tokenEndpointAuthMethod,
      };
    }
    const registered = await this.#ctx.store.loadClient(token.issuer);
    return {
      clientId: token.clientId,
      clientSecret: registered?.clientId === token.clientId ? registered.clientSecret : undefined,
      issuer: token.issuer,
      redirectUris: [],
      tokenEndpointAuthMethod: token.tokenEndpointAuthMethod,
    };
  }
}

/** A `fetch` with the MCP SDK's transport signature. */
export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/**
 * Creates the OAuth-aware fetch for one MCP server. `base` is the underlying fetch
 * (tests pass one with a custom TLS client; default: global fetch).
 */
export function createOAuthFetch(auth: ServerAuth, base: FetchLike = fetch): FetchLike {
  const origin = new URL(auth.target.serverUrl).origin;
  return async (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    // The token belongs to the MCP server's origin only; anything else goes out untouched.
    if (!sameOrigin(url, origin)) return await base(input, init);
    if (auth.declined) throw declinedError(auth.target);
    const request = await replayable(input, init);

    let token = await auth.currentToken();
    // 401 handling: first refresh when possible, then a full sign-in, then give up.
    let unauthorized = 0;
    let stepUps = 0;
    for (;;) {
      const response = await sendWithToken(base, request, token, auth.target, origin);
      if (response.status === 401) {
        const challenge = bearerChallenge(response);
        await response.body?.cancel();
        if (++unauthorized > 2) {
          throw new OAuthError(
            `${auth.target.server} rejected the access token it just issued (HTTP 401 after signing in)`,
            {
              code: "oauth.rejected",
              server: auth.target.server,
              hint: "the server does not accept tokens from its authorization server for this " +
                "resource; 'dagent auth logout' then 'dagent auth login' starts afresh",
            },
          );
        }
        token = await auth.recover(token, challenge, { forceSignIn: unauthorized === 2 });
        // A sign-in can hand out a token that is already (nearly) expired: refresh it first.
        token = await auth.currentToken() ?? token;
        continue;
      }
      const challenge = response.status === 403 ? bearerChallenge(response) : undefined;
      if (challenge?.error === "insufficient_scope") {
        await response.body?.cancel();
        if (stepUps >= MAX_STEP_UPS) {
          throw new OAuthError(
            `${auth.target.server} still needs more scopes after ${MAX_STEP_UPS} step-up sign-ins${
              challenge.scope ? ` (asked for: ${challenge.scope.join(" ")})` : ""
            }`,
            {
              code: "oauth.insufficient_scope",
              server: auth.target.server,
              hint:
                "add the scopes to remote.oauth.scopes, or ask the server's admin to grant them",
            },
          );
        }
        stepUps++;
        token = await auth.recover(token, challenge, { stepUp: true });
        continue;
      }
      return response;
    }
  };
}

/** A request reduced to what can be sent again (after a sign-in, a refresh, a redirect). */
interface Replayable {
  url: string;
  init: RequestInit;
}

/**
 * Normalizes a fetch call once: the MCP SDK's calls (a URL and a string body) are used as
 * they are; anything with a one-shot body (a stream, a `Request`) is buffered, so each
 * retry needs no `Request` copies.
 */
async function replayable(
  input: string | URL | Request,
  init: RequestInit | undefined,
): Promise<Replayable> {
  const body = init?.body;
  if (
    !(input instanceof Request) &&
    (body === undefined || body === null || typeof body === "string" ||
      body instanceof URLSearchParams || body instanceof ArrayBuffer || ArrayBuffer.isView(body) ||
      body instanceof Blob)
  ) {
    return { url: String(input), init: init ?? {} };
  }
  const request = new Request(input, init);
  return {
    url: request.url,
    init: {
      method: request.method,
      headers: request.headers,
      body: request.body ? await request.arrayBuffer() : undefined,
      signal: request.signal,
    },
  };
}

/**
 * Sends `request` with the bearer token, following same-origin redirects itself so the
 * token never rides a redirect to another origin.
 */
async function sendWithToken(
  base: FetchLike,
  request: Replayable,
  token: StoredToken | undefined,
  target: OAuthTarget,
  origin: string,
): Promise<Response> {
  let { url, init } = request;
  for (let hop = 0;; hop++) {
    const headers = headerRecord(init.headers);
    if (token) headers.authorization = `Bearer ${token.accessToken}`;
    const response = await base(url, { ...init, headers, redirect: "manual" });
    const location = response.headers.get("location");
    if (response.status < 300 || response.status >= 400 || !location) return response;
    const next = new URL(location, url);
    await response.body?.cancel();
    if (next.origin !== origin) {
      throw new OAuthError(
        `${target.server}: the MCP server redirected to another origin (${next.origin}); ` +
          "dagent does not send its token there",
        {
          code: "oauth.cross_origin_redirect",
          server: target.server,
          hint: `if the server really moved, set remote.url of ${target.server} to the new address`,
        },
      );
    }
    if (hop >= MAX_REDIRECTS) {
      throw new OAuthError(
        `${target.server}: more than ${MAX_REDIRECTS} redirects from ${origin}`,
        {
          code: "oauth.redirects",
          server: target.server,
          hint: `check remote.url of ${target.server}: the server redirects in a loop`,
        },
      );
    }
    // 307/308 keep method and body; 301/302/303 become a GET without body (Fetch spec).
    if (response.status !== 307 && response.status !== 308) {
      init = { method: "GET", headers: init.headers, signal: init.signal };
    }
    url = next.href;
  }
}

/**
 * Whether `url` is on `origin` (an origin serialization, `scheme://host[:port]`). A URL
 * that starts with the origin and a `/` is; anything else is decided by parsing it.
 */
function sameOrigin(url: string, origin: string): boolean {
  if (url.startsWith(origin) && url.charCodeAt(origin.length) === 0x2f /* "/" */) return true;
  try {
    return new URL(url).origin === origin;
  } catch {
    return false;
  }
}

/**
 * The request headers `init` as a fresh record with lower-case names (repeated names joined
 * with ", ", as a Headers object would), ready for the Authorization header. A plain
 * record, not a Headers copy: copying a Headers object validates every entry again, and
 * that was most of what this fetch added to each MCP request.
 */
function headerRecord(init: HeadersInit | undefined): Record<string, string> {
  const record: Record<string, string> = Object.create(null);
  if (init instanceof Headers) {
    init.forEach((value, name) => {
      record[name] = value;
    });
    return record;
  }
  const add = (name: string, value: string) => {
    const key = name.toLowerCase();
    record[key] = key in record ? `${record[key]}, ${value}` : value;
  };
  if (Array.isArray(init)) {
    for (const [name, value] of init) add(name, value);
  } else if (init) {
    for (const [name, value] of Object.entries(init)) add(name, value);
  }
  return record;
}
