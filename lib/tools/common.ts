/**
 * What every built-in tool shares: the shape of a tool definition, result builders, and
 * argument readers that turn a model's malformed arguments into tool errors (which the
 * model sees and can correct) rather than exceptions.
 * @module
 */
import type { ToolInfo, ToolResult } from "../mcp/types.ts";

/** One built-in tool: what the model is shown, and what runs when it is called. */
export interface BuiltinTool {
  /** Name, description, input schema and annotations, as listed to the model. */
  info: ToolInfo;
  /**
   * Runs the tool. Tool-level problems resolve to `isError` results; throwing
   * {@link ArgumentError} is turned into one too. Anything else thrown is a bug.
   */
  run(args: Record<string, unknown>, signal: AbortSignal): Promise<ToolResult> | ToolResult;
}

/** Thrown by the argument readers; the toolset turns it into an `isError` result. */
export class ArgumentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ArgumentError";
  }
}

/** A successful text result. */
export function textResult(text: string, structuredContent?: Record<string, unknown>): ToolResult {
  return structuredContent
    ? { content: [{ type: "text", text }], structuredContent }
    : { content: [{ type: "text", text }] };
}

/** A tool-level failure the model should see. */
export function errorResult(text: string, structuredContent?: Record<string, unknown>): ToolResult {
  return structuredContent
    ? { content: [{ type: "text", text }], isError: true, structuredContent }
    : { content: [{ type: "text", text }], isError: true };
}

/** Reads a required string argument. */
export function requireString(args: Record<string, unknown>, name: string): string {
  const value = args[name];
  if (typeof value !== "string") {
    throw new ArgumentError(
      value === undefined
        ? `missing required argument "${name}" (a string)`
        : `argument "${name}" must be a string`,
    );
  }
  return value;
}

/** Reads an optional string argument (`null` counts as absent). */
export function optionalString(args: Record<string, unknown>, name: string): string | undefined {
  if (args[name] === undefined || args[name] === null) return undefined;
  return requireString(args, name);
}

/** Reads an optional finite number argument (`null` counts as absent). */
export function optionalNumber(args: Record<string, unknown>, name: string): number | undefined {
  const value = args[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new ArgumentError(`argument "${name}" must be a number`);
  }
  return value;
}

/** Reads a required array-of-strings argument. */
export function requireStringArray(args: Record<string, unknown>, name: string): string[] {
  const value = args[name];
  if (!Array.isArray(value) || !value.every((item) => typeof item === "string")) {
    throw new ArgumentError(
      value === undefined
        ? `missing required argument "${name}" (an array of strings)`
        : `argument "${name}" must be an array of strings`,
    );
  }
  return value;
}

/** Reads an optional array-of-strings argument (`null` counts as absent). */
export function optionalStringArray(
  args: Record<string, unknown>,
  name: string,
): string[] | undefined {
  if (args[name] === undefined || args[name] === null) return undefined;
  return requireStringArray(args, name);
}

/** Formats a byte count for messages: `512 bytes`, `64 KiB`, `1 MiB`. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} bytes`;
}

/** An error's message, for tool results (never a stack). */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
