/**
 * Benchmark 1, warm start: with a valid stored token, connecting to an OAuth-protected
 * server and calling a tool makes no discovery, registration or token request (DESIGN
 * "The OAuth flow" step 10). Counted at the fixture servers; the baseline is the SDK's
 * client with its `authProvider` holding the same token.
 * @module
 */
import { startOAuthScenario } from "../fixtures/oauth/mod.ts";
import { MemoryTokenStore } from "../lib/oauth/store.ts";
import { authRequests, dagentContext, dagentToolset, sdkTokens, traceRequests } from "./harness.ts";
import { connectSdkClient, MemoryOAuthProvider } from "./sdk_provider.ts";
import type { BenchResult } from "./report.ts";

/** Requests counted on a warm start. */
export interface WarmStartCounts {
  /** OAuth requests (anything but the MCP endpoint) dagent made. */
  dagent: number;
  /** MCP requests dagent made (proof it really connected). */
  dagentMcp: number;
  /** OAuth requests the SDK client made with the same token. */
  sdk: number;
}

/**
 * Signs in once (an earlier run), then connects and calls `whoami` from a fresh OAuth
 * context over the same store (a later run), then does the same with the SDK's client.
 */
export async function measureWarmStart(): Promise<WarmStartCounts> {
  const scenario = startOAuthScenario("dcr");
  try {
    const store = new MemoryTokenStore();
    const earlier = dagentToolset(scenario, dagentContext(store));
    await earlier.toolset.start();
    await earlier.toolset.stop();
    const token = await store.loadToken(scenario.mcpUrl);
    if (!token) throw new Error("warm start: the sign-in stored no token");

    const timeline = traceRequests(scenario);
    const later = dagentToolset(scenario, dagentContext(store));
    try {
      await later.toolset.start();
      const result = await later.toolset.callTool("whoami", {});
      if (result.isError) throw new Error("warm start: dagent's whoami call failed");
    } finally {
      await later.toolset.stop();
    }
    const dagent = authRequests(timeline);
    const dagentMcp = timeline.length - dagent;

    timeline.length = 0;
    const provider = new MemoryOAuthProvider({
      tokens: sdkTokens(token),
      clientInformation: { client_id: token.clientId, issuer: token.issuer },
    });
    const client = await connectSdkClient(scenario.mcpUrl, provider);
    try {
      const result = await client.callTool({ name: "whoami", arguments: {} });
      if (result.isError) throw new Error("warm start: the SDK's whoami call failed");
    } finally {
      await client.close();
    }
    return { dagent, dagentMcp, sdk: authRequests(timeline) };
  } finally {
    await scenario.close();
  }
}

/** Runs {@link measureWarmStart} and states the figure against its target (dagent: 0). */
export async function runWarmStartBench(): Promise<BenchResult> {
  const counts = await measureWarmStart();
  return {
    name: "warm start: auth requests",
    figure: `dagent ${counts.dagent} / SDK ${counts.sdk}`,
    target: "dagent 0",
    ok: counts.dagent === 0,
  };
}
