/**
 * The `shell` toolset: runs one command through `sh -c` (`cmd /c` on Windows) with a
 * timeout and an output cap, and reports the exit code (modelled on cagent's `shell`).
 *
 * On POSIX the command runs in its own process group, so a timeout, a cancel or the end of
 * the command stops everything it started — pipelines and background jobs included —
 * and no child outlives the call. stdin is closed; stdout and stderr are merged in arrival
 * order and only the tail is kept when they exceed the cap.
 * @module
 */
import { isAbsolute, resolve } from "node:path";
import {
  ArgumentError,
  type BuiltinTool,
  errorResult,
  formatBytes,
  optionalNumber,
  optionalString,
  requireString,
  textResult,
} from "./common.ts";
import type { ToolResult } from "../mcp/types.ts";

/** Default timeout of one command (config `timeout` overrides it). */
export const DEFAULT_SHELL_TIMEOUT_MS = 30_000;
/** Longest timeout a call may ask for. */
export const MAX_SHELL_TIMEOUT_MS = 600_000;
/** Most output kept; beyond it the head is dropped and the tail kept. */
export const MAX_OUTPUT_BYTES = 64 * 1024;

/** Options of {@link shellTools}. */
export interface ShellOptions {
  /** Directory commands run in, and relative `cwd` arguments are resolved against. */
  cwd: string;
  /** Default timeout of one command, in milliseconds. */
  timeoutMs: number;
  /** Output cap in bytes (tests lower it); default {@link MAX_OUTPUT_BYTES}. */
  maxOutputBytes?: number;
}

/** What a finished (or stopped) command produced. */
export interface ShellOutcome {
  /** Exit code, or null when the command was killed. */
  exitCode: number | null;
  /** The signal that ended it, when one did. */
  signal: string | null;
  /** Merged stdout/stderr (its tail when it exceeded the cap), decoded as UTF-8. */
  output: string;
  /** Bytes the command wrote in total. */
  totalBytes: number;
  /** Bytes kept (the tail). */
  keptBytes: number;
  /** True when output was dropped. */
  truncated: boolean;
  /** Why the command was stopped early, if it was. */
  stopped?: "timeout" | "cancelled";
  /** The shell's process id (for diagnostics and tests). */
  pid: number;
}

/** The tools of a `shell` toolset: `shell(cmd, cwd?, timeout?)`. */
export function shellTools(options: ShellOptions): BuiltinTool[] {
  const defaultSeconds = options.timeoutMs / 1000;
  return [{
    info: {
      name: "shell",
      description: "Run a shell command (sh -c; cmd /c on Windows) and return its combined " +
        "stdout and stderr and its exit code. stdin is closed, so interactive commands get " +
        `end-of-file. Default timeout ${defaultSeconds} s; at most the last ` +
        `${formatBytes(options.maxOutputBytes ?? MAX_OUTPUT_BYTES)} of output is returned. ` +
        "Processes the command leaves running are stopped when it ends.",
      inputSchema: {
        type: "object",
        properties: {
          cmd: { type: "string", description: "The command line to run" },
          cwd: {
            type: "string",
            description: "Working directory (relative to the agent's working directory)",
          },
          timeout: {
            type: "number",
            exclusiveMinimum: 0,
            maximum: MAX_SHELL_TIMEOUT_MS / 1000,
            description: `Timeout in seconds (default ${defaultSeconds})`,
          },
        },
        required: ["cmd"],
      },
      annotations: { title: "Shell", readOnlyHint: false, destructiveHint: true },
    },
    async run(args, signal) {
      const cmd = requireString(args, "cmd");
      if (!cmd.trim()) throw new ArgumentError(`argument "cmd" must not be empty`);
      const dir = optionalString(args, "cwd");
      const seconds = optionalNumber(args, "timeout");
      if (seconds !== undefined && !(seconds > 0 && seconds * 1000 <= MAX_SHELL_TIMEOUT_MS)) {
        throw new ArgumentError(
          `argument "timeout" must be between 0 and ${MAX_SHELL_TIMEOUT_MS / 1000} seconds`,
        );
      }
      const cwd = dir === undefined
        ? options.cwd
        : isAbsolute(dir)
        ? dir
        : resolve(options.cwd, dir);
      try {
        if (!(await Deno.stat(cwd)).isDirectory) {
          return errorResult(`working directory ${JSON.stringify(dir)} is not a directory`);
        }
      } catch {
        return errorResult(`working directory ${JSON.stringify(dir ?? cwd)} does not exist`);
      }
      const timeoutMs = seconds === undefined ? options.timeoutMs : Math.round(seconds * 1000);
      let outcome: ShellOutcome;
      try {
        outcome = await runCommand(cmd, {
          cwd,
          timeoutMs,
          signal,
          maxOutputBytes: options.maxOutputBytes ?? MAX_OUTPUT_BYTES,
        });
      } catch (error) {
        return errorResult(`could not start the shell: ${(error as Error).message}`);
      }
      return describe(outcome, timeoutMs);
    },
  }];
}

/** Options of {@link runCommand}. */
export interface RunOptions {
  cwd: string;
  timeoutMs: number;
  signal?: AbortSignal;
  maxOutputBytes: number;
}

/**
 * Runs `cmd` through the platform shell and waits for it, killing its whole process
 * group on timeout or abort. Rejects only when the shell cannot be spawned.
 */
export async function runCommand(cmd: string, options: RunOptions): Promise<ShellOutcome> {
  const windows = Deno.build.os === "windows";
  const child = new Deno.Command(windows ? "cmd" : "sh", {
    args: windows ? ["/d", "/s", "/c", cmd] : ["-c", cmd],
    cwd: options.cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    // Its own session and process group on POSIX, so the group can be signalled as one.
    detached: !windows,
  }).spawn();

  const tail = new Tail(options.maxOutputBytes);
  let stopped: ShellOutcome["stopped"];
  let markStopped = () => {};
  const stoppedEarly = new Promise<void>((resolve) => (markStopped = resolve));
  const stop = (why: "timeout" | "cancelled") => {
    stopped ??= why;
    killTree(child);
    markStopped();
  };
  const timer = setTimeout(() => stop("timeout"), options.timeoutMs);
  const onAbort = () => stop("cancelled");
  options.signal?.addEventListener("abort", onAbort, { once: true });
  if (options.signal?.aborted) onAbort();

  const readers = [drain(child.stdout, tail), drain(child.stderr, tail)];
  try {
    const status = await child.status;
    // Whatever the command left running in its group goes with it; this also closes the
    // pipes those processes held, so the readers finish. A process that left the group
    // (setsid) may still hold them: the deadline then cancels the reads.
    killTree(child);
    await Promise.race([Promise.all(readers.map((reader) => reader.done)), stoppedEarly]);
    await Promise.all(readers.map((reader) => reader.cancel()));
    return {
      exitCode: status.signal === null ? status.code : null,
      signal: status.signal,
      output: tail.text(),
      totalBytes: tail.total,
      keptBytes: tail.kept,
      truncated: tail.truncated,
      stopped,
      pid: child.pid,
    };
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", onAbort);
  }
}

/** SIGKILLs the child's process group (POSIX) or its process tree (Windows). */
function killTree(child: Deno.ChildProcess): void {
  try {
    if (Deno.build.os === "windows") {
      new Deno.Command("taskkill", {
        args: ["/pid", String(child.pid), "/t", "/f"],
        stdout: "null",
        stderr: "null",
      }).spawn();
    } else {
      Deno.kill(-child.pid, "SIGKILL");
    }
  } catch {
    // The group is already gone.
  }
}

/** Reads a pipe into `tail` until it ends; `cancel()` stops early and waits for the loop. */
function drain(
  stream: ReadableStream<Uint8Array>,
  tail: Tail,
): { done: Promise<void>; cancel(): Promise<void> } {
  const reader = stream.getReader();
  const done = (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        tail.push(value);
      }
    } catch {
      // Cancelled, or the pipe broke: what was read is kept.
    } finally {
      reader.releaseLock();
    }
  })();
  return {
    done,
    async cancel() {
      await reader.cancel().catch(() => {});
      await done;
    },
  };
}

/** Keeps the last `cap` bytes written to it. */
class Tail {
  readonly #cap: number;
  #chunks: Uint8Array[] = [];
  #kept = 0;
  total = 0;

  constructor(cap: number) {
    this.#cap = cap;
  }

  get kept(): number {
    return this.#kept;
  }

  get truncated(): boolean {
    return this.total > this.#kept;
  }

  push(chunk: Uint8Array): void {
    this.total += chunk.length;
    this.#chunks.push(chunk);
    this.#kept += chunk.length;
    while (this.#kept - this.#chunks[0].length >= this.#cap) {
      this.#kept -= this.#chunks.shift()!.length;
    }
    if (this.#kept > this.#cap) {
      const excess = this.#kept - this.#cap;
      this.#chunks[0] = this.#chunks[0].subarray(excess);
      this.#kept -= excess;
    }
  }

  text(): string {
    const bytes = new Uint8Array(this.#kept);
    let offset = 0;
    for (const chunk of this.#chunks) {
      bytes.set(chunk, offset);
      offset += chunk.length;
    }
    // A cut may split a UTF-8 sequence at the start: the decoder replaces it with U+FFFD.
    return new TextDecoder().decode(bytes);
  }
}

function describe(outcome: ShellOutcome, timeoutMs: number): ToolResult {
  const parts: string[] = [];
  if (outcome.truncated) {
    parts.push(
      `[output truncated: showing the last ${
        formatBytes(outcome.keptBytes)
      } of ${outcome.totalBytes} bytes]`,
    );
  }
  if (outcome.output) parts.push(outcome.output.replace(/\n$/, ""));
  const structured = { exit_code: outcome.exitCode, signal: outcome.signal };
  if (outcome.stopped === "timeout") {
    parts.push(`[timed out after ${timeoutMs / 1000} s; the command was killed]`);
    return errorResult(parts.join("\n"), { ...structured, timed_out: true });
  }
  if (outcome.stopped === "cancelled") {
    parts.push("[cancelled; the command was killed]");
    return errorResult(parts.join("\n"), structured);
  }
  parts.push(
    outcome.exitCode === null ? `[killed by ${outcome.signal}]` : `[exit code ${outcome.exitCode}]`,
  );
  return outcome.exitCode === 0
    ? textResult(parts.join("\n"), structured)
    : errorResult(parts.join("\n"), structured);
}
