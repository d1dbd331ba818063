/**
 * Token storage: the {@link TokenStore} interface and the in-memory store.
 * Persistent stores (file, OS keychain) implement the same interface.
 * @module
 */

/** A token held for one MCP server, with what a later process needs to refresh it. */
export interface StoredToken {
  accessToken: string;
  refreshToken?: string;
  /** Always "Bearer" (validated at the token response). */
  tokenType: "Bearer";
  /** Expiry as epoch milliseconds; undefined when the server gave no `expires_in`. */
  expiresAt?: number;
  /** Scopes granted (or, when the server did not say, requested). */
  scopes: string[];
  /** Issuer of the authorization server that issued it. */
  issuer: string;
  /** Token endpoint, kept so a refresh needs no discovery. */
  tokenEndpoint: string;
  /** How the client authenticates at the token endpoint. */
  tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  /** Client id the token was issued to. */
  clientId: string;
  /** RFC 8707 resource the token is for (the canonical MCP server URI). */
  resource: string;
  /** Revocation endpoint (RFC 7009), when the server advertised one. */
  revocationEndpoint?: string;
}

/** Client authentication methods dagent supports at the token endpoint. */
export type TokenEndpointAuthMethod =
  | "client_secret_basic"
  | "client_secret_post"
  | "none"
  | "private_key_jwt";

/** A client registration (dynamic, or from a metadata document), remembered per issuer. */
export interface StoredClient {
  clientId: string;
  clientSecret?: string;
  /** Epoch ms after which the secret is invalid (RFC 7591 `client_secret_expires_at`). */
  clientSecretExpiresAt?: number;
  issuer: string;
  redirectUris: string[];
  tokenEndpointAuthMethod: TokenEndpointAuthMethod;
}

/** Where tokens and registrations live. Keys: MCP server URL (tokens), issuer (clients). */
export interface TokenStore {
  /** A human-readable description of where data lives (for `dagent auth status`). */
  readonly location: string;
  loadToken(serverUrl: string): Promise<StoredToken | undefined>;
  saveToken(serverUrl: string, token: StoredToken): Promise<void>;
  deleteToken(serverUrl: string): Promise<void>;
  loadClient(issuer: string): Promise<StoredClient | undefined>;
  saveClient(issuer: string, client: StoredClient): Promise<void>;
  deleteClient(issuer: string): Promise<void>;
}

/** A {@link TokenStore} that lives in memory, for tests and `--no-store` runs. */
export class MemoryTokenStore implements TokenStore {
  readonly location = "memory";
  readonly #tokens = new Map<string, StoredToken>();
  readonly #clients = new Map<string, StoredClient>();

  loadToken(serverUrl: string): Promise<StoredToken | undefined> {
    const token = this.#tokens.get(serverUrl);
    return Promise.resolve(token && { ...token, scopes: [...token.scopes] });
  }
  saveToken(serverUrl: string, token: StoredToken): Promise<void> {
    this.#tokens.set(serverUrl, { ...token, scopes: [...token.scopes] });
    return Promise.resolve();
  }
  deleteToken(serverUrl: string): Promise<void> {
    this.#tokens.delete(serverUrl);
    return Promise.resolve();
  }
  loadClient(issuer: string): Promise<StoredClient | undefined> {
    const client = this.#clients.get(issuer);
    return Promise.resolve(client && { ...client, redirectUris: [...client.redirectUris] });
  }
  saveClient(issuer: string, client: StoredClient): Promise<void> {
    this.#clients.set(issuer, { ...client, redirectUris: [...client.redirectUris] });
    return Promise.resolve();
  }
  deleteClient(issuer: string): Promise<void> {
    this.#clients.delete(issuer);
    return Promise.resolve();
  }
}
