/**
 * A cross-process lock per MCP server, so two dagent processes never run the same sign-in at
 * once: the second waits, then finds the token the first stored. The lock is a file
 * `<dir>/locks/<sha256(key)>.lock` holding `{ pid, hostname, createdAt }`. A lock whose owner
 * is gone (same host, pid not alive) or that is older than `staleMs` is taken over.
 * @module
 */

import { join } from "node:path";
import { DagentError } from "../errors.ts";
import { locksDir } from "./paths.ts";

/** Options of {@link withServerLock}. */
export interface ServerLockOptions {
  /** A lock older than this is stale whoever holds it (default 10 minutes). */
  staleMs?: number;
  /** Give up waiting after this long (default 6 minutes: longer than a sign-in's timeout). */
  timeoutMs?: number;
  /** Called once, when the lock is held by someone else and waiting begins. */
  onWait?: (holder: LockHolder) => void;
}

/** What a lock file says about its owner. */
export interface LockHolder {
  pid: number;
  hostname: string;
  /** Epoch milliseconds. */
  createdAt: number;
}

interface LockContent extends LockHolder {
  /** Random per acquisition: release only ever removes our own lock. */
  nonce: string;
}

const DEFAULT_STALE_MS = 10 * 60_000;
const DEFAULT_TIMEOUT_MS = 6 * 60_000;
/** Re-check this often even without a file-system event (events can be missed). */
const RECHECK_MS = 1_000;

/**
 * Runs `fn` while holding the lock for `key` in `dir`, waiting for another holder to finish.
 * The lock is released when `fn` settles, whether it returned or threw. Throws a DagentError
 * (`oauth.lock_timeout`) when the lock stays held for `timeoutMs`.
 */
export async function withServerLock<T>(
  dir: string,
  key: string,
  fn: () => Promise<T>,
  opts: ServerLockOptions = {},
): Promise<T> {
  const locks = locksDir(dir);
  await Deno.mkdir(locks, { recursive: true, mode: 0o700 });
  const file = join(locks, `${await sha256Hex(key)}.lock`);
  const nonce = await acquire(locks, file, opts);
  try {
    return await fn();
  } finally {
    await release(file, nonce);
  }
}

async function acquire(locks: string, file: string, opts: ServerLockOptions): Promise<string> {
  const staleMs = opts.staleMs ?? DEFAULT_STALE_MS;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  const me: LockContent = {
    pid: Deno.pid,
    hostname: hostname(),
    createdAt: Date.now(),
    nonce: crypto.randomUUID(),
  };
  let waiter: Waiter | undefined;
  try {
    while (true) {
      me.createdAt = Date.now();
      if (await tryCreate(locks, file, me)) return me.nonce;
      const holder = await readLock(file);
      if (holder === "gone") continue;
      if (holder === "unreadable" || await isStale(holder, staleMs)) {
        await breakLock(file, holder);
        continue;
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw timeoutError(file, holder, timeoutMs);
      if (!waiter) {
        waiter = openWaiter(locks);
        opts.onWait?.(holder);
        continue; // re-check once the watcher is up, so a release in between is not missed
      }
      await waiter.next(Math.min(RECHECK_MS, remaining));
    }
  } finally {
    waiter?.close();
  }
}

/**
 * Creates the lock atomically with its content: write a private temp file, then hard-link it
 * to the lock name (link fails when the name exists), so nobody ever reads a half lock.
 */
async function tryCreate(locks: string, file: string, content: LockContent): Promise<boolean> {
  const temp = join(locks, `.tmp-${content.nonce}`);
  await Deno.writeTextFile(temp, JSON.stringify(content), { createNew: true, mode: 0o600 });
  try {
    await Deno.link(temp, file);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.AlreadyExists) return false;
    throw lockError(file, error);
  } finally {
    await Deno.remove(temp).catch(() => {});
  }
}

async function readLock(file: string): Promise<LockContent | "gone" | "unreadable"> {
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return "gone";
    throw lockError(file, error);
  }
  try {
    const value = JSON.parse(text);
    if (
      typeof value?.pid === "number" && typeof value.hostname === "string" &&
      typeof value.createdAt === "number" && typeof value.nonce === "string"
    ) {
      return value as LockContent;
    }
  } catch { /* fall through */ }
  return "unreadable";
}

/** Stale: older than `staleMs`, or on this host and its process is no longer alive. */
async function isStale(holder: LockHolder, staleMs: number): Promise<boolean> {
  if (Date.now() - holder.createdAt > staleMs) return true;
  if (holder.hostname !== hostname()) return false; // cannot see another machine's processes
  return !(await isAlive(holder.pid));
}

/**
 * Whether a process exists. Linux: `/proc/<pid>`. Other Unix: `ps -p` (never a signal, which
 * could wake a stopped process). Elsewhere: assume alive and rely on the age limit.
 */
async function isAlive(pid: number): Promise<boolean> {
  if (pid === Deno.pid) return true;
  if (Deno.build.os === "linux") {
    try {
      await Deno.stat(`/proc/${pid}`);
      return true;
    } catch (error) {
      return !(error instanceof Deno.errors.NotFound);
    }
  }
  if (Deno.build.os === "windows") return true;
  try {
    const out = await new Deno.Command("ps", {
      args: ["-p", String(pid)],
      stdout: "null",
      stderr: "null",
    }).output();
    return out.code === 0;
  } catch {
    return true;
  }
}

/**
 * Removes a stale lock without removing a fresh one someone else just made: move it to a
 * private name, check it is the one judged stale, and put it back if it is not.
 */
async function breakLock(file: string, judged: LockContent | "unreadable"): Promise<void> {
  const aside = `${file}.stale-${crypto.randomUUID()}`;
  try {
    await Deno.rename(file, aside);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return; // someone else broke it first
    throw lockError(file, error);
  }
  const moved = await readLock(aside);
  const same = judged === "unreadable"
    ? moved === "unreadable"
    : typeof moved === "object" && moved.nonce === judged.nonce;
  if (!same) await Deno.link(aside, file).catch(() => {});
  await Deno.remove(aside).catch(() => {});
}

async function release(file: string, nonce: string): Promise<void> {
  const holder = await readLock(file).catch(() => "unreadable" as const);
  if (typeof holder === "object" && holder.nonce === nonce) {
    await Deno.remove(file).catch(() => {});
  }
}

interface Waiter {
  /** Resolves on the next change in the locks directory, or after `ms`. */
  next(ms: number): Promise<void>;
  close(): void;
}

/** Wakes on file-system events in `dir` (Deno.watchFs), with a timer as the fallback. */
function openWaiter(dir: string): Waiter {
  let watcher: Deno.FsWatcher | undefined;
  try {
    watcher = Deno.watchFs(dir, { recursive: false });
  } catch {
    watcher = undefined; // no watcher: the re-check timer alone
  }
  const iterator = watcher?.[Symbol.asyncIterator]();
  let pending: Promise<unknown> | undefined;
  return {
    async next(ms: number) {
      if (iterator) pending ??= iterator.next().finally(() => pending = undefined);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const elapsed = new Promise<void>((resolve) => timer = setTimeout(resolve, ms));
      try {
        await Promise.race(pending ? [pending, elapsed] : [elapsed]);
      } finally {
        clearTimeout(timer);
      }
    },
    close() {
      try {
        watcher?.close();
      } catch { /* already closed */ }
    },
  };
}

function hostname(): string {
  try {
    return Deno.hostname();
  } catch {
    return "unknown";
  }
}

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function timeoutError(file: string, holder: LockHolder, timeoutMs: number): DagentError {
  const minutes = timeoutMs / 60_000;
  const waited = minutes >= 1
    ? `${Math.round(minutes)} minute${Math.round(minutes) === 1 ? "" : "s"}`
    : `${Math.round(timeoutMs / 100) / 10} seconds`;
  return new DagentError(
    `Another dagent process (pid ${holder.pid} on ${holder.hostname}) is signing in to this ` +
      `server; gave up waiting after ${waited}.`,
    {
      code: "oauth.lock_timeout",
      hint: "Finish or cancel the sign-in in the other process and try again. If no dagent " +
        `is running, delete ${file}.`,
    },
  );
}

function lockError(file: string, cause: unknown): DagentError {
  return new DagentError(`Cannot use the sign-in lock file ${file}.`, {
    code: "oauth.lock_io",
    hint: "Check that the dagent config directory is yours and writable, or set DAGENT_HOME.",
    cause,
  });
}
