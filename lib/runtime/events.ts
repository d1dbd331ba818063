/**
 * The runtime's event stream: everything a turn does, as typed events. The terminal UI and
 * `--json` (one JSON object per line) both consume this same stream.
 * @module
 */

/** One event of a run. Every event names the agent it comes from. */
export type RuntimeEvent =
  /** A turn of `agent` started with the user's (or the delegating agent's) message. */
  | { type: "turn_start"; agent: string; message: string }
  /** A piece of the agent's answer as it streams. */
  | { type: "text"; agent: string; delta: string }
  /** The model asked for a tool call. */
  | {
    type: "tool_call";
    agent: string;
    callId: string;
    toolset: string;
    tool: string;
    arguments: Record<string, unknown>;
  }
  /** The approval decision for a tool call. */
  | {
    type: "tool_approval";
    agent: string;
    callId: string;
    tool: string;
    decision: "approved" | "rejected";
    by: ApprovalSource;
    reason?: string;
  }
  /** A tool call's result (its text, capped for display). */
  | {
    type: "tool_result";
    agent: string;
    callId: string;
    toolset: string;
    tool: string;
    isError: boolean;
    text: string;
    bytes: number;
  }
  /** A sign-in prompt was shown for a server. */
  | { type: "auth_prompt"; agent?: string; server: string; issuer: string; scopes: string[] }
  /** A server asked the user something (MCP elicitation). */
  | { type: "elicitation"; server: string; message: string; action: string }
  /** Token usage of one model call. */
  | {
    type: "usage";
    agent: string;
    model: string;
    inputTokens: number;
    outputTokens: number;
  }
  /** Control passes to a sub-agent (transfer_task) or back. */
  | { type: "agent_switch"; from: string; to: string; task?: string }
  /** Something the user should know that does not stop the turn. */
  | { type: "warning"; agent?: string; message: string }
  /** A failure that ended the turn. */
  | { type: "error"; agent?: string; message: string; code: string; hint?: string }
  /** The turn's final answer. */
  | { type: "turn_end"; agent: string; text: string; iterations: number };

/** Who approved or rejected a tool call. */
export type ApprovalSource = "read_only" | "yolo" | "session" | "user" | "non_interactive";

/** Receives events as they happen. */
export type EventSink = (event: RuntimeEvent) => void;
