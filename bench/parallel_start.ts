/**
 * Benchmark 4, parallel start: ten remote toolsets, each on its own fixture MCP server
 * answering every HTTP request 200 ms late, started the way `dagent mcp` starts them
 * ({@link startToolsets}) and listed; time until all are ready, divided by the time one
 * toolset alone needs. Target ≤ 1.3: servers are started side by side, not one by one.
 * @module
 */
import { createToolset, startToolsets } from "../lib/mcp/toolsets.ts";
import type { Toolset } from "../lib/mcp/types.ts";
import { median, ratio } from "./report.ts";
import type { BenchResult } from "./report.ts";
import { spawnChildServer } from "./child.ts";

const slowServerModule = new URL("./slow_server.ts", import.meta.url).pathname;

/** Target ratio of all-ready to one-ready. */
const TARGET = 1.3;

function remoteToolset(url: string, index: number): Toolset {
  const name = `slow-${index + 1}`;
  return createToolset({ type: "mcp", name, remote: { url } }, { name });
}

/** Milliseconds until every toolset is started and has listed its tools. */
async function timeReady(toolsets: Toolset[]): Promise<number> {
  const started = performance.now();
  const results = await startToolsets(toolsets);
  const failed = results.find((r) => !r.ok);
  if (failed && !failed.ok) throw failed.error;
  await Promise.all(toolsets.map((toolset) => toolset.listTools()));
  const elapsed = performance.now() - started;
  await Promise.all(toolsets.map((toolset) => toolset.stop()));
  return elapsed;
}

/** Times of one toolset alone and of `count` together (medians of `rounds`). */
export interface ParallelStartTimes {
  oneMs: number;
  allMs: number;
  count: number;
}

/**
 * Measures one toolset vs `count` toolsets on servers `latencyMs` late per request. The
 * servers run in a child process (as remote servers would, they do not share dagent's CPU).
 */
export async function measureParallelStart(
  count = 10,
  latencyMs = 200,
  rounds = 3,
): Promise<ParallelStartTimes> {
  const servers = await spawnSlowServers(count, latencyMs);
  try {
    // Warm-up: first connections compile the SDK's code paths.
    await timeReady([remoteToolset(servers.urls[0], 0)]);
    const one: number[] = [];
    const all: number[] = [];
    for (let round = 0; round < rounds; round++) {
      one.push(await timeReady([remoteToolset(servers.urls[round % count], 0)]));
      all.push(await timeReady(servers.urls.map((url, i) => remoteToolset(url, i))));
    }
    return { oneMs: median(one), allMs: median(all), count };
  } finally {
    await servers.close();
  }
}

/** Runs bench/slow_server.ts as a child process serving `count` slow servers until stdin closes. */
async function spawnSlowServers(
  count: number,
  latencyMs: number,
): Promise<{ urls: string[]; close(): Promise<void> }> {
  const { report, close } = await spawnChildServer(slowServerModule, [
    String(count),
    String(latencyMs),
  ]);
  const urls = Array.isArray(report) ? report as string[] : [];
  if (urls.length !== count) {
    await close();
    throw new Error("parallel start: the server process did not report its URLs");
  }
  return { urls, close };
}

/** Runs {@link measureParallelStart}; the figure is all-ready / one-ready. */
export async function runParallelStartBench(): Promise<BenchResult> {
  const { oneMs, allMs, count } = await measureParallelStart();
  const value = allMs / oneMs;
  return {
    name: `parallel start (${count} toolsets, +200 ms/request)`,
    figure: ratio(value),
    target: `≤ ${TARGET}x`,
    ok: value <= TARGET,
    note: `one ${Math.round(oneMs)} ms, all ${Math.round(allMs)} ms`,
  };
}
