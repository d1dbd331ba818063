/**
 * MCP toolsets: one SDK `Client` per configured server (stdio or remote), behind dagent's
 * {@link Toolset} interface — start with a timeout, list and call tools through the
 * config's allow-list, answer server-initiated elicitations, stop without orphans — and
 * {@link startToolsets}, which starts many at once so one slow or broken server delays or
 * stops none of the others.
 * @module
 */
// @ts-types="@modelcontextprotocol/sdk/shared/transport"
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
// @ts-types="@modelcontextprotocol/sdk/types"
import type { ElicitResult } from "@modelcontextprotocol/sdk/types.js";
import {
  Client,
  ElicitRequestSchema,
  ErrorCode,
  McpError,
  ToolListChangedNotificationSchema,
} from "./sdk_bundle.generated.js";
import { DagentError, ExitCode, permissionError } from "../errors.ts";
import type { ToolsetConfig } from "../config/types.ts";
import type { FormRequest, FormResult } from "../runtime/elicitation.ts";
import type { CallOptions, ToolInfo, ToolResult, Toolset } from "./types.ts";
import { ToolAllowList } from "./filter.ts";
import { createRemoteTransport, type FetchLike } from "./remote.ts";
import type { StdioConnection } from "./stdio.ts";

/** Options of {@link createToolset}. */
export interface ToolsetOptions {
  /** Name used in messages and in `dagent mcp call` (see {@link toolsetName}). */
  name: string;
  /** Fetch for remote servers (the OAuth-aware fetch); default the global fetch. */
  fetch?: FetchLike;
  /** Deadline for connecting and the `initialize` exchange; default 30 s. */
  connectTimeoutMs?: number;
  /** Deadline for each request (list, call); default 60 s. */
  requestTimeoutMs?: number;
  /** Answers the server's `elicitation/create` requests; without it they are declined. */
  onElicitation?: (request: FormRequest) => Promise<FormResult>;
  /** Marks the toolset as needing a sign-in first; default: the config has `remote.oauth`. */
  requiresAuth?: boolean;
  /** Directory a relative stdio `cwd` is resolved against (the config file's directory). */
  cwd?: string;
}

/** Default deadline for connecting to a server. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 30_000;
/** Default deadline for one request to a server. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;

const CLIENT_INFO = { name: "dagent", version: "0.1.0" };

/**
 * Creates the toolset for an `mcp` toolset config (a `command`, or a `remote.url`).
 * Nothing is spawned or contacted until `start()`. Throws a usage DagentError for
 * configs that are not MCP servers.
 */
export function createToolset(config: ToolsetConfig, options: ToolsetOptions): Toolset {
  if (config.type !== "mcp" || (!config.command && !config.remote?.url)) {
    throw new DagentError(
      `toolset "${options.name}" is not an MCP server (type ${config.type})`,
      {
        exitCode: ExitCode.Usage,
        code: "mcp.not_mcp",
        hint: "an MCP toolset has type: mcp and either command or remote.url",
      },
    );
  }
  return new McpToolset(config, options);
}

/**
 * The name of the toolset at `index`: its `name`, else derived — the remote host, or for
 * a command the package or script it runs (`npx -y @scope/server-x` → `server-x`), else
 * the command's base name.
 */
export function toolsetName(config: ToolsetConfig, index: number): string {
  if (config.name) return config.name;
  if (config.remote?.url) {
    try {
      return new URL(config.remote.url).hostname;
    } catch { /* fall through */ }
  }
  if (config.command) return commandName(config.command, config.args ?? []);
  return `${config.type}-${index + 1}`;
}

/** Names for a list of toolsets, unique: later duplicates get `-2`, `-3`, … */
export function toolsetNames(configs: readonly ToolsetConfig[]): string[] {
  const seen = new Map<string, number>();
  return configs.map((config, index) => {
    const name = toolsetName(config, index);
    const count = (seen.get(name) ?? 0) + 1;
    seen.set(name, count);
    return count === 1 ? name : `${name}-${count}`;
  });
}

/** The outcome of starting one toolset. */
export type StartResult =
  | { toolset: Toolset; ok: true }
  | { toolset: Toolset; ok: false; error: DagentError };

/**
 * Starts every toolset concurrently; each gets `timeoutMs` (default 30 s). One failing or
 * hanging never stops the others. Results are in input order; a toolset that failed has
 * been stopped again (no child process left behind).
 */
export function startToolsets(
  toolsets: readonly Toolset[],
  options: { timeoutMs?: number } = {},
): Promise<StartResult[]> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  return Promise.all(toolsets.map(async (toolset): Promise<StartResult> => {
    try {
      await withDeadline(toolset.start(), timeoutMs, () => startTimeout(toolset.name, timeoutMs));
      return { toolset, ok: true };
    } catch (error) {
      await toolset.stop().catch(() => {});
      return { toolset, ok: false, error: asDagentError(toolset.name, error) };
    }
  }));
}

interface Connection {
  transport: Transport;
  /** Turns a connection failure into the best error we can tell the user. */
  explain(error: unknown): DagentError;
  /** Resolves once the server is really gone (stdio: the child exited). */
  afterClose(): Promise<void>;
}

class McpToolset implements Toolset {
  readonly name: string;
  readonly requiresAuth: boolean;
  readonly #config: ToolsetConfig;
  readonly #options: ToolsetOptions;
  readonly #allow: ToolAllowList;
  readonly #connectTimeoutMs: number;
  readonly #requestTimeoutMs: number;
  #starting?: Promise<void>;
  #client?: Client;
  #connection?: Connection;
  #tools?: Promise<ToolInfo[]>;
  /** Counts {@link stop} calls, so a start that was stopped while it waited gives up. */
  #stops = 0;

  constructor(config: ToolsetConfig, options: ToolsetOptions) {
    this.name = options.name;
    this.requiresAuth = options.requiresAuth ?? Boolean(config.remote?.oauth);
    this.#config = config;
    this.#options = options;
    this.#allow = new ToolAllowList(config.tools);
    this.#connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.#requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  }

  start(): Promise<void> {
    // Single flight; a failed start may be retried.
    this.#starting ??= this.#connect().catch((error) => {
      this.#starting = undefined;
      throw error;
    });
    return this.#starting;
  }

  async listTools(): Promise<ToolInfo[]> {
    const client = await this.#ready();
    this.#tools ??= this.#fetchTools(client).catch((error) => {
      this.#tools = undefined;
      throw error;
    });
    return await this.#tools;
  }

  async callTool(
    name: string,
    args: Record<string, unknown>,
    options: CallOptions = {},
  ): Promise<ToolResult> {
    this.#allow.check(this.name, name);
    const client = await this.#ready();
    try {
      const result = await client.callTool({ name, arguments: args }, undefined, {
        signal: options.signal,
        timeout: this.#requestTimeoutMs,
      });
      return {
        content: (result.content ?? []) as ToolResult["content"],
        isError: result.isError === true ? true : undefined,
        structuredContent: result.structuredContent as ToolResult["structuredContent"],
      };
    } catch (error) {
      throw this.#requestError(`tool "${name}"`, error);
    }
  }

  async stop(): Promise<void> {
    const client = this.#client;
    const connection = this.#connection;
    this.#stops++;
    this.#client = undefined;
    this.#connection = undefined;
    this.#starting = undefined;
    this.#tools = undefined;
    if (client) await client.close().catch(() => {});
    else await connection?.transport.close().catch(() => {});
    await connection?.afterClose();
  }

  async #ready(): Promise<Client> {
    await this.start();
    if (!this.#client) throw stoppedError(this.name);
    return this.#client;
  }

  async #connect(): Promise<void> {
    const stops = this.#stops;
    const connection = await this.#openConnection();
    if (stops !== this.#stops) {
      await connection.transport.close().catch(() => {});
      throw stoppedError(this.name);
    }
    this.#connection = connection;
    const client = new Client(CLIENT_INFO, { capabilities: { elicitation: { form: {} } } });
    // MCP "Elicitation": form requests go to the handler; without one, decline.
    client.setRequestHandler(ElicitRequestSchema, async (request): Promise<ElicitResult> => {
      const params = request.params as { message: string; requestedSchema?: unknown };
      if (!this.#options.onElicitation || !("requestedSchema" in params)) {
        return { action: "decline" };
      }
      const answer = await this.#options.onElicitation({
        server: this.name,
        message: params.message,
        requestedSchema: params.requestedSchema as Record<string, unknown>,
      });
      return answer.action === "accept"
        ? { action: "accept", content: answer.content ?? {} }
        : { action: answer.action };
    });
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      this.#tools = undefined;
      return Promise.resolve();
    });
    try {
      await withDeadline(
        client.connect(connection.transport, { timeout: this.#connectTimeoutMs }),
        this.#connectTimeoutMs,
        () => startTimeout(this.name, this.#connectTimeoutMs),
      );
    } catch (error) {
      await client.close().catch(() => {});
      await connection.afterClose();
      if (this.#connection === connection) this.#connection = undefined;
      throw error instanceof DagentError && error.code === "mcp.start_timeout"
        ? error
        : connection.explain(error);
    }
    this.#client = client;
  }

  async #openConnection(): Promise<Connection> {
    if (this.#config.remote?.url) {
      const remote = createRemoteTransport(this.#config.remote, {
        name: this.name,
        fetch: this.#options.fetch,
        requestTimeoutMs: this.#requestTimeoutMs,
      });
      return {
        transport: remote.transport,
        explain: (error) => remote.lastFetchError() ?? asDagentError(this.name, error),
        afterClose: () => Promise.resolve(),
      };
    }
    const { createStdioTransport } = await loadStdioModule();
    const stdio = createStdioTransport(this.#config, {
      name: this.name,
      baseDir: this.#options.cwd,
    });
    return {
      transport: stdio.transport,
      explain: (error) => stdioError(this.name, stdio, error),
      afterClose: () => waitExit(stdio),
    };
  }

  async #fetchTools(client: Client): Promise<ToolInfo[]> {
    const tools: ToolInfo[] = [];
    let cursor: string | undefined;
    // Follow pagination (MCP "Pagination"), bounded against a server that never ends.
    for (let page = 0; page < 100; page++) {
      let result;
      try {
        result = await client.listTools(cursor ? { cursor } : undefined, {
          timeout: this.#requestTimeoutMs,
        });
      } catch (error) {
        throw this.#requestError("listing tools", error);
      }
      for (const tool of result.tools) {
        tools.push({
          name: tool.name,
          description: tool.description,
          inputSchema: tool.inputSchema as Record<string, unknown>,
          annotations: tool.annotations as Record<string, unknown> | undefined,
        });
      }
      cursor = result.nextCursor;
      if (!cursor) break;
    }
    return this.#allow.filter(tools);
  }

  #requestError(what: string, error: unknown): DagentError {
    if (error instanceof DagentError) return error;
    if (error instanceof McpError && error.code === ErrorCode.RequestTimeout) {
      return new DagentError(
        `toolset "${this.name}": ${what} timed out after ${seconds(this.#requestTimeoutMs)}`,
        {
          code: "mcp.timeout",
          hint: "the server is slow or stuck; try again or raise the timeout",
        },
      );
    }
    if (error instanceof McpError && error.code === ErrorCode.ConnectionClosed) {
      return new DagentError(`toolset "${this.name}": the server closed the connection`, {
        code: "mcp.closed",
        hint: "the server stopped or crashed; restart dagent to reconnect",
        cause: error,
      });
    }
    if (error instanceof Error && error.name === "AbortError") {
      return new DagentError(`toolset "${this.name}": ${what} was cancelled`, {
        code: "mcp.cancelled",
        cause: error,
      });
    }
    return new DagentError(`toolset "${this.name}": ${what} failed: ${shortMessage(error)}`, {
      code: "mcp.request_failed",
      cause: error,
    });
  }
}

function commandName(command: string, args: readonly string[]): string {
  const base = basename(command);
  const runners = new Set([
    "npx",
    "uvx",
    "bunx",
    "pnpx",
    "node",
    "deno",
    "bun",
    "python",
    "python3",
    "uv",
    "pipx",
    "docker",
    "podman",
    "pnpm",
    "yarn",
    "npm",
  ]);
  if (!runners.has(base)) return stripExtension(base);
  const skip = new Set(["run", "x", "exec", "dlx", "tool", "-m", "--"]);
  const target = args.find((arg) => !arg.startsWith("-") && !skip.has(arg));
  if (!target) return base;
  const last = basename(target.replace(/(.)@[^/@]*$/, "$1"));
  return stripExtension(last) || base;
}

function basename(path: string): string {
  return path.split(/[\\/]/).filter(Boolean).pop() ?? path;
}

function stripExtension(name: string): string {
  return name.replace(/\.(ts|js|mjs|cjs|py|exe)$/i, "");
}

function stoppedError(name: string): DagentError {
  return new DagentError(`toolset "${name}" was stopped`, { code: "mcp.stopped" });
}

let stdioModule: Promise<typeof import("./stdio.ts")> | undefined;

/**
 * lib/mcp/stdio.ts, loaded when the first stdio toolset starts: it brings the MCP SDK's
 * stdio client from npm (Node built-ins, cross-spawn), which a config with remote servers
 * only never needs. The specifier is computed so that Deno does not load the module with
 * this one (it loads the graph of a literal `import("./x.ts")` up front); `deno compile`
 * is told to `--include` it.
 */
function loadStdioModule(): Promise<typeof import("./stdio.ts")> {
  return stdioModule ??= import(new URL("./stdio.ts", import.meta.url).href);
}

/** Waits for the child to exit after close; kills it if it lingers. */
async function waitExit(stdio: StdioConnection): Promise<void> {
  const pid = stdio.pid();
  const settled = await withDeadline(stdio.exited.then(() => true), 5_000, () => false)
    .catch((value) => value as boolean);
  if (!settled && pid !== null) {
    try {
      Deno.kill(pid, "SIGKILL");
    } catch { /* already gone */ }
    await withDeadline(stdio.exited, 2_000, () => undefined).catch(() => {});
  }
}

function stdioError(name: string, stdio: StdioConnection, error: unknown): DagentError {
  const permission = permissionError(`toolset "${name}"`, error);
  if (permission) return permission;
  const base = error instanceof DagentError ? error : undefined;
  const tail = stdio.stderrTail();
  if (base && !tail) return base;
  const reason = base
    ? base.message
    : error instanceof McpError && error.code === ErrorCode.ConnectionClosed
    ? `toolset "${name}": the server exited before it finished starting`
    : `toolset "${name}": could not start: ${shortMessage(error)}`;
  return new DagentError(tail ? `${reason}; its stderr ends with:\n${indent(tail)}` : reason, {
    code: base?.code ?? "mcp.start_failed",
    hint: base?.hint ?? "run the command by hand to see what it needs",
    cause: error,
  });
}

function asDagentError(name: string, error: unknown): DagentError {
  if (error instanceof DagentError) return error;
  const permission = permissionError(`toolset "${name}"`, error);
  if (permission) return permission;
  const status = (error as { code?: unknown } | undefined)?.code;
  if (status === 401 || status === 403) {
    return new DagentError(
      `toolset "${name}": the server refused access (HTTP ${status})`,
      {
        code: "mcp.unauthorized",
        hint: "add remote.oauth to the toolset (then run 'dagent auth login'), or pass a header",
        cause: error,
      },
    );
  }
  if (typeof status === "number" && status >= 300 && status < 600) {
    return new DagentError(`toolset "${name}": the server answered HTTP ${status}`, {
      code: "mcp.http_status",
      hint: "check remote.url (and transport_type: sse for servers on the older protocol)",
      cause: error,
    });
  }
  return new DagentError(`toolset "${name}": could not connect: ${shortMessage(error)}`, {
    code: "mcp.connect_failed",
    cause: error,
  });
}

function startTimeout(name: string, ms: number): DagentError {
  return new DagentError(`toolset "${name}" did not start within ${seconds(ms)}`, {
    code: "mcp.start_timeout",
    hint: "check that the server is up and answering, or raise the timeout",
  });
}

/** Races `promise` against a timer that rejects with `onTimeout()`; the timer is cleared. */
function withDeadline<T, U>(promise: Promise<T>, ms: number, onTimeout: () => U): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

function shortMessage(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const line = text.split("\n")[0];
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}

function indent(text: string): string {
  return text.split("\n").map((line) => `  ${line}`).join("\n");
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}
