/**
 * The error base shared by every dagent module, and the process exit codes.
 *
 * A {@link DagentError} is a mistake or failure the user can act on: the CLI prints
 * its message (and hint) on one line each and exits with its code — never a stack
 * trace. Anything else that escapes is a bug and is reported as such.
 * @module
 */

/** Process exit codes of the dagent CLI. */
export const ExitCode = {
  /** Everything worked. */
  Ok: 0,
  /** The operation failed (a server, a tool, a sign-in, a model). */
  Failed: 1,
  /** The command line or the config is wrong; nothing was attempted. */
  Usage: 2,
} as const;

/** One of {@link ExitCode}'s values. */
export type ExitCodeValue = typeof ExitCode[keyof typeof ExitCode];

/** Options of a {@link DagentError}. */
export interface DagentErrorOptions {
  /** What the user should do next, printed after the message. */
  hint?: string;
  /** Exit code; defaults to {@link ExitCode.Failed}. */
  exitCode?: ExitCodeValue;
  /** A stable machine-readable code, e.g. `oauth.no_registration`. */
  code?: string;
  /** The underlying error, kept for `--debug` output only. */
  cause?: unknown;
}

/** An error the user can act on; its message is safe to print (no secrets, no raw bodies). */
export class DagentError extends Error {
  /** What to do next, or undefined. */
  readonly hint?: string;
  /** The exit code the CLI ends with. */
  readonly exitCode: ExitCodeValue;
  /** Stable code for tests and `--json` output. */
  readonly code: string;

  constructor(message: string, options: DagentErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = "DagentError";
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? ExitCode.Failed;
    this.code = options.code ?? "error";
  }
}

/** A usage error: bad flags or arguments (exit code 2). */
export class UsageError extends DagentError {
  constructor(message: string, hint?: string) {
    super(message, { hint, exitCode: ExitCode.Usage, code: "usage" });
    this.name = "UsageError";
  }
}

/** A Deno permission that was missing: what access, and the flag that grants it. */
export interface MissingPermission {
  /** E.g. `env access to "OSTYPE"`, or `run access` when Deno names no target. */
  access: string;
  /** E.g. `--allow-env=OSTYPE`. */
  flag: string;
  /** Deno's own error (PermissionDenied, or NotCapable under a narrowed `--allow-*`). */
  denied: Error;
}

/**
 * The missing Deno permission behind `error` (the error itself or its cause), or undefined.
 * Reads Deno's message: `Requires net access to "host:port", run again with the --allow-net
 * flag`.
 */
export function missingPermission(error: unknown): MissingPermission | undefined {
  const isPermission = (e: unknown): e is Error =>
    e instanceof Deno.errors.PermissionDenied || e instanceof Deno.errors.NotCapable;
  const denied = isPermission(error)
    ? error
    : error instanceof Error && isPermission(error.cause)
    ? error.cause
    : undefined;
  if (!denied) return undefined;
  const match = /Requires (\w+) access(?: to "([^"]*)")?, run again with the (--allow-[\w-]+)/
    .exec(denied.message);
  if (!match) {
    return { access: denied.message.split("\n")[0], flag: "the flag named above", denied };
  }
  return {
    access: `${match[1]} access${match[2] ? ` to "${match[2]}"` : ""}`,
    flag: match[2] ? `${match[3]}=${match[2]}` : match[3],
    denied,
  };
}

/** The hint for a {@link MissingPermission}. */
export function permissionHint(missing: MissingPermission): string {
  return `add ${missing.flag} (see 'dagent permissions CONFIG')`;
}

/**
 * `${subject}: missing permission: …` with the flag to add, when `error` is (or was caused
 * by) a missing Deno permission; else undefined. Subject: e.g. `toolset "slack"`.
 */
export function permissionError(subject: string, error: unknown): DagentError | undefined {
  const missing = missingPermission(error);
  if (!missing) return undefined;
  return new DagentError(`${subject}: missing permission: ${missing.access}`, {
    code: "permission",
    hint: permissionHint(missing),
    cause: missing.denied,
  });
}
