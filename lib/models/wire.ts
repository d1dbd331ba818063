/**
 * Helpers shared by the wire-format modules (`openai.ts`, `anthropic.ts`): opening the
 * streaming request, tool-argument parsing, and the errors of a broken stream.
 * @module
 */
import { DagentError } from "../errors.ts";
import { parseSse } from "./sse.ts";
import type { SseEvent } from "./sse.ts";
import { sendWithRetry } from "./retry.ts";
import type { RetryPolicy } from "./retry.ts";
import type { StreamEvent } from "./types.ts";

/** Settings every provider shares (the wire-specific ones extend this). */
export interface ProviderOptions {
  /** `provider/model`, used in messages and records. */
  id: string;
  /** The model name sent as `model`. */
  model: string;
  /** API root of the provider (see each wire for whether it includes the version). */
  baseUrl: string;
  /** The API key, when the provider needs one (local servers need none). */
  apiKey?: string;
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  fetch?: typeof fetch;
  retry?: Partial<RetryPolicy>;
  /** Wait for the response headers (default 60 s). */
  firstByteTimeoutMs?: number;
  /** Longest silence inside the stream (default 120 s). */
  idleTimeoutMs?: number;
  /** Hints for 401/403, 404 and unreachable servers. */
  keyHint?: string;
  notFoundHint?: string;
  unreachableHint?: string;
}

/** Default longest silence between two chunks of a stream (ms). */
export const DEFAULT_IDLE_TIMEOUT_MS = 120_000;

/** The outcome of {@link parseToolArguments}. */
export type ParsedArguments =
  | { ok: true; value: Record<string, unknown> }
  | { ok: false; error: string };

/**
 * Parses a tool call's assembled argument text. Empty text is `{}` (models send it for tools
 * without parameters); anything that is not a JSON object is an error, described briefly.
 */
export function parseToolArguments(text: string): ParsedArguments {
  if (text.trim() === "") return { ok: true, value: {} };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    return { ok: false, error: `not valid JSON (${detail.slice(0, 120)})` };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { ok: false, error: "not a JSON object" };
  }
  return { ok: true, value: value as Record<string, unknown> };
}

/** A finite number, else 0 (usage fields that a server omits). */
export function numberOr0(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) ? value : 0;
}

/**
 * Throws DagentError `model.bad_stream` (and releases the body) when a successful response is
 * not `text/event-stream`; `api` names what base_url should point at.
 */
export function assertEventStream(response: Response, label: string, api: string): void {
  const type = response.headers.get("content-type") ?? "";
  if (type === "" || type.includes("text/event-stream")) return;
  response.body?.cancel().catch(() => {});
  throw new DagentError(
    `${label}: the model server answered with ${type.split(";")[0]} instead of a stream`,
    { code: "model.bad_stream", hint: `Check that base_url points at ${api}.` },
  );
}

/** DagentError `model.cut_off`: the stream ended before the answer was complete. */
export function cutOff(label: string): DagentError {
  return new DagentError(`${label}: the model's answer was cut off before it finished`, {
    code: "model.cut_off",
    hint: "Try again; check the server's logs if it keeps happening.",
  });
}

/** DagentError `model.timeout`: nothing arrived on the stream for `ms`. */
export function idleError(label: string, ms: number): DagentError {
  return new DagentError(
    `${label}: the model stream stalled (nothing for ${Math.round(ms / 1000)} s)`,
    { code: "model.timeout", hint: "Try again." },
  );
}

/** The streaming POST of one model call. */
export interface StreamRequest {
  url: string;
  headers: Record<string, string>;
  /** The JSON body, serialized once (it is resent as is on a retry). */
  body: string;
  /** The API it is meant for, in messages: "the Anthropic API", "an OpenAI-compatible API". */
  api: string;
}

/**
 * Sends a streaming request with the retry policy (its retry warnings are yielded), checks
 * that the answer is an event stream, and returns its events with the idle timeout applied.
 */
export async function* openEventStream(
  opts: ProviderOptions,
  request: StreamRequest,
  signal: AbortSignal | undefined,
): AsyncGenerator<StreamEvent, AsyncIterable<SseEvent>, undefined> {
  const { url, headers, body, api } = request;
  const response = yield* sendWithRetry(
    () => new Request(url, { method: "POST", headers, body }),
    {
      label: opts.id,
      fetch: opts.fetch,
      signal,
      retry: opts.retry,
      firstByteTimeoutMs: opts.firstByteTimeoutMs,
      keyHint: opts.keyHint,
      notFoundHint: opts.notFoundHint,
      unreachableHint: opts.unreachableHint,
      secrets: opts.apiKey ? [opts.apiKey] : [],
    },
  );
  if (!response.body) throw cutOff(opts.id);
  assertEventStream(response, opts.id, api);
  const idleMs = opts.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  return parseSse(response.body, {
    signal,
    idleTimeoutMs: idleMs,
    onIdleTimeout: () => idleError(opts.id, idleMs),
  });
}

/** The JSON of one stream event; a non-JSON event is a DagentError naming the API. */
export function parseEventData(data: string, label: string, api: string): Record<string, unknown> {
  try {
    return JSON.parse(data);
  } catch {
    throw new DagentError(`${label}: the model server sent a stream event that is not JSON`, {
      code: "model.bad_stream",
      hint: `Check that base_url points at ${api}.`,
    });
  }
}
