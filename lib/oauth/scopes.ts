/**
 * Scope selection (MCP 2025-11-25 "Scope Selection Strategy") and step-up unions.
 * @module
 */

/** Inputs of {@link selectScopes}, highest priority first. */
export interface ScopeSources {
  /** `remote.oauth.scopes`: overrides everything. */
  config?: string[];
  /** The challenge's `scope`. */
  challenge?: string[];
  /** Protected resource metadata `scopes_supported`. */
  resourceScopes?: string[];
  /** Authorization server `scopes_supported` (only to allow `offline_access`). */
  serverScopes?: string[];
}

/**
 * The scopes to request: config > challenge > resource metadata > none. `offline_access` is
 * dropped unless the authorization server lists it (issue 3); duplicates are removed.
 */
export function selectScopes(sources: ScopeSources): string[] {
  const pick = [sources.config, sources.challenge, sources.resourceScopes]
    .find((s) => s !== undefined && s.length > 0) ?? [];
  const allowOffline = sources.serverScopes?.includes("offline_access") ?? false;
  return unionScopes(pick).filter((s) => s !== "offline_access" || allowOffline);
}

/** The union of scope lists, in first-seen order, without empty entries. */
export function unionScopes(...lists: (string[] | undefined)[]): string[] {
  const out = new Set<string>();
  for (const list of lists) for (const s of list ?? []) if (s) out.add(s);
  return [...out];
}

/** Splits an RFC 6749 §3.3 scope string into its scopes. */
export function parseScope(scope: string | undefined): string[] {
  return (scope ?? "").split(/\s+/).filter((s) => s.length > 0);
}
