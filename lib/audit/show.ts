/**
 * A readable timeline of an audit log, one line per record:
 * `HH:MM:SS  tool_call      root → fs.read_file {sha256:1a2b3c4d…} auto`.
 * Everything taken from the log is stripped of control characters before it reaches the
 * terminal (a tool name must not be able to move the cursor or recolour the screen).
 * @module
 */

import type { AuditRecord } from "./records.ts";

/** One line of a log: its record, or nothing when the line is not a JSON object. */
export interface LogEntry {
  /** 1-based line number. */
  line: number;
  record?: AuditRecord;
}

/** Options of {@link renderTimeline}. */
export interface TimelineOptions {
  /** Print times in UTC instead of the local time zone. */
  utc?: boolean;
}

const TYPE_WIDTH = 13;
const MAX_SHOWN = 100;
/** C0/C1 controls, DEL, and bidi overrides/isolates (Trojan Source, CVE-2021-42574). */
// deno-lint-ignore no-control-regex -- matching control characters is the point.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** Splits a log's text into entries; blank lines are skipped, unreadable ones kept empty. */
export function parseLog(text: string): LogEntry[] {
  const entries: LogEntry[] = [];
  text.split("\n").forEach((line, i) => {
    if (line.trim() === "") return;
    try {
      const value = JSON.parse(line);
      const ok = typeof value === "object" && value !== null && !Array.isArray(value);
      entries.push(ok ? { line: i + 1, record: value as AuditRecord } : { line: i + 1 });
    } catch {
      entries.push({ line: i + 1 });
    }
  });
  return entries;
}

/** The timeline text of `entries`, one line each, ending in a newline. */
export function renderTimeline(entries: LogEntry[], opts: TimelineOptions = {}): string {
  return entries.map((entry) => renderEntry(entry, opts) + "\n").join("");
}

function renderEntry(entry: LogEntry, opts: TimelineOptions): string {
  const record = entry.record;
  if (!record) return `--:--:--  ${"?".padEnd(TYPE_WIDTH)}  line ${entry.line}: not a record`;
  const time = clock(record.ts, opts.utc === true);
  const type = safe(String(record.type ?? "?"));
  return `${time}  ${type.padEnd(TYPE_WIDTH)}  ${details(record)}`.trimEnd();
}

function details(r: AuditRecord): string {
  switch (r.type) {
    case "session_start":
      return `session ${safe(r.session)} key ${safe(String(r.publicKey).slice(0, 12))}…` +
        (r.include_arguments ? " +arguments" : "") + (r.include_results ? " +results" : "");
    case "session_end":
      return `${safe(r.status)}, ${Number(r.records)} records`;
    case "tool_call": {
      const shown = r.arguments === undefined
        ? `{sha256:${short(r.argumentsSha256)}}`
        : clip(JSON.stringify(r.arguments));
      const who = r.approvedBy ? ` by ${safe(r.approvedBy)}` : "";
      return `${safe(r.agent)} → ${tool(r)} ${shown} ${safe(r.approval)}${who}`;
    }
    case "tool_result": {
      const shown = r.result === undefined
        ? `{sha256:${short(r.sha256)}}`
        : clip(typeof r.result === "string" ? r.result : JSON.stringify(r.result));
      return `${safe(r.agent)} ← ${tool(r)} ${safe(r.status)} ${Number(r.size)} B ${shown}`;
    }
    case "auth": {
      const scopes = Array.isArray(r.scopes) && r.scopes.length > 0
        ? ` [${r.scopes.map((s) => safe(String(s))).join(" ")}]`
        : "";
      const issuer = r.issuer ? ` (${safe(r.issuer)})` : "";
      return `${safe(r.server)}${issuer} ${safe(r.outcome)}${scopes}`;
    }
    case "model_call": {
      const usage = Object.entries(r.usage ?? {})
        .map(([key, value]) => `${safe(key)}=${Number(value)}`).join(" ");
      const agent = r.agent ? `${safe(r.agent)} ` : "";
      return `${agent}${safe(r.provider)}/${safe(r.model)}${usage ? " " + usage : ""}`;
    }
    default:
      return "";
  }
}

function tool(r: { toolset: string; tool: string }): string {
  return `${safe(r.toolset)}.${safe(r.tool)}`;
}

function clock(ts: string, utc: boolean): string {
  const date = new Date(ts);
  if (Number.isNaN(date.getTime())) return "??:??:??";
  const parts = utc
    ? [date.getUTCHours(), date.getUTCMinutes(), date.getUTCSeconds()]
    : [date.getHours(), date.getMinutes(), date.getSeconds()];
  return parts.map((n) => String(n).padStart(2, "0")).join(":");
}

function short(hash: unknown): string {
  return `${safe(String(hash)).slice(0, 8)}…`;
}

function clip(text: string): string {
  const clean = safe(text);
  return clean.length > MAX_SHOWN ? `${clean.slice(0, MAX_SHOWN - 1)}…` : clean;
}

/** `text` with control and bidi characters shown as `\uXXXX`. */
function safe(text: unknown): string {
  return String(text).replace(
    UNSAFE,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}
