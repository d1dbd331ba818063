/**
 * The narrowest Deno permissions a config needs to run: which hosts, programs, paths and
 * environment variables dagent will touch for it. A pure function of the loaded config, its
 * raw text and a few facts about the machine (platform, environment, directories), so that
 * `dagent permissions` and the tests compute the same sets.
 *
 * Deno permission flags: https://docs.deno.com/runtime/fundamentals/security/
 * @module
 */
import { isAbsolute, join, resolve } from "node:path";
import type { Config, ToolsetConfig } from "./types.ts";
import { interpolate } from "./interpolate.ts";
import { parseYaml } from "./load.ts";
import { resolveModel } from "../models/resolve.ts";
import { browserCommand } from "../oauth/browser.ts";

/** The permission sets of a config, each sorted and without duplicates. */
export interface PermissionSet {
  /** `--allow-net` entries: `host:port`, or a bare host for any port; `*` means unrestricted. */
  net: string[];
  /** `--allow-run` programs. */
  run: string[];
  /** `--allow-read` paths (absolute). */
  read: string[];
  /** `--allow-write` paths (absolute). */
  write: string[];
  /** `--allow-env` variable names. */
  env: string[];
  /**
   * Remote MCP server URLs whose authorization servers are only known after discovery
   * (RFC 9728 protected resource metadata); `--allow-net` must be widened for them, or run
   * `dagent permissions --discover`.
   */
  discoveredAtRunTime: string[];
  /** Why an entry is there or what could not be narrowed, one line each. */
  notes: string[];
}

/** What discovery found about one remote server (see `dagent permissions --discover`). */
export type DiscoveredServer =
  /** The server answered without asking for authorization: no OAuth traffic expected. */
  | { auth: false }
  /** The server asked for authorization; `hosts` are every `host:port` the flow reaches. */
  | { auth: true; hosts: string[] };

/** Inputs of {@link computePermissions}. */
export interface PermissionInputs {
  /** The loaded (interpolated, valid) config. */
  config: Config;
  /** The variables the config's text references (`${NAME}`): {@link referencedEnvNames}. */
  referencedEnv: readonly string[];
  /** Absolute path of the config file. */
  configPath: string;
  /** Only this agent and the sub-agents it can reach (default: every agent of the config). */
  agent?: string;
  /** `Deno.build.os` value. */
  platform: string;
  /** The environment (BROWSER, DISPLAY, DAGENT_KEYCHAIN, HOME decide some entries). */
  env: Record<string, string | undefined>;
  /** Working directory the run will have (relative paths resolve against it). */
  cwd: string;
  /** The token store directory (`configDir()`); undefined when it cannot be determined. */
  configDir?: string;
  /** The audit data directory (`auditDataDir()`: key file, default log dir). */
  auditDataDir?: string;
  /**
   * dagent's own program directory (where main.ts is): the dispatcher imports each
   * command's modules on demand, and under `deno run` such imports need read access to the
   * program's files. Undefined: not needed (a compiled binary embeds them).
   */
  programDir?: string;
  /** Discovery results by remote server URL, from `--discover`. */
  discovered?: Record<string, DiscoveredServer>;
  /**
   * The recording a run will answer model requests from (`--replay FILE`): read access to
   * it, and no model provider host or key variable, since a replayed run never calls one.
   */
  replayPath?: string;
  /** The file a run will record model exchanges to (`--record FILE`): write access to it. */
  recordPath?: string;
  /**
   * Whether a helper program (keychain tool, browser opener) is installed; one that is not
   * is left out of `run` since dagent falls back without it. Default: every program is.
   */
  available?: (program: string) => boolean;
}

/**
 * Variables read whatever the config: DAGENT_DEBUG (lib/cli/main.ts). (OSTYPE, which the
 * `which` package reads when the MCP SDK's stdio client loads it, is in the stdio lists:
 * that client is loaded only when a stdio toolset starts.)
 */
const ALWAYS_ENV = ["DAGENT_DEBUG"];
/** Variables `configDir()` (token store) reads. */
const CONFIG_DIR_ENV = ["DAGENT_HOME", "XDG_CONFIG_HOME", "HOME"];
/** Variables `auditDataDir()` reads. */
const DATA_DIR_ENV = ["DAGENT_HOME", "XDG_DATA_HOME", "HOME"];
/** Variables the browser opener reads (lib/oauth/browser.ts). */
const BROWSER_ENV = ["BROWSER", "DISPLAY", "WAYLAND_DISPLAY"];
/**
 * Read when a stdio server is spawned: what the MCP SDK hands the server when dagent may not
 * read the whole environment (HOME … USER), OSTYPE (the `which` package, loaded by the SDK's
 * cross-spawn) and NODE_V8_COVERAGE (Deno's node:child_process).
 */
const STDIO_ENV_POSIX = [
  "HOME",
  "LOGNAME",
  "PATH",
  "SHELL",
  "TERM",
  "USER",
  "OSTYPE",
  "NODE_V8_COVERAGE",
];
const STDIO_ENV_WINDOWS = [
  "APPDATA",
  "HOMEDRIVE",
  "HOMEPATH",
  "LOCALAPPDATA",
  "PATH",
  "PROCESSOR_ARCHITECTURE",
  "SYSTEMDRIVE",
  "SYSTEMROOT",
  "TEMP",
  "USERNAME",
  "USERPROFILE",
  "PROGRAMFILES",
  "PATHEXT",
  "COMSPEC",
  "OSTYPE",
  "NODE_V8_COVERAGE",
];

/**
 * Computes the permission set of `inputs.config`. Throws nothing for a valid config:
 * what cannot be narrowed (a `fetch` or `shell` toolset) is widened and explained in
 * `notes`.
 */
export function computePermissions(inputs: PermissionInputs): PermissionSet {
  const { config, platform, env, cwd } = inputs;
  const net = new Set<string>();
  const run = new Set<string>();
  const read = new Set<string>([inputs.configPath]);
  if (inputs.programDir) read.add(inputs.programDir);
  const write = new Set<string>();
  const envNames = new Set<string>([...ALWAYS_ENV, ...inputs.referencedEnv]);
  const discoveredAtRunTime = new Set<string>();
  const notes: string[] = [];
  const windows = platform === "windows";
  const available = inputs.available ?? (() => true);

  const agents = agentsInScope(config, inputs.agent);
  const toolsets = agents.flatMap((name) => config.agents[name].toolsets ?? []);

  if (inputs.replayPath) read.add(resolve(cwd, inputs.replayPath));
  if (inputs.recordPath) write.add(resolve(cwd, inputs.recordPath));

  // Model providers: the host of each model's base URL and its API key variable. A replayed
  // run answers every model request from the recording (lib/models/resolve.ts).
  for (const name of inputs.replayPath ? [] : agents) {
    try {
      const model = resolveModel(config.agents[name].model, config);
      net.add(hostPort(model.baseUrl));
      if (model.keyEnv) envNames.add(model.keyEnv);
    } catch {
      notes.push(`agent ${name}: its model could not be resolved; no host added for it`);
    }
  }
  if (inputs.replayPath) {
    notes.push("--replay: model requests are answered from the recording; no provider is called");
  }

  let signIn = false; // some remote server may need an interactive (browser) sign-in
  let anyRemote = false;
  const callbackPorts = new Set<number>();
  for (const toolset of toolsets) {
    if (toolset.type === "mcp" && toolset.command) {
      run.add(toolset.command);
      for (const name of windows ? STDIO_ENV_WINDOWS : STDIO_ENV_POSIX) envNames.add(name);
    }
    if (toolset.type === "mcp" && toolset.remote) {
      anyRemote = true;
      const remote = toolset.remote;
      net.add(hostPort(remote.url));
      const found = inputs.discovered?.[remote.url];
      if (found && !found.auth) continue;
      if (found?.auth) {
        for (const host of found.hosts) net.add(host);
      } else {
        // MCP 2025-03-26: the server's own origin is the authorization server (already
        // allowed); MCP 2025-06-18+: RFC 9728 metadata names it, known only at run time.
        discoveredAtRunTime.add(remote.url);
      }
      const oauth = remote.oauth;
      if (oauth?.privateKeyFile) read.add(resolve(cwd, oauth.privateKeyFile));
      if (oauth?.privateKeyEnv) envNames.add(oauth.privateKeyEnv);
      if (oauth?.grantType === "client_credentials") continue;
      signIn = true;
      callbackPorts.add(oauth?.callbackPort ?? 0);
    }
    if (toolset.type === "filesystem") {
      const roots = toolset.allowed_directories?.length ? toolset.allowed_directories : ["."];
      for (const root of roots) {
        const path = resolve(cwd, expandHome(root, env));
        read.add(path);
        write.add(path);
      }
    }
    if (toolset.type === "fetch") {
      net.add("*");
      notes.push(
        `${label(toolset)} may fetch any URL: --allow-net cannot be narrowed`,
      );
    }
    if (toolset.type === "shell") {
      const shell = windows ? "cmd" : "sh";
      run.add(shell);
      notes.push(
        `${label(toolset)} runs commands through ${shell}: ` +
          "what it starts is not limited by --allow-run",
      );
    }
  }

  if (anyRemote) {
    // The token store (file store and its lock files) under configDir().
    for (const name of CONFIG_DIR_ENV) envNames.add(name);
    envNames.add("DAGENT_KEYCHAIN");
    if (windows) envNames.add("APPDATA").add("USERPROFILE");
    if (inputs.configDir) {
      read.add(inputs.configDir);
      write.add(inputs.configDir);
    } else {
      notes.push("the token store directory is unknown (HOME is not set): set DAGENT_HOME");
    }
    const keychain = env.DAGENT_KEYCHAIN?.toLowerCase() === "off"
      ? undefined
      : platform === "linux"
      ? "secret-tool"
      : platform === "darwin"
      ? "security"
      : undefined;
    if (keychain && available(keychain)) run.add(keychain);
    else if (keychain) notes.push(`${keychain} is not installed: tokens go to the file store`);
  }
  if (signIn) {
    // The loopback callback server (RFC 8252 §7.3) listens on 127.0.0.1.
    if (callbackPorts.has(0)) net.add("127.0.0.1");
    else for (const port of callbackPorts) net.add(`127.0.0.1:${port}`);
    for (const name of BROWSER_ENV) envNames.add(name);
    const opener = browserCommand("https://example.invalid/", env, platform);
    if ("cmd" in opener && available(opener.cmd)) run.add(opener.cmd);
    else if ("cmd" in opener) {
      notes.push(`${opener.cmd} is not installed: sign-in prints the address to open`);
    } else notes.push(`no browser opener: ${opener.reason}; sign-in prints the address instead`);
  }

  const audit = config.audit;
  if (audit && audit.enabled !== false) {
    for (const name of DATA_DIR_ENV) envNames.add(name);
    if (windows) envNames.add("LOCALAPPDATA").add("USERPROFILE");
    if (inputs.auditDataDir) {
      read.add(inputs.auditDataDir);
      write.add(inputs.auditDataDir);
    } else {
      notes.push("the audit data directory is unknown (HOME is not set): set DAGENT_HOME");
    }
    if (audit.path) {
      const path = resolve(cwd, expandHome(auditDir(audit.path), env));
      read.add(path);
      write.add(path);
    }
  }

  if (discoveredAtRunTime.size > 0 && !net.has("*")) {
    notes.push(
      "authorization servers of " + [...discoveredAtRunTime].join(", ") +
        " are discovered at run time: widen --allow-net for them, or run " +
        "'dagent permissions --discover CONFIG' to look them up now",
    );
  }

  return {
    net: collapseHosts(net),
    run: [...run].sort(),
    read: collapsePaths(read),
    write: collapsePaths(write),
    env: [...envNames].sort(),
    discoveredAtRunTime: [...discoveredAtRunTime].sort(),
    notes,
  };
}

/**
 * The agents a run of `agent` may reach: itself and, transitively, its `sub_agents`, in
 * breadth-first order. Without `agent`: every agent of the config.
 */
export function agentsInScope(config: Config, agent?: string): string[] {
  if (agent === undefined) return Object.keys(config.agents);
  const seen: string[] = [];
  const queue = [agent];
  while (queue.length > 0) {
    const name = queue.shift()!;
    if (seen.includes(name) || !Object.hasOwn(config.agents, name)) continue;
    seen.push(name);
    queue.push(...(config.agents[name].sub_agents ?? []));
  }
  return seen;
}

/**
 * Names of the environment variables a config's text references (`${NAME}`,
 * `${env.NAME}`, `${NAME:-default}`), found with the loader's own parser and grammar so
 * comments and `$${` escapes do not count. `${callbackPort}` in `callbackRedirectURL` is
 * filled in by dagent, not the environment, and is left out.
 */
export async function referencedEnvNames(rawText: string): Promise<string[]> {
  const names = new Set<string>();
  const source = await parseYaml(rawText, "config");
  interpolate(source.data, {
    lookup: (name) => {
      names.add(name);
      return "";
    },
    preserve: (path, name) =>
      name === "callbackPort" && path[path.length - 1] === "callbackRedirectURL",
  });
  return [...names].sort();
}

/** `host:port` of an http(s) URL, the port made explicit (443 / 80 by default). */
export function hostPort(url: string): string {
  const parsed = new URL(url);
  const port = parsed.port || (parsed.protocol === "https:" ? "443" : "80");
  return `${parsed.hostname}:${port}`;
}

/** Options of {@link formatDenoFlags}. */
export interface FormatOptions {
  /** Quote arguments for a POSIX shell (default true). */
  quote?: boolean;
}

/**
 * The set as Deno flags: `--allow-net=…` and the others, each left out when empty; an
 * entry `*` gives the unrestricted flag. Commas inside a value are doubled (Deno's escape).
 */
export function formatDenoFlags(set: PermissionSet, opts: FormatOptions = {}): string[] {
  const quote = opts.quote ?? true;
  const flag = (name: string, values: string[]): string[] => {
    if (values.length === 0) return [];
    if (values.includes("*")) return [`--allow-${name}`];
    const arg = `--allow-${name}=${values.map((v) => v.replaceAll(",", ",,")).join(",")}`;
    return [quote ? shellQuote(arg) : arg];
  };
  return [
    ...flag("net", set.net),
    ...flag("run", set.run),
    ...flag("read", set.read),
    ...flag("write", set.write),
    ...flag("env", set.env),
  ];
}

/** Quotes `arg` for a POSIX shell when it holds anything but safe characters. */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`;
}

function label(toolset: ToolsetConfig): string {
  return toolset.name
    ? `the ${toolset.type} toolset "${toolset.name}"`
    : `the ${toolset.type} toolset`;
}

function expandHome(path: string, env: Record<string, string | undefined>): string {
  if ((path === "~" || path.startsWith("~/")) && env.HOME) return join(env.HOME, path.slice(1));
  return path;
}

/**
 * The directory an `audit.path` writes in: the path itself when it names a directory
 * (ends with `/`) or holds `{session}` in a directory part, else its parent, since the log
 * file is created (lib/audit/writer.ts).
 */
function auditDir(path: string): string {
  if (path.endsWith("/")) return path;
  const cut = path.indexOf("{session}");
  const fixed = cut >= 0 ? path.slice(0, cut) : path;
  const slash = fixed.lastIndexOf("/");
  return slash < 0 ? "." : slash === 0 ? "/" : fixed.slice(0, slash);
}

/** Sorted hosts; `host:port` entries are dropped when the bare `host` (any port) is there. */
function collapseHosts(hosts: Set<string>): string[] {
  if (hosts.has("*")) return ["*"];
  return [...hosts].filter((entry) => {
    const colon = entry.lastIndexOf(":");
    return colon < 0 || !hosts.has(entry.slice(0, colon));
  }).sort();
}

/** Sorted absolute paths; a path inside another listed path is dropped. */
function collapsePaths(paths: Set<string>): string[] {
  const all = [...paths].map((path) => isAbsolute(path) ? path : resolve(path)).sort();
  return all.filter((path) =>
    !all.some((other) =>
      other !== path && (path.startsWith(other.endsWith("/") ? other : other + "/"))
    )
  );
}
