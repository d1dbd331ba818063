/**
 * An OAuth fixture scenario (authorization server + protected MCP server) in its own
 * process, so a benchmark's client does not share its CPU with the server it measures.
 *
 * Run: `deno run --allow-net bench/oauth_server.ts SCENARIO` — prints `{"mcpUrl": …}` on
 * one line and serves until stdin closes.
 * @module
 */
import { startOAuthScenario } from "../fixtures/oauth/mod.ts";
import type { ScenarioName } from "../fixtures/oauth/mod.ts";

/** A scenario served by a child process. */
export interface ChildScenario {
  mcpUrl: string;
  /** Stops the child (closing its stdin) and waits for it to exit. */
  close(): Promise<void>;
}

/** Spawns this module as a child process serving `scenario`. */
export async function spawnScenario(scenario: ScenarioName): Promise<ChildScenario> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", import.meta.filename!, scenario],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { done, value } = await reader.read();
    if (done) break;
    text += value;
  }
  await reader.cancel();
  const close = async () => {
    await child.stdin.close();
    await child.status;
  };
  try {
    const { mcpUrl } = JSON.parse(text.split("\n")[0]);
    if (typeof mcpUrl !== "string") throw new Error("no mcpUrl");
    return { mcpUrl, close };
  } catch {
    await close();
    throw new Error(`the ${scenario} server process did not report its URL`);
  }
}

if (import.meta.main) {
  const scenario = startOAuthScenario(Deno.args[0] as ScenarioName);
  console.log(JSON.stringify({ mcpUrl: scenario.mcpUrl }));
  for await (const _ of Deno.stdin.readable) { /* serve until the parent closes stdin */ }
  await scenario.close();
}
