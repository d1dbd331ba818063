/**
 * `dagent validate FILE...`: checks config files and prints every problem as
 * `FILE:LINE:COL: message` (with a `hint:` line where one helps), or `FILE: ok`.
 * Exits 2 when any file has a problem.
 * @module
 */
import { ExitCode } from "../errors.ts";
import { ConfigError, type ConfigProblem, formatProblem, loadConfig } from "../config/mod.ts";
import { expectPositionals, type FlagSpecs, parseFlags, renderHelp } from "./args.ts";

const USAGE = "dagent validate FILE... [--json]";

const FLAGS: FlagSpecs = {
  json: { type: "boolean", description: "Print the result as JSON: { ok, files: [...] }" },
};

/** The result for one file, as printed by `--json`. */
export interface FileResult {
  file: string;
  ok: boolean;
  problems: ConfigProblem[];
}

/** Runs `dagent validate` with the arguments after the command name. */
export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags("validate", args, FLAGS);
  if (values.help) {
    console.log(renderHelp(
      USAGE,
      "Check config files against the schema and the semantic rules (model and sub-agent\n" +
        "references, OAuth settings, ${VAR} references). Every problem is printed as\n" +
        "FILE:LINE:COL: message. Exit code 2 when any file has a problem.",
      FLAGS,
    ));
    return ExitCode.Ok;
  }
  expectPositionals("validate", positionals, 1, Infinity, USAGE);

  const results: FileResult[] = [];
  for (const file of positionals) results.push(await check(file));

  if (values.json) {
    const ok = results.every((r) => r.ok);
    console.log(JSON.stringify({ ok, files: results }, null, 2));
  } else {
    for (const result of results) {
      if (result.ok) console.log(`${result.file}: ok`);
      else for (const problem of result.problems) console.log(formatProblem(problem));
    }
    const count = results.reduce((n, r) => n + r.problems.length, 0);
    const failed = results.filter((r) => !r.ok).length;
    if (count > 0) {
      console.error(
        `dagent: ${count} problem${count === 1 ? "" : "s"} in ${failed} file${
          failed === 1 ? "" : "s"
        }`,
      );
    }
  }
  return results.every((r) => r.ok) ? ExitCode.Ok : ExitCode.Usage;
}

async function check(file: string): Promise<FileResult> {
  try {
    await loadConfig(file);
    return { file, ok: true, problems: [] };
  } catch (error) {
    if (error instanceof ConfigError) return { file, ok: false, problems: error.problems };
    throw error;
  }
}
