/**
 * Discovery: from an MCP server URL (and its 401 challenge) to the authorization server's
 * metadata. RFC 9728 (protected resource metadata), RFC 8414 and OpenID Connect Discovery 1.0
 * (authorization server metadata), in the order of the MCP authorization spec (2025-11-25),
 * with the 2025-03-26 fallback for servers that publish no resource metadata.
 * @module
 */
import { OAuthError, oauthError, sanitizeServerText, serverLabel } from "./errors.ts";
import { assertSecureUrl, type HttpOptions, oauthFetch, readJson, safeUrl } from "./http.ts";
import type { BearerChallenge } from "./www_authenticate.ts";

/** RFC 9728 §2 protected resource metadata, validated. */
export interface ProtectedResourceMetadata {
  resource: string;
  authorization_servers: string[];
  scopes_supported?: string[];
  bearer_methods_supported?: string[];
  resource_name?: string;
}

/** RFC 8414 §2 authorization server metadata, validated (only the fields dagent uses). */
export interface AuthorizationServerMetadata {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  /** Present only when the server advertised it; never invented (the seed's bug). */
  registration_endpoint?: string;
  revocation_endpoint?: string;
  scopes_supported?: string[];
  response_types_supported?: string[];
  grant_types_supported?: string[];
  code_challenge_methods_supported?: string[];
  token_endpoint_auth_methods_supported?: string[];
  token_endpoint_auth_signing_alg_values_supported?: string[];
  /** Client ID Metadata Documents accepted as client ids. */
  client_id_metadata_document_supported?: boolean;
  /** RFC 9207: the server sends `iss` in authorization responses. */
  authorization_response_iss_parameter_supported?: boolean;
}

/** What {@link discover} found. */
export interface Discovery {
  /** RFC 8707 resource to request tokens for. */
  resource: string;
  /** Undefined when the server published none (2025-03-26 behaviour). */
  protectedResource?: ProtectedResourceMetadata;
  authorizationServer: AuthorizationServerMetadata;
  /** The 2025-03-26 fallback (server origin as authorization server) was used. */
  legacy: boolean;
  /** The 2025-03-26 default endpoints `/authorize`, `/token`, `/register` were assumed. */
  assumedEndpoints: boolean;
}

/** Options of {@link discover}. */
export type DiscoveryOptions = HttpOptions & { cache?: MetadataCache; server?: string };

/** A metadata fetch outcome: a JSON object, or absent (the URL is skipped, with why). */
export type Fetched = { ok: true; doc: Record<string, unknown> } | { ok: false; reason: string };

/**
 * A per-process cache of metadata documents by URL. Successes are kept for the life of the
 * cache; concurrent lookups of one URL share one request. Absences are not cached.
 */
export class MetadataCache {
  readonly #entries = new Map<string, Promise<Fetched>>();

  /** The cached outcome for `url`, or the result of `load` (shared while in flight). */
  get(url: string, load: () => Promise<Fetched>): Promise<Fetched> {
    const hit = this.#entries.get(url);
    if (hit) return hit;
    const p = load().then((r) => {
      if (!r.ok) this.#entries.delete(url);
      return r;
    }, (err) => {
      this.#entries.delete(url);
      throw err;
    });
    this.#entries.set(url, p);
    return p;
  }

  /** Forgets everything. */
  clear(): void {
    this.#entries.clear();
  }

  /** Number of URLs held (including in-flight ones). */
  get size(): number {
    return this.#entries.size;
  }
}

/**
 * The canonical URI of an MCP server for RFC 8707 `resource` (RFC 8707 §2, MCP spec
 * "Canonical Server URI"): lower-case scheme and host, default port dropped, no fragment,
 * no credentials, query kept, no trailing slash ("https://mcp.example.com/" →
 * "https://mcp.example.com", "https://x.example/mcp/" → "https://x.example/mcp").
 */
export function canonicalResourceUri(url: string | URL): string {
  const u = new URL(typeof url === "string" ? url : url.href);
  const path = u.pathname === "/" ? "" : u.pathname.replace(/\/$/, "");
  return `${u.protocol}//${u.host}${path}${u.search}`;
}

/**
 * The protected resource metadata URLs to try, in order (RFC 9728 §3.1, MCP 2025-11-25
 * "Protected Resource Metadata Discovery"): the challenge's `resource_metadata` when given,
 * then `/.well-known/oauth-protected-resource/<path>` (when the server URL has a path), then
 * `/.well-known/oauth-protected-resource` at the root. Query and fragment are dropped.
 * A `resource_metadata` that is not a URL (RFC 9728 §5.1 requires an absolute one) throws
 * OAuthError `oauth.invalid_metadata` naming `server`, before any request is made.
 */
export function protectedResourceMetadataUrls(
  serverUrl: string,
  fromChallenge?: string,
  server?: string,
): string[] {
  const u = new URL(serverUrl);
  const path = u.pathname.replace(/\/+$/, "");
  const urls: string[] = [];
  if (fromChallenge) urls.push(challengeUrl(fromChallenge, u, server));
  if (path) urls.push(`${u.origin}/.well-known/oauth-protected-resource${path}`);
  urls.push(`${u.origin}/.well-known/oauth-protected-resource`);
  return [...new Set(urls)];
}

/** The challenge's `resource_metadata` resolved against the server URL, or `invalid_metadata`. */
function challengeUrl(value: string, base: URL, server?: string): string {
  try {
    return new URL(value, base).href;
  } catch {
    throw oauthError(
      "oauth.invalid_metadata",
      `${serverLabel(server)}: its 401 challenge names a resource_metadata that is not a ` +
        `usable URL (${sanitizeServerText(value, 80)})`,
      {
        server,
        hint: "The server sent an unusable resource_metadata URL; report it to its operator.",
      },
    );
  }
}

/**
 * The authorization server metadata URLs to try for `issuer`, in the MCP spec's order:
 * with a path `/t`: `/.well-known/oauth-authorization-server/t` (RFC 8414 §3.1),
 * `/.well-known/openid-configuration/t`, `/t/.well-known/openid-configuration` (OIDC
 * Discovery §4); without a path: `/.well-known/oauth-authorization-server`,
 * `/.well-known/openid-configuration`.
 */
export function authorizationServerMetadataUrls(issuer: string): string[] {
  const u = new URL(issuer);
  const path = u.pathname.replace(/\/+$/, "");
  if (!path) {
    return [
      `${u.origin}/.well-known/oauth-authorization-server`,
      `${u.origin}/.well-known/openid-configuration`,
    ];
  }
  return [
    `${u.origin}/.well-known/oauth-authorization-server${path}`,
    `${u.origin}/.well-known/openid-configuration${path}`,
    `${u.origin}${path}/.well-known/openid-configuration`,
  ];
}

/**
 * Validates a protected resource metadata document for the MCP server at `serverUrl`.
 *
 * `resource` must identify this server (RFC 9728 §3.3; otherwise `oauth.resource_mismatch`
 * and no authorization request is made). It does when its canonical form equals the
 * server's, or when it has the server's origin and the server's path lies under its path at
 * a segment boundary — RFC 9728 §3.3 ties the document at the root well-known URL to the
 * origin identifier, and the MCP reference SDKs accept such a parent resource. Anything else
 * (another origin, a sibling path, a longer path) is refused.
 *
 * `authorization_servers` must hold at least one absolute https (or loopback http) URL.
 */
export function processProtectedResourceMetadata(
  doc: unknown,
  serverUrl: string,
  server?: string,
): ProtectedResourceMetadata {
  const who = serverLabel(server);
  const obj = asObject(doc, "protected resource metadata", server);
  const resource = obj.resource;
  if (typeof resource !== "string" || !resource) {
    throw invalid(server, "protected resource metadata has no `resource`");
  }
  if (!resourceIdentifiesServer(resource, serverUrl)) {
    throw oauthError(
      "oauth.resource_mismatch",
      `${who}: its protected resource metadata is for ${
        sanitizeServerText(resource, 120)
      }, not for ${safeUrl(serverUrl)}; refusing to sign in`,
      { server, hint: "Check remote.url; if it is right, the server's metadata is wrong." },
    );
  }
  const servers = obj.authorization_servers;
  if (!Array.isArray(servers) || servers.length === 0) {
    throw invalid(server, "protected resource metadata lists no authorization_servers");
  }
  const authorization_servers = servers.map((s) => {
    if (typeof s !== "string") throw invalid(server, "authorization_servers holds a non-string");
    assertSecureUrl(s, "authorization server", server);
    return s;
  });
  const out: ProtectedResourceMetadata = { resource, authorization_servers };
  const scopes = stringArray(obj, "scopes_supported", server);
  if (scopes) out.scopes_supported = scopes;
  const bearer = stringArray(obj, "bearer_methods_supported", server);
  if (bearer) out.bearer_methods_supported = bearer;
  if (typeof obj.resource_name === "string") out.resource_name = obj.resource_name;
  return out;
}

/**
 * Validates authorization server metadata fetched for `expectedIssuer`: `issuer` must be
 * identical (RFC 8414 §3.3, `oauth.issuer_mismatch`); endpoints must be absolute https or
 * loopback http URLs; optional fields are kept only when present and well-typed.
 */
export function processAuthorizationServerMetadata(
  doc: unknown,
  expectedIssuer: string,
  server?: string,
): AuthorizationServerMetadata {
  const obj = asObject(doc, "authorization server metadata", server);
  if (obj.issuer !== expectedIssuer) {
    const got = typeof obj.issuer === "string" ? sanitizeServerText(obj.issuer, 120) : "none";
    throw oauthError(
      "oauth.issuer_mismatch",
      `${serverLabel(server)}: authorization server metadata names issuer ${got}, but it was ` +
        `fetched for ${safeUrl(expectedIssuer)}; refusing it (RFC 8414 §3.3)`,
      { server, hint: "The authorization server is misconfigured; contact its operator." },
    );
  }
  const endpoint = (name: string, required: boolean): string | undefined => {
    const v = obj[name];
    if (v === undefined && !required) return undefined;
    if (typeof v !== "string" || !v) {
      throw invalid(server, `authorization server metadata has no valid \`${name}\``);
    }
    assertSecureUrl(v, name.replace(/_/g, " "), server);
    return v;
  };
  const meta: AuthorizationServerMetadata = {
    issuer: expectedIssuer,
    authorization_endpoint: endpoint("authorization_endpoint", true)!,
    token_endpoint: endpoint("token_endpoint", true)!,
  };
  const registration = endpoint("registration_endpoint", false);
  if (registration) meta.registration_endpoint = registration;
  const revocation = endpoint("revocation_endpoint", false);
  if (revocation) meta.revocation_endpoint = revocation;
  for (
    const name of [
      "scopes_supported",
      "response_types_supported",
      "grant_types_supported",
      "code_challenge_methods_supported",
      "token_endpoint_auth_methods_supported",
      "token_endpoint_auth_signing_alg_values_supported",
    ] as const
  ) {
    const arr = stringArray(obj, name, server);
    if (arr) meta[name] = arr;
  }
  if (obj.client_id_metadata_document_supported === true) {
    meta.client_id_metadata_document_supported = true;
  }
  if (obj.authorization_response_iss_parameter_supported === true) {
    meta.authorization_response_iss_parameter_supported = true;
  }
  return meta;
}

/**
 * Runs discovery for the MCP server at `serverUrl`, given the Bearer challenge of its 401
 * (if any). Protected resource metadata first (the challenge URL, then the well-known ones;
 * a 4xx or 3xx skips to the next, as does a non-JSON page at a well-known URL); then the
 * first authorization server's metadata. With no protected resource metadata at all, the
 * 2025-03-26 fallback: metadata at the server's origin, else the default `/authorize`,
 * `/token`, `/register` endpoints there — the only place an endpoint is assumed.
 * Timeouts, oversized bodies, 5xx answers, and unusable documents are errors naming the URL.
 */
export async function discover(
  serverUrl: string,
  challenge: BearerChallenge | undefined,
  opts: DiscoveryOptions = {},
): Promise<Discovery> {
  const { server } = opts;
  assertSecureUrl(serverUrl, "MCP server URL", server);
  const cache = opts.cache ?? new MetadataCache();
  const prmUrls = protectedResourceMetadataUrls(serverUrl, challenge?.resourceMetadata, server);
  const fromChallenge = challenge?.resourceMetadata ? prmUrls[0] : undefined;

  let protectedResource: ProtectedResourceMetadata | undefined;
  for (const url of prmUrls) {
    const got = await fetchMetadata(url, url === fromChallenge, cache, opts, "resource metadata");
    if (!got.ok) continue;
    protectedResource = processProtectedResourceMetadata(got.doc, serverUrl, server);
    break;
  }

  if (protectedResource) {
    // RFC 9728 §7.6 leaves the choice to the client: dagent uses the first listed server.
    const issuer = protectedResource.authorization_servers[0];
    const authorizationServer = await findAuthorizationServer(issuer, cache, opts);
    if (!authorizationServer) {
      throw oauthError(
        "oauth.discovery_failed",
        `${serverLabel(server)}: no authorization server metadata found for ${
          safeUrl(issuer)
        } (tried ${authorizationServerMetadataUrls(issuer).map(safeUrl).join(", ")})`,
        { server, hint: "The authorization server publishes no RFC 8414 metadata." },
      );
    }
    return {
      resource: protectedResource.resource,
      protectedResource,
      authorizationServer,
      legacy: false,
      assumedEndpoints: false,
    };
  }

  // MCP 2025-03-26 §2.3: the authorization base URL is the server URL without its path.
  const origin = new URL(serverUrl).origin;
  const resource = canonicalResourceUri(serverUrl);
  const found = await findAuthorizationServer(origin, cache, opts);
  if (found) {
    return { resource, authorizationServer: found, legacy: true, assumedEndpoints: false };
  }
  // MCP 2025-03-26 §2.3.3 default endpoints. That version required PKCE of every client, so
  // such a server is taken to support S256.
  return {
    resource,
    authorizationServer: {
      issuer: origin,
      authorization_endpoint: `${origin}/authorize`,
      token_endpoint: `${origin}/token`,
      registration_endpoint: `${origin}/register`,
      code_challenge_methods_supported: ["S256"],
    },
    legacy: true,
    assumedEndpoints: true,
  };
}

/** The first valid authorization server metadata among `issuer`'s well-known URLs. */
async function findAuthorizationServer(
  issuer: string,
  cache: MetadataCache,
  opts: DiscoveryOptions,
): Promise<AuthorizationServerMetadata | undefined> {
  for (const url of authorizationServerMetadataUrls(issuer)) {
    const got = await fetchMetadata(url, false, cache, opts, "authorization server metadata");
    if (got.ok) return processAuthorizationServerMetadata(got.doc, issuer, opts.server);
  }
  return undefined;
}

/** Fetches one metadata document through the cache; see {@link discover} for what skips. */
function fetchMetadata(
  url: string,
  explicit: boolean,
  cache: MetadataCache,
  opts: DiscoveryOptions,
  what: string,
): Promise<Fetched> {
  return cache.get(url, async () => {
    let result;
    try {
      result = await oauthFetch(
        new Request(url, { headers: { accept: "application/json" } }),
        { ...opts, what, metadata: true },
      );
    } catch (err) {
      if (err instanceof OAuthError && err.code === "oauth.redirect_refused" && !explicit) {
        return { ok: false, reason: "redirect" };
      }
      throw err;
    }
    const { response, body } = result;
    if (response.status >= 400 && response.status < 500) {
      return { ok: false, reason: `HTTP ${response.status}` };
    }
    if (response.status !== 200) {
      throw oauthError(
        "oauth.discovery_failed",
        `${serverLabel(opts.server)}: the ${what} at ${
          safeUrl(url)
        } answered HTTP ${response.status}`,
        { server: opts.server, hint: "The server may be down; try again later." },
      );
    }
    try {
      return { ok: true, doc: readJson(body, `${what} at ${safeUrl(url)}`, opts.server) };
    } catch (err) {
      if (!explicit) return { ok: false, reason: "not JSON" };
      throw err;
    }
  });
}

function asObject(doc: unknown, what: string, server?: string): Record<string, unknown> {
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    throw invalid(server, `${what} is not a JSON object`);
  }
  return doc as Record<string, unknown>;
}

function stringArray(
  obj: Record<string, unknown>,
  name: string,
  server?: string,
): string[] | undefined {
  const v = obj[name];
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || !v.every((x) => typeof x === "string")) {
    throw invalid(server, `\`${name}\` in the metadata is not a list of strings`);
  }
  return [...v];
}

function invalid(server: string | undefined, what: string): OAuthError {
  return oauthError("oauth.invalid_metadata", `${serverLabel(server)}: ${what}`, {
    server,
    hint: "The server's OAuth metadata is malformed; contact its operator.",
  });
}

/** RFC 9728 §3.3 match, as documented on {@link processProtectedResourceMetadata}. */
function resourceIdentifiesServer(resource: string, serverUrl: string): boolean {
  let r: URL, s: URL;
  try {
    r = new URL(resource);
    s = new URL(serverUrl);
  } catch {
    return false;
  }
  if (r.hash) return false;
  if (canonicalResourceUri(r) === canonicalResourceUri(s)) return true;
  if (r.origin !== s.origin || r.search) return false;
  const base = r.pathname.replace(/\/+$/, "");
  return s.pathname === base || s.pathname.startsWith(base + "/");
}
