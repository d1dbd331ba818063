/**
 * The audit log's record types, and how an event from the runtime becomes a record's fields:
 * arguments and results hashed (and kept only when the config says so, after a redaction pass),
 * every string made well-formed, every field checked. Nothing here touches a file.
 * @module
 */

import { createHash } from "node:crypto";
import { canonicalBytes, type JsonValue } from "./canonical.ts";

/** The record format version, in every record's `v`. */
export const RECORD_VERSION = 1;

/** `prev` of the first record of a file: 64 zeros. */
export const GENESIS = "0".repeat(64);

/** How a tool call was allowed: by policy (read-only tool), by the user, by `--yolo`, or not. */
export type Approval = "auto" | "user" | "yolo" | "rejected";

/** Outcome of a sign-in event. */
export type AuthOutcome = "signed_in" | "refreshed" | "declined" | "failed";

/** A tool call, as the runtime reports it (arguments raw: the log hashes or redacts them). */
export interface ToolCallEvent {
  type: "tool_call";
  agent: string;
  toolset: string;
  tool: string;
  /** The arguments as the model sent them (any JSON value). */
  arguments: unknown;
  approval: Approval;
  /** Who decided, e.g. "read-only tool", "user", "--yolo". */
  approvedBy?: string;
}

/** A tool result, as the runtime reports it (the result raw: the log hashes it). */
export interface ToolResultEvent {
  type: "tool_result";
  agent: string;
  toolset: string;
  tool: string;
  status: "ok" | "error";
  /** The result: a string is hashed as its UTF-8 bytes, anything else as canonical JSON. */
  result: unknown;
}

/** A sign-in event of an OAuth toolset. Never carries a token. */
export interface AuthEvent {
  type: "auth";
  /** The MCP server URL (or toolset name). */
  server: string;
  issuer?: string;
  /** Scopes granted (or asked for, when declined/failed). */
  scopes?: string[];
  outcome: AuthOutcome;
}

/** A model call and its token usage. */
export interface ModelCallEvent {
  type: "model_call";
  agent?: string;
  provider: string;
  model: string;
  /** Token counts, e.g. `{ input_tokens: 100, output_tokens: 20 }`. */
  usage?: Record<string, number>;
}

/** What the runtime may append; session_start and session_end are written by the log itself. */
export type AuditEvent = ToolCallEvent | ToolResultEvent | AuthEvent | ModelCallEvent;

/** Fields every record has. `sig` signs the canonical bytes of the record without `sig`. */
export interface RecordHeader {
  v: number;
  seq: number;
  /** ISO 8601 UTC. */
  ts: string;
  /** 16 random bytes, hex. */
  id: string;
  /** SHA-256 hex of the previous record's canonical bytes ({@link GENESIS} for the first). */
  prev: string;
  /** Ed25519 signature, base64url. */
  sig: string;
}

/** The first record of a session; its public key verifies the session's records. */
export interface SessionStartRecord extends RecordHeader {
  type: "session_start";
  session: string;
  alg: "Ed25519";
  publicKey: string;
  include_arguments: boolean;
  include_results: boolean;
}

/** The last record of a session; a session without one was cut off. */
export interface SessionEndRecord extends RecordHeader {
  type: "session_end";
  session: string;
  status: SessionStatus;
  /** Records in the session, session_start and this one included. */
  records: number;
}

/** A stored tool call. */
export interface ToolCallRecord extends RecordHeader {
  type: "tool_call";
  agent: string;
  toolset: string;
  tool: string;
  argumentsSha256: string;
  /** Only with `include_arguments`, after redaction. */
  arguments?: JsonValue;
  approval: Approval;
  approvedBy?: string;
}

/** A stored tool result. */
export interface ToolResultRecord extends RecordHeader {
  type: "tool_result";
  agent: string;
  toolset: string;
  tool: string;
  status: "ok" | "error";
  size: number;
  sha256: string;
  /** Only with `include_results`, after redaction; cut at {@link MAX_RESULT_CHARS}. */
  result?: JsonValue;
  resultTruncated?: boolean;
}

/** A stored sign-in event. */
export interface AuthRecord extends RecordHeader {
  type: "auth";
  server: string;
  issuer?: string;
  scopes: string[];
  outcome: AuthOutcome;
}

/** A stored model call. */
export interface ModelCallRecord extends RecordHeader {
  type: "model_call";
  agent?: string;
  provider: string;
  model: string;
  usage: Record<string, number>;
}

/** How a session ended. */
export type SessionStatus = "ok" | "error" | "interrupted";

/** Any record of an audit log. */
export type AuditRecord =
  | SessionStartRecord
  | SessionEndRecord
  | ToolCallRecord
  | ToolResultRecord
  | AuthRecord
  | ModelCallRecord;

/** What the log keeps in clear (from the `audit` config block). */
export interface ContentPolicy {
  includeArguments: boolean;
  includeResults: boolean;
}

/** A kept result longer than this (in characters of canonical JSON) is cut. */
export const MAX_RESULT_CHARS = 64 * 1024;

/** Names of members whose values are never written, whatever the config says. */
const SECRET_NAME =
  /token|secret|passw(or)?d|passphrase|authori[sz]ation|api[-_]?key|cookie|credential|private[-_]?key|session[-_]?id/i;
/** Credentials inside strings: `Bearer x`, `Basic x` (RFC 6750 §2.1, RFC 7617). */
const SECRET_IN_TEXT = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/-]{8,}=*/gi;
const REDACTED = "[redacted]";
const APPROVALS: readonly string[] = ["auto", "user", "yolo", "rejected"];
const OUTCOMES: readonly string[] = ["signed_in", "refreshed", "declined", "failed"];

/**
 * The record fields (without the header) for `event` under `policy`. Throws a TypeError when
 * the event is malformed (a bug in the caller, not a user error).
 */
export function eventFields(event: AuditEvent, policy: ContentPolicy): Record<string, JsonValue> {
  if (typeof event !== "object" || event === null) throw new TypeError("audit: event expected");
  switch (event.type) {
    case "tool_call": {
      const args = toJson(event.arguments);
      if (!APPROVALS.includes(event.approval)) {
        throw new TypeError(`audit: approval must be one of ${APPROVALS.join(", ")}`);
      }
      return compact({
        type: "tool_call",
        ...toolFields(event),
        argumentsSha256: sha256Hex(canonicalBytes(args)),
        arguments: policy.includeArguments ? redact(args) : undefined,
        approval: event.approval,
        approvedBy: optionalText(event.approvedBy, "approvedBy"),
      });
    }
    case "tool_result": {
      if (event.status !== "ok" && event.status !== "error") {
        throw new TypeError("audit: status must be ok or error");
      }
      const result = toJson(event.result);
      const bytes = typeof result === "string"
        ? new TextEncoder().encode(result)
        : canonicalBytes(result);
      let kept: JsonValue | undefined;
      let truncated: boolean | undefined;
      if (policy.includeResults) {
        kept = redact(result);
        const text = typeof kept === "string" ? kept : JSON.stringify(kept);
        if (text.length > MAX_RESULT_CHARS) {
          kept = text.slice(0, MAX_RESULT_CHARS).toWellFormed();
          truncated = true;
        }
      }
      return compact({
        type: "tool_result",
        ...toolFields(event),
        status: event.status,
        size: bytes.length,
        sha256: sha256Hex(bytes),
        result: kept,
        resultTruncated: truncated,
      });
    }
    case "auth": {
      if (!OUTCOMES.includes(event.outcome)) {
        throw new TypeError(`audit: outcome must be one of ${OUTCOMES.join(", ")}`);
      }
      const scopes = event.scopes ?? [];
      if (!Array.isArray(scopes) || scopes.some((s) => typeof s !== "string")) {
        throw new TypeError("audit: scopes must be an array of strings");
      }
      return compact({
        type: "auth",
        server: text(event.server, "server"),
        issuer: optionalText(event.issuer, "issuer"),
        scopes: scopes.map((scope) => scope.toWellFormed()),
        outcome: event.outcome,
      });
    }
    case "model_call": {
      const usage: Record<string, number> = {};
      for (const [key, value] of Object.entries(event.usage ?? {})) {
        if (typeof value !== "number" || !Number.isFinite(value)) {
          throw new TypeError(`audit: usage.${key} must be a finite number`);
        }
        usage[key.toWellFormed()] = value;
      }
      return compact({
        type: "model_call",
        agent: optionalText(event.agent, "agent"),
        provider: text(event.provider, "provider"),
        model: text(event.model, "model"),
        usage,
      });
    }
    default:
      throw new TypeError(
        `audit: unknown event type ${JSON.stringify((event as { type?: unknown }).type)}`,
      );
  }
}

/**
 * `value` with the values of secret-looking member names (token, secret, password,
 * authorization, api_key, cookie, credential, private_key, session_id) replaced by
 * "[redacted]", and `Bearer …`/`Basic …` credentials inside strings cut out.
 */
export function redact(value: JsonValue): JsonValue {
  if (typeof value === "string") return value.replace(SECRET_IN_TEXT, `$1 ${REDACTED}`);
  if (Array.isArray(value)) return value.map(redact);
  if (value !== null && typeof value === "object") {
    const out: Record<string, JsonValue> = {};
    for (const [key, item] of Object.entries(value)) {
      out[key] = SECRET_NAME.test(key) ? REDACTED : redact(item);
    }
    return out;
  }
  return value;
}

/** SHA-256 of `bytes`, lowercase hex. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** The bytes a record's signature covers: its canonical JSON without `sig`. */
export function signedBytes(record: Record<string, unknown>): Uint8Array<ArrayBuffer> {
  const { sig: _sig, ...rest } = record;
  return canonicalBytes(rest);
}

/** The hash the next record's `prev` must hold: SHA-256 of the whole record's canonical bytes. */
export function recordHash(record: Record<string, unknown>): string {
  return sha256Hex(canonicalBytes(record));
}

/** Converts any value to plain JSON (as JSON.stringify would) with well-formed strings. */
function toJson(value: unknown): JsonValue {
  let text: string | undefined;
  try {
    text = JSON.stringify(value, (_key, item) => typeof item === "bigint" ? String(item) : item);
  } catch {
    throw new TypeError("audit: the value cannot be written as JSON (a cycle?)");
  }
  return text === undefined ? null : wellFormed(JSON.parse(text));
}

function wellFormed(value: JsonValue): JsonValue {
  if (typeof value === "string") return value.toWellFormed();
  if (Array.isArray(value)) return value.map(wellFormed);
  if (value !== null && typeof value === "object") {
    const out: Record<string, JsonValue> = {};
    for (const [key, item] of Object.entries(value)) out[key.toWellFormed()] = wellFormed(item);
    return out;
  }
  return value;
}

function toolFields(event: { agent: string; toolset: string; tool: string }) {
  return {
    agent: text(event.agent, "agent"),
    toolset: text(event.toolset, "toolset"),
    tool: text(event.tool, "tool"),
  };
}

function text(value: unknown, name: string): string {
  if (typeof value !== "string" || value === "") {
    throw new TypeError(`audit: ${name} must be a non-empty string`);
  }
  return value.toWellFormed();
}

function optionalText(value: unknown, name: string): string | undefined {
  return value === undefined ? undefined : text(value, name);
}

function compact(fields: Record<string, JsonValue | undefined>): Record<string, JsonValue> {
  const out: Record<string, JsonValue> = {};
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) out[key] = value;
  return out;
}
