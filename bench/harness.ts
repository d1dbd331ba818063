/**
 * Shared set-up of the OAuth benchmarks: dagent's side (an OAuth context whose "browser"
 * follows the authorization redirect, and a remote MCP toolset on the OAuth-aware fetch —
 * the stack `dagent mcp` and the agent use) and request accounting at the fixture servers
 * (one timeline across the MCP server's and the authorization server's logs).
 * @module
 */
import { createOAuthContext } from "../lib/oauth/context.ts";
import type { OAuthContext, OAuthTarget } from "../lib/oauth/context.ts";
import { createOAuthFetch, ServerAuth } from "../lib/oauth/fetch.ts";
import { MemoryTokenStore } from "../lib/oauth/store.ts";
import type { StoredToken, TokenStore } from "../lib/oauth/store.ts";
import { ScriptedElicitation } from "../lib/runtime/elicitation.ts";
import { createToolset } from "../lib/mcp/toolsets.ts";
import type { Toolset } from "../lib/mcp/types.ts";
import { followAuthorization } from "../fixtures/oauth/mod.ts";
import type { OAuthScenario, RequestLog, RequestLogEntry } from "../fixtures/oauth/mod.ts";
// @ts-types="@modelcontextprotocol/sdk/shared/auth"
import type { OAuthTokens } from "@modelcontextprotocol/sdk/shared/auth.js";

/** An OAuth context that accepts every sign-in prompt and "opens" URLs with the test browser. */
export function dagentContext(store: TokenStore = new MemoryTokenStore()): OAuthContext {
  return createOAuthContext({
    store,
    elicitation: new ScriptedElicitation(),
    browser: { open: (url) => followAuthorization(url) },
  });
}

/** The OAuth target of a scenario's MCP server (with its pre-registered client, if any). */
export function targetFor(scenario: OAuthScenario): OAuthTarget {
  return {
    serverUrl: scenario.mcpUrl,
    server: scenario.name,
    oauth: scenario.clientId
      ? { clientId: scenario.clientId, clientSecret: scenario.clientSecret }
      : undefined,
  };
}

/** Options of {@link dagentToolset}. */
export interface DagentToolsetOptions {
  /** The config's `tools` allow-list. */
  tools?: string[];
  /** Share one per-server token state between toolsets (as the CLI does per server URL). */
  auth?: ServerAuth;
}

/**
 * dagent's full remote stack for a scenario: toolset (allow-list, deadlines, guarded fetch)
 * over the OAuth-aware fetch of a {@link ServerAuth} in `ctx`. Not started yet.
 */
export function dagentToolset(
  scenario: OAuthScenario,
  ctx: OAuthContext,
  options: DagentToolsetOptions = {},
): { toolset: Toolset; auth: ServerAuth } {
  const target = targetFor(scenario);
  const auth = options.auth ?? new ServerAuth(ctx, target);
  const toolset = createToolset(
    {
      type: "mcp",
      name: scenario.name,
      tools: options.tools,
      remote: { url: scenario.mcpUrl, oauth: target.oauth ?? {} },
    },
    { name: scenario.name, fetch: createOAuthFetch(auth) },
  );
  return { toolset, auth };
}

/**
 * Every request either fixture server of `scenario` receives from now on, in arrival order
 * across both logs (they are separate when the authorization server has its own origin).
 */
export function traceRequests(scenario: OAuthScenario): RequestLogEntry[] {
  const timeline: RequestLogEntry[] = [];
  for (const log of new Set<RequestLog>([scenario.mcp.log, scenario.as.log])) {
    const record = log.record.bind(log);
    log.record = (method: string, path: string) => {
      const entry = record(method, path);
      timeline.push(entry);
      return entry;
    };
  }
  return timeline;
}

/**
 * Requests after the first 401 from the MCP endpoint up to and including the first
 * successful MCP response after it; undefined when there was no 401 or no success.
 */
export function signInRequests(timeline: readonly RequestLogEntry[]): number | undefined {
  const first401 = timeline.findIndex((e) => e.kind === "mcp" && e.status === 401);
  if (first401 < 0) return undefined;
  const success = timeline.findIndex((e, i) =>
    i > first401 && e.kind === "mcp" && e.status >= 200 && e.status < 300
  );
  return success < 0 ? undefined : success - first401;
}

/**
 * Requests that were OAuth traffic: discovery (misses at well-known paths included),
 * registration, authorize, token, revoke — everything but the MCP endpoint.
 */
export function authRequests(timeline: readonly RequestLogEntry[]): number {
  return timeline.filter((e) => e.kind !== "mcp").length;
}

/** dagent's stored token in the SDK's shape, for giving the baseline the same token. */
export function sdkTokens(token: StoredToken, now = Date.now()): OAuthTokens {
  return {
    access_token: token.accessToken,
    token_type: "Bearer",
    refresh_token: token.refreshToken,
    expires_in: token.expiresAt === undefined
      ? undefined
      : Math.max(0, Math.round((token.expiresAt - now) / 1000)),
    scope: token.scopes.join(" "),
    issuer: token.issuer,
  };
}
