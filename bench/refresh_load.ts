/**
 * Benchmark 3, refresh under load: many concurrent tool calls on an access token the
 * server has expired → how many refresh requests reach the token endpoint (dagent: one,
 * single-flight; DESIGN "The OAuth flow" step 11) and how many calls succeed. The SDK's
 * client with its `authProvider` is measured beside it on its own fixture servers.
 * @module
 */
import { startOAuthScenario } from "../fixtures/oauth/mod.ts";
import type { RequestLogEntry } from "../fixtures/oauth/mod.ts";
import { dagentContext, dagentToolset, traceRequests } from "./harness.ts";
import { connectSdkClient, MemoryOAuthProvider } from "./sdk_provider.ts";
import type { BenchResult } from "./report.ts";

/** What one client did under load. */
export interface LoadOutcome {
  /** `refresh_token` grants at the token endpoint. */
  refreshes: number;
  /** Authorization requests (full sign-ins) during the load. */
  authorizations: number;
  /** Calls that returned a successful result. */
  succeeded: number;
  calls: number;
}

/** Both clients' outcomes. */
export interface RefreshLoadCounts {
  dagent: LoadOutcome;
  sdk: LoadOutcome;
}

/**
 * Signs in on the "expired-tokens" scenario, expires every access token at the server,
 * then fires `calls` concurrent `whoami` calls — once through dagent's toolset, once
 * through the SDK's client (each on fresh servers).
 */
export async function measureRefreshUnderLoad(calls = 100): Promise<RefreshLoadCounts> {
  const dagent = await underLoad(calls, async (scenario) => {
    const { toolset } = dagentToolset(scenario, dagentContext());
    await toolset.start();
    return {
      call: async () => !(await toolset.callTool("whoami", {})).isError,
      close: () => toolset.stop(),
    };
  });
  const sdk = await underLoad(calls, async (scenario) => {
    const client = await connectSdkClient(scenario.mcpUrl, new MemoryOAuthProvider());
    return {
      call: async () => !(await client.callTool({ name: "whoami", arguments: {} })).isError,
      close: () => client.close(),
    };
  });
  return { dagent, sdk };
}

interface LoadClient {
  call(): Promise<boolean>;
  close(): Promise<void>;
}

async function underLoad(
  calls: number,
  connect: (scenario: ReturnType<typeof startOAuthScenario>) => Promise<LoadClient>,
): Promise<LoadOutcome> {
  const scenario = startOAuthScenario("expired-tokens");
  try {
    const client = await connect(scenario);
    try {
      scenario.as.expireAll();
      const timeline = traceRequests(scenario);
      const outcomes = await Promise.all(
        Array.from({ length: calls }, () => client.call().catch(() => false)),
      );
      return {
        refreshes: count(timeline, (e) => e.kind === "token" && e.grantType === "refresh_token"),
        authorizations: count(timeline, (e) => e.kind === "authorize"),
        succeeded: outcomes.filter(Boolean).length,
        calls,
      };
    } finally {
      await client.close();
    }
  } finally {
    await scenario.close();
  }
}

function count(timeline: RequestLogEntry[], match: (e: RequestLogEntry) => boolean): number {
  return timeline.filter(match).length;
}

/** Runs {@link measureRefreshUnderLoad}; target: exactly one refresh and every call succeeds. */
export async function runRefreshLoadBench(calls = 100): Promise<BenchResult> {
  const { dagent, sdk } = await measureRefreshUnderLoad(calls);
  return {
    name: `refresh under load (${calls} calls)`,
    figure:
      `dagent ${dagent.refreshes} refresh, ${dagent.succeeded}/${calls} ok / SDK ${sdk.refreshes} refreshes, ${sdk.succeeded}/${calls} ok`,
    target: `1 refresh, ${calls}/${calls} ok`,
    ok: dagent.refreshes === 1 && dagent.succeeded === calls && dagent.authorizations === 0,
  };
}
