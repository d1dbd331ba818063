/**
 * dagent — run AI agents described in YAML, connected to MCP servers local and remote.
 *
 * Entry point of the CLI (`deno run main.ts …` and `deno compile`). The work is in
 * lib/cli; this file only hands it the arguments and exits with its code.
 * @module
 */
import { runCli } from "./lib/cli/main.ts";

if (import.meta.main) {
  Deno.exit(await runCli(Deno.args));
}
