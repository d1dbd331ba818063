/**
 * Benchmark 5, per-call overhead: sequential `tools/call` through dagent's full stack
 * (OAuth-aware fetch with a stored token, guarded fetch, toolset, allow-list) against the
 * raw SDK client sending the same bearer token, on the same OAuth-protected fixture server
 * (in a child process). Measured in alternating blocks (ABAB…) after a warm-up so drift
 * (JIT, GC, the machine) hits both alike; p50 and p99 ratios. Target: p50 ≤ 1.05.
 * @module
 */
import { createOAuthFetch, ServerAuth } from "../lib/oauth/fetch.ts";
import { MemoryTokenStore } from "../lib/oauth/store.ts";
import { createToolset } from "../lib/mcp/toolsets.ts";
import type { Toolset } from "../lib/mcp/types.ts";
import { dagentContext } from "./harness.ts";
import { spawnScenario } from "./oauth_server.ts";
import { connectRawSdkClient } from "./sdk_provider.ts";
import { percentile, ratio } from "./report.ts";
import type { BenchResult } from "./report.ts";

/** Target p50 ratio. */
const TARGET_P50 = 1.05;

/** Latencies in ms of each call, per client. */
export interface OverheadSamples {
  dagent: number[];
  sdk: number[];
}

/** Options of {@link measureCallOverhead}. */
export interface OverheadOptions {
  /** Calls per client (default 1000). */
  calls?: number;
  /** Calls per block; blocks alternate between the clients (default 50). */
  block?: number;
  /** Warm-up calls per client, not counted (default 200). */
  warmup?: number;
}

/** Runs the interleaved measurement and returns every call's latency. */
export async function measureCallOverhead(options: OverheadOptions = {}): Promise<OverheadSamples> {
  const calls = options.calls ?? 1000;
  const block = options.block ?? 50;
  const warmup = options.warmup ?? 200;
  const server = await spawnScenario("dcr");
  let toolset: Toolset | undefined;
  let raw: Awaited<ReturnType<typeof connectRawSdkClient>> | undefined;
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

    const args = { text: "hello" };
    const viaDagent = toolset;
    const viaSdk = raw;
    const dagentCall = async () => {
      const result = await viaDagent.callTool("echo", args);
      if (result.isError) throw new Error("call overhead: dagent's echo failed");
    };
    const sdkCall = async () => {
      const result = await viaSdk.callTool({ name: "echo", arguments: args });
      if (result.isError) throw new Error("call overhead: the SDK's echo failed");
    };
    await timeCalls(dagentCall, warmup);
    await timeCalls(sdkCall, warmup);
    const samples: OverheadSamples = { dagent: [], sdk: [] };
    for (let done = 0; done < calls; done += block) {
      const n = Math.min(block, calls - done);
      // Alternate which client goes first, so neither always follows the other.
      if ((done / block) % 2 === 0) {
        samples.dagent.push(...await timeCalls(dagentCall, n));
        samples.sdk.push(...await timeCalls(sdkCall, n));
      } else {
        samples.sdk.push(...await timeCalls(sdkCall, n));
        samples.dagent.push(...await timeCalls(dagentCall, n));
      }
    }
    return samples;
  } finally {
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

/** Runs {@link measureCallOverhead}; the figure is dagent's p50 and p99 over the SDK's. */
export async function runCallOverheadBench(options: OverheadOptions = {}): Promise<BenchResult> {
  const { dagent, sdk } = await measureCallOverhead(options);
  const p50 = percentile(dagent, 50) / percentile(sdk, 50);
  const p99 = percentile(dagent, 99) / percentile(sdk, 99);
  const micros = Math.round((percentile(dagent, 50) - percentile(sdk, 50)) * 1000);
  return {
    name: `per-call overhead (${dagent.length} calls)`,
    figure: `p50 ${ratio(p50)}, p99 ${ratio(p99)}`,
    target: `p50 ≤ ${TARGET_P50}x`,
    ok: p50 <= TARGET_P50,
    note: `p50 ${percentile(sdk, 50).toFixed(2)} ms raw SDK, ${micros >= 0 ? "+" : ""}${micros} µs`,
  };
}
