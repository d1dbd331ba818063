/**
 * How runtime events look on a terminal (`dagent run` / `dagent exec`) and as JSON lines
 * (`--json`). Both consume the same event stream.
 * @module
 */
import type { EventSink, RuntimeEvent } from "../runtime/events.ts";

const encoder = new TextEncoder();

/** Writes text to a stream synchronously (so prompts and output never interleave). */
export type Writer = (text: string) => void;

/** The process's stdout and stderr as {@link Writer}s. */
export const stdout: Writer = (text) => void Deno.stdout.writeSync(encoder.encode(text));
/** See {@link stdout}. */
export const stderr: Writer = (text) => void Deno.stderr.writeSync(encoder.encode(text));

/** One JSON object per line on `out`, for `--json`. */
export function jsonLines(out: Writer): EventSink {
  return (event) => out(JSON.stringify(event) + "\n");
}

/** Options of {@link terminalRenderer}. */
export interface TerminalRendererOptions {
  /** The agent whose answer is the conversation (the root, or `--agent`). */
  mainAgent: string;
  /**
   * `stream`: the main agent's text streams to `answer` as it comes (`dagent run`);
   * `final`: only the final answer goes to `answer`, everything else to `progress`
   * (`dagent exec`).
   */
  mode: "stream" | "final";
  answer: Writer;
  progress: Writer;
  color?: boolean;
}

/** Renders events compactly for a person. */
export function terminalRenderer(options: TerminalRendererOptions): EventSink {
  const color = options.color ?? !Deno.noColor;
  const dim = (text: string) => color ? `\x1b[2m${text}\x1b[0m` : text;
  const red = (text: string) => color ? `\x1b[31m${text}\x1b[0m` : text;
  const { answer, progress, mainAgent, mode } = options;
  let depth = 0;
  let midLine = false;
  // In `final` mode the main agent's text is held until we know whether it is the final
  // answer (it goes to `answer` once) or commentary before tool calls (shown as progress).
  let held = "";
  const indent = () => "  ".repeat(depth);
  const line = (text: string) => {
    if (held) {
      progress(indent() + dim(held.trimEnd()) + "\n");
      held = "";
    }
    if (midLine) progress("\n");
    midLine = false;
    progress(indent() + text + "\n");
  };
  return (event: RuntimeEvent) => {
    switch (event.type) {
      case "text":
        if (event.agent === mainAgent && mode === "stream") {
          answer(event.delta);
          midLine = !event.delta.endsWith("\n");
        } else if (event.agent === mainAgent) {
          held += event.delta;
        } else {
          progress(dim(event.delta));
          midLine = !event.delta.endsWith("\n");
        }
        break;
      case "tool_call":
        line(dim(`→ ${event.toolset}.${event.tool} ${compact(event.arguments)}`));
        break;
      case "tool_approval":
        if (event.decision === "rejected") {
          line(red(`✗ ${event.tool}: ${event.reason ?? "rejected"}`));
        }
        break;
      case "tool_result":
        line(
          (event.isError ? red : dim)(
            `${event.isError ? "✗" : "←"} ${firstLine(event.text)} ${
              dim(`(${event.bytes} bytes)`)
            }`,
          ),
        );
        break;
      case "agent_switch":
        if (event.task !== undefined) {
          line(dim(`⇢ ${event.to}: ${firstLine(event.task)}`));
          depth++;
        } else {
          depth = Math.max(0, depth - 1);
          line(dim(`⇠ back to ${event.to}`));
        }
        break;
      case "warning":
        line(`warning: ${event.message}`);
        break;
      case "error":
        line(
          red(`error: ${event.message}`) + (event.hint ? `\n${indent()}hint: ${event.hint}` : ""),
        );
        break;
      case "turn_end":
        if (event.agent !== mainAgent) break;
        if (mode === "final") {
          held = "";
          if (midLine) progress("\n");
          answer(event.text.endsWith("\n") ? event.text : event.text + "\n");
        } else if (!event.text.endsWith("\n")) {
          answer("\n");
        }
        midLine = false;
        break;
      case "auth_prompt":
      case "elicitation":
      case "usage":
      case "turn_start":
        break;
    }
  };
}

function compact(value: unknown): string {
  const text = JSON.stringify(value) ?? "";
  return text.length > 120 ? text.slice(0, 117) + "…" : text;
}

function firstLine(text: string): string {
  const first = text.split("\n", 1)[0];
  return first.length > 120 ? first.slice(0, 117) + "…" : first;
}
