/**
 * Tool-call approval: MCP tools annotated read-only run without asking; `--yolo` approves
 * everything; otherwise a person decides (once, for the session, or rejects with a reason),
 * and runs without a person reject with a message the model sees.
 * @module
 */
import type { ApprovalSource } from "./events.ts";

/** A tool call awaiting a decision. */
export interface ApprovalRequest {
  agent: string;
  toolset: string;
  tool: string;
  arguments: Record<string, unknown>;
  readOnly: boolean;
}

/** The decision on a tool call. */
export interface ApprovalDecision {
  approved: boolean;
  by: ApprovalSource;
  /** Why it was rejected; shown to the model. */
  reason?: string;
}

/** Asks a person about one tool call. */
export interface ApprovalPrompt {
  /** "once", "session" (this tool for the rest of the session), or a rejection. */
  ask(request: ApprovalRequest): Promise<
    { answer: "once" } | { answer: "session" } | { answer: "reject"; reason?: string }
  >;
}

/** Decides tool calls for one session. */
export class ToolApprover {
  readonly #yolo: boolean;
  readonly #prompt?: ApprovalPrompt;
  readonly #approvedForSession = new Set<string>();

  /** `prompt` is undefined when no person can answer (non-interactive runs). */
  constructor(options: { yolo?: boolean; prompt?: ApprovalPrompt }) {
    this.#yolo = options.yolo ?? false;
    this.#prompt = options.prompt;
  }

  /** Decides `request`, asking the person when there is one and it is needed. */
  async decide(request: ApprovalRequest): Promise<ApprovalDecision> {
    if (request.readOnly) return { approved: true, by: "read_only" };
    if (this.#yolo) return { approved: true, by: "yolo" };
    const key = `${request.toolset}\u0000${request.tool}`;
    if (this.#approvedForSession.has(key)) return { approved: true, by: "session" };
    if (!this.#prompt) {
      return {
        approved: false,
        by: "non_interactive",
        reason: `the tool call ${request.tool} was not run: this run has no one to approve it ` +
          "(rerun with --yolo to approve tool calls automatically)",
      };
    }
    const answer = await this.#prompt.ask(request);
    if (answer.answer === "session") this.#approvedForSession.add(key);
    if (answer.answer === "reject") {
      return {
        approved: false,
        by: "user",
        reason: `the user rejected the tool call${answer.reason ? `: ${answer.reason}` : ""}`,
      };
    }
    return { approved: true, by: "user" };
  }
}
