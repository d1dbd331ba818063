/**
 * The CLI dispatcher: maps the first argument to a command module, loaded lazily so
 * that `dagent --help` and `dagent validate` never import the MCP SDK, and turns
 * errors into one-line messages with distinct exit codes.
 * @module
 */
import { DagentError, ExitCode, missingPermission, permissionHint, UsageError } from "../errors.ts";
import { nearest } from "../suggest.ts";

/** A command module: runs with the arguments after the command name, returns the exit code. */
export interface CommandModule {
  run(args: string[]): Promise<number>;
}

interface CommandEntry {
  summary: string;
  /** The command's module, relative to this file. */
  module: string;
  /** The module's export that runs the command (default `run`). */
  entry?: "run" | "exec";
}

/** dagent's version, printed by `dagent version`. */
export const VERSION = "0.1.0";

const COMMANDS: Record<string, CommandEntry> = {
  run: {
    summary: "Chat with an agent of a config (streamed answers, tool calls, sign-ins)",
    module: "./run.ts",
  },
  exec: {
    summary: "Run one turn of an agent to completion: answer on stdout, progress on stderr",
    module: "./run.ts",
    entry: "exec",
  },
  validate: {
    summary: "Check a config file and report every problem as FILE:LINE:COL",
    module: "./validate.ts",
  },
  schema: {
    summary: "Print the config JSON Schema (for editors and CI)",
    module: "./schema.ts",
  },
  auth: {
    summary:
      "Sign in to a config's remote MCP servers ahead of time (auth login | status | logout)",
    module: "./auth.ts",
  },
  mcp: {
    summary: "List or call the tools of a config's MCP servers (mcp tools | mcp call)",
    module: "./mcp.ts",
  },
  audit: {
    summary: "Verify or show a tamper-evident audit log (audit verify | audit show)",
    module: "./audit.ts",
  },
  permissions: {
    summary: "Print the narrowest Deno permission flags a config needs (for deno run / compile)",
    module: "./permissions.ts",
  },
};

/**
 * Loads a command's module. The specifier is computed on purpose: a literal `import("./x.ts")`
 * is analysed ahead of time, so Deno would load every command's dependencies (the MCP SDK,
 * yaml) even for `dagent --help`. `deno compile` therefore needs `--include lib/cli`
 * (the compile task has it).
 */
async function loadCommand(entry: CommandEntry): Promise<CommandModule> {
  const specifier = new URL(entry.module, import.meta.url).href;
  const module = await import(specifier);
  return { run: module[entry.entry ?? "run"] };
}

function topLevelHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length), 7) + 2;
  const lines = Object.entries(COMMANDS).map(([name, entry]) =>
    `  ${name.padEnd(width)}${entry.summary}`
  );
  lines.push(`  ${"version".padEnd(width)}Print dagent's version`);
  lines.push(`  ${"help".padEnd(width)}Show this help, or a command's: dagent help COMMAND`);
  return [
    "dagent — run AI agents described in YAML, with MCP servers local and remote (OAuth included)",
    "",
    "Usage: dagent COMMAND [ARGS] [FLAGS]",
    "",
    "Commands:",
    ...lines,
    "",
    "Run 'dagent COMMAND --help' for a command's flags.",
    "Exit codes: 0 ok, 1 the operation failed, 2 usage or config error.",
    "",
  ].join("\n");
}

/** Runs the CLI with `args` (without the program name) and returns the exit code. */
export async function runCli(args: string[]): Promise<number> {
  try {
    return await dispatch(args);
  } catch (error) {
    return reportError(error);
  }
}

async function dispatch(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  if (command === undefined || command === "help" || command === "--help" || command === "-h") {
    if (command === "help" && rest[0] && COMMANDS[rest[0]]) {
      return (await loadCommand(COMMANDS[rest[0]])).run(["--help"]);
    }
    if (command === "help" && rest[0]) throw unknownCommand(rest[0]);
    console.log(topLevelHelp());
    return command === undefined ? ExitCode.Usage : ExitCode.Ok;
  }
  if (command === "version" || command === "--version" || command === "-V") {
    console.log(`dagent ${VERSION} (deno ${Deno.version.deno})`);
    return ExitCode.Ok;
  }
  const entry = COMMANDS[command];
  if (!entry) throw unknownCommand(command);
  const module = await loadCommand(entry);
  return await module.run(rest);
}

function unknownCommand(command: string): UsageError {
  const names = [...Object.keys(COMMANDS), "version", "help"];
  const guess = command.startsWith("-") ? undefined : nearest(command, names);
  return new UsageError(
    command.startsWith("-") ? `unknown flag '${command}'` : `unknown command '${command}'`,
    guess
      ? `did you mean 'dagent ${guess}'? Run 'dagent --help' for the list.`
      : "run 'dagent --help' for the list of commands",
  );
}

/** Prints an error the way the CLI does and returns its exit code. */
export function reportError(error: unknown): number {
  // Read without failing: under narrowed --allow-env DAGENT_DEBUG may not be readable.
  let debug: string | undefined;
  try {
    debug = Deno.env.get("DAGENT_DEBUG");
  } catch { /* not allowed: no debug output */ }
  if (
    error instanceof DagentError && !(error.cause instanceof Deno.errors.NotCapable) &&
    !(error.cause instanceof Deno.errors.PermissionDenied)
  ) {
    console.error(`dagent: ${error.message}`);
    if (error.hint) console.error(`hint: ${error.hint}`);
    if (debug && error.cause) console.error(error.cause);
    return error.exitCode;
  }
  // A missing Deno permission (PermissionDenied, or NotCapable when a narrowed --allow-*
  // flag was given), thrown directly or as the cause of another error.
  const missing = missingPermission(error);
  if (missing) {
    console.error(
      `dagent: ${
        error instanceof DagentError ? error.message : `missing permission: ${missing.access}`
      }`,
    );
    console.error(`hint: ${permissionHint(missing)}`);
    if (debug) console.error(missing.denied.stack);
    return error instanceof DagentError ? error.exitCode : ExitCode.Failed;
  }
  console.error(
    `dagent: internal error: ${error instanceof Error ? error.message : String(error)}`,
  );
  console.error("hint: this is a bug in dagent; rerun with DAGENT_DEBUG=1 for the stack trace");
  if (debug && error instanceof Error) console.error(error.stack);
  return ExitCode.Failed;
}
