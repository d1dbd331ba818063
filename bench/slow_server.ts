/**
 * A fixture MCP server that answers late: the Streamable HTTP fixture server behind a
 * proxy that delays every request, as a distant server would. Used by bench/parallel_start.ts.
 *
 * Run: `deno run --allow-net bench/slow_server.ts COUNT LATENCY_MS` — prints the URLs as a
 * JSON array on one line and serves until stdin closes.
 * @module
 */
import { startHttpServer } from "../fixtures/mcp/http_server.ts";
import type { RunningServer } from "../fixtures/mcp/http_server.ts";

/** A fixture MCP server behind a proxy that delays every request. */
export interface SlowServer {
  url: string;
  close(): Promise<void>;
}

/**
 * Starts the Streamable HTTP fixture server and, in front of it, a proxy on 127.0.0.1
 * that waits `latencyMs` before forwarding each request (request and response bodies
 * stream through). Closing stops the upstream first, which ends its open event streams.
 */
export async function startSlowServer(latencyMs: number): Promise<SlowServer> {
  const upstream: RunningServer = await startHttpServer();
  const target = new URL(upstream.url);
  const proxy = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    await new Promise((resolve) => setTimeout(resolve, latencyMs));
    const url = new URL(req.url);
    const body = req.method === "GET" || req.method === "HEAD"
      ? undefined
      : await req.arrayBuffer();
    try {
      const response = await fetch(new URL(url.pathname + url.search, target), {
        method: req.method,
        headers: req.headers,
        body,
        redirect: "manual",
      });
      return new Response(response.body, { status: response.status, headers: response.headers });
    } catch {
      return new Response("upstream failed", { status: 502 });
    }
  });
  return {
    url: `http://127.0.0.1:${proxy.addr.port}${target.pathname}`,
    async close() {
      await upstream.close();
      await proxy.shutdown();
    },
  };
}

if (import.meta.main) {
  const [count, latency] = Deno.args.map(Number);
  const servers = await Promise.all(Array.from({ length: count }, () => startSlowServer(latency)));
  console.log(JSON.stringify(servers.map((server) => server.url)));
  // Serve until the parent closes stdin.
  for await (const _ of Deno.stdin.readable) { /* drain */ }
  await Promise.all(servers.map((server) => server.close()));
}
