/**
 * Flag parsing for every subcommand, on `node:util` parseArgs, with errors that say
 * what to type instead.
 * @module
 */
import { parseArgs } from "node:util";
import { UsageError } from "../errors.ts";
import { nearest } from "../suggest.ts";

/** One flag of a command. */
export interface FlagSpec {
  type: "string" | "boolean";
  short?: string;
  multiple?: boolean;
  /** One line for `--help`. */
  description: string;
  /** Placeholder shown in help for string flags, e.g. `URL`. */
  placeholder?: string;
}

/** The flags of a command, by long name. */
export type FlagSpecs = Record<string, FlagSpec>;

/** Parsed flags and positionals. */
export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

/**
 * Parses `args` strictly against `specs`. `--help`/`-h` is always accepted.
 * Unknown flags become a {@link UsageError} naming the nearest known flag.
 */
export function parseFlags(command: string, args: string[], specs: FlagSpecs): ParsedArgs {
  const options: Record<
    string,
    { type: "string" | "boolean"; short?: string; multiple?: boolean }
  > = { help: { type: "boolean", short: "h" } };
  for (const [name, spec] of Object.entries(specs)) {
    // node:util rejects `short: undefined` / `multiple: undefined`: set them only when given.
    options[name] = {
      type: spec.type,
      ...(spec.short !== undefined ? { short: spec.short } : {}),
      ...(spec.multiple !== undefined ? { multiple: spec.multiple } : {}),
    };
  }
  try {
    const { values, positionals } = parseArgs({
      args,
      options,
      strict: true,
      allowPositionals: true,
    });
    return { values: values as ParsedArgs["values"], positionals };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const unknown = /Unknown option '(-{1,2}[^']+)'/.exec(message)?.[1];
    if (unknown) {
      const guess = nearest(unknown.replace(/^-+/, "").split("=")[0], Object.keys(options));
      throw new UsageError(
        `${command}: unknown flag ${unknown}`,
        guess
          ? `did you mean --${guess}? See 'dagent ${command} --help'.`
          : `see 'dagent ${command} --help'`,
      );
    }
    const missing = /Option '(-[^']+)' argument missing/.exec(message)?.[1];
    if (missing) {
      throw new UsageError(
        `${command}: ${missing} needs a value`,
        `see 'dagent ${command} --help'`,
      );
    }
    throw new UsageError(`${command}: ${message.split("\n")[0]}`, `see 'dagent ${command} --help'`);
  }
}

/** Renders the help text of a command from its usage line, description and flags. */
export function renderHelp(usage: string, description: string, specs: FlagSpecs): string {
  const rows = Object.entries(specs).map(([name, spec]) => {
    const short = spec.short ? `-${spec.short}, ` : "    ";
    const value = spec.type === "string" ? ` ${spec.placeholder ?? "VALUE"}` : "";
    return [`  ${short}--${name}${value}`, spec.description] as const;
  });
  rows.push(["  -h, --help", "Show this help"]);
  const width = Math.max(...rows.map(([left]) => left.length)) + 2;
  const flags = rows.map(([left, right]) => left.padEnd(width) + right).join("\n");
  return `Usage: ${usage}\n\n${description}\n\nFlags:\n${flags}\n`;
}

/** Throws a {@link UsageError} unless exactly `min`..`max` positionals were given. */
export function expectPositionals(
  command: string,
  positionals: string[],
  min: number,
  max: number,
  usage: string,
): void {
  if (positionals.length < min) {
    throw new UsageError(`${command}: missing argument`, `usage: ${usage}`);
  }
  if (positionals.length > max) {
    throw new UsageError(
      `${command}: unexpected argument '${positionals[max]}'`,
      `usage: ${usage}`,
    );
  }
}
