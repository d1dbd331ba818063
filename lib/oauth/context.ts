/**
 * The process-wide OAuth context shared by every remote toolset of a run: where tokens
 * live, who answers sign-in prompts, HTTP limits, the metadata cache, and the servers
 * the user declined in this session.
 * @module
 */
import type { ElicitationHandler } from "../runtime/elicitation.ts";
import type { RemoteOAuthConfig } from "../config/types.ts";
import { MetadataCache } from "./discovery.ts";
import type { HttpOptions } from "./http.ts";
import type { TokenStore } from "./store.ts";

/** One OAuth-protected MCP server, as a toolset names it. */
export interface OAuthTarget {
  /** The MCP server URL from the config. */
  serverUrl: string;
  /** Toolset name, used in every message. */
  server: string;
  /** `remote.oauth` from the config, if any. */
  oauth?: RemoteOAuthConfig;
  /** Config file path, for "run `dagent auth login CONFIG`" hints. */
  configPath?: string;
}

/** A sign-in event as the audit log records it. */
export interface AuthEventInfo {
  server: string;
  issuer?: string;
  scopes?: string[];
  outcome: "signed_in" | "refreshed" | "declined" | "failed";
}

/** How the browser step of a sign-in is done. */
export interface BrowserSettings {
  /** Do not open anything; ask the user to paste the final redirect address. */
  noBrowser?: boolean;
  /**
   * Opens a URL. Defaults to the platform opener (lib/oauth/browser.ts); tests pass a
   * function that follows the authorization redirect like a browser would.
   */
  open?: (url: string) => Promise<unknown>;
}

/** Everything the OAuth flow needs from the process around it. */
export interface OAuthContext {
  store: TokenStore;
  elicitation: ElicitationHandler;
  http: HttpOptions;
  browser: BrowserSettings;
  /** Metadata documents fetched in this process, by URL. */
  metadataCache: MetadataCache;
  /** Canonical server URIs the user declined to sign in to, for the rest of the session. */
  declined: Set<string>;
  /** Directory for cross-process lock files; undefined (memory store) means no locking. */
  lockDir?: string;
  /** How long to wait for the browser to come back to the callback (default 5 minutes). */
  callbackTimeoutMs?: number;
  /** Refresh this long before expiry (default 60 s). */
  refreshSkewMs?: number;
  /**
   * Makes the certificate of an HTTPS callback (default: a fresh self-signed one). Tests
   * pass one whose certificate their test browser trusts.
   */
  generateCertificate?: () => Promise<{ certPem: string; keyPem: string }>;
  /** Told about sign-ins, refreshes and declines (for the audit log); never tokens. */
  onAuthEvent?: (event: AuthEventInfo) => void;
  /** Clock, for tests. */
  now?: () => number;
}

/** Options of {@link createOAuthContext}. */
export type OAuthContextOptions =
  & Pick<OAuthContext, "store" | "elicitation">
  & Partial<Omit<OAuthContext, "store" | "elicitation" | "metadataCache" | "declined">>;

/** Creates a context with defaults (10 s timeouts, 1 MiB response cap, fresh cache). */
export function createOAuthContext(options: OAuthContextOptions): OAuthContext {
  return {
    http: { timeoutMs: 10_000, maxBytes: 1024 * 1024 },
    browser: {},
    ...options,
    metadataCache: new MetadataCache(),
    declined: new Set(),
  };
}
