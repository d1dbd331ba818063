/**
 * Flag parsing for every subcommand, with errors that say what to type instead.
 *
 * A small parser of its own rather than `node:util` parseArgs: importing any `node:` module
 * starts Deno's Node compatibility layer, about a third of the start-up of a command that
 * otherwise needs none of it (`dagent validate`, `dagent --help`; see bench/startup.ts).
 * @module
 */
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

const HELP: FlagSpec = { type: "boolean", short: "h", description: "Show this help" };

/**
 * Parses `args` strictly against `specs`. `--help`/`-h` is always accepted.
 *
 * Accepted forms: `--name value`, `--name=value`, `-n value`, `-nvalue`, grouped boolean
 * short flags (`-yh`), and `--` to end the flags (everything after it is positional; so is
 * a lone `-`). A flag with `multiple` collects every occurrence in order; otherwise the
 * last occurrence wins. Unknown flags become a {@link UsageError} naming the nearest known
 * flag; a string flag without a value, or a boolean flag given one, is a UsageError too.
 */
export function parseFlags(command: string, args: string[], specs: FlagSpecs): ParsedArgs {
  const all: FlagSpecs = { help: HELP, ...specs };
  const byShort = new Map<string, string>();
  for (const [name, spec] of Object.entries(all)) {
    if (spec.short) byShort.set(spec.short, name);
  }
  const values: ParsedArgs["values"] = {};
  const positionals: string[] = [];
  const seeHelp = `see 'dagent ${command} --help'`;

  const set = (name: string, value: string | boolean) => {
    if (all[name].multiple) {
      const list = values[name];
      values[name] = Array.isArray(list) ? [...list, String(value)] : [String(value)];
    } else {
      values[name] = value;
    }
  };
  /** The value of string flag `shown` from `inline` or the next argument. */
  const stringValue = (shown: string, inline: string | undefined, index: number): string => {
    if (inline !== undefined) return inline;
    const next = args[index + 1];
    if (next === undefined) throw new UsageError(`${command}: ${shown} needs a value`, seeHelp);
    if (next.startsWith("-") && next !== "-") {
      throw new UsageError(
        `${command}: ${shown} needs a value, and '${next}' looks like a flag`,
        `if it is the value, write ${shown}=${next}`,
      );
    }
    return next;
  };

  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
      const inline = eq === -1 ? undefined : arg.slice(eq + 1);
      const spec = Object.hasOwn(all, name) ? all[name] : undefined;
      if (!spec) throw unknownFlag(command, `--${name}`, name, Object.keys(all));
      if (spec.type === "boolean") {
        if (inline !== undefined) {
          throw new UsageError(`${command}: --${name} takes no value`, seeHelp);
        }
        set(name, true);
      } else {
        set(name, stringValue(`--${name}`, inline, i));
        if (inline === undefined) i++;
      }
      continue;
    }
    if (arg.startsWith("-") && arg !== "-") {
      // A group of short flags: booleans, optionally ending in one string flag whose value
      // is the rest of the group or the next argument.
      for (let j = 1; j < arg.length; j++) {
        const letter = arg[j];
        const name = byShort.get(letter);
        if (!name) throw unknownFlag(command, `-${letter}`, letter, Object.keys(all));
        if (all[name].type === "boolean") {
          set(name, true);
          continue;
        }
        const rest = arg.slice(j + 1);
        set(name, stringValue(`-${letter}`, rest === "" ? undefined : rest, i));
        if (rest === "") i++;
        break;
      }
      continue;
    }
    positionals.push(arg);
  }
  return { values, positionals };
}

function unknownFlag(command: string, shown: string, name: string, known: string[]): UsageError {
  const guess = nearest(name, known);
  return new UsageError(
    `${command}: unknown flag ${shown}`,
    guess
      ? `did you mean --${guess}? See 'dagent ${command} --help'.`
      : `see 'dagent ${command} --help'`,
  );
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
