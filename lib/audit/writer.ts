/**
 * The audit log writer: one append-only JSON Lines file per session, each record chained to the
 * previous one by SHA-256 and signed with Ed25519. Every append goes through one ordered queue
 * (a promise chain), so concurrent callers (parallel tool calls, sub-agents) never interleave
 * lines and no two records share a `prev`.
 *
 * For the runtime: `const log = await openAuditLog({ config: config.audit, sessionId })`; then
 * `await log?.append({ type: "tool_call", ... })` for each event, and `await log?.close(status)`
 * in a `finally` (and on SIGINT): a log without `session_end` verifies as cut off.
 * @module
 */

import { dirname, join, resolve } from "node:path";
import { DagentError } from "../errors.ts";
import type { AuditConfig } from "../config/types.ts";
import { canonicalize, type JsonValue } from "./canonical.ts";
import { auditDataDir, encodeBase64Url, ensurePrivateDir, loadOrCreateKeyPair } from "./keys.ts";
import {
  type AuditEvent,
  type ContentPolicy,
  eventFields,
  GENESIS,
  RECORD_VERSION,
  recordHash,
  type SessionStatus,
  sha256Hex,
  signedBytes,
} from "./records.ts";

/** Options of {@link openAuditLog}. */
export interface OpenAuditLogOptions {
  /** The config's `audit` block. Absent or `enabled: false`: no log (undefined). */
  config?: AuditConfig;
  /** Where the key (and by default the logs) live; default {@link auditDataDir}. */
  dataDir?: string;
  /** Names the session and its file; default `<UTC time>-<8 random hex>`. */
  sessionId?: string;
  /** Clock, epoch milliseconds (tests). Default `Date.now`. */
  now?: () => number;
}

const SESSION_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
/** How much of an existing file's end is read to continue its chain. */
const TAIL_BYTES = 1024 * 1024;
const encoder = new TextEncoder();

/**
 * Opens the audit log of a session, or returns undefined when auditing is off (no `audit`
 * block, or `enabled: false`; a block without `enabled` turns it on). The file is
 * `audit.path` when set (`~/` expanded, `{session}` replaced by the session id, relative to
 * the working directory; a path ending in `/` or naming a directory gets `<session>.jsonl`
 * inside it), else `<dataDir>/audit/<session>.jsonl`. A file that already holds records is
 * continued: the new session_start chains onto its last record. Writes `session_start`
 * (with the public key) before returning.
 */
export async function openAuditLog(opts: OpenAuditLogOptions = {}): Promise<AuditLog | undefined> {
  const config = opts.config;
  if (!config || config.enabled === false) return undefined;
  const sessionId = opts.sessionId ?? defaultSessionId(opts.now ?? Date.now);
  if (!SESSION_ID.test(sessionId)) {
    throw new TypeError(`audit: session id must match ${SESSION_ID}`);
  }
  const dataDir = opts.dataDir ?? auditDataDir();
  const path = await logPath(config.path, dataDir, sessionId);
  const key = await loadOrCreateKeyPair(dataDir);
  await ensurePrivateDir(dirname(path));
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { append: true, create: true, mode: 0o600 });
  } catch (error) {
    throw new DagentError(`Cannot open the audit log ${path}.`, {
      code: "audit.io",
      hint: "Check that the directory is writable, or change audit.path in the config.",
      cause: error,
    });
  }
  try {
    const tail = await chainTail(path);
    const log = new AuditLog(file, {
      path,
      sessionId,
      publicKey: key.publicKey,
      privateKey: key.privateKey,
      policy: {
        includeArguments: config.include_arguments === true,
        includeResults: config.include_results === true,
      },
      now: opts.now ?? Date.now,
      seq: tail.seq,
      prev: tail.prev,
    });
    await log.start();
    return log;
  } catch (error) {
    file.close();
    throw error;
  }
}

interface AuditLogInit {
  path: string;
  sessionId: string;
  publicKey: string;
  privateKey: CryptoKey;
  policy: ContentPolicy;
  now: () => number;
  seq: number;
  prev: string;
}

/** An open audit log. Create it with {@link openAuditLog}. */
export class AuditLog {
  /** The log file. */
  readonly path: string;
  /** The session's id (also in every session_start / session_end). */
  readonly sessionId: string;
  /** The signing key's public half, base64url of 32 raw bytes (`dagent audit verify --key`). */
  readonly publicKey: string;
  readonly #file: Deno.FsFile;
  readonly #privateKey: CryptoKey;
  readonly #policy: ContentPolicy;
  readonly #now: () => number;
  #seq: number;
  #prev: string;
  #count = 0;
  #tail: Promise<unknown> = Promise.resolve();
  #closing?: Promise<void>;
  /** Set when a write failed part-way: the file's end is unknown, so nothing more is written. */
  #broken?: DagentError;

  /** Internal: use {@link openAuditLog}. */
  constructor(file: Deno.FsFile, init: AuditLogInit) {
    this.#file = file;
    this.path = init.path;
    this.sessionId = init.sessionId;
    this.publicKey = init.publicKey;
    this.#privateKey = init.privateKey;
    this.#policy = init.policy;
    this.#now = init.now;
    this.#seq = init.seq;
    this.#prev = init.prev;
  }

  /** Internal: writes session_start. Called once by {@link openAuditLog}. */
  start(): Promise<void> {
    return this.#enqueue({
      type: "session_start",
      session: this.sessionId,
      alg: "Ed25519",
      publicKey: this.publicKey,
      include_arguments: this.#policy.includeArguments,
      include_results: this.#policy.includeResults,
    });
  }

  /**
   * Appends one event; resolves once its line is written. Calls may overlap: records are
   * written in call order. Rejects with a TypeError for a malformed event, and with a
   * DagentError after {@link close} or when the file cannot be written.
   */
  append(event: AuditEvent): Promise<void> {
    if (this.#closing) {
      return Promise.reject(
        new DagentError(`The audit log ${this.path} is closed.`, { code: "audit.closed" }),
      );
    }
    let fields: Record<string, JsonValue>;
    try {
      fields = eventFields(event, this.#policy);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#enqueue(fields);
  }

  /**
   * Writes session_end after every pending append, flushes and closes the file. Idempotent:
   * later calls return the first call's promise.
   */
  close(status: SessionStatus = "ok"): Promise<void> {
    this.#closing ??= (async () => {
      try {
        // +1: session_end counts itself.
        await this.#enqueue(() => ({
          type: "session_end",
          session: this.sessionId,
          status,
          records: this.#count + 1,
        }));
        await this.#file.sync().catch(() => {});
      } finally {
        this.#file.close();
      }
    })();
    return this.#closing;
  }

  /** Queues a record; `fields` may be a function so it is computed in order. */
  #enqueue(fields: Record<string, JsonValue> | (() => Record<string, JsonValue>)): Promise<void> {
    const run = this.#tail.then(() =>
      this.#write(typeof fields === "function" ? fields() : fields)
    );
    this.#tail = run.catch(() => {});
    return run;
  }

  async #write(fields: Record<string, JsonValue>): Promise<void> {
    if (this.#broken) throw this.#broken;
    const unsigned = {
      ...fields,
      v: RECORD_VERSION,
      seq: this.#seq,
      ts: new Date(this.#now()).toISOString(),
      id: randomId(),
      prev: this.#prev,
    };
    const signature = await crypto.subtle.sign("Ed25519", this.#privateKey, signedBytes(unsigned));
    const line = canonicalize({ ...unsigned, sig: encodeBase64Url(new Uint8Array(signature)) });
    const bytes = encoder.encode(line + "\n");
    try {
      let written = 0;
      while (written < bytes.length) written += await this.#file.write(bytes.subarray(written));
    } catch (error) {
      this.#broken = new DagentError(`Cannot write the audit log ${this.path}.`, {
        code: "audit.io",
        hint: "Check the disk; the log may now end in a partial record.",
        cause: error,
      });
      throw this.#broken;
    }
    this.#seq++;
    this.#prev = sha256Hex(bytes.subarray(0, bytes.length - 1));
    this.#count++;
  }
}

/** 16 bytes from the crypto RNG, hex. A failing RNG throws: there is no fallback. */
function randomId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function defaultSessionId(now: () => number): string {
  const time = new Date(now()).toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  return `${time}-${randomId().slice(0, 8)}`;
}

async function logPath(
  configured: string | undefined,
  dataDir: string,
  sessionId: string,
): Promise<string> {
  if (!configured) return join(dataDir, "audit", `${sessionId}.jsonl`);
  let path = configured.replaceAll("{session}", sessionId);
  if (path === "~" || path.startsWith("~/")) {
    const home = Deno.env.get("HOME");
    if (!home) {
      throw new DagentError(`audit.path ${configured} starts with ~ but HOME is not set.`, {
        code: "audit.no_home",
        hint: "Write the path in full.",
      });
    }
    path = join(home, path.slice(1));
  }
  const isDir = configured.endsWith("/") ||
    await Deno.stat(path).then((info) => info.isDirectory, () => false);
  return resolve(isDir ? join(path, `${sessionId}.jsonl`) : path);
}

/** Where a new session continues the file: after its last record, or at genesis. */
async function chainTail(path: string): Promise<{ seq: number; prev: string }> {
  const file = await Deno.open(path, { read: true });
  try {
    const size = (await file.stat()).size;
    if (size === 0) return { seq: 0, prev: GENESIS };
    const start = Math.max(0, size - TAIL_BYTES);
    await file.seek(start, Deno.SeekMode.Start);
    const buffer = new Uint8Array(size - start);
    let read = 0;
    while (read < buffer.length) {
      const n = await file.read(buffer.subarray(read));
      if (n === null) break;
      read += n;
    }
    const text = new TextDecoder().decode(buffer.subarray(0, read));
    const lines = text.split("\n");
    const last = text.endsWith("\n") ? lines.at(-2) : undefined;
    let record: Record<string, unknown> | undefined;
    try {
      const parsed = last === undefined ? undefined : JSON.parse(last);
      if (parsed && typeof parsed === "object" && Number.isInteger(parsed.seq)) record = parsed;
    } catch { /* reported below */ }
    if (!record) {
      throw new DagentError(
        `The audit log ${path} ends in a partial or unreadable record; not appending to it.`,
        {
          code: "audit.partial_tail",
          hint: `Check it with 'dagent audit verify ${path}', then move it aside.`,
        },
      );
    }
    return { seq: (record.seq as number) + 1, prev: recordHash(record) };
  } finally {
    file.close();
  }
}
