/**
 * The stdio transport for local MCP servers (MCP 2025-06-18, "Transports" §stdio): spawns
 * the configured command with its args, env and cwd through the SDK's
 * `StdioClientTransport`, keeps the tail of its stderr for error messages, and knows when
 * the child has really exited, so stopping a toolset leaves no orphan behind.
 * @module
 */
import process from "node:process";
import { isAbsolute, resolve } from "node:path";
// @ts-types="@modelcontextprotocol/sdk/client/stdio"
import {
  getDefaultEnvironment,
  StdioClientTransport,
} from "@modelcontextprotocol/sdk/client/stdio.js";
import { DagentError, ExitCode, permissionError } from "../errors.ts";
import type { ToolsetConfig } from "../config/types.ts";

/** Options of {@link createStdioTransport}. */
export interface StdioOptions {
  /** Toolset name, for messages. */
  name: string;
  /**
   * Directory a relative `cwd` in the config is resolved against (the config file's
   * directory). The child runs in the config's `cwd`, else in the current directory.
   */
  baseDir?: string;
}

/** A stdio transport plus what the toolset needs to explain failures and to stop cleanly. */
export interface StdioConnection {
  transport: StdioClientTransport;
  /** The last lines the child wrote to stderr (at most ~2 KB), trimmed. */
  stderrTail(): string;
  /** The child's pid once spawned. */
  pid(): number | null;
  /** Resolves when the child has exited (immediately if it never started). */
  exited: Promise<void>;
}

const STDERR_KEEP = 2048;
// deno-lint-ignore no-control-regex
const ANSI_ESCAPE = /\x1b\[[0-9;]*[A-Za-z]/g;

/** Builds the transport for a `command` toolset; nothing is spawned until it is started. */
export function createStdioTransport(
  config: ToolsetConfig,
  options: StdioOptions,
): StdioConnection {
  if (!config.command) {
    throw new DagentError(`toolset "${options.name}": no command to run`, {
      exitCode: ExitCode.Usage,
      code: "mcp.no_command",
    });
  }
  const cwd = config.cwd === undefined
    ? undefined
    : isAbsolute(config.cwd)
    ? config.cwd
    : resolve(options.baseDir ?? Deno.cwd(), config.cwd);
  const transport = new StdioClientTransport({
    command: config.command,
    args: config.args ?? [],
    env: { ...inheritedEnv(), ...config.env },
    cwd,
    stderr: "pipe",
  });
  let tail = "";
  transport.stderr?.on("data", (chunk: Uint8Array | string) => {
    tail = (tail + (typeof chunk === "string" ? chunk : new TextDecoder().decode(chunk)))
      .slice(-STDERR_KEEP);
  });
  let pid: number | null = null;
  let markExited = () => {};
  const exited = new Promise<void>((resolve) => (markExited = resolve));
  // The SDK calls onclose when the child's stdio has closed and it has exited; Client
  // chains its own handler after ours when it connects.
  transport.onclose = () => markExited();
  const start = transport.start.bind(transport);
  transport.start = async () => {
    try {
      await start();
    } catch (error) {
      markExited();
      throw spawnError(options.name, config.command!, cwd, error);
    }
    pid = transport.pid;
  };
  return {
    transport,
    stderrTail: () =>
      tail.replace(ANSI_ESCAPE, "").trim().split("\n").map((line) => line.trimEnd())
        .filter(Boolean).slice(-8).join("\n"),
    pid: () => pid ?? transport.pid,
    exited,
  };
}

/** True while a process with `pid` exists (signal 0 probes without signalling). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * The environment handed to the child: the whole environment of dagent (as cagent does, so
 * `npx`, proxies and tool-specific variables work), or the SDK's safe subset when dagent
 * may not read it.
 */
function inheritedEnv(): Record<string, string> {
  try {
    return Deno.env.toObject();
  } catch {
    return getDefaultEnvironment();
  }
}

function spawnError(name: string, command: string, cwd: string | undefined, error: unknown) {
  const permission = permissionError(`toolset "${name}"`, error);
  if (permission) return permission;
  const code = (error as { code?: string } | undefined)?.code;
  const where = cwd ? ` in ${cwd}` : "";
  if (code === "ENOENT") {
    return new DagentError(`toolset "${name}": command not found: ${command}${where}`, {
      code: "mcp.command_not_found",
      hint: "install it or put its full path in the toolset's command (and check cwd)",
      cause: error,
    });
  }
  if (code === "EACCES") {
    return new DagentError(`toolset "${name}": not allowed to run ${command}`, {
      code: "mcp.command_not_executable",
      hint: "make the file executable (chmod +x) or run it through its interpreter",
      cause: error,
    });
  }
  const text = error instanceof Error ? error.message : String(error);
  return new DagentError(`toolset "${name}": could not start ${command}: ${text}`, {
    code: "mcp.spawn_failed",
    cause: error,
  });
}
