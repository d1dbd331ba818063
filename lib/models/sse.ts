/**
 * Server-sent events parsing, per the WHATWG HTML standard §9.2.6 "Interpreting an event
 * stream": UTF-8 (a leading BOM is dropped), lines ending in CRLF, LF or CR, `field: value`
 * lines, `:` comments, a blank line dispatches. Chunks may be split anywhere — inside a
 * multi-byte character or between the CR and LF of a CRLF — and parse the same.
 * @module
 */
import { DagentError } from "../errors.ts";

/** One dispatched server-sent event. */
export interface SseEvent {
  /** The `event:` field, `message` when absent. */
  event: string;
  /** The `data:` lines joined by `\n`. */
  data: string;
  /** The last `id:` seen (the stream's last event id), if any. */
  id?: string;
  /** The `retry:` field of this event, in ms, if any. */
  retry?: number;
}

/** Default cap of one event's size (field data, in UTF-16 code units). */
export const DEFAULT_MAX_EVENT_SIZE = 4 * 1024 * 1024;

/**
 * An incremental SSE decoder: feed it bytes as they arrive, get the events they complete.
 * Throws DagentError `model.sse_too_large` when one line or event exceeds `maxEventSize`.
 */
export class SseDecoder {
  #decoder = new TextDecoder("utf-8", { ignoreBOM: false });
  #line = "";
  #afterCR = false;
  #data: string[] = [];
  #dataSize = 0;
  #event = "";
  #lastId: string | undefined;
  #retry: number | undefined;
  #maxEventSize: number;

  constructor(maxEventSize = DEFAULT_MAX_EVENT_SIZE) {
    this.#maxEventSize = maxEventSize;
  }

  /** Decodes `bytes` and returns the events it completes (possibly none). */
  feed(bytes: Uint8Array): SseEvent[] {
    return this.#text(this.#decoder.decode(bytes, { stream: true }));
  }

  /**
   * Ends the stream. An event not followed by a blank line (and a last line without a line
   * ending) is discarded, as the standard requires.
   */
  end(): SseEvent[] {
    const out = this.#text(this.#decoder.decode());
    this.#line = "";
    this.#data = [];
    this.#dataSize = 0;
    return out;
  }

  #text(text: string): SseEvent[] {
    const out: SseEvent[] = [];
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (this.#afterCR) {
        this.#afterCR = false;
        if (c === 10) {
          // The LF of a CRLF, possibly in the chunk after its CR.
          start = i + 1;
          continue;
        }
      }
      if (c !== 10 && c !== 13) continue;
      const line = this.#line + text.slice(start, i);
      this.#line = "";
      this.#afterCR = c === 13;
      start = i + 1;
      this.#processLine(line, out);
    }
    if (start < text.length) {
      this.#line += text.slice(start);
      if (this.#line.length > this.#maxEventSize) this.#tooLarge();
    }
    return out;
  }

  #processLine(line: string, out: SseEvent[]): void {
    if (line === "") {
      this.#dispatch(out);
      return;
    }
    if (line.charCodeAt(0) === 58 /* ":" comment */) return;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    switch (field) {
      case "event":
        this.#event = value;
        break;
      case "data":
        this.#dataSize += value.length + 1;
        if (this.#dataSize > this.#maxEventSize) this.#tooLarge();
        this.#data.push(value);
        break;
      case "id":
        if (!value.includes("\0")) this.#lastId = value;
        break;
      case "retry":
        if (/^\d+$/.test(value)) this.#retry = Number(value);
        break;
    }
  }

  #dispatch(out: SseEvent[]): void {
    const data = this.#data;
    const event = this.#event;
    const retry = this.#retry;
    this.#data = [];
    this.#dataSize = 0;
    this.#event = "";
    this.#retry = undefined;
    if (data.length === 0) return;
    const dispatched: SseEvent = { event: event || "message", data: data.join("\n") };
    if (this.#lastId !== undefined) dispatched.id = this.#lastId;
    if (retry !== undefined) dispatched.retry = retry;
    out.push(dispatched);
  }

  #tooLarge(): never {
    throw new DagentError(
      `a server-sent event is larger than ${this.#maxEventSize} characters`,
      {
        code: "model.sse_too_large",
        hint: "Check that base_url points at the model API; the answer is not a model stream.",
      },
    );
  }
}

/** Options of {@link parseSse}. */
export interface ParseSseOptions {
  /** Cap of one event (see {@link SseDecoder}). */
  maxEventSize?: number;
  /** Cap of the whole stream in bytes (default 32 MiB); DagentError `model.too_large`. */
  maxBytes?: number;
  /**
   * Longest wait for the next chunk, in ms (default: none). On expiry the stream is cancelled
   * and `onIdleTimeout()`'s error (or DagentError `model.timeout`) is thrown.
   */
  idleTimeoutMs?: number;
  /** Builds the error thrown when the idle timeout fires. */
  onIdleTimeout?: () => Error;
  /** Cancels reading; the generator throws `signal.reason`. */
  signal?: AbortSignal;
}

/** Default cap of a whole event stream (bytes). */
export const DEFAULT_MAX_STREAM_BYTES = 32 * 1024 * 1024;

/**
 * Reads `stream` to its end and yields its server-sent events. Stopping the iteration early,
 * an abort, a timeout or an error cancels the stream, so the connection is released.
 */
export async function* parseSse(
  stream: ReadableStream<Uint8Array>,
  opts: ParseSseOptions = {},
): AsyncGenerator<SseEvent, void, undefined> {
  const decoder = new SseDecoder(opts.maxEventSize);
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_STREAM_BYTES;
  const reader = stream.getReader();
  let total = 0;
  let finished = false;
  try {
    while (true) {
      const { done, value } = await readGuarded(reader, opts);
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        throw new DagentError(`the model's answer is larger than ${maxBytes} bytes`, {
          code: "model.too_large",
          hint: "Lower max_tokens, or check that base_url points at the model API.",
        });
      }
      for (const event of decoder.feed(value)) {
        opts.signal?.throwIfAborted();
        yield event;
      }
    }
    finished = true;
    for (const event of decoder.end()) yield event;
  } finally {
    if (!finished) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}

/** One `reader.read()` raced against the abort signal and the idle timeout. */
function readGuarded(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  opts: ParseSseOptions,
): Promise<ReadableStreamReadResult<Uint8Array>> {
  const { signal, idleTimeoutMs } = opts;
  if (signal?.aborted) return Promise.reject(signal.reason);
  if (!signal && idleTimeoutMs === undefined) return reader.read();
  return new Promise((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const onAbort = () => finish(() => reject(signal!.reason));
    const finish = (settle: () => void) => {
      if (timer !== undefined) clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      settle();
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    if (idleTimeoutMs !== undefined) {
      timer = setTimeout(() => {
        timer = undefined;
        const err = opts.onIdleTimeout?.() ??
          new DagentError(`the model stream was idle for ${idleTimeoutMs} ms`, {
            code: "model.timeout",
          });
        finish(() => reject(err));
      }, idleTimeoutMs);
    }
    reader.read().then(
      (result) => finish(() => resolve(result)),
      (err) => finish(() => reject(err)),
    );
  });
}
