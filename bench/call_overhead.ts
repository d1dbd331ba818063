/**
 * Benchmark 5, per-call overhead: sequential `tools/call` through dagent's full stack
 * (OAuth-aware fetch with a stored token, guarded fetch, toolset, allow-list) against the
 * raw SDK client sending the same bearer token, on the same OAuth-protected fixture server
 * (in a child process). Measured in alternating blocks (ABAB…) after a warm-up so drift
 * (JIT, GC, the machine) hits both alike; p50 and p99 ratios. The whole measurement runs
 * three times and the median of each ratio is the figure: on a busy 2-core machine one run
 * in a few is off by 10% either way. Target: p50 ≤ 1.05.
 * @module
 */
import { createOAuthFetch, ServerAuth } from "../lib/oauth/fetch.ts";
import { MemoryTokenStore } from "../lib/oauth/store.ts";
import { createToolset, DEFAULT_REQUEST_TIMEOUT_MS } from "../lib/mcp/toolsets.ts";
import { DEFAULT_MAX_RESPONSE_BYTES, guardFetch } from "../lib/mcp/remote.ts";
// @ts-types="@modelcontextprotocol/sdk/client/index"
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { Toolset } from "../lib/mcp/types.ts";
import { dagentContext } from "./harness.ts";
import { spawnScenario } from "./oauth_server.ts";
import { connectRawSdkClient } from "./sdk_provider.ts";
import { median, percentile, ratio } from "./report.ts";
import type { BenchResult } from "./report.ts";

/** Target p50 ratio. */
const TARGET_P50 = 1.05;

/** Latencies in ms of each call, per client. */
export interface OverheadSamples {
  dagent: number[];
  sdk: number[];
  /** With `layers`: the SDK client on dagent's guarded fetch only (deadlines, size cap). */
  guardOnly?: number[];
  /** With `layers`: the SDK client on dagent's OAuth-aware fetch only. */
  oauthOnly?: number[];
}

/** Options of {@link measureCallOverhead}. */
export interface OverheadOptions {
  /** Calls per client (default 1000). */
  calls?: number;
  /** Calls per block; blocks alternate between the clients (default 50). */
  block?: number;
  /** Warm-up calls per client, not counted (default 200). */
  warmup?: number;
  /** Also time the two fetch layers alone, to tell where the overhead is. */
  layers?: boolean;
}

/** Runs the interleaved measurement and returns every call's latency. */
export async function measureCallOverhead(options: OverheadOptions = {}): Promise<OverheadSamples> {
  const calls = options.calls ?? 1000;
  const block = options.block ?? 50;
  const warmup = options.warmup ?? 200;
  const server = await spawnScenario("dcr");
  let toolset: Toolset | undefined;
  let raw: Client | undefined;
  const extra: Client[] = [];
  try {
    const store = new MemoryTokenStore();
    const auth = new ServerAuth(dagentContext(store), { serverUrl: server.mcpUrl, server: "dcr" });
    toolset = createToolset(
      { type: "mcp", name: "dcr", tools: ["echo", "whoami"], remote: { url: server.mcpUrl } },
      { name: "dcr", fetch: createOAuthFetch(auth) },
    );
    await toolset.start(); // signs in
    const token = await store.loadToken(server.mcpUrl);
    if (!token) throw new Error("call overhead: the sign-in stored no token");
    raw = await connectRawSdkClient(server.mcpUrl, token.accessToken);
    if (options.layers) {
      const guarded = guardFetch(fetch, {
        name: "dcr",
        timeoutMs: DEFAULT_REQUEST_TIMEOUT_MS,
        maxBytes: DEFAULT_MAX_RESPONSE_BYTES,
      });
      extra.push(await connectRawSdkClient(server.mcpUrl, token.accessToken, guarded));
      extra.push(await connectRawSdkClient(server.mcpUrl, undefined, createOAuthFetch(auth)));
    }

    const args = { text: "hello" };
    const viaDagent = toolset;
    const sdkCall = (client: Client) => async () => {
      const result = await client.callTool({ name: "echo", arguments: args });
      if (result.isError) throw new Error("call overhead: the SDK's echo failed");
    };
    const clients: Array<[keyof OverheadSamples, () => Promise<void>]> = [
      ["dagent", async () => {
        const result = await viaDagent.callTool("echo", args);
        if (result.isError) throw new Error("call overhead: dagent's echo failed");
      }],
      ["sdk", sdkCall(raw)],
      ...(extra.length
        ? [["guardOnly", sdkCall(extra[0])], ["oauthOnly", sdkCall(extra[1])]] as Array<
          [keyof OverheadSamples, () => Promise<void>]
        >
        : []),
    ];
    const samples: OverheadSamples = { dagent: [], sdk: [] };
    for (const [key, call] of clients) {
      await timeCalls(call, warmup);
      samples[key] = [];
    }
    for (let done = 0, round = 0; done < calls; done += block, round++) {
      const n = Math.min(block, calls - done);
      // Rotate which client goes first, so none always follows another.
      for (let i = 0; i < clients.length; i++) {
        const [key, call] = clients[(i + round) % clients.length];
        samples[key]!.push(...await timeCalls(call, n));
      }
    }
    return samples;
  } finally {
    for (const client of extra) await client.close();
    await raw?.close();
    await toolset?.stop();
    await server.close();
  }
}

async function timeCalls(call: () => Promise<void>, count: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await call();
    times.push(performance.now() - started);
  }
  return times;
}

/**
 * Runs {@link measureCallOverhead} `repeats` times (default 3); the figure is the median of
 * dagent's p50 and p99 over the SDK's, the note has every run's p50 ratio and the layers.
 */
export async function runCallOverheadBench(
  options: OverheadOptions & { repeats?: number } = {},
): Promise<BenchResult> {
  const runs: Array<{ p50: number; p99: number; calls: number; note: string }> = [];
  for (let run = 0; run < (options.repeats ?? 3); run++) {
    const { dagent, sdk, guardOnly, oauthOnly } = await measureCallOverhead({
      layers: true,
      ...options,
    });
    const base = percentile(sdk, 50);
    const added = (samples: number[]) => {
      const micros = Math.round((percentile(samples, 50) - base) * 1000);
      return `${micros >= 0 ? "+" : ""}${micros} µs`;
    };
    const layers = guardOnly && oauthOnly
      ? `, alone: guarded fetch ${added(guardOnly)}, OAuth fetch ${added(oauthOnly)}`
      : "";
    runs.push({
      p50: percentile(dagent, 50) / base,
      p99: percentile(dagent, 99) / percentile(sdk, 99),
      calls: dagent.length,
      note: `raw SDK p50 ${base.toFixed(2)} ms, dagent ${added(dagent)}${layers}`,
    });
  }
  const p50 = median(runs.map((run) => run.p50));
  const p99 = median(runs.map((run) => run.p99));
  const middle = runs.find((run) => run.p50 === p50) ?? runs[0];
  return {
    name: `per-call overhead (${runs[0].calls} calls, median of ${runs.length} runs)`,
    figure: `p50 ${ratio(p50)}, p99 ${ratio(p99)}`,
    target: `p50 ≤ ${TARGET_P50}x`,
    ok: p50 <= TARGET_P50,
    note: `p50 per run ${runs.map((run) => ratio(run.p50)).join(", ")}; median run: ${middle.note}`,
  };
}
