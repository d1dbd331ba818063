/**
 * `dagent auth login|status|logout CONFIG [TOOLSET]`: sign in to a config's remote MCP
 * servers ahead of time, see what is held (never the token itself), and forget it.
 * @module
 */
import { DagentError, ExitCode, UsageError } from "../errors.ts";
import { nearest } from "../suggest.ts";
import { loadConfig } from "../config/mod.ts";
import type { LoadedConfig } from "../config/mod.ts";
import type { ToolsetConfig } from "../config/types.ts";
import { toolsetNames } from "../mcp/toolsets.ts";
import type { StoredToken } from "../oauth/store.ts";
import { expectPositionals, type FlagSpecs, parseFlags, renderHelp } from "./args.ts";
import { createCliOAuthContext, OAUTH_FLAGS, oauthOptionsFromFlags } from "./oauth_setup.ts";
import { OAuthFetches, oauthTarget } from "../mcp/sign_in.ts";
import { probeRequest } from "../mcp/auth_probe.ts";
import { networkError } from "../mcp/remote.ts";
import { bearerChallenge } from "../oauth/www_authenticate.ts";

const USAGE = "dagent auth login|status|logout CONFIG [TOOLSET] [FLAGS]";

const LOGIN_FLAGS: FlagSpecs = {
  ...OAUTH_FLAGS,
  force: { type: "boolean", description: "Sign in again even when a valid token is held" },
  timeout: {
    type: "string",
    placeholder: "SECONDS",
    description: "Deadline for reaching each server (default 30)",
  },
};
const STATUS_FLAGS: FlagSpecs = {
  json: { type: "boolean", description: "Machine-readable output" },
};
const LOGOUT_FLAGS: FlagSpecs = {};

/** A remote toolset of the config. */
interface RemoteToolset {
  name: string;
  config: ToolsetConfig & { remote: NonNullable<ToolsetConfig["remote"]> };
}

/** Runs `dagent auth …` with the arguments after `auth`. */
export async function run(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case "login":
      return await login(rest);
    case "status":
      return await status(rest);
    case "logout":
      return await logout(rest);
    case undefined:
    case "help":
    case "--help":
    case "-h":
      console.log(
        `Usage: ${USAGE}\n\n` +
          "  login   Sign in now to the config's remote MCP servers (all, or TOOLSET)\n" +
          "  status  Per server: signed in / expired / refreshable / not signed in\n" +
          "  logout  Forget tokens and registrations (revoked at the server when it can)\n\n" +
          "Tokens are kept in the OS keychain when one answers, else in a 0600 file under\n" +
          "$DAGENT_HOME or $XDG_CONFIG_HOME/dagent. Run 'dagent auth login --help' for flags.\n",
      );
      return sub === undefined ? ExitCode.Usage : ExitCode.Ok;
    default: {
      const guess = nearest(sub, ["login", "status", "logout"]);
      throw new UsageError(
        `auth: unknown subcommand '${sub}'`,
        guess ? `did you mean 'dagent auth ${guess}'?` : `usage: ${USAGE}`,
      );
    }
  }
}

async function login(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags("auth login", args, LOGIN_FLAGS);
  if (values.help) {
    console.log(renderHelp(
      "dagent auth login CONFIG [TOOLSET] [--yes] [--no-browser] [--force]",
      "Sign in to every remote MCP server of CONFIG that asks for it (or only TOOLSET), and\n" +
        "keep the tokens for later runs. Servers that need no sign-in are reported as such.",
      LOGIN_FLAGS,
    ));
    return ExitCode.Ok;
  }
  expectPositionals("auth login", positionals, 1, 2, "dagent auth login CONFIG [TOOLSET]");
  const loaded = await loadConfig(positionals[0]);
  const selected = selectRemote(loaded, positionals[1]);
  const timeoutMs = timeoutOf(values.timeout);
  const fetches = new OAuthFetches(
    await createCliOAuthContext(oauthOptionsFromFlags(values, loaded.path)),
  );
  let failed = 0;
  for (const toolset of selected) {
    const auth = fetches.auth(oauthTarget(toolset.config, toolset.name, loaded.path)!);
    try {
      const held = values.force ? undefined : await auth.currentToken();
      if (held) {
        console.log(`${toolset.name}: already signed in (${describe(held)})`);
        continue;
      }
      const response = await fetch(probeRequest(toolset.config.remote, timeoutMs));
      await response.body?.cancel();
      if (response.status !== 401 && toolset.config.remote.oauth === undefined) {
        console.log(`${toolset.name}: no sign-in needed (the server answered ${response.status})`);
        continue;
      }
      const token = await auth.login(bearerChallenge(response));
      console.log(`${toolset.name}: signed in (${describe(token)})`);
    } catch (error) {
      failed++;
      reportFailure(toolset, error);
    }
  }
  return failed ? ExitCode.Failed : ExitCode.Ok;
}

async function status(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags("auth status", args, STATUS_FLAGS);
  if (values.help) {
    console.log(renderHelp(
      "dagent auth status CONFIG [TOOLSET] [--json]",
      "Show, per remote MCP server of CONFIG, whether a token is held: signed in, expired but\n" +
        "refreshable, expired, or not signed in; with issuer, scopes and expiry. Never the token.\n" +
        "(A decline lasts only for the session that declined, so it never shows here.)",
      STATUS_FLAGS,
    ));
    return ExitCode.Ok;
  }
  expectPositionals("auth status", positionals, 1, 2, "dagent auth status CONFIG [TOOLSET]");
  const loaded = await loadConfig(positionals[0]);
  const selected = selectRemote(loaded, positionals[1]);
  const context = await createCliOAuthContext({ configPath: loaded.path });
  const fetches = new OAuthFetches(context);
  const rows = [];
  for (const toolset of selected) {
    const auth = fetches.auth(oauthTarget(toolset.config, toolset.name, loaded.path)!);
    const token = await auth.storedToken();
    rows.push({
      toolset: toolset.name,
      url: toolset.config.remote.url,
      state: stateOf(token),
      issuer: token?.issuer,
      scopes: token?.scopes,
      expiresAt: token?.expiresAt ? new Date(token.expiresAt).toISOString() : undefined,
    });
  }
  if (values.json) {
    console.log(JSON.stringify({ store: context.store.location, servers: rows }, null, 2));
    return ExitCode.Ok;
  }
  for (const row of rows) {
    console.log(`${row.toolset}  ${row.state}`);
    console.log(`  server:  ${row.url}`);
    if (row.issuer) console.log(`  issuer:  ${row.issuer}`);
    if (row.scopes) console.log(`  scopes:  ${row.scopes.join(" ") || "(none)"}`);
    if (row.expiresAt) console.log(`  expires: ${row.expiresAt}`);
  }
  console.log(`tokens are kept in ${context.store.location}`);
  return ExitCode.Ok;
}

async function logout(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags("auth logout", args, LOGOUT_FLAGS);
  if (values.help) {
    console.log(renderHelp(
      "dagent auth logout CONFIG [TOOLSET]",
      "Forget the tokens (and dynamic client registrations) of CONFIG's remote MCP servers, or\n" +
        "only TOOLSET's; tokens are revoked at the server first when it has a revocation endpoint.",
      LOGOUT_FLAGS,
    ));
    return ExitCode.Ok;
  }
  expectPositionals("auth logout", positionals, 1, 2, "dagent auth logout CONFIG [TOOLSET]");
  const loaded = await loadConfig(positionals[0]);
  const selected = selectRemote(loaded, positionals[1]);
  const fetches = new OAuthFetches(await createCliOAuthContext({ configPath: loaded.path }));
  for (const toolset of selected) {
    const auth = fetches.auth(oauthTarget(toolset.config, toolset.name, loaded.path)!);
    const outcome = await auth.logout();
    if (!outcome.hadToken) {
      console.log(`${toolset.name}: not signed in`);
    } else if (outcome.revokeError) {
      console.log(
        `${toolset.name}: signed out here; revoking at the server failed (${outcome.revokeError})`,
      );
    } else {
      console.log(
        `${toolset.name}: signed out${outcome.revoked ? " (token revoked at the server)" : ""}`,
      );
    }
  }
  return ExitCode.Ok;
}

/** The remote MCP toolsets of every agent (deduplicated by server URL), or the one named. */
function selectRemote(loaded: LoadedConfig, only: string | undefined): RemoteToolset[] {
  const found = new Map<string, RemoteToolset>();
  for (const agent of Object.values(loaded.config.agents)) {
    const toolsets = agent.toolsets ?? [];
    const names = toolsetNames(toolsets);
    toolsets.forEach((config, index) => {
      if (config.type !== "mcp" || !config.remote) return;
      const key = `${names[index]} ${config.remote.url}`;
      if (!found.has(key)) {
        found.set(key, { name: names[index], config: config as RemoteToolset["config"] });
      }
    });
  }
  const all = [...found.values()];
  if (all.length === 0) {
    throw new UsageError(
      `${loaded.path} has no remote MCP toolsets, so there is nothing to sign in to`,
      "remote toolsets are `type: mcp` entries with a `remote.url`",
    );
  }
  if (only === undefined) return all;
  const named = all.filter((toolset) => toolset.name === only);
  if (named.length) return named;
  const names = all.map((toolset) => toolset.name);
  const guess = nearest(only, names);
  throw new UsageError(
    `no remote toolset named "${only}" in ${loaded.path}`,
    `${guess ? `did you mean "${guess}"? ` : ""}remote toolsets: ${names.join(", ")}`,
  );
}

function stateOf(token: StoredToken | undefined): string {
  if (!token) return "not signed in";
  if (token.expiresAt === undefined || token.expiresAt > Date.now()) return "signed in";
  return token.refreshToken ? "expired, refreshable" : "expired";
}

function describe(token: StoredToken): string {
  const parts = [`issuer ${token.issuer}`];
  if (token.scopes.length) parts.push(`scopes ${token.scopes.join(" ")}`);
  if (token.expiresAt) parts.push(`expires ${new Date(token.expiresAt).toISOString()}`);
  return parts.join(", ");
}

function reportFailure(toolset: RemoteToolset, error: unknown): void {
  const failure = error instanceof DagentError
    ? error
    : networkError(toolset.name, new URL(toolset.config.remote.url), error);
  console.error(`dagent: ${failure.message}`);
  if (failure.hint) console.error(`hint: ${failure.hint}`);
}

function timeoutOf(value: unknown): number {
  if (value === undefined) return 30_000;
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new UsageError(`--timeout must be a positive number of seconds, got '${value}'`);
  }
  return Math.round(seconds * 1000);
}
