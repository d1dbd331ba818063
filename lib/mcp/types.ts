/**
 * The toolset interface every kind of toolset (MCP stdio, MCP remote, built-in) implements.
 * @module
 */

/** A tool as a toolset offers it to a model. */
export interface ToolInfo {
  name: string;
  description?: string;
  /** JSON Schema of the tool's arguments. */
  inputSchema: Record<string, unknown>;
  /** MCP tool annotations (`readOnlyHint`, `destructiveHint`, …) when the server gave any. */
  annotations?: Record<string, unknown>;
}

/** One piece of a tool result, as MCP returns it. */
export type ToolContent =
  | { type: "text"; text: string }
  | { type: "image"; data: string; mimeType: string }
  | { type: "audio"; data: string; mimeType: string }
  | { type: "resource"; resource: Record<string, unknown> }
  | { type: "resource_link"; uri: string; name?: string }
  | { type: string; [key: string]: unknown };

/** The result of a tool call. `isError` marks a tool-level failure the model should see. */
export interface ToolResult {
  content: ToolContent[];
  isError?: boolean;
  structuredContent?: Record<string, unknown>;
}

/** Options of a tool call. */
export interface CallOptions {
  signal?: AbortSignal;
}

/** A started (or startable) set of tools. */
export interface Toolset {
  /** Name used in messages and in `dagent mcp call`. */
  readonly name: string;
  /** True when the toolset needs a user's sign-in before it can start (OAuth). */
  readonly requiresAuth: boolean;
  /** Connects / spawns; idempotent. Rejects with a DagentError naming the toolset. */
  start(): Promise<void>;
  /** Tools after the config's `tools` allow-list. */
  listTools(): Promise<ToolInfo[]>;
  /** Calls a tool; a tool outside the allow-list is refused. */
  callTool(name: string, args: Record<string, unknown>, options?: CallOptions): Promise<ToolResult>;
  /** Disconnects / stops the child process; idempotent. */
  stop(): Promise<void>;
}
