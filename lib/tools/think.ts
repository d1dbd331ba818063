/**
 * The `think` toolset: a scratchpad where the model writes down its reasoning. The tool
 * has no effect beyond echoing the thought back, so it is annotated read-only and runs
 * without approval (modelled on cagent's `think` tool).
 * @module
 */
import { type BuiltinTool, requireString, textResult } from "./common.ts";

/** The tools of a `think` toolset: `think(thought)`. */
export function thinkTools(): BuiltinTool[] {
  return [{
    info: {
      name: "think",
      description: "Use the tool to think about something. It will not obtain new information " +
        "or change anything, but just record the thought. Use it when complex reasoning or " +
        "some cache memory is needed.",
      inputSchema: {
        type: "object",
        properties: { thought: { type: "string", description: "A thought to think about." } },
        required: ["thought"],
        additionalProperties: false,
      },
      annotations: { title: "Think", readOnlyHint: true },
    },
    run(args) {
      return textResult(requireString(args, "thought"));
    },
  }];
}
