/**
 * The sign-in probe: one unauthenticated request shaped like the first request of an MCP
 * connection, sent before connecting so that a sign-in (which waits on a person) is not
 * cut short by the connect deadline. Its 401 carries the challenge the flow starts from.
 * @module
 */
import type { RemoteConfig } from "../config/types.ts";
import { LATEST_PROTOCOL_VERSION } from "./sdk_bundle.generated.js";

/**
 * Builds the probe for a remote server: an `initialize` POST for Streamable HTTP, the
 * event-stream GET for SSE (MCP 2025-11-25 / 2024-11-05 transports).
 */
export function probeRequest(remote: RemoteConfig, timeoutMs: number): Request {
  const headers = new Headers(remote.headers);
  const signal = AbortSignal.timeout(timeoutMs);
  if (remote.transport_type === "sse") {
    headers.set("accept", "text/event-stream");
    return new Request(remote.url, { method: "GET", headers, signal });
  }
  headers.set("accept", "application/json, text/event-stream");
  headers.set("content-type", "application/json");
  return new Request(remote.url, {
    method: "POST",
    headers,
    signal,
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 0,
      method: "initialize",
      params: {
        protocolVersion: LATEST_PROTOCOL_VERSION,
        capabilities: {},
        clientInfo: { name: "dagent", version: "0.1.0" },
      },
    }),
  });
}
