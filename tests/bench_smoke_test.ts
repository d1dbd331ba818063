/**
 * Smoke test of the deterministic benchmarks (request counts, not times): a tiny warm start
 * and refresh under load against the OAuth fixture servers, through bench/ code.
 */
import assert from "node:assert/strict";
import { measureWarmStart } from "../bench/warm_start.ts";
import { measureRefreshUnderLoad } from "../bench/refresh_load.ts";
import { signInRequests } from "../bench/harness.ts";
import { measureValidateCosts } from "../bench/startup.ts";
import type { RequestLogEntry } from "../fixtures/oauth/mod.ts";

Deno.test("bench warm start: dagent makes no auth request with a stored token", async () => {
  const counts = await measureWarmStart();
  assert.equal(counts.dagent, 0);
  assert.ok(counts.dagentMcp > 0, "dagent really connected");
  assert.ok(Number.isInteger(counts.sdk) && counts.sdk >= 0);
});

Deno.test("bench refresh under load: 20 concurrent calls, one refresh, all succeed", async () => {
  const { dagent, sdk } = await measureRefreshUnderLoad(20);
  assert.equal(dagent.refreshes, 1);
  assert.equal(dagent.succeeded, 20);
  assert.equal(dagent.authorizations, 0);
  assert.ok(sdk.refreshes >= 1, "the baseline refreshed too");
});

Deno.test("bench sign-in window counts from the first 401 to the first MCP success", () => {
  const entry = (kind: RequestLogEntry["kind"], status: number): RequestLogEntry => ({
    method: "GET",
    path: "/",
    kind,
    status,
  });
  const timeline = [
    entry("mcp", 401),
    entry("prm", 200),
    entry("token", 200),
    entry("mcp", 200),
    entry("mcp", 202),
  ];
  assert.equal(signInRequests(timeline), 3);
  assert.equal(signInRequests([entry("mcp", 200)]), undefined);
  assert.equal(signInRequests([entry("mcp", 401), entry("prm", 404)]), undefined);
});

Deno.test("bench start-up probe: the validate example takes the YAML subset parser", async () => {
  const costs = await measureValidateCosts(1);
  // The start-up target relies on the example not loading the yaml package.
  assert.equal(costs.subset, 1);
  assert.ok(costs.firstLoad > 0 && costs.secondLoad > 0 && costs.configImport > 0);
});
