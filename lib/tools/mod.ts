/**
 * Built-in toolsets (`type: think | todo | filesystem | shell | fetch`) behind the same
 * {@link Toolset} interface as MCP servers, so the agent loop treats them alike: listing
 * and calling go through the config's `tools` allow-list, argument mistakes become
 * `isError` results the model can correct, and `stop()` cancels calls still running.
 * @module
 */
import { isAbsolute, resolve } from "node:path";
import { DagentError, ExitCode } from "../errors.ts";
import type { ToolsetConfig, ToolsetType } from "../config/types.ts";
import { ToolAllowList } from "../mcp/filter.ts";
import type { CallOptions, ToolInfo, ToolResult, Toolset } from "../mcp/types.ts";
import { ArgumentError, type BuiltinTool, errorResult } from "./common.ts";
import { thinkTools } from "./think.ts";
import { todoTools } from "./todo.ts";
import { filesystemTools } from "./filesystem.ts";
import { DEFAULT_SHELL_TIMEOUT_MS, shellTools } from "./shell.ts";
import { DEFAULT_FETCH_TIMEOUT_MS, fetchTools } from "./fetch.ts";

/** The toolset types built into dagent. */
export const BUILTIN_TOOLSET_TYPES = ["think", "todo", "filesystem", "shell", "fetch"] as const;

/** One of {@link BUILTIN_TOOLSET_TYPES}. */
export type BuiltinToolsetType = typeof BUILTIN_TOOLSET_TYPES[number];

/** True when `type` names a built-in toolset (anything but `mcp`). */
export function isBuiltinToolsetType(type: ToolsetType | string): type is BuiltinToolsetType {
  return (BUILTIN_TOOLSET_TYPES as readonly string[]).includes(type);
}

/** Options of {@link createBuiltinToolset}. */
export interface BuiltinToolsetOptions {
  /** Name used in messages (see `toolsetName` in lib/mcp/toolsets.ts). */
  name: string;
  /** Working directory: the filesystem root by default, and where shell commands run. */
  cwd: string;
  /** Directory relative `allowed_directories` are resolved against (the config file's). */
  configDir?: string;
}

/** What a kind of built-in toolset provides: its tools and optional start/stop hooks. */
interface Parts {
  tools: BuiltinTool[];
  start?: () => Promise<void>;
}

/**
 * Creates the built-in toolset a config entry names. Nothing touches the disk or the
 * network until `start()` or a call. Throws a usage {@link DagentError} for `type: mcp`
 * or an unusable `timeout`.
 */
export function createBuiltinToolset(
  config: ToolsetConfig,
  options: BuiltinToolsetOptions,
): Toolset {
  const parts = partsFor(config, options);
  return new BuiltinToolset(options.name, parts, new ToolAllowList(config.tools));
}

function partsFor(config: ToolsetConfig, options: BuiltinToolsetOptions): Parts {
  switch (config.type) {
    case "think":
      return { tools: thinkTools() };
    case "todo":
      return { tools: todoTools() };
    case "filesystem": {
      const base = options.configDir ?? options.cwd;
      const roots = config.allowed_directories?.length
        ? config.allowed_directories.map((dir) => isAbsolute(dir) ? dir : resolve(base, dir))
        : [options.cwd];
      const fs = filesystemTools({ roots });
      return {
        tools: fs.tools,
        start: () =>
          fs.ready().then(() => {}, (error) => {
            throw new DagentError(
              `toolset "${options.name}": ${error instanceof Error ? error.message : error}`,
              {
                code: "tools.filesystem_root",
                hint: "create the directory, or fix allowed_directories in the config",
                cause: error,
              },
            );
          }),
      };
    }
    case "shell":
      return {
        tools: shellTools({
          cwd: options.cwd,
          timeoutMs: timeoutMs(config, options.name, DEFAULT_SHELL_TIMEOUT_MS),
        }),
      };
    case "fetch":
      return {
        tools: fetchTools({ timeoutMs: timeoutMs(config, options.name, DEFAULT_FETCH_TIMEOUT_MS) }),
      };
    default:
      throw new DagentError(
        `toolset "${options.name}" is not a built-in toolset (type ${config.type})`,
        {
          exitCode: ExitCode.Usage,
          code: "tools.not_builtin",
          hint: `built-in toolset types: ${BUILTIN_TOOLSET_TYPES.join(", ")}`,
        },
      );
  }
}

function timeoutMs(config: ToolsetConfig, name: string, fallback: number): number {
  if (config.timeout === undefined) return fallback;
  if (typeof config.timeout !== "number" || !(config.timeout > 0)) {
    throw new DagentError(`toolset "${name}": timeout must be a positive number of seconds`, {
      exitCode: ExitCode.Usage,
      code: "tools.bad_timeout",
    });
  }
  return Math.round(config.timeout * 1000);
}

/** A set of built-in tools behind the {@link Toolset} interface. */
class BuiltinToolset implements Toolset {
  readonly name: string;
  readonly requiresAuth = false;
  readonly #tools: Map<string, BuiltinTool>;
  readonly #allow: ToolAllowList;
  readonly #startHook?: () => Promise<void>;
  #started?: Promise<void>;
  #abort = new AbortController();

  constructor(name: string, parts: Parts, allow: ToolAllowList) {
    this.name = name;
    this.#tools = new Map(parts.tools.map((tool) => [tool.info.name, tool]));
    this.#allow = allow;
    this.#startHook = parts.start;
  }

  start(): Promise<void> {
    if (this.#abort.signal.aborted) this.#abort = new AbortController();
    this.#started ??= (this.#startHook?.() ?? Promise.resolve()).catch((error) => {
      this.#started = undefined;
      throw error;
    });
    return this.#started;
  }

  listTools(): Promise<ToolInfo[]> {
    const infos = [...this.#tools.values()].map((tool) => structuredClone(tool.info));
    return Promise.resolve(this.#allow.filter(infos));
  }

  async callTool(
    name: string,
    args: Record<string, unknown>,
    options: CallOptions = {},
  ): Promise<ToolResult> {
    this.#allow.check(this.name, name);
    const tool = this.#tools.get(name);
    if (!tool) {
      return errorResult(
        `toolset "${this.name}" has no tool "${name}"; its tools: ${
          [...this.#tools.keys()].filter((tool) => this.#allow.allows(tool)).join(", ")
        }`,
      );
    }
    if (this.#abort.signal.aborted) this.#abort = new AbortController();
    const signal = options.signal
      ? AbortSignal.any([options.signal, this.#abort.signal])
      : this.#abort.signal;
    if (signal.aborted) return errorResult(`tool "${name}" was cancelled before it started`);
    const plainArgs = typeof args === "object" && args !== null && !Array.isArray(args) ? args : {};
    try {
      return await tool.run(plainArgs, signal);
    } catch (error) {
      if (error instanceof ArgumentError) return errorResult(`${name}: ${error.message}`);
      throw error;
    }
  }

  stop(): Promise<void> {
    // Cancels calls in flight (a running shell command is killed); the toolset can be
    // started again afterwards.
    this.#abort.abort(new DOMException("the toolset was stopped", "AbortError"));
    return Promise.resolve();
  }
}
