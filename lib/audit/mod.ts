/**
 * The audit log, for the runtime: open one per session, append events, close it.
 *
 * ```ts
 * const audit = await openAuditLog({ config: config.audit, sessionId });
 * try {
 *   await audit?.append({ type: "tool_call", agent, toolset, tool, arguments: args,
 *     approval: "user", approvedBy: "user" });
 *   await audit?.append({ type: "tool_result", agent, toolset, tool, status: "ok", result });
 * } finally {
 *   await audit?.close("ok"); // "error" / "interrupted" as fits; also on SIGINT
 * }
 * ```
 * Appends may overlap (parallel tool calls, sub-agents): they are written in call order.
 * Arguments and results are hashed; kept in clear (after redaction) only with
 * `include_arguments` / `include_results`. Never pass tokens in `auth` events.
 * @module
 */

export { AuditLog, openAuditLog, type OpenAuditLogOptions } from "./writer.ts";
export type {
  Approval,
  AuditEvent,
  AuditRecord,
  AuthEvent,
  AuthOutcome,
  ModelCallEvent,
  SessionStatus,
  ToolCallEvent,
  ToolResultEvent,
} from "./records.ts";
export { type Finding, verifyFile, verifyLog, type VerifyReport } from "./verify.ts";
