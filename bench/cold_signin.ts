/**
 * Benchmark 2, cold sign-in: HTTP requests from the MCP server's first 401 up to and
 * including the first successful MCP response, per authorization-server behaviour, for
 * dagent and for the SDK's client with its `authProvider` on fresh servers of the same
 * scenario. Target: dagent never needs more than the SDK.
 * @module
 */
import { startOAuthScenario } from "../fixtures/oauth/mod.ts";
import type { ScenarioName } from "../fixtures/oauth/mod.ts";
import { dagentContext, dagentToolset, signInRequests, traceRequests } from "./harness.ts";
import { connectSdkClient, MemoryOAuthProvider } from "./sdk_provider.ts";
import type { BenchResult } from "./report.ts";

/** The scenarios measured (issue 8: DCR, pre-registered with a path issuer, OIDC-only, 2025-03-26). */
export const COLD_SCENARIOS: readonly ScenarioName[] = [
  "dcr",
  "no-dcr-path-issuer",
  "oidc-only",
  "legacy-with-metadata",
  "legacy-no-metadata",
];

/** Requests of one cold sign-in; a string says why it could not complete. */
export type SignInCount = number | { failed: string };

/** Both clients' counts for one scenario. */
export interface ColdSignInCounts {
  scenario: ScenarioName;
  dagent: SignInCount;
  sdk: SignInCount;
}

/** Measures one scenario for dagent and for the SDK. */
export async function measureColdSignIn(name: ScenarioName): Promise<ColdSignInCounts> {
  const dagent = await counted(name, async (scenario) => {
    const { toolset } = dagentToolset(scenario, dagentContext());
    try {
      await toolset.start();
      await toolset.callTool("whoami", {});
    } finally {
      await toolset.stop();
    }
  });
  const sdk = await counted(name, async (scenario) => {
    // Without dynamic registration the SDK needs the pre-registered client up front.
    const provider = new MemoryOAuthProvider({
      clientInformation: scenario.clientId
        ? { client_id: scenario.clientId, client_secret: scenario.clientSecret }
        : undefined,
    });
    const client = await connectSdkClient(scenario.mcpUrl, provider);
    try {
      await client.callTool({ name: "whoami", arguments: {} });
    } finally {
      await client.close();
    }
  });
  return { scenario: name, dagent, sdk };
}

async function counted(
  name: ScenarioName,
  run: (scenario: ReturnType<typeof startOAuthScenario>) => Promise<void>,
): Promise<SignInCount> {
  const scenario = startOAuthScenario(name);
  try {
    const timeline = traceRequests(scenario);
    await run(scenario);
    return signInRequests(timeline) ?? { failed: "no 401 then success seen" };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { failed: message.split("\n")[0].slice(0, 120) };
  } finally {
    await scenario.close();
  }
}

/** One result line per scenario. */
export async function runColdSignInBench(): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  for (const name of COLD_SCENARIOS) {
    const { dagent, sdk } = await measureColdSignIn(name);
    const show = (count: SignInCount, who: string) =>
      typeof count === "number" ? `${who} ${count}` : `${who} fails`;
    const ok = typeof dagent === "number" && (typeof sdk !== "number" || dagent <= sdk);
    const failures = [
      typeof dagent === "number" ? "" : `dagent: ${dagent.failed}`,
      typeof sdk === "number" ? "" : `SDK: ${sdk.failed}`,
    ].filter(Boolean).join("; ");
    results.push({
      name: `cold sign-in requests (${name})`,
      figure: `${show(dagent, "dagent")} / ${show(sdk, "SDK")}`,
      target: "dagent ≤ SDK",
      ok,
      note: failures || undefined,
    });
  }
  return results;
}
