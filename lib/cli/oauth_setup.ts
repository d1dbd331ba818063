/**
 * The OAuth wiring of CLI commands: one {@link OAuthContext} per process (token store,
 * prompt handler, browser settings, lock dir) and the OAuth-aware fetch of each remote
 * toolset built from it.
 * @module
 */
import type { FlagSpecs } from "./args.ts";
import { createOAuthContext } from "../oauth/context.ts";
import type { OAuthContext } from "../oauth/context.ts";
import { openTokenStore } from "../oauth/default_store.ts";
import { configDir } from "../oauth/paths.ts";
import { MemoryTokenStore } from "../oauth/store.ts";
import { NonInteractiveElicitation } from "../runtime/elicitation.ts";
import type { ElicitationHandler } from "../runtime/elicitation.ts";
import { TerminalElicitation } from "./terminal_prompt.ts";

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
