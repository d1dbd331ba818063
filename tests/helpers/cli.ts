/**
 * Running dagent the way a user does, for the CLI tests: `deno run --allow-all main.ts …`
 * in a subprocess with no terminal, its output captured.
 * @module
 */
import { fileURLToPath } from "node:url";

/** Absolute path of main.ts. */
export const MAIN = fileURLToPath(new URL("../../main.ts", import.meta.url));

/** What a run printed and how it ended. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Options of {@link runDagent}. */
export interface RunOptions {
  /** Environment of the run (NO_COLOR=1 is always set). */
  env?: Record<string, string>;
  cwd?: string;
}

/** Runs `dagent ARGS` to completion with stdin closed. */
export async function runDagent(args: string[], options: RunOptions = {}): Promise<CliRun> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", MAIN, ...args],
    env: { NO_COLOR: "1", ...options.env },
    cwd: options.cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}
