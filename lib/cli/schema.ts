/**
 * `dagent schema`: prints the config JSON Schema (draft-07), e.g. for an editor's
 * `# yaml-language-server: $schema=` line or a CI check.
 * @module
 */
import { ExitCode } from "../errors.ts";
import schema from "../../schema/agent-schema.json" with { type: "json" };
import { expectPositionals, type FlagSpecs, parseFlags, renderHelp } from "./args.ts";

const USAGE = "dagent schema";
const FLAGS: FlagSpecs = {};

/** Runs `dagent schema` with the arguments after the command name. */
export function run(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags("schema", args, FLAGS);
  if (values.help) {
    console.log(renderHelp(
      USAGE,
      "Print the JSON Schema (draft-07) of dagent config files. Save it and point your\n" +
        "editor at it with '# yaml-language-server: $schema=PATH' on a config's first line.",
      FLAGS,
    ));
    return Promise.resolve(ExitCode.Ok);
  }
  expectPositionals("schema", positionals, 0, 0, USAGE);
  console.log(JSON.stringify(schema, null, 2));
  return Promise.resolve(ExitCode.Ok);
}
