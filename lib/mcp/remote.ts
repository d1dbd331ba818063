/**
 * Transports for remote MCP servers: Streamable HTTP (MCP 2025-06-18, "Transports"
 * §Streamable HTTP) or the older HTTP+SSE (2024-11-05) when `transport_type: sse`.
 *
 * Every request goes through a guarded fetch: a deadline for the response headers, a
 * deadline for plain (non event-stream) bodies, and a size cap (per event on event
 * streams, per body otherwise). The fetch it wraps is
 * injectable — the OAuth engineer's OAuth-aware fetch plugs in here — and a
 * {@link DagentError} it throws is remembered so the toolset can report it unchanged.
 * @module
 */
// @ts-types="@modelcontextprotocol/sdk/client/streamableHttp"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
// @ts-types="@modelcontextprotocol/sdk/client/sse"
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
// @ts-types="@modelcontextprotocol/sdk/shared/transport"
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import { DagentError, ExitCode } from "../errors.ts";
import type { RemoteConfig } from "../config/types.ts";

/** A fetch function as the MCP transports (and dagent's OAuth fetch) use it. */
export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** Options of {@link createRemoteTransport}. */
export interface RemoteTransportOptions {
  /** Toolset name, for messages. */
  name: string;
  /** The fetch to send requests with (default: global fetch). */
  fetch?: FetchLike;
  /** Deadline for response headers, and for a plain (non event-stream) body to finish. */
  requestTimeoutMs: number;
  /** Cap on a response body (or on one event of an event stream); default 16 MiB. */
  maxResponseBytes?: number;
}

/** A remote transport and what the toolset needs to explain its failures. */
export interface RemoteConnection {
  transport: Transport;
  /** The last error the guarded fetch threw (a DagentError), if any. */
  lastFetchError(): DagentError | undefined;
}

/** Default cap on a response body or on one server-sent event. */
export const DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

/**
 * Builds the SDK client transport for `remote`: config headers go in
 * `requestInit.headers`, the guarded fetch in `fetch`.
 */
export function createRemoteTransport(
  remote: RemoteConfig,
  options: RemoteTransportOptions,
): RemoteConnection {
  const url = parseServerUrl(remote.url, options.name);
  let lastError: DagentError | undefined;
  const guarded = guardFetch(options.fetch ?? fetch, {
    name: options.name,
    timeoutMs: options.requestTimeoutMs,
    maxBytes: options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
    onError: (error) => void (lastError = error),
  });
  const requestInit: RequestInit = { headers: { ...remote.headers } };
  const transport = remote.transport_type === "sse"
    ? new SSEClientTransport(url, { fetch: guarded, requestInit })
    : new StreamableHTTPClientTransport(url, { fetch: guarded, requestInit });
  return { transport, lastFetchError: () => lastError };
}

/** Options of {@link guardFetch}. */
export interface GuardOptions {
  /** Toolset name, for messages. */
  name: string;
  /** Deadline for the response headers, and for a plain (non event-stream) body. */
  timeoutMs: number;
  /** Body cap (per event for `text/event-stream`). */
  maxBytes: number;
  /** Told of every DagentError the guarded fetch throws or streams. */
  onError?: (error: DagentError) => void;
}

/**
 * Wraps `base` with deadlines and a size cap. A DagentError thrown by `base` passes
 * through unchanged; network failures become a DagentError naming the server.
 */
export function guardFetch(base: FetchLike, options: GuardOptions): FetchLike {
  return async (input, init) => {
    const target = new URL(input instanceof Request ? input.url : input);
    const controller = new AbortController();
    const signal = init?.signal ? AbortSignal.any([init.signal, controller.signal]) : controller
      .signal;
    const timeoutError = () =>
      new DagentError(
        `toolset "${options.name}": ${origin(target)} did not answer within ${
          seconds(options.timeoutMs)
        }`,
        { code: "mcp.timeout", hint: "check that the server is up, or raise the timeout" },
      );
    let timer: ReturnType<typeof setTimeout> | undefined = setTimeout(
      () => controller.abort(timeoutError()),
      options.timeoutMs,
    );
    const clear = () => {
      clearTimeout(timer);
      timer = undefined;
    };
    let response: Response;
    try {
      response = await base(input, { ...init, signal });
    } catch (error) {
      clear();
      const reported = error instanceof DagentError
        ? error
        : controller.signal.aborted && controller.signal.reason instanceof DagentError
        ? controller.signal.reason
        : init?.signal?.aborted
        ? undefined
        : networkError(options.name, target, error);
      if (!reported) throw error;
      options.onError?.(reported);
      throw reported;
    }
    if (!response.body || [101, 204, 205, 304].includes(response.status)) {
      clear();
      return response;
    }
    const eventStream = /^\s*text\/event-stream/i.test(response.headers.get("content-type") ?? "");
    // An event stream lives as long as the requests it answers (a tool call may wait on
    // the user through elicitation): the JSON-RPC request timeout governs it, and closing
    // the transport aborts it.
    if (eventStream) clear();
    const body = capBody(response.body, {
      maxBytes: options.maxBytes,
      perEvent: eventStream,
      onEnd: clear,
      tooLarge: () => {
        const error = new DagentError(
          `toolset "${options.name}": ${origin(target)} sent a response larger than ${
            Math.round(options.maxBytes / 1024 / 1024)
          } MiB`,
          { code: "mcp.response_too_large" },
        );
        options.onError?.(error);
        return error;
      },
    });
    return new Response(body, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
}

interface CapOptions {
  maxBytes: number;
  /** Count bytes per server-sent event (reset at each blank line) instead of in total. */
  perEvent: boolean;
  /** Called once when the body ends, fails or is cancelled. */
  onEnd: () => void;
  tooLarge: () => Error;
}

function capBody(source: ReadableStream<Uint8Array>, options: CapOptions) {
  const reader = source.getReader();
  let count = 0;
  let lineEmpty = true;
  let ended = false;
  const end = () => {
    if (!ended) options.onEnd();
    ended = true;
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (error) {
        end();
        controller.error(error);
        return;
      }
      if (chunk.done) {
        end();
        controller.close();
        return;
      }
      if (options.perEvent) {
        // text/event-stream: an event ends at an empty line (WHATWG HTML §9.2.6).
        for (const byte of chunk.value) {
          if (byte === 0x0a) {
            if (lineEmpty) count = 0;
            lineEmpty = true;
          } else if (byte !== 0x0d) {
            lineEmpty = false;
            count++;
          }
          if (count > options.maxBytes) break;
        }
      } else {
        count += chunk.value.byteLength;
      }
      if (count > options.maxBytes) {
        end();
        const error = options.tooLarge();
        await reader.cancel(error).catch(() => {});
        controller.error(error);
        return;
      }
      controller.enqueue(chunk.value);
    },
    async cancel(reason) {
      end();
      await reader.cancel(reason);
    },
  });
}

function parseServerUrl(raw: string, name: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new DagentError(`toolset "${name}": remote.url is not a valid URL: ${raw}`, {
      exitCode: ExitCode.Usage,
      code: "mcp.bad_url",
      hint: "use an absolute http(s) URL, e.g. https://mcp.example.com/mcp",
    });
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new DagentError(`toolset "${name}": remote.url must be http(s), got ${url.protocol}`, {
      exitCode: ExitCode.Usage,
      code: "mcp.bad_url",
    });
  }
  return url;
}

/** Describes a failed request to a remote MCP server in one line: refused, TLS, DNS, timeout. */
export function networkError(name: string, target: URL, error: unknown): DagentError {
  // Deno's fetch says "fetch failed" and puts the reason in `cause`.
  const cause = (error as { cause?: unknown } | undefined)?.cause;
  const text = [error, cause]
    .map((part) => part instanceof Error ? part.message : part === undefined ? "" : String(part))
    .filter(Boolean)
    .join(": ");
  const reason = /refused/i.test(text)
    ? "connection refused"
    : /certificate|tls|ssl/i.test(text)
    ? "TLS error (certificate not trusted?)"
    : /dns|lookup|name or service|resolve/i.test(text)
    ? "host name not found"
    : /timed? ?out/i.test(text)
    ? "connection timed out"
    : text.split("\n")[0].slice(0, 160);
  return new DagentError(`toolset "${name}": cannot reach ${origin(target)}: ${reason}`, {
    code: "mcp.unreachable",
    hint: "check that the server is running and that the URL is right",
    cause: error,
  });
}

function origin(url: URL): string {
  return url.origin + url.pathname;
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}
