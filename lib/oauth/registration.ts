/**
 * Client identity: a pre-registered client from the config, a Client ID Metadata Document,
 * a remembered registration, or Dynamic Client Registration (RFC 7591) — in that order, and
 * never an invented registration endpoint (the seed's bug).
 * @module
 */
import type { RemoteOAuthConfig } from "../config/types.ts";
import type { AuthorizationServerMetadata } from "./discovery.ts";
import { oauthError, sanitizeServerText, serverLabel } from "./errors.ts";
import { assertSecureUrl, type HttpOptions, oauthFetch, readJson } from "./http.ts";
import type { StoredClient, TokenEndpointAuthMethod, TokenStore } from "./store.ts";

/** Options of {@link buildRegistrationRequest}. */
export interface RegistrationOptions {
  /** Redirect URIs to register; empty for a `client_credentials`-only client. */
  redirectUris: string[];
  scope?: string;
  clientName?: string;
  tokenEndpointAuthMethod?: TokenEndpointAuthMethod;
  server?: string;
}

/** Inputs of {@link resolveClient}. */
export interface ResolveClientInput {
  meta: AuthorizationServerMetadata;
  oauth?: RemoteOAuthConfig;
  /** The redirect URI this flow uses; "" for the `client_credentials` grant. */
  redirectUri: string;
  scope?: string;
  store: TokenStore;
  server: string;
  http: HttpOptions;
}

/** Where {@link resolveClient} got the client from. */
export type ClientSource = "config" | "metadata_document" | "stored" | "dynamic";

const SUPPORTED_METHODS: TokenEndpointAuthMethod[] = [
  "client_secret_basic",
  "client_secret_post",
  "none",
  "private_key_jwt",
];

/**
 * A Dynamic Client Registration request (RFC 7591 §2, §3.1): `client_name` dagent,
 * `application_type: native` (OIDC Registration §2), the redirect URIs actually used,
 * grant types authorization_code and refresh_token, response type code, auth method `none`
 * unless given. Throws `oauth.no_registration` when no `registration_endpoint` is advertised.
 */
export function buildRegistrationRequest(
  meta: Pick<AuthorizationServerMetadata, "registration_endpoint">,
  opts: RegistrationOptions,
): Request {
  if (!meta.registration_endpoint) throw noRegistration(opts.server);
  const url = assertSecureUrl(meta.registration_endpoint, "registration endpoint", opts.server);
  const codeFlow = opts.redirectUris.length > 0;
  const doc: Record<string, unknown> = {
    client_name: opts.clientName ?? "dagent",
    application_type: "native",
    grant_types: codeFlow ? ["authorization_code", "refresh_token"] : ["client_credentials"],
    response_types: codeFlow ? ["code"] : [],
    token_endpoint_auth_method: opts.tokenEndpointAuthMethod ??
      (codeFlow ? "none" : "client_secret_basic"),
  };
  if (codeFlow) doc.redirect_uris = opts.redirectUris;
  if (opts.scope) doc.scope = opts.scope;
  return new Request(url, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify(doc),
  });
}

/**
 * Validates a registration response (RFC 7591 §3.2.1; errors per §3.2.2 become
 * `oauth.registration_failed` with the sanitized `error`). `client_secret_expires_at` (seconds,
 * 0 = never) becomes epoch ms; a missing or unsupported auth method falls back to the one
 * requested, else `client_secret_basic` with a secret and `none` without.
 */
export function processRegistrationResponse(
  response: Response,
  body: Uint8Array,
  issuer: string,
  opts: { redirectUris?: string[]; requestedMethod?: TokenEndpointAuthMethod; server?: string } =
    {},
): StoredClient {
  const { server } = opts;
  let doc: Record<string, unknown> | undefined;
  try {
    doc = readJson(body, "registration response", server);
  } catch {
    doc = undefined;
  }
  if (!response.ok || !doc || typeof doc.client_id !== "string" || !doc.client_id) {
    const code = typeof doc?.error === "string" ? sanitizeServerText(doc.error, 60) : "";
    const desc = sanitizeServerText(doc?.error_description);
    const what = code
      ? `${code}${desc ? `: ${desc}` : ""}`
      : response.ok
      ? "no client_id in the response"
      : `HTTP ${response.status}`;
    throw oauthError(
      "oauth.registration_failed",
      `${serverLabel(server)}: dynamic client registration failed (${what})`,
      {
        server,
        oauthError: code || undefined,
        hint: "Register an OAuth app with the provider and set remote.oauth.clientId " +
          "(and remote.oauth.clientSecret).",
      },
    );
  }
  const secret = typeof doc.client_secret === "string" && doc.client_secret
    ? doc.client_secret
    : undefined;
  const returned = doc.token_endpoint_auth_method;
  const method = SUPPORTED_METHODS.includes(returned as TokenEndpointAuthMethod)
    ? returned as TokenEndpointAuthMethod
    : opts.requestedMethod ?? (secret ? "client_secret_basic" : "none");
  const client: StoredClient = {
    clientId: doc.client_id,
    issuer,
    redirectUris: Array.isArray(doc.redirect_uris) &&
        doc.redirect_uris.every((u) => typeof u === "string")
      ? [...doc.redirect_uris]
      : [...(opts.redirectUris ?? [])],
    tokenEndpointAuthMethod: method,
  };
  if (secret) client.clientSecret = secret;
  if (typeof doc.client_secret_expires_at === "number" && doc.client_secret_expires_at > 0) {
    client.clientSecretExpiresAt = doc.client_secret_expires_at * 1000;
  }
  return client;
}

/**
 * Finds the client identity for a flow, in issue 3's order:
 * 1. `remote.oauth.clientId` (registration skipped; `private_key_jwt` with a key, else
 *    `client_secret_basic` or `client_secret_post` per the server's list with a secret, else
 *    `none`);
 * 2. `remote.oauth.clientMetadataUrl` when the server sets
 *    `client_id_metadata_document_supported` (the URL is the client id, method `none`);
 * 3. a registration stored for this issuer that lists this redirect URI and whose secret has
 *    not expired;
 * 4. Dynamic Client Registration when `registration_endpoint` is advertised (then stored
 *    under the issuer);
 * 5. else `oauth.no_registration`, naming the toolset and `remote.oauth.clientId`.
 */
export async function resolveClient(
  input: ResolveClientInput,
): Promise<{ client: StoredClient; source: ClientSource }> {
  const { meta, oauth, redirectUri, server } = input;
  const redirectUris = redirectUri ? [redirectUri] : [];

  if (oauth?.clientId) {
    const supported = meta.token_endpoint_auth_methods_supported ?? ["client_secret_basic"];
    const method: TokenEndpointAuthMethod = oauth.privateKeyFile || oauth.privateKeyEnv
      ? "private_key_jwt"
      : oauth.clientSecret
      ? (supported.includes("client_secret_basic") || !supported.includes("client_secret_post")
        ? "client_secret_basic"
        : "client_secret_post")
      : "none";
    const client: StoredClient = {
      clientId: oauth.clientId,
      issuer: meta.issuer,
      redirectUris,
      tokenEndpointAuthMethod: method,
    };
    if (oauth.clientSecret) client.clientSecret = oauth.clientSecret;
    return { client, source: "config" };
  }

  if (oauth?.clientMetadataUrl && meta.client_id_metadata_document_supported) {
    assertSecureUrl(oauth.clientMetadataUrl, "client metadata document URL", server);
    return {
      client: {
        clientId: oauth.clientMetadataUrl,
        issuer: meta.issuer,
        redirectUris,
        tokenEndpointAuthMethod: "none",
      },
      source: "metadata_document",
    };
  }

  const stored = await input.store.loadClient(meta.issuer);
  if (
    stored && stored.issuer === meta.issuer &&
    (redirectUri === "" || stored.redirectUris.some((uri) => sameRedirect(uri, redirectUri))) &&
    (stored.clientSecretExpiresAt === undefined || stored.clientSecretExpiresAt > Date.now())
  ) {
    return { client: stored, source: "stored" };
  }

  if (meta.registration_endpoint) {
    const requestedMethod: TokenEndpointAuthMethod = redirectUri
      ? "none"
      : (meta.token_endpoint_auth_methods_supported?.includes("client_secret_basic") ?? true)
      ? "client_secret_basic"
      : "client_secret_post";
    const request = buildRegistrationRequest(meta, {
      redirectUris,
      scope: input.scope,
      tokenEndpointAuthMethod: requestedMethod,
      server,
    });
    const { response, body } = await oauthFetch(request, {
      ...input.http,
      server,
      what: "registration endpoint",
      metadata: false,
    });
    const client = processRegistrationResponse(response, body, meta.issuer, {
      redirectUris,
      requestedMethod,
      server,
    });
    await input.store.saveClient(meta.issuer, client);
    return { client, source: "dynamic" };
  }

  throw noRegistration(server);
}

/**
 * Whether a registered redirect URI covers the one about to be used. A loopback IP redirect
 * matches on any port (RFC 8252 §7.3: the authorization server must allow any port), so a
 * registration made with `callbackPort: 0` stays usable on the next run's port.
 */
function sameRedirect(registered: string, used: string): boolean {
  if (registered === used) return true;
  try {
    const a = new URL(registered);
    const b = new URL(used);
    const loopbackIp = (host: string) => host === "127.0.0.1" || host === "[::1]";
    return loopbackIp(a.hostname) && a.hostname === b.hostname && a.protocol === b.protocol &&
      a.pathname === b.pathname && a.search === b.search;
  } catch {
    return false;
  }
}

function noRegistration(server?: string) {
  return oauthError(
    "oauth.no_registration",
    `${serverLabel(server)} does not support automatic client registration: register an ` +
      "OAuth app with the provider and set remote.oauth.clientId (and remote.oauth.clientSecret)",
    { server, hint: "The app's redirect URI must match remote.oauth.callbackPort (and tls)." },
  );
}
