/**
 * The `tools` allow-list of a toolset config: which of a server's tools are listed and
 * callable. Absent means every tool.
 * @module
 */
import { DagentError } from "../errors.ts";
import { nearest } from "../suggest.ts";

/** A toolset's allow-list; `undefined` names allow everything. */
export class ToolAllowList {
  readonly #names?: ReadonlySet<string>;

  /** @param names the config's `tools` list, or undefined for "all tools". */
  constructor(names?: readonly string[]) {
    this.#names = names ? new Set(names) : undefined;
  }

  /** True when `tool` may be listed and called. */
  allows(tool: string): boolean {
    return this.#names === undefined || this.#names.has(tool);
  }

  /** The tools the allow-list lets through, in their original order. */
  filter<T extends { name: string }>(tools: readonly T[]): T[] {
    return tools.filter((tool) => this.allows(tool.name));
  }

  /**
   * Throws a {@link DagentError} (code `mcp.tool_not_allowed`) unless `tool` is allowed,
   * naming the toolset and the tools that are.
   */
  check(toolset: string, tool: string): void {
    if (this.allows(tool)) return;
    const allowed = [...this.#names ?? []];
    const guess = nearest(tool, allowed);
    throw new DagentError(
      `toolset "${toolset}" does not allow tool "${tool}" (not in its tools list)`,
      {
        code: "mcp.tool_not_allowed",
        hint: guess
          ? `did you mean "${guess}"? Allowed: ${allowed.join(", ")}`
          : `allowed: ${allowed.join(", ") || "(none)"}; add it to the toolset's tools list`,
      },
    );
  }
}
