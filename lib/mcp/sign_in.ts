/**
 * OAuth for remote MCP toolsets: one {@link ServerAuth} per server URL (so toolsets sharing
 * a server share its token and its single refresh), the OAuth-aware fetch handed to each
 * transport, and the sign-in step that runs before connecting.
 * @module
 */
import type { ToolsetConfig } from "../config/types.ts";
import { DagentError } from "../errors.ts";
import type { OAuthContext, OAuthTarget } from "../oauth/context.ts";
import { createOAuthFetch, ServerAuth } from "../oauth/fetch.ts";
import type { FetchLike } from "../oauth/fetch.ts";
import { probeRequest } from "./auth_probe.ts";
import { networkError } from "./remote.ts";

/** The {@link OAuthTarget} of a remote toolset. */
export function oauthTarget(
  config: ToolsetConfig,
  name: string,
  configPath?: string,
): OAuthTarget | undefined {
  if (!config.remote) return undefined;
  return { serverUrl: config.remote.url, server: name, oauth: config.remote.oauth, configPath };
}

/**
 * Builds OAuth-aware fetches for remote toolsets, one {@link ServerAuth} per server URL so
 * toolsets sharing a server share its token and its single refresh.
 */
export class OAuthFetches {
  readonly context: OAuthContext;
  readonly #auths = new Map<string, ServerAuth>();

  constructor(context: OAuthContext) {
    this.context = context;
  }

  /** The per-server token state for `target`. */
  auth(target: OAuthTarget): ServerAuth {
    let auth = this.#auths.get(target.serverUrl);
    if (!auth) {
      auth = new ServerAuth(this.context, target);
      this.#auths.set(target.serverUrl, auth);
    }
    return auth;
  }

  /** The fetch for a remote toolset (undefined for stdio toolsets). */
  fetchFor(config: ToolsetConfig, name: string, configPath?: string): FetchLike | undefined {
    const target = oauthTarget(config, name, configPath);
    return target ? createOAuthFetch(this.auth(target)) : undefined;
  }
}

/** A remote toolset to prepare: its name and config. */
export interface NamedToolset {
  name: string;
  config: ToolsetConfig;
}

/**
 * Signs in, one server at a time, to every remote toolset that has no usable token and
 * whose server asks for one — before connecting, so no prompt races another and no
 * connect deadline runs while a person signs in. Returns the failures by toolset name;
 * the caller reports them and goes on with the other toolsets.
 */
export async function signInWhereNeeded(
  fetches: OAuthFetches,
  toolsets: NamedToolset[],
  options: { probeTimeoutMs: number; configPath?: string },
): Promise<Map<string, DagentError>> {
  const failures = new Map<string, DagentError>();
  for (const { name, config } of toolsets) {
    const target = oauthTarget(config, name, options.configPath);
    if (!target || !config.remote) continue;
    const remote = config.remote;
    try {
      await fetches.auth(target).ensureSignedIn(() =>
        fetch(probeRequest(remote, options.probeTimeoutMs))
      );
    } catch (error) {
      failures.set(
        name,
        error instanceof DagentError ? error : networkError(name, new URL(remote.url), error),
      );
    }
  }
  return failures;
}
