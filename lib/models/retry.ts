/**
 * Sending one model request: a connect/first-byte timeout, cancellation, bounded retries with
 * exponential backoff for 408, 429 (honouring `retry-after`, RFC 9110 §10.2.3, capped) and
 * 5xx, and a clear DagentError for every other failure (401, 403, 404, 400, network).
 * @module
 */
import { DagentError } from "../errors.ts";
import type { StreamEvent } from "./types.ts";

/** How often and how long to retry. */
export interface RetryPolicy {
  /** Retries after the first attempt (default 3). */
  maxRetries: number;
  /** Backoff before the first retry, doubled each time (default 500 ms). */
  baseDelayMs: number;
  /** Longest backoff (default 8 s). */
  maxDelayMs: number;
  /** Longest `retry-after` honoured; a server asking for more fails at once (default 60 s). */
  maxRetryAfterMs: number;
}

/** The default {@link RetryPolicy}. */
export const DEFAULT_RETRY: RetryPolicy = {
  maxRetries: 3,
  baseDelayMs: 500,
  maxDelayMs: 8_000,
  maxRetryAfterMs: 60_000,
};

/** Default wait for the response headers (connect + first byte), in ms. */
export const DEFAULT_FIRST_BYTE_TIMEOUT_MS = 60_000;

/** Options of {@link sendWithRetry}. */
export interface SendOptions {
  /** The model, for messages: `openai/gpt-4o`. */
  label: string;
  fetch?: typeof fetch;
  /** Cancels waiting and sending; the generator throws `signal.reason`. */
  signal?: AbortSignal;
  /** Wait for the response headers, in ms (default 60 s). */
  firstByteTimeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  /** What to do about a 401/403, e.g. "Check that OPENAI_API_KEY holds a valid key." */
  keyHint?: string;
  /** What to do about a 404, e.g. "Check the model name and base_url." */
  notFoundHint?: string;
  /** What to do when the server cannot be reached, e.g. "Is Ollama running?". */
  unreachableHint?: string;
  /** Strings never to echo in messages (the API key). */
  secrets?: string[];
}

/** Largest error body read to build a message (bytes). */
const MAX_ERROR_BODY = 64 * 1024;
/** Longest server message quoted in an error (characters). */
const MAX_QUOTED = 200;

/**
 * Sends the request `build()` makes (a fresh one per attempt) until it succeeds, yielding a
 * `warning` event before every retry, and returns the successful (2xx) response with its body
 * unread. Throws DagentError with code `model.unauthorized` (401), `model.forbidden` (403),
 * `model.not_found` (404), `model.rate_limited` (429), `model.server_error` (5xx),
 * `model.http_error` (other statuses), `model.timeout` or `model.unreachable`.
 */
export async function* sendWithRetry(
  build: () => Request,
  opts: SendOptions,
): AsyncGenerator<StreamEvent, Response, undefined> {
  const policy = { ...DEFAULT_RETRY, ...opts.retry };
  const doFetch = opts.fetch ?? fetch;
  const timeoutMs = opts.firstByteTimeoutMs ?? DEFAULT_FIRST_BYTE_TIMEOUT_MS;
  for (let attempt = 0;; attempt++) {
    opts.signal?.throwIfAborted();
    const request = build();
    const timeout = new AbortController();
    const signal = opts.signal ? AbortSignal.any([opts.signal, timeout.signal]) : timeout.signal;
    const timer = setTimeout(() => timeout.abort(), timeoutMs);
    let response: Response;
    try {
      response = await doFetch(new Request(request, { signal }));
    } catch (err) {
      if (opts.signal?.aborted) throw opts.signal.reason;
      if (timeout.signal.aborted) {
        throw new DagentError(
          `${opts.label}: the model server did not answer within ${seconds(timeoutMs)} s`,
          { code: "model.timeout", hint: "Check the server and your network, then try again." },
        );
      }
      if (attempt >= policy.maxRetries) {
        throw new DagentError(
          `${opts.label}: could not reach the model server at ${origin(request.url)}`,
          {
            code: "model.unreachable",
            cause: err,
            hint: opts.unreachableHint ?? "Check base_url and your network, then try again.",
          },
        );
      }
      const delay = backoffDelay(attempt, policy);
      yield warning(`${opts.label}: could not reach the model server; retrying in`, delay);
      await sleep(delay, opts.signal);
      continue;
    } finally {
      clearTimeout(timer);
    }
    if (response.ok) return response;

    const message = await errorMessage(response, opts);
    const status = response.status;
    const retryable = status === 408 || status === 429 || status >= 500;
    if (!retryable || attempt >= policy.maxRetries) {
      throw statusError(status, message, opts, attempt);
    }
    let delay = backoffDelay(attempt, policy);
    const asked = parseRetryAfter(response.headers);
    if (asked !== undefined) {
      if (asked > policy.maxRetryAfterMs) {
        throw new DagentError(
          `${opts.label}: rate limited (HTTP ${status}); the server asks to wait ` +
            `${seconds(asked)} s${message}`,
          { code: "model.rate_limited", hint: "Wait that long and try again." },
        );
      }
      delay = asked;
    }
    const why = status === 429 ? "rate limited (HTTP 429)" : `HTTP ${status}`;
    yield warning(`${opts.label}: ${why}; retrying in`, delay);
    await sleep(delay, opts.signal);
  }
}

/**
 * The wait a response asks for, in ms: `retry-after-ms` (OpenAI), else `retry-after` as
 * delay-seconds or an HTTP-date (RFC 9110 §10.2.3). Undefined when absent or unparsable.
 */
export function parseRetryAfter(headers: Headers, now = Date.now()): number | undefined {
  const ms = headers.get("retry-after-ms")?.trim();
  if (ms && /^\d+(\.\d+)?$/.test(ms)) return Math.ceil(Number(ms));
  const value = headers.get("retry-after")?.trim();
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.ceil(Number(value) * 1000);
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/** Exponential backoff with jitter: between half and all of `base * 2^attempt`, capped. */
export function backoffDelay(attempt: number, policy: RetryPolicy = DEFAULT_RETRY): number {
  const full = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  return Math.round(full / 2 + Math.random() * (full / 2));
}

/** Waits `ms`, or rejects with `signal.reason` as soon as it aborts (the timer is cleared). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * A short, single-line, secret-free rendering of a server's error message, as `: message`
 * (empty when there is none). Exported for the stream parsers' in-band errors.
 */
export function quoteServerMessage(raw: unknown, secrets: string[] = []): string {
  if (typeof raw !== "string") return "";
  // deno-lint-ignore no-control-regex
  let text = raw.replace(/[\u0000-\u001f\u007f]+/g, " ").replace(/\s+/g, " ").trim();
  for (const secret of secrets) {
    if (secret.length >= 4) text = text.split(secret).join("[redacted]");
  }
  if (text === "") return "";
  return ": " + (text.length > MAX_QUOTED ? text.slice(0, MAX_QUOTED) + "…" : text);
}

function statusError(
  status: number,
  message: string,
  opts: SendOptions,
  attempt: number,
): DagentError {
  const label = opts.label;
  switch (status) {
    case 401:
      return new DagentError(`${label}: the API key was rejected (HTTP 401${message})`, {
        code: "model.unauthorized",
        hint: opts.keyHint ?? "Check the API key.",
      });
    case 403:
      return new DagentError(
        `${label}: the API key is not allowed to use this model (HTTP 403${message})`,
        { code: "model.forbidden", hint: opts.keyHint ?? "Check the key's permissions." },
      );
    case 404:
      return new DagentError(
        `${label}: the model or its endpoint was not found (HTTP 404${message})`,
        {
          code: "model.not_found",
          hint: opts.notFoundHint ?? "Check the model name and base_url.",
        },
      );
    case 429:
      return new DagentError(
        `${label}: rate limited (HTTP 429${message}), ${attempt + 1} attempts made`,
        { code: "model.rate_limited", hint: "Wait a minute and try again, or check your quota." },
      );
  }
  if (status >= 500) {
    return new DagentError(
      `${label}: the model server failed (HTTP ${status}${message}), ${attempt + 1} attempts made`,
      { code: "model.server_error", hint: "Try again later." },
    );
  }
  return new DagentError(
    `${label}: the model server refused the request (HTTP ${status}${message})`,
    {
      code: "model.http_error",
      hint: "Check the model's settings in the config (model name, max_tokens, temperature).",
    },
  );
}

/** Reads (at most 64 KiB of) an error body and extracts the server's message. */
async function errorMessage(response: Response, opts: SendOptions): Promise<string> {
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  // A slow error body must not hold the turn: give up on it after 10 s.
  const timer = setTimeout(() => reader.cancel().catch(() => {}), 10_000);
  try {
    while (size < MAX_ERROR_BODY) {
      const result = await reader.read();
      if (result.done) break;
      chunks.push(result.value);
      size += result.value.byteLength;
    }
  } catch {
    // A body cut off or too slow: the status alone must do.
  } finally {
    clearTimeout(timer);
    await reader.cancel().catch(() => {});
  }
  const text = new TextDecoder().decode(concat(chunks).slice(0, MAX_ERROR_BODY));
  return quoteServerMessage(extractMessage(text), opts.secrets);
}

/** OpenAI `{error:{message}}`, Anthropic `{type:"error",error:{message}}`, Ollama `{error:"…"}`. */
function extractMessage(text: string): string | undefined {
  try {
    const body = JSON.parse(text);
    if (typeof body?.error === "string") return body.error;
    if (typeof body?.error?.message === "string") return body.error.message;
    if (typeof body?.message === "string") return body.message;
    return undefined;
  } catch {
    return text.length <= MAX_QUOTED && !text.includes("<") ? text : undefined;
  }
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}

function warning(text: string, delayMs: number): StreamEvent {
  return { type: "warning", message: `${text} ${seconds(delayMs)} s` };
}

function seconds(ms: number): string {
  return String(Math.round(ms / 100) / 10);
}

function origin(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}`;
  } catch {
    return "(invalid URL)";
  }
}
