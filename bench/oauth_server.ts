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
import { spawnChildServer } from "./child.ts";

/** A scenario served by a child process. */
export interface ChildScenario {
  mcpUrl: string;
  /** Stops the child (closing its stdin) and waits for it to exit. */
  close(): Promise<void>;
}

/** Spawns this module as a child process serving `scenario`. */
export async function spawnScenario(scenario: ScenarioName): Promise<ChildScenario> {
  const { report, close } = await spawnChildServer(import.meta.filename!, [scenario]);
  const mcpUrl = (report as { mcpUrl?: unknown } | undefined)?.mcpUrl;
  if (typeof mcpUrl !== "string") {
    await close();
    throw new Error(`the ${scenario} server process did not report its URL`);
  }
  return { mcpUrl, close };
}

if (import.meta.main) {
  const scenario = startOAuthScenario(Deno.args[0] as ScenarioName);
  console.log(JSON.stringify({ mcpUrl: scenario.mcpUrl }));
  for await (const _ of Deno.stdin.readable) { /* serve until the parent closes stdin */ }
  await scenario.close();
}
