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
