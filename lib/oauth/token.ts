/**
 * The authorization request, the authorization response (callback parameters), the token
 * request and response, and revocation — each as build-the-request / process-the-response.
 * RFC 6749 (OAuth 2.0), RFC 7636 (PKCE), RFC 8707 (resource), RFC 9207 (`iss`), RFC 7009
 * (revocation), RFC 7523 (`private_key_jwt`).
 * @module
 */
import { oauthError, sanitizeServerText, serverLabel } from "./errors.ts";
import { assertSecureUrl, readJson } from "./http.ts";
import { createClientAssertion, importPrivateKeyPem } from "./jwt.ts";
import { constantTimeEqual } from "./pkce.ts";
import type { TokenEndpointAuthMethod } from "./store.ts";

/** A validated token response. */
export interface TokenSet {
  accessToken: string;
  refreshToken?: string;
  tokenType: "Bearer";
  /** Epoch ms; undefined when the server sent no `expires_in`. */
  expiresAt?: number;
  /** Granted scopes (the requested ones when the server did not say, RFC 6749 §5.1). */
  scopes: string[];
}

/** The grant of a token request. */
export type TokenGrant =
  | { type: "authorization_code"; code: string; redirectUri: string; codeVerifier: string }
  | { type: "refresh_token"; refreshToken: string; scope?: string | string[] }
  | { type: "client_credentials"; scope?: string | string[] };

/** The client as the token endpoint sees it ({@link StoredClient} fits). */
export interface TokenClient {
  clientId: string;
  clientSecret?: string;
  tokenEndpointAuthMethod: TokenEndpointAuthMethod;
}

/** Extra inputs of {@link buildTokenRequest} and {@link buildRevocationRequest}. */
export interface TokenRequestExtra {
  /** RFC 8707 resource (the canonical MCP server URI); sent on every token request. */
  resource?: string;
  /** For `private_key_jwt`: the PEM or imported key that signs the client assertion. */
  privateKey?: string | CryptoKey;
  /** For `private_key_jwt`: a ready client assertion (instead of `privateKey`). */
  clientAssertion?: string;
  /** `aud` of the client assertion; default: the token endpoint (OIDC Core §9). */
  assertionAudience?: string;
  /** Toolset name, for messages. */
  server?: string;
}

/** Inputs of {@link buildAuthorizationUrl}. */
export interface AuthorizationUrlInput {
  meta: { authorization_endpoint: string };
  clientId: string;
  redirectUri: string;
  state: string;
  codeChallenge: string;
  scope?: string | string[];
  resource: string;
  server?: string;
}

const JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/**
 * The authorization request URL (RFC 6749 §4.1.1): `response_type=code`, client id,
 * redirect URI, `state`, PKCE S256 challenge (RFC 7636 §4.3), `scope` when any, and
 * `resource` (RFC 8707 §2). Query parameters already in the endpoint are kept.
 */
export function buildAuthorizationUrl(input: AuthorizationUrlInput): URL {
  const url = assertSecureUrl(
    input.meta.authorization_endpoint,
    "authorization endpoint",
    input.server,
  );
  const q = url.searchParams;
  q.set("response_type", "code");
  q.set("client_id", input.clientId);
  q.set("redirect_uri", input.redirectUri);
  q.set("state", input.state);
  q.set("code_challenge", input.codeChallenge);
  q.set("code_challenge_method", "S256");
  const scope = scopeString(input.scope);
  if (scope) q.set("scope", scope);
  else q.delete("scope");
  q.set("resource", input.resource);
  return url;
}

/**
 * The client authentication method to use at the token endpoint. A client with no secret
 * uses `none` (or `private_key_jwt` when it is registered so). A client with a secret keeps
 * its registered method when the server lists it (or lists nothing: RFC 8414 §2 defaults to
 * `client_secret_basic`); otherwise it switches to the other secret method the server lists.
 */
export function chooseAuthMethod(
  meta: { token_endpoint_auth_methods_supported?: string[] },
  client: { clientSecret?: string; tokenEndpointAuthMethod?: TokenEndpointAuthMethod },
): TokenEndpointAuthMethod {
  const wanted = client.tokenEndpointAuthMethod;
  if (wanted === "private_key_jwt") return wanted;
  if (!client.clientSecret) return "none";
  const supported = meta.token_endpoint_auth_methods_supported ?? ["client_secret_basic"];
  if (wanted && wanted !== "none" && supported.includes(wanted)) return wanted;
  if (supported.includes("client_secret_basic")) return "client_secret_basic";
  if (supported.includes("client_secret_post")) return "client_secret_post";
  return wanted && wanted !== "none" ? wanted : "client_secret_basic";
}

/**
 * A token request (RFC 6749 §4.1.3, §6, §4.4) to `meta.token_endpoint`, with `resource`
 * (RFC 8707 §2.2) and the client's authentication: `client_secret_basic` (RFC 6749 §2.3.1:
 * id and secret form-urlencoded, then base64), `client_secret_post`, `none` (client_id in the
 * body), or `private_key_jwt` (RFC 7523 §2.2). Async only because a JWT may be signed.
 */
export async function buildTokenRequest(
  meta: { token_endpoint: string; issuer?: string },
  grant: TokenGrant,
  client: TokenClient,
  extra: TokenRequestExtra = {},
): Promise<Request> {
  const url = assertSecureUrl(meta.token_endpoint, "token endpoint", extra.server);
  const form = new URLSearchParams();
  form.set("grant_type", grant.type);
  switch (grant.type) {
    case "authorization_code":
      form.set("code", grant.code);
      form.set("redirect_uri", grant.redirectUri);
      form.set("code_verifier", grant.codeVerifier);
      break;
    case "refresh_token": {
      form.set("refresh_token", grant.refreshToken);
      const scope = scopeString(grant.scope);
      if (scope) form.set("scope", scope);
      break;
    }
    case "client_credentials": {
      const scope = scopeString(grant.scope);
      if (scope) form.set("scope", scope);
      break;
    }
  }
  if (extra.resource) form.set("resource", extra.resource);
  const headers = await clientAuthentication(form, client, url.href, extra);
  return formRequest(url, form, headers);
}

/**
 * A revocation request (RFC 7009 §2.1) for `token` with its `token_type_hint`, authenticated
 * like a token request.
 */
export async function buildRevocationRequest(
  meta: { revocation_endpoint?: string } | string,
  token: string,
  hint: "access_token" | "refresh_token" | undefined,
  client: TokenClient,
  extra: TokenRequestExtra = {},
): Promise<Request> {
  const endpoint = typeof meta === "string" ? meta : meta.revocation_endpoint;
  if (!endpoint) {
    throw oauthError(
      "oauth.discovery_failed",
      `${serverLabel(extra.server)}: the authorization server has no revocation endpoint`,
      { server: extra.server },
    );
  }
  const url = assertSecureUrl(endpoint, "revocation endpoint", extra.server);
  const form = new URLSearchParams({ token });
  if (hint) form.set("token_type_hint", hint);
  const headers = await clientAuthentication(form, client, url.href, extra);
  return formRequest(url, form, headers);
}

/** Options of {@link processTokenResponse}. */
export interface TokenResponseOptions {
  /** Scopes asked for; granted when the response has no `scope` (RFC 6749 §5.1). */
  requestedScopes: string[];
  /** Clock, epoch ms (default `Date.now()`). */
  now?: number;
  server?: string;
}

/**
 * Validates a token endpoint response. Success (RFC 6749 §5.1): a JSON object with a
 * non-empty `access_token` and `token_type` Bearer in any case (§7.1, the seed's fix), else
 * `oauth.invalid_token_response`. Error (§5.2): `oauth.invalid_grant` for `invalid_grant`,
 * else `oauth.token_error`, carrying the `error` code and a sanitized description.
 */
export function processTokenResponse(
  response: Response,
  body: Uint8Array,
  opts: TokenResponseOptions,
): TokenSet {
  const { server } = opts;
  const who = serverLabel(server);
  let doc: Record<string, unknown> | undefined;
  try {
    doc = readJson(body, "token response", server);
  } catch {
    doc = undefined;
  }
  if (!response.ok || (doc && typeof doc.error === "string")) {
    const code = typeof doc?.error === "string" ? sanitizeServerText(doc.error, 60) : "";
    const desc = sanitizeServerText(doc?.error_description);
    const what = code ? `${code}${desc ? `: ${desc}` : ""}` : `HTTP ${response.status}`;
    const invalidGrant = code === "invalid_grant";
    throw oauthError(
      invalidGrant ? "oauth.invalid_grant" : "oauth.token_error",
      `${who}: the token request was refused (${what})`,
      {
        server,
        oauthError: code || undefined,
        hint: invalidGrant
          ? "The grant expired or was revoked; sign in again with `dagent auth login`."
          : code === "invalid_client" || code === "unauthorized_client"
          ? "Check remote.oauth.clientId and remote.oauth.clientSecret."
          : "Check the toolset's remote.oauth settings, then try again.",
      },
    );
  }
  const bad = (why: string) =>
    oauthError("oauth.invalid_token_response", `${who}: the token response ${why}`, {
      server,
      hint: "The authorization server sent an unusable token response; contact its operator.",
    });
  if (!doc) throw bad("is not a JSON object");
  if (typeof doc.access_token !== "string" || doc.access_token === "") {
    throw bad("has no access_token");
  }
  if (typeof doc.token_type !== "string" || doc.token_type.toLowerCase() !== "bearer") {
    const got = typeof doc.token_type === "string"
      ? sanitizeServerText(doc.token_type, 40)
      : "none";
    throw bad(`has token_type ${got}; only Bearer tokens are supported (RFC 6750)`);
  }
  const set: TokenSet = {
    accessToken: doc.access_token,
    tokenType: "Bearer",
    scopes: typeof doc.scope === "string"
      ? doc.scope.split(/\s+/).filter((s) => s.length > 0)
      : [...opts.requestedScopes],
  };
  if (typeof doc.refresh_token === "string" && doc.refresh_token) {
    set.refreshToken = doc.refresh_token;
  }
  const expiresIn = typeof doc.expires_in === "string" && /^\d+$/.test(doc.expires_in)
    ? Number(doc.expires_in)
    : doc.expires_in;
  if (typeof expiresIn === "number" && Number.isFinite(expiresIn) && expiresIn >= 0) {
    set.expiresAt = (opts.now ?? Date.now()) + expiresIn * 1000;
  } else if (expiresIn !== undefined && expiresIn !== null) {
    throw bad("has an invalid expires_in");
  }
  return set;
}

/** Options of {@link processCallbackParams}. */
export interface CallbackCheck {
  expectedState: string;
  /** The issuer the request went to (RFC 9207 `iss` must equal it). */
  expectedIssuer?: string;
  /** The server advertises `authorization_response_iss_parameter_supported`. */
  issRequired: boolean;
  server?: string;
}

/**
 * Validates the authorization response on the redirect URI. `state` must match in constant
 * time (RFC 6749 §10.12); `iss` must be present when the server advertises RFC 9207 support
 * and must equal the issuer whenever present (RFC 9207 §2.4). Only then is an `error`
 * reported (`access_denied` → `oauth.declined`, else `oauth.authorization_failed`, with a
 * sanitized description) or the `code` returned.
 */
export function processCallbackParams(
  params: URLSearchParams,
  check: CallbackCheck,
): { code: string } {
  const { server } = check;
  const who = serverLabel(server);
  const state = params.get("state");
  if (state === null || !constantTimeEqual(state, check.expectedState)) {
    throw oauthError(
      "oauth.state_mismatch",
      `${who}: the sign-in response does not belong to this sign-in (state mismatch)`,
      { server, hint: "Start the sign-in again and use only the newest browser tab." },
    );
  }
  const iss = params.get("iss");
  if (
    iss === null
      ? check.issRequired
      : (check.expectedIssuer !== undefined && iss !== check.expectedIssuer)
  ) {
    throw oauthError(
      "oauth.iss_mismatch",
      `${who}: the sign-in response ${
        iss === null ? "lacks the iss parameter its server promises" : "comes from another issuer"
      } (RFC 9207); refusing it`,
      { server, hint: "This can be a mix-up attack; start the sign-in again." },
    );
  }
  const error = params.get("error");
  if (error !== null) {
    const code = sanitizeServerText(error, 60);
    const desc = sanitizeServerText(params.get("error_description"));
    const declined = error === "access_denied";
    throw oauthError(
      declined ? "oauth.declined" : "oauth.authorization_failed",
      `${who}: ${declined ? "sign-in was declined" : "sign-in failed"} (${code}${
        desc ? `: ${desc}` : ""
      })`,
      {
        server,
        oauthError: code,
        hint: declined
          ? "Run `dagent auth login` to try again."
          : "Check the toolset's remote.oauth settings (scopes, clientId), then try again.",
      },
    );
  }
  const code = params.get("code");
  if (!code) {
    throw oauthError(
      "oauth.invalid_callback",
      `${who}: the sign-in response has neither a code nor an error`,
      { server, hint: "Start the sign-in again." },
    );
  }
  return { code };
}

/** "a b" from a list or a string; undefined when empty. */
function scopeString(scope: string | string[] | undefined): string | undefined {
  const s = Array.isArray(scope) ? scope.join(" ") : scope?.trim();
  return s ? s : undefined;
}

/** application/x-www-form-urlencoded encoding of one value (RFC 6749 Appendix B). */
function formEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2);
}

/** Adds the client's credentials to `form` or returns them as headers. */
async function clientAuthentication(
  form: URLSearchParams,
  client: TokenClient,
  tokenEndpoint: string,
  extra: TokenRequestExtra,
): Promise<Record<string, string>> {
  switch (client.tokenEndpointAuthMethod) {
    case "client_secret_basic": {
      const secret = requireSecret(client, extra.server);
      const pair = `${formEncode(client.clientId)}:${formEncode(secret)}`;
      const bytes = new TextEncoder().encode(pair);
      let bin = "";
      for (const b of bytes) bin += String.fromCharCode(b);
      return { authorization: `Basic ${btoa(bin)}` };
    }
    case "client_secret_post":
      form.set("client_id", client.clientId);
      form.set("client_secret", requireSecret(client, extra.server));
      return {};
    case "private_key_jwt": {
      let assertion = extra.clientAssertion;
      if (!assertion) {
        if (!extra.privateKey) {
          throw oauthError(
            "oauth.invalid_key",
            `${serverLabel(extra.server)}: private_key_jwt needs a private key`,
            { server: extra.server, hint: "Set remote.oauth.privateKeyFile or privateKeyEnv." },
          );
        }
        const key = typeof extra.privateKey === "string"
          ? await importPrivateKeyPem(extra.privateKey)
          : extra.privateKey;
        assertion = await createClientAssertion({
          clientId: client.clientId,
          audience: extra.assertionAudience ?? tokenEndpoint,
          key,
        });
      }
      form.set("client_id", client.clientId);
      form.set("client_assertion_type", JWT_BEARER);
      form.set("client_assertion", assertion);
      return {};
    }
    default:
      form.set("client_id", client.clientId);
      return {};
  }
}

function requireSecret(client: TokenClient, server?: string): string {
  if (!client.clientSecret) {
    throw oauthError(
      "oauth.token_error",
      `${serverLabel(server)}: ${client.tokenEndpointAuthMethod} needs a client secret`,
      { server, hint: "Set remote.oauth.clientSecret." },
    );
  }
  return client.clientSecret;
}

function formRequest(url: URL, form: URLSearchParams, headers: Record<string, string>): Request {
  return new Request(url, {
    method: "POST",
    headers: {
      ...headers,
      "content-type": "application/x-www-form-urlencoded",
      accept: "application/json",
    },
    body: form.toString(),
  });
}
