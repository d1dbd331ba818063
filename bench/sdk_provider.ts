/**
 * The baseline's OAuth: a minimal in-memory `OAuthClientProvider` for the MCP SDK's own
 * client (`StreamableHTTPClientTransport` with `authProvider`), and {@link connectSdkClient},
 * which drives the SDK's documented sign-in dance: connect → `UnauthorizedError` after
 * `redirectToAuthorization` → the "browser" follows the authorization URL → the code goes to
 * `transport.finishAuth(code)` → connect again.
 *
 * The provider keeps everything the SDK offers to keep (client, tokens, verifier, and the
 * discovery state, which saves the SDK a second discovery in `finishAuth`), so the baseline
 * is the SDK at its best, not a strawman.
 * @module
 */
// @ts-types="@modelcontextprotocol/sdk/client/index"
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
// @ts-types="@modelcontextprotocol/sdk/client/streamableHttp"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
// @ts-types="@modelcontextprotocol/sdk/client/auth"
import {
  type OAuthClientProvider,
  type OAuthDiscoveryState,
  UnauthorizedError,
} from "@modelcontextprotocol/sdk/client/auth.js";
// @ts-types="@modelcontextprotocol/sdk/shared/auth"
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from "@modelcontextprotocol/sdk/shared/auth.js";
import { captureRedirect } from "../fixtures/oauth/mod.ts";

/** Options of {@link MemoryOAuthProvider}. */
export interface MemoryProviderOptions {
  /** A pre-registered client (servers without dynamic registration). */
  clientInformation?: OAuthClientInformationMixed;
  /** Tokens to start with (a warm start). */
  tokens?: OAuthTokens;
  /** Scopes to ask for when neither the challenge nor the server names any. */
  scope?: string;
}

/**
 * An in-memory provider. `redirectToAuthorization` plays the browser: it visits the
 * authorization URL (the fixture server approves at once), checks `state`, and keeps the
 * code for {@link takeCode}. The redirect URI is never listened on: the code is read from
 * the `Location` the authorization server answers with.
 */
export class MemoryOAuthProvider implements OAuthClientProvider {
  /** Authorization URLs the "browser" was sent to. */
  readonly opened: string[] = [];
  #client?: OAuthClientInformationMixed;
  #tokens?: OAuthTokens;
  #verifier = "";
  #state = "";
  #code?: string;
  #discovery?: OAuthDiscoveryState;
  readonly #scope?: string;

  constructor(options: MemoryProviderOptions = {}) {
    this.#client = options.clientInformation;
    this.#tokens = options.tokens;
    this.#scope = options.scope;
  }

  get redirectUrl(): string {
    return "http://127.0.0.1:8976/callback";
  }

  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: "sdk-baseline",
      redirect_uris: [this.redirectUrl],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
      ...(this.#scope ? { scope: this.#scope } : {}),
    };
  }

  state(): string {
    this.#state = crypto.randomUUID();
    return this.#state;
  }

  clientInformation(): OAuthClientInformationMixed | undefined {
    return this.#client;
  }

  saveClientInformation(info: OAuthClientInformationMixed): void {
    this.#client = info;
  }

  tokens(): OAuthTokens | undefined {
    return this.#tokens;
  }

  saveTokens(tokens: OAuthTokens): void {
    this.#tokens = tokens;
  }

  async redirectToAuthorization(url: URL): Promise<void> {
    this.opened.push(url.href);
    const landed = new URL(await captureRedirect(url.href));
    const code = landed.searchParams.get("code");
    if (!code || landed.searchParams.get("state") !== this.#state) {
      throw new Error(`the authorization server did not approve: ${landed.search.slice(0, 200)}`);
    }
    this.#code = code;
  }

  saveCodeVerifier(verifier: string): void {
    this.#verifier = verifier;
  }

  codeVerifier(): string {
    return this.#verifier;
  }

  saveDiscoveryState(state: OAuthDiscoveryState): void {
    this.#discovery = state;
  }

  discoveryState(): OAuthDiscoveryState | undefined {
    return this.#discovery;
  }

  invalidateCredentials(scope: "all" | "client" | "tokens" | "verifier" | "discovery"): void {
    if (scope === "all" || scope === "client") this.#client = undefined;
    if (scope === "all" || scope === "tokens") this.#tokens = undefined;
    if (scope === "all" || scope === "discovery") this.#discovery = undefined;
  }

  /** The authorization code the last redirect brought back (once). */
  takeCode(): string {
    const code = this.#code;
    this.#code = undefined;
    if (!code) throw new Error("no authorization code: the SDK never redirected");
    return code;
  }
}

/** Name and version the baseline client announces. */
const CLIENT_INFO = { name: "sdk-baseline", version: "0" };

/**
 * Connects the SDK's client with `provider` as its `authProvider`, signing in when the
 * server asks: the first connect fails with `UnauthorizedError` after the redirect, the
 * code is exchanged with `finishAuth`, and a fresh transport connects with the token.
 */
export async function connectSdkClient(
  url: string,
  provider: MemoryOAuthProvider,
): Promise<Client> {
  const first = new Client(CLIENT_INFO);
  const transport = new StreamableHTTPClientTransport(new URL(url), { authProvider: provider });
  try {
    await first.connect(transport);
    return first;
  } catch (error) {
    await first.close().catch(() => {});
    if (!(error instanceof UnauthorizedError)) throw error;
  }
  await transport.finishAuth(provider.takeCode());
  const client = new Client(CLIENT_INFO);
  await client.connect(
    new StreamableHTTPClientTransport(new URL(url), { authProvider: provider }),
  );
  return client;
}

/**
 * Connects the SDK's client without its OAuth: a fixed bearer token (when given) in
 * `requestInit` headers, and optionally a `fetch` of the caller's and more headers.
 */
export async function connectRawSdkClient(
  url: string,
  accessToken?: string,
  fetch?: (input: string | URL | Request, init?: RequestInit) => Promise<Response>,
  headers: Record<string, string> = {},
): Promise<Client> {
  const client = new Client(CLIENT_INFO);
  const all = accessToken ? { ...headers, authorization: `Bearer ${accessToken}` } : headers;
  await client.connect(
    new StreamableHTTPClientTransport(new URL(url), { fetch, requestInit: { headers: all } }),
  );
  return client;
}
