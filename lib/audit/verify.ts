/**
 * Verifies an audit log: every record's Ed25519 signature (with the key of its session's
 * session_start), its sequence number and its link (`prev`) to the record before, and that
 * every session ends with session_end. Reports the FIRST broken record by line number.
 *
 * A log whose last session has no session_end is reported as "truncated: no session_end" and
 * is not intact (the tail may have been cut off), unless `allowOpen` accepts it as a session
 * still running. A partial last line is always a finding. Without an expected key, the first
 * session's key is trusted and a later session under another key is a finding; only `--key`
 * (a copy of the public key kept elsewhere) catches a log re-signed whole with another key.
 * @module
 */

import { join } from "node:path";
import { DagentError, ExitCode } from "../errors.ts";
import { auditDataDir, importPublicKey, normalizePublicKey } from "./keys.ts";
import { GENESIS, RECORD_VERSION, recordHash, signedBytes } from "./records.ts";

/** What is wrong with a record. */
export type FindingKind =
  /** Not a record: bad JSON, a missing or mistyped field, an unknown version. */
  | "malformed"
  /** The signature fails: the record was edited, or signed with another key. */
  | "signature"
  /** Records are missing (sequence gap, or the log does not begin with session_start). */
  | "deleted"
  /** Records are out of order, or one appears twice. */
  | "reordered"
  /** `prev` does not match the record before (records spliced in from elsewhere). */
  | "chain"
  /** A record after its session's session_end. */
  | "appended"
  /** The last line is partial. */
  | "truncated"
  /** A session has no session_end. */
  | "no_session_end"
  /** A session is signed by a key other than the expected one (`--key`). */
  | "key";

/** The first problem found. */
export interface Finding {
  /** 1-based line number in the file. */
  line: number;
  kind: FindingKind;
  /** One sentence, safe to print (never echoes record contents). */
  message: string;
}

/** The result of a verification. */
export interface VerifyReport {
  /** True only for an intact log (an open last session counts only with `allowOpen`). */
  ok: boolean;
  /** Records checked before stopping. */
  records: number;
  /** Sessions seen. */
  sessions: number;
  /** Public keys of the sessions seen, in order, without repeats. */
  publicKeys: string[];
  /** The last session has no session_end (accepted only with `allowOpen`). */
  open: boolean;
  finding?: Finding;
}

/** Options of {@link verifyLog}. */
export interface VerifyOptions {
  /** Expected public key (base64url/base64): every session must be signed with it. */
  publicKey?: string;
  /** Accept a last session without session_end (a session still running). */
  allowOpen?: boolean;
}

const KNOWN_TYPES = new Set([
  "session_start",
  "session_end",
  "tool_call",
  "tool_result",
  "auth",
  "model_call",
]);
const HEX64 = /^[0-9a-f]{64}$/;
const HEX32 = /^[0-9a-f]{32}$/;
const MAX_LOG_BYTES = 1024 * 1024 * 1024;

type Parsed = Record<string, unknown>;

/** Verifies the text of an audit log. */
export async function verifyLog(text: string, opts: VerifyOptions = {}): Promise<VerifyReport> {
  const expectedKey = opts.publicKey === undefined ? undefined : normalizePublicKey(opts.publicKey);
  if (opts.publicKey !== undefined && !expectedKey) await importPublicKey(opts.publicKey);

  const lines = text.split("\n");
  const complete = text.endsWith("\n");
  if (complete) lines.pop();
  const report: VerifyReport = { ok: false, records: 0, sessions: 0, publicKeys: [], open: false };
  const fail = (line: number, kind: FindingKind, message: string): VerifyReport => {
    report.finding = { line, kind, message };
    return report;
  };

  let expectedSeq = 0;
  let expectedPrev = GENESIS;
  let key: CryptoKey | undefined;
  let inSession = false;
  let sessionLine = 0;
  let sessionRecords = 0;

  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const partial = !complete && i === lines.length - 1;
    if (lines[i].trim() === "") {
      if (partial) break;
      return fail(lineNo, "malformed", "empty line: not a record");
    }
    const record = parseRecord(lines[i]);
    if (typeof record === "string") {
      if (partial) {
        return fail(lineNo, "truncated", "truncated: the last record is incomplete (cut off)");
      }
      return fail(lineNo, "malformed", record);
    }

    if (record.type === "session_start") {
      if (typeof record.publicKey !== "string" || !normalizePublicKey(record.publicKey)) {
        return fail(lineNo, "malformed", "session_start has no valid publicKey");
      }
      const publicKey = normalizePublicKey(record.publicKey)!;
      if (expectedKey && publicKey !== expectedKey) {
        return fail(
          lineNo,
          "key",
          `wrong key: the session is signed by ${publicKey.slice(0, 12)}…, not by the key ` +
            "given with --key",
        );
      }
      if (!expectedKey && report.publicKeys.length > 0 && !report.publicKeys.includes(publicKey)) {
        // Without --key the first session's key is the reference: a later session under
        // another key may be a whole forged session appended to the file.
        return fail(
          lineNo,
          "key",
          `this session is signed by another key (${publicKey.slice(0, 12)}…) than the ` +
            "sessions before it: pass --key to say which key to trust",
        );
      }
      key = await importPublicKey(publicKey);
      if (!report.publicKeys.includes(publicKey)) report.publicKeys.push(publicKey);
    } else if (!key) {
      return fail(
        lineNo,
        "deleted",
        "the log does not begin with session_start: its beginning was removed",
      );
    }

    if (!await signatureValid(key, record)) {
      return fail(
        lineNo,
        "signature",
        "signature does not verify with the session's key: the record was edited, or " +
          "written with another key",
      );
    }
    const seq = record.seq as number;
    if (seq > expectedSeq) {
      const later = findSeq(lines, i + 1, expectedSeq);
      if (later) {
        return fail(
          lineNo,
          "reordered",
          `reordered: seq ${seq} comes before seq ${expectedSeq} (line ${later})`,
        );
      }
      const missing = seq - expectedSeq;
      return fail(
        lineNo,
        "deleted",
        expectedSeq === 0
          ? `${missing} record(s) missing at the start of the log (seq begins at ${seq})`
          : `${missing} record(s) deleted before this one (seq jumps from ${
            expectedSeq - 1
          } to ${seq})`,
      );
    }
    if (seq < expectedSeq) {
      return fail(
        lineNo,
        "reordered",
        `reordered or duplicated: seq ${seq} after seq ${expectedSeq - 1}`,
      );
    }
    if (record.prev !== expectedPrev) {
      return fail(
        lineNo,
        "chain",
        i === 0
          ? "the first record does not start a chain (prev is not genesis): records before it " +
            "were removed"
          : `prev does not match the hash of line ${lineNo - 1}: records were spliced in ` +
            "from another log",
      );
    }

    if (record.type === "session_start") {
      if (inSession) {
        return fail(
          lineNo,
          "no_session_end",
          `truncated: no session_end for the session that began at line ${sessionLine} ` +
            "(cut off before this session began)",
        );
      }
      inSession = true;
      sessionLine = lineNo;
      sessionRecords = 0;
      report.sessions++;
    } else if (!inSession) {
      return fail(
        lineNo,
        "appended",
        "record after session_end: appended after the session closed",
      );
    }
    sessionRecords++;
    if (record.type === "session_end") {
      inSession = false;
      if (record.records !== sessionRecords) {
        return fail(
          lineNo,
          "deleted",
          `session_end counts ${record.records} records but the session has ${sessionRecords}`,
        );
      }
    }
    expectedSeq = seq + 1;
    expectedPrev = recordHash(record);
    report.records++;
  }

  if (report.records === 0) return fail(1, "malformed", "the log holds no records");
  if (inSession) {
    report.open = true;
    if (!opts.allowOpen) {
      return fail(
        lines.length,
        "no_session_end",
        "truncated: no session_end (the log was cut off, or the session is still running; " +
          "--allow-open accepts a running session)",
      );
    }
  }
  report.ok = true;
  return report;
}

/**
 * Reads and verifies the log at `path`. A missing or unreadable file is a DagentError with
 * exit code 2.
 */
export async function verifyFile(path: string, opts: VerifyOptions = {}): Promise<VerifyReport> {
  return await verifyLog(await readLog(path), opts);
}

/** Reads an audit log file, with usage errors (exit 2) that say where logs are. */
export async function readLog(path: string): Promise<string> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      let where = "";
      try {
        where = ` Session logs are kept in ${join(auditDataDir(), "audit")}.`;
      } catch { /* no HOME: no hint of where */ }
      throw new DagentError(`No audit log at ${path}.`, {
        code: "audit.not_found",
        exitCode: ExitCode.Usage,
        hint: `Check the path.${where}`,
      });
    }
    throw new DagentError(`Cannot read the audit log ${path}.`, {
      code: "audit.io",
      exitCode: ExitCode.Usage,
      hint: "Check that it is readable by you.",
      cause: error,
    });
  }
  if (!info.isFile) {
    throw new DagentError(`${path} is not a file.`, {
      code: "audit.not_a_file",
      exitCode: ExitCode.Usage,
      hint: "Pass one session's .jsonl file.",
    });
  }
  if (info.size > MAX_LOG_BYTES) {
    throw new DagentError(`The audit log ${path} is larger than 1 GiB.`, {
      code: "audit.too_large",
      exitCode: ExitCode.Usage,
      hint: "Split it at a session boundary (a session_start line) and verify the parts.",
    });
  }
  return await Deno.readTextFile(path);
}

/** The record on a line, or why it is not one. */
function parseRecord(line: string): Parsed | string {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return "not a JSON record";
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return "not a JSON object";
  }
  const record = value as Parsed;
  if (record.v !== RECORD_VERSION) return `unknown record version (expected v ${RECORD_VERSION})`;
  if (!Number.isSafeInteger(record.seq) || (record.seq as number) < 0) return "invalid seq";
  if (typeof record.ts !== "string" || Number.isNaN(Date.parse(record.ts))) return "invalid ts";
  if (typeof record.id !== "string" || !HEX32.test(record.id)) return "invalid id";
  if (typeof record.prev !== "string" || !HEX64.test(record.prev)) return "invalid prev";
  if (typeof record.sig !== "string") return "missing sig";
  if (typeof record.type !== "string" || !KNOWN_TYPES.has(record.type)) {
    return "unknown record type";
  }
  return record;
}

async function signatureValid(key: CryptoKey, record: Parsed): Promise<boolean> {
  const sig = decodeBase64Url(record.sig as string);
  if (!sig || sig.length !== 64) return false;
  try {
    return await crypto.subtle.verify("Ed25519", key, sig, signedBytes(record));
  } catch {
    return false;
  }
}

/** The line number (1-based) at or after index `from` holding a record with `seq`. */
function findSeq(lines: string[], from: number, seq: number): number | undefined {
  for (let i = from; i < lines.length; i++) {
    try {
      if (JSON.parse(lines[i])?.seq === seq) return i + 1;
    } catch { /* not a record: skip */ }
  }
  return undefined;
}

function decodeBase64Url(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(text)) return undefined;
  const standard = text.replaceAll("-", "+").replaceAll("_", "/");
  try {
    const binary = atob(standard + "=".repeat((4 - standard.length % 4) % 4));
    return Uint8Array.from(binary, (c) => c.charCodeAt(0));
  } catch {
    return undefined;
  }
}
