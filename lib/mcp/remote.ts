/**
 * Transports for remote MCP servers: Streamable HTTP (MCP 2025-06-18, "Transports"
 * §Streamable HTTP) or the older HTTP+SSE (2024-11-05) when `transport_type: sse`.
 *
 * Every request goes through a guarded fetch: a deadline for the response headers and
 * plain (non event-stream) bodies, and a size cap (per event on event streams, per body
 * otherwise). The fetch it wraps is
 * injectable — the OAuth engineer's OAuth-aware fetch plugs in here — and a
 * {@link DagentError} it throws is remembered so the toolset can report it unchanged.
 * @module
 */
import { SSEClientTransport, StreamableHTTPClientTransport } from "./sdk_bundle.generated.js";
// @ts-types="@modelcontextprotocol/sdk/shared/transport"
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import { DagentError, ExitCode, permissionError } from "../errors.ts";
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
 *
 * Plain (non event-stream) bodies: one deadline covers the headers and the body. A
 * Content-Length over the cap is refused unread. A network response with a Content-Length
 * within the cap and no Content-Encoding is handed on as it is (fetch holds a body to its
 * declared length, so the cap holds) with the deadline left on until the body has been
 * read; this is the common case (a JSON tool result) and costs next to nothing. Any other
 * plain body is read here, capped, before the guarded fetch resolves. Event streams pass
 * through a per-event cap, with no deadline.
 */
export function guardFetch(base: FetchLike, options: GuardOptions): FetchLike {
  const { name, timeoutMs, maxBytes } = options;
  const report = (error: DagentError) => {
    options.onError?.(error);
    return error;
  };
  const tooLarge = (input: FetchInput) =>
    report(
      new DagentError(
        `toolset "${name}": ${where(input)} sent a response larger than ${size(maxBytes)}`,
        { code: "mcp.response_too_large" },
      ),
    );
  const timeout = (input: FetchInput) =>
    new DagentError(
      `toolset "${name}": ${where(input)} did not answer within ${seconds(timeoutMs)}`,
      { code: "mcp.timeout", hint: "check that the server is up, or raise the timeout" },
    );
  const deadlines = new Deadlines(timeoutMs);
  return async (input, init) => {
    const caller = init?.signal ?? undefined;
    const request = deadlines.start(caller, () => timeout(input));
    // A DagentError (from `base`, or the deadline) is reported; the caller's own abort
    // (closing the transport) stays the caller's error; anything else is the network's.
    const failed = (error: unknown): unknown => {
      request.end();
      if (error instanceof DagentError) return report(error);
      const late = request.timedOut();
      if (late) return report(late);
      if (caller?.aborted) return error;
      return report(networkError(name, new URL(where(input)), error));
    };
    let response: Response;
    try {
      response = await base(input, { ...init, signal: request.signal });
    } catch (error) {
      throw failed(error);
    }
    const source = response.body;
    if (!source || NULL_BODY_STATUSES.has(response.status)) {
      request.end();
      return response;
    }
    if (EVENT_STREAM.test(response.headers.get("content-type") ?? "")) {
      // An event stream lives as long as the requests it answers (a tool call may wait on
      // the user through elicitation): the JSON-RPC request timeout governs it, and closing
      // the transport (the caller's signal) aborts it.
      request.stopDeadline();
      const body = capEvents(source, maxBytes, () => request.end(), () => tooLarge(input));
      return rebuilt(response, body);
    }
    const declared = contentLength(response.headers);
    if (declared !== undefined && declared > maxBytes) {
      request.end();
      await source.cancel().catch(() => {}); // dropped unread, not drained
      throw tooLarge(input);
    }
    if (declared !== undefined && fetchHoldsToLength(response)) {
      if (declared === 0) request.end();
      else endOnRead(response, request, report);
      return response;
    }
    let bytes: Uint8Array<ArrayBuffer> | undefined;
    try {
      bytes = await readCapped(source, maxBytes);
    } catch (error) {
      throw failed(error);
    }
    request.end();
    if (!bytes) throw tooLarge(input);
    return rebuilt(response, bytes);
  };
}

/** `response` with another body. */
function rebuilt(response: Response, body: BodyInit): Response {
  return new Response(body, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
}

/** The ways to read a body whole (Fetch standard, "Body mixin"). */
const BODY_READERS = ["arrayBuffer", "blob", "bytes", "formData", "json", "text"] as const;

/** Where a response handed out by {@link endOnRead} keeps its request. */
const BODY_WATCH = Symbol("dagent.bodyWatch");

interface BodyWatch {
  request: PendingRequest;
  report: (error: DagentError) => DagentError;
}

type WatchedResponse = Response & { [BODY_WATCH]: BodyWatch };

/**
 * A Response prototype whose Body methods end the watched request once the body has been
 * read (or failed to be): one shared object, so watching a response costs a prototype
 * switch, not six fresh closures and property definitions per response.
 */
const WATCHED_RESPONSE_PROTOTYPE: Response = Object.create(Response.prototype);
for (const method of BODY_READERS) {
  const read = Response.prototype[method] as (this: Response) => Promise<unknown>;
  Object.defineProperty(WATCHED_RESPONSE_PROTOTYPE, method, {
    configurable: true,
    writable: true,
    value: async function (this: WatchedResponse) {
      const { request, report } = this[BODY_WATCH];
      try {
        return await read.call(this);
      } catch (error) {
        const late = request.timedOut();
        throw late ? report(late) : error;
      } finally {
        request.end();
      }
    },
  });
}

/**
 * Ends `request` when `response`'s body has been read by one of the Body methods (the
 * deadline stays on while it is read); the deadline's error is reported. A body read some
 * other way (`body.getReader()`) ends the request when its deadline comes.
 */
function endOnRead(
  response: Response,
  request: PendingRequest,
  report: (error: DagentError) => DagentError,
): void {
  Object.setPrototypeOf(response, WATCHED_RESPONSE_PROTOTYPE);
  (response as WatchedResponse)[BODY_WATCH] = { request, report };
}

type FetchInput = Parameters<FetchLike>[0];

/** Statuses whose responses have no body (Fetch standard, "null body status"). */
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);
const EVENT_STREAM = /^\s*text\/event-stream/i;

/**
 * The deadlines of one guard's requests, kept by a single timer. A timer per request
 * costs more than the rest of the guard; and since every request of a guard has the same
 * timeout, deadlines come due in the order requests start, so one timer armed for the
 * oldest pending deadline serves them all. The timer is unref'd: a deadline matters only
 * while its request is in flight, and the request itself keeps the process alive.
 */
class Deadlines {
  readonly #ms: number;
  /** Pending requests, oldest (earliest deadline) first; finished ones are dropped lazily. */
  #queue: PendingRequest[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(ms: number) {
    this.#ms = ms;
  }

  /** Starts a request: its signal follows `caller` and aborts with `timeout()` when due. */
  start(caller: AbortSignal | undefined, timeout: () => DagentError): PendingRequest {
    const request = new PendingRequest(caller, performance.now() + this.#ms, timeout);
    const queue = this.#queue;
    while (queue.length > 0 && queue[0].finished) queue.shift();
    queue.push(request);
    if (this.#timer === undefined) this.#arm(request.due);
    return request;
  }

  #arm(due: number) {
    const timer = setTimeout(() => this.#tick(), Math.max(0, Math.ceil(due - performance.now())));
    Deno.unrefTimer(timer);
    this.#timer = timer;
  }

  #tick() {
    this.#timer = undefined;
    const now = performance.now();
    const queue = this.#queue;
    while (queue.length > 0 && (queue[0].finished || queue[0].due <= now)) {
      queue.shift()!.expire();
    }
    if (queue.length > 0) this.#arm(queue[0].due);
  }
}

/** One request in flight: its abort signal, and whether its deadline still applies. */
class PendingRequest {
  readonly due: number;
  readonly #controller = new AbortController();
  readonly #timeout: () => DagentError;
  #unfollow: (() => void) | undefined;
  #timedOut: DagentError | undefined;
  #finished = false;

  constructor(caller: AbortSignal | undefined, due: number, timeout: () => DagentError) {
    this.due = due;
    this.#timeout = timeout;
    const controller = this.#controller;
    if (caller?.aborted) controller.abort(caller.reason);
    else if (caller) {
      // Cheaper than AbortSignal.any, and removed as soon as the request is over.
      const follow = () => controller.abort(caller.reason);
      caller.addEventListener("abort", follow, { once: true });
      this.#unfollow = () => caller.removeEventListener("abort", follow);
    }
  }

  /** The signal to send the request with. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** No deadline to keep any more (the request ended, or its deadline was lifted). */
  get finished(): boolean {
    return this.#finished;
  }

  /** The deadline's error, if the deadline aborted the request. */
  timedOut(): DagentError | undefined {
    return this.#timedOut;
  }

  /** Lifts the deadline; the caller's signal still aborts. */
  stopDeadline(): void {
    this.#finished = true;
  }

  /** The request is over: no deadline, and no listener left on the caller's signal. */
  end(): void {
    this.#finished = true;
    this.#unfollow?.();
    this.#unfollow = undefined;
  }

  /** Called by {@link Deadlines} when the deadline is due (or the request finished). */
  expire(): void {
    if (this.#finished) return;
    this.#timedOut = this.#timeout();
    this.#controller.abort(this.#timedOut);
    this.end();
  }
}

/** The Content-Length, if it is one decimal number (RFC 9110 §8.6). */
function contentLength(headers: Headers): number | undefined {
  const value = headers.get("content-length");
  return value && /^\s*\d{1,15}\s*$/.test(value) ? Number(value) : undefined;
}

/**
 * Whether reading `response` yields at most its Content-Length: it came from the network
 * (fetch holds a body to its declared length, RFC 9112 §6.3), not built by `base`, and is
 * not encoded (fetch decodes gzip/br, and the header counts the encoded bytes, so a small
 * compressed body can inflate past any cap).
 */
function fetchHoldsToLength(response: Response): boolean {
  if (response.type === "default") return false;
  const encoding = response.headers.get("content-encoding");
  return !encoding || encoding.trim().toLowerCase() === "identity";
}

/** Reads `source` whole, or stops (and cancels it) past `maxBytes` and returns undefined. */
async function readCapped(
  source: ReadableStream<Uint8Array>,
  maxBytes: number,
): Promise<Uint8Array<ArrayBuffer> | undefined> {
  const reader = source.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      return undefined;
    }
    chunks.push(value);
  }
  // A fetch body's chunks are never views of a SharedArrayBuffer.
  if (chunks.length === 1) return chunks[0] as Uint8Array<ArrayBuffer>;
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  return bytes;
}

/**
 * Passes an event stream on, failing it with `tooLarge()` when one event exceeds
 * `maxBytes`. `onEnd` runs once when the stream ends, fails or is cancelled.
 */
function capEvents(
  source: ReadableStream<Uint8Array>,
  maxBytes: number,
  onEnd: () => void,
  tooLarge: () => Error,
): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  let count = 0;
  let lineEmpty = true;
  let ended = false;
  const end = () => {
    if (!ended) onEnd();
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
      // text/event-stream: an event ends at an empty line (WHATWG HTML §9.2.6).
      for (const byte of chunk.value) {
        if (byte === 0x0a) {
          if (lineEmpty) count = 0;
          lineEmpty = true;
        } else if (byte !== 0x0d) {
          lineEmpty = false;
          count++;
        }
        if (count > maxBytes) break;
      }
      if (count > maxBytes) {
        end();
        const error = tooLarge();
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
  const permission = permissionError(`toolset "${name}"`, error);
  if (permission) return permission;
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

/** The request's origin and path, for messages (parsed only when a message needs it). */
function where(input: FetchInput): string {
  return origin(new URL(input instanceof Request ? input.url : input));
}

function size(bytes: number): string {
  return bytes % (1024 * 1024) === 0
    ? `${bytes / 1024 / 1024} MiB`
    : bytes % 1024 === 0
    ? `${bytes / 1024} KiB`
    : `${bytes} bytes`;
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}
