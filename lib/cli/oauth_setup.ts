/**
 * The OAuth wiring of CLI commands: one {@link OAuthContext} per process (token store,
 * prompt handler, browser settings, lock dir) and the OAuth-aware fetch of each remote
 * toolset built from it.
 * @module
 */
import type { ToolsetConfig } from "../config/types.ts";
import type { FlagSpecs } from "./args.ts";
import { createOAuthContext } from "../oauth/context.ts";
import type { OAuthContext, OAuthTarget } from "../oauth/context.ts";
import { createOAuthFetch, ServerAuth } from "../oauth/fetch.ts";
import type { FetchLike } from "../oauth/fetch.ts";
import { openTokenStore } from "../oauth/default_store.ts";
import { configDir } from "../oauth/paths.ts";
import { MemoryTokenStore } from "../oauth/store.ts";
import { NonInteractiveElicitation } from "../runtime/elicitation.ts";
import type { ElicitationHandler } from "../runtime/elicitation.ts";
import { TerminalElicitation } from "./terminal_prompt.ts";
import { DagentError } from "../errors.ts";
import { probeRequest } from "../mcp/auth_probe.ts";
import { networkError } from "../mcp/remote.ts";

/** Flags every command that may sign in accepts. */
export const OAUTH_FLAGS: FlagSpecs = {
  yes: {
    type: "boolean",
    short: "y",
    description: "Accept sign-in prompts without asking (scripts, CI)",
  },
  "no-browser": {
    type: "boolean",
    description:
      "Open no browser: print the sign-in address and read the final address pasted back",
  },
  "no-store": {
    type: "boolean",
    description: "Keep tokens in memory only for this run (nothing written to disk)",
  },
};

/** Options of {@link createCliOAuthContext}, from the command's flags. */
export interface CliOAuthOptions {
  yes?: boolean;
  noBrowser?: boolean;
  noStore?: boolean;
  configPath?: string;
  /** Use this handler instead of choosing by TTY (the agent runtime passes its own). */
  elicitation?: ElicitationHandler;
}

/** Reads {@link OAUTH_FLAGS} values into {@link CliOAuthOptions}. */
export function oauthOptionsFromFlags(
  values: Record<string, unknown>,
  configPath?: string,
): CliOAuthOptions {
  return {
    yes: values.yes === true,
    noBrowser: values["no-browser"] === true,
    noStore: values["no-store"] === true,
    configPath,
  };
}

/**
 * The context for this process: the persistent store (keychain or 0600 file under
 * `DAGENT_HOME` / the user's config dir) with cross-process locks, the terminal prompt when
 * stdin is a TTY, else the non-interactive handler (`--yes` or a clear error).
 */
export async function createCliOAuthContext(options: CliOAuthOptions): Promise<OAuthContext> {
  const elicitation = options.elicitation ??
    (Deno.stdin.isTerminal()
      ? new TerminalElicitation({ yes: options.yes })
      : new NonInteractiveElicitation({
        yes: options.yes ?? false,
        configPath: options.configPath,
      }));
  const dir = configDir();
  const store = options.noStore ? new MemoryTokenStore() : await openTokenStore({
    dir,
    onWarning: (warning) => elicitation.notify(`warning: ${warning.message}`),
  });
  return createOAuthContext({
    store,
    elicitation,
    browser: { noBrowser: options.noBrowser },
    lockDir: options.noStore ? undefined : dir,
  });
}

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
