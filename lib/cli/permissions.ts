/**
 * `dagent permissions CONFIG`: prints the narrowest Deno permission flags a config needs
 * (see lib/config/permissions.ts), as a `deno run` line, bare flags (for `deno compile`) or
 * JSON. With `--discover` it asks each remote MCP server now who its authorization server
 * is (RFC 9728 protected resource metadata, RFC 8414 metadata) so those hosts are listed too.
 * @module
 */
import { fileURLToPath } from "node:url";
import { join, resolve } from "node:path";
import { DagentError, ExitCode, UsageError } from "../errors.ts";
import { nearest } from "../suggest.ts";
import { parseConfigText } from "../config/mod.ts";
import { readConfigFile } from "../config/load.ts";
import type { Config, RemoteConfig } from "../config/types.ts";
import {
  agentsInScope,
  computePermissions,
  type DiscoveredServer,
  formatDenoFlags,
  hostPort,
  type PermissionSet,
  referencedEnvNames,
  shellQuote,
} from "../config/permissions.ts";
import { configDir } from "../oauth/paths.ts";
import { auditDataDir } from "../audit/keys.ts";
import { discover } from "../oauth/discovery.ts";
import { bearerChallenge } from "../oauth/www_authenticate.ts";
import { probeRequest } from "../mcp/auth_probe.ts";
import { expectPositionals, type FlagSpecs, parseFlags, renderHelp } from "./args.ts";
import { readEnv } from "../env.ts";

const USAGE = "dagent permissions CONFIG [--agent A] [--format command|flags|json] [--discover]" +
  " [--replay FILE] [--record FILE]";

const FLAGS: FlagSpecs = {
  agent: {
    type: "string",
    placeholder: "NAME",
    description: "Only this agent and its sub-agents (default: every agent of CONFIG)",
  },
  format: {
    type: "string",
    placeholder: "F",
    description:
      "command (default): a deno run line with # notes; flags: the flags only; json: the sets",
  },
  discover: {
    type: "boolean",
    description: "Ask each remote server now for its authorization server and allow its hosts",
  },
  timeout: {
    type: "string",
    placeholder: "SECONDS",
    description: "With --discover: deadline of each request (default 10)",
  },
  replay: {
    type: "string",
    placeholder: "FILE",
    description: "For runs with --replay FILE: read FILE, and call no model provider",
  },
  record: {
    type: "string",
    placeholder: "FILE",
    description: "For runs with --record FILE: write FILE",
  },
};

const FORMATS = ["command", "flags", "json"];

/** Environment variables that decide directories, the opener and the keychain. */
const MACHINE_ENV = [
  "DAGENT_HOME",
  "XDG_CONFIG_HOME",
  "XDG_DATA_HOME",
  "HOME",
  "APPDATA",
  "LOCALAPPDATA",
  "USERPROFILE",
  "BROWSER",
  "DISPLAY",
  "WAYLAND_DISPLAY",
  "DAGENT_KEYCHAIN",
];

/** Runs `dagent permissions` with the arguments after the command name. */
export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags("permissions", args, FLAGS);
  if (values.help) {
    console.log(renderHelp(
      USAGE,
      "Print the narrowest Deno permissions CONFIG needs: --allow-net (remote MCP servers,\n" +
        "their authorization servers, model providers, the 127.0.0.1 callback), --allow-run\n" +
        "(stdio servers, browser opener, keychain tool), --allow-read/--allow-write (config,\n" +
        "token store, audit dir, filesystem roots) and --allow-env. Authorization servers that\n" +
        "are only known after discovery are named; --discover looks them up now. Build a\n" +
        'narrowed binary with: eval "deno compile $(dagent permissions CONFIG --format flags)' +
        ' -o dagent main.ts"',
      FLAGS,
    ));
    return ExitCode.Ok;
  }
  expectPositionals("permissions", positionals, 1, 1, USAGE);
  const format = (values.format as string | undefined) ?? "command";
  if (!FORMATS.includes(format)) {
    const guess = nearest(format, FORMATS);
    throw new UsageError(
      `permissions: unknown --format '${format}'`,
      guess
        ? `did you mean --format ${guess}? (command, flags or json)`
        : "use command, flags or json",
    );
  }
  const timeoutMs = parseTimeout(values.timeout as string | undefined);

  const file = positionals[0];
  const text = await readConfigFile(file);
  const referencedEnv = await referencedEnvNames(text);
  const { env: configEnv, unset } = configEnvironment(text, referencedEnv);
  const { config } = await parseConfigText(text, file, { env: configEnv });
  const agent = values.agent as string | undefined;
  if (agent !== undefined && !Object.hasOwn(config.agents, agent)) {
    const names = Object.keys(config.agents);
    const guess = nearest(agent, names);
    throw new UsageError(
      `permissions: unknown agent "${agent}"`,
      `${guess ? `did you mean "${guess}"? ` : ""}agents: ${names.join(", ")}`,
    );
  }

  const env = readEnv(MACHINE_ENV);
  const platform = Deno.build.os;
  const discovered = values.discover
    ? await discoverServers(remotesOf(config, agent), timeoutMs)
    : undefined;
  const set = computePermissions({
    config,
    referencedEnv,
    configPath: resolve(file),
    agent,
    platform,
    env,
    cwd: Deno.cwd(),
    // The dispatcher (lib/cli/main.ts) loads command modules on demand (start-up speed);
    // a compiled binary embeds them and needs no read access for that.
    programDir: Deno.build.standalone
      ? undefined
      : fileURLToPath(new URL("../..", import.meta.url)).replace(/[\\/]$/, ""),
    configDir: tryDir(() => configDir({ env, platform })),
    auditDataDir: tryDir(() => auditDataDir({ env, platform })),
    discovered: discovered?.results,
    replayPath: values.replay as string | undefined,
    recordPath: values.record as string | undefined,
    available: (program) => onPath(program, platform),
  });
  set.notes.push(...(discovered?.notes ?? []));
  if (unset.length > 0) set.notes.push(`not set now, needed at run time: ${unset.join(", ")}`);

  if (format === "json") {
    console.log(JSON.stringify(set, null, 2));
  } else if (format === "flags") {
    for (const note of set.notes) console.error(`note: ${note}`);
    console.log(formatDenoFlags(set).join(" "));
  } else {
    console.log(commandText(set, file, agent));
  }
  return ExitCode.Ok;
}

/** The `command` format: notes as shell comments, then the `deno run` line. */
function commandText(set: PermissionSet, file: string, agent: string | undefined): string {
  const lines = [
    `# Deno permissions for ${file}${agent ? ` (agent ${agent} and its sub-agents)` : ""}`,
    ...set.notes.map((note) => `# note: ${note}`),
    ["deno", "run", ...formatDenoFlags(set), shellQuote(mainPath())].join(" "),
  ];
  return lines.join("\n");
}

/** Path of dagent's main.ts when running from source, else just "main.ts". */
function mainPath(): string {
  const url = new URL("../../main.ts", import.meta.url);
  return url.protocol === "file:" ? fileURLToPath(url) : "main.ts";
}

/** The remote servers of the agents in scope, one entry per URL. */
function remotesOf(config: Config, agent: string | undefined): RemoteConfig[] {
  const byUrl = new Map<string, RemoteConfig>();
  for (const name of agentsInScope(config, agent)) {
    for (const toolset of config.agents[name].toolsets ?? []) {
      if (toolset.remote && !byUrl.has(toolset.remote.url)) {
        byUrl.set(toolset.remote.url, toolset.remote);
      }
    }
  }
  return [...byUrl.values()];
}

/**
 * Sends each server the unauthenticated first request of an MCP connection; on a 401/403
 * with a Bearer challenge runs discovery (RFC 9728 §3 then RFC 8414 §3) and collects the
 * hosts of every request made plus the token, registration and revocation endpoints. The
 * authorization endpoint is opened in the browser, not fetched by dagent, so it is left out.
 */
async function discoverServers(
  remotes: RemoteConfig[],
  timeoutMs: number,
): Promise<{ results: Record<string, DiscoveredServer>; notes: string[] }> {
  const results: Record<string, DiscoveredServer> = {};
  const notes: string[] = [];
  await Promise.all(remotes.map(async (remote) => {
    try {
      const response = await fetch(probeRequest(remote, timeoutMs));
      await response.body?.cancel();
      const challenge = bearerChallenge(response);
      if (response.status !== 401 && !(response.status === 403 && challenge)) {
        if (remote.oauth === undefined) {
          results[remote.url] = { auth: false };
          return;
        }
      }
      const hosts = new Set<string>();
      const found = await discover(remote.url, challenge, {
        timeoutMs,
        onRequest: (url) => hosts.add(hostPort(url)),
      });
      const as = found.authorizationServer;
      const endpoints = [as.token_endpoint, as.revocation_endpoint];
      if (!remote.oauth?.clientId) endpoints.push(as.registration_endpoint);
      for (const endpoint of endpoints) if (endpoint) hosts.add(hostPort(endpoint));
      results[remote.url] = { auth: true, hosts: [...hosts] };
    } catch (error) {
      const why = error instanceof DagentError
        ? error.message
        : error instanceof Error
        ? error.name === "TimeoutError" ? "timed out" : error.message
        : String(error);
      notes.push(`discovery for ${remote.url} failed (${why.slice(0, 200)})`);
    }
  }));
  return { results, notes };
}

function parseTimeout(value: string | undefined): number {
  if (value === undefined) return 10_000;
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new UsageError(
      `permissions: --timeout must be a positive number of seconds, not '${value}'`,
      "e.g. --timeout 20",
    );
  }
  return seconds * 1000;
}

/**
 * The environment the config is loaded with: the variables it references, read one by one;
 * one that is unset and used without a default gets a placeholder, so that a secret not
 * exported yet does not stop the permissions from being printed. `names`: the variables
 * the config references ({@link referencedEnvNames}).
 */
function configEnvironment(
  text: string,
  names: readonly string[],
): { env: Record<string, string | undefined>; unset: string[] } {
  const env = readEnv(names);
  const unset: string[] = [];
  for (const name of names) {
    if (env[name] !== undefined) continue;
    const bare = new RegExp(`\\$\\{(env\\.)?${name}\\}`);
    if (bare.test(text)) {
      env[name] = `unset-${name}`;
      unset.push(name);
    }
  }
  return { env, unset };
}

/**
 * True when `program` is an executable file: the path itself when it has a slash (e.g.
 * `BROWSER=/usr/bin/firefox`), else in a PATH directory. Always true on Windows.
 */
function onPath(program: string, platform: string): boolean {
  if (platform === "windows") return true;
  if (program.includes("/")) return executable(program);
  let path: string | undefined;
  try {
    path = Deno.env.get("PATH");
  } catch {
    return true; // cannot tell: keep it
  }
  return (path ?? "").split(":").some((dir) => dir !== "" && executable(join(dir, program)));
}

function executable(file: string): boolean {
  try {
    const info = Deno.statSync(file);
    return info.isFile && ((info.mode ?? 0o111) & 0o111) !== 0;
  } catch {
    return false; // not there, or not allowed to look
  }
}

function tryDir(dir: () => string): string | undefined {
  try {
    return resolve(dir());
  } catch {
    return undefined;
  }
}
