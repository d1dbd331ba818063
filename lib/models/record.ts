/**
 * `--record FILE` and `--replay FILE`: a run's model exchanges saved as JSON Lines and served
 * back in order without calling any provider.
 *
 * One line per exchange: `{"v":1,"n":1,"provider":"openai/gpt-4o","request":{…},
 * "events":[…],"outcome":"complete"}` — the provider-neutral {@link ChatRequest} and the
 * {@link StreamEvent}s it produced. No HTTP headers are stored, so neither the API key nor
 * Authorization / x-api-key can reach the file; known secrets are also scrubbed from every
 * line, and the file is created with mode 0600.
 *
 * Replay compares each request to the recorded one on the model, the messages and the tools
 * (names and input schemas), after normalizing (object key order, CRLF, trailing
 * whitespace); the system prompt and generation settings are not compared. Any difference
 * fails with "the run diverged from the recording at exchange N: <what differs>".
 * @module
 */
import { DagentError } from "../errors.ts";
import type { ChatRequest, ModelProvider, StreamEvent, StreamOptions } from "./types.ts";

/** How a recorded exchange ended. */
export type ExchangeOutcome = "complete" | "error" | "aborted" | "abandoned";

/** One line of a recording. */
export interface RecordedExchange {
  v: 1;
  /** 1-based position in the run. */
  n: number;
  /** The provider's id, `provider/model`. */
  provider: string;
  request: ChatRequest;
  /** The events streamed, in order. */
  events: StreamEvent[];
  outcome: ExchangeOutcome;
  /** The error that ended an `error` exchange. */
  error?: { message: string; code: string; hint?: string };
}

const recorders = new Map<string, Recorder>();
const replayers = new Map<string, Replayer>();

/** Writes a recording; one instance per file, shared by every provider of a run. */
export class Recorder {
  readonly path: string;
  #count = 0;

  /** Creates (or truncates) `path` with mode 0600. Prefer {@link Recorder.open}. */
  constructor(path: string) {
    this.path = path;
    try {
      Deno.writeTextFileSync(path, "", { mode: 0o600 });
      Deno.chmodSync(path, 0o600);
    } catch (err) {
      throw new DagentError(`cannot write the recording ${path}`, {
        code: "model.record_failed",
        cause: err,
        hint: "Check that the directory exists and is writable.",
      });
    }
  }

  /** The process-wide recorder of `path` (created on first use). */
  static open(path: string): Recorder {
    let r = recorders.get(path);
    if (!r) {
      r = new Recorder(path);
      recorders.set(path, r);
    }
    return r;
  }

  /** Exchanges written so far. */
  get count(): number {
    return this.#count;
  }

  /**
   * `provider`, recording every exchange it makes. `secrets` (the API key) are replaced by
   * `[redacted]` wherever they would appear in the file.
   */
  wrap(provider: ModelProvider, opts: { secrets?: string[] } = {}): ModelProvider {
    const secrets = (opts.secrets ?? []).filter((s) => s.length >= 4);
    const write = (exchange: Omit<RecordedExchange, "n" | "v">) => {
      let line = JSON.stringify({ v: 1, n: ++this.#count, ...exchange });
      for (const s of secrets) line = line.split(s).join("[redacted]");
      Deno.writeTextFileSync(this.path, line + "\n", { append: true });
    };
    return {
      id: provider.id,
      async *stream(request: ChatRequest, options?: StreamOptions) {
        const recordedRequest = structuredClone(request);
        const events: StreamEvent[] = [];
        let outcome: ExchangeOutcome = "abandoned";
        let error: RecordedExchange["error"];
        try {
          for await (const event of provider.stream(request, options)) {
            events.push(structuredClone(event));
            yield event;
          }
          outcome = "complete";
        } catch (err) {
          if (options?.signal?.aborted) outcome = "aborted";
          else {
            outcome = "error";
            error = err instanceof DagentError
              ? { message: err.message, code: err.code, hint: err.hint }
              : { message: String((err as Error)?.message ?? err), code: "error" };
          }
          throw err;
        } finally {
          write({ provider: provider.id, request: recordedRequest, events, outcome, error });
        }
      },
    };
  }
}

/** Serves a recording back; one instance per file, shared by every provider of a run. */
export class Replayer {
  readonly path: string;
  readonly exchanges: RecordedExchange[];
  #next = 0;

  /** Reads and checks `path`. Prefer {@link Replayer.open}. */
  constructor(path: string) {
    this.path = path;
    let text: string;
    try {
      text = Deno.readTextFileSync(path);
    } catch (err) {
      throw new DagentError(`cannot read the recording ${path}`, {
        code: "model.replay_missing",
        cause: err,
        hint: "Check the --replay path; make one with --record FILE.",
      });
    }
    this.exchanges = text.split("\n").flatMap((line, i) => {
      if (line.trim() === "") return [];
      let value: RecordedExchange;
      try {
        value = JSON.parse(line);
      } catch {
        value = undefined as unknown as RecordedExchange;
      }
      if (
        !value || value.v !== 1 || typeof value.provider !== "string" ||
        !value.request || !Array.isArray(value.events)
      ) {
        throw new DagentError(`${path}:${i + 1} is not a recorded model exchange`, {
          code: "model.replay_invalid",
          hint: "Record the run again with --record FILE.",
        });
      }
      return [value];
    });
  }

  /** The process-wide replayer of `path` (read on first use). */
  static open(path: string): Replayer {
    let r = replayers.get(path);
    if (!r) {
      r = new Replayer(path);
      replayers.set(path, r);
    }
    return r;
  }

  /** Recorded exchanges not served yet (a run that ends early leaves some). */
  get remaining(): number {
    return this.exchanges.length - this.#next;
  }

  /** A provider with id `id` that serves the next recorded exchanges instead of calling out. */
  provider(id: string): ModelProvider {
    const take = (request: ChatRequest): RecordedExchange => {
      const n = this.#next + 1;
      const recorded = this.exchanges[this.#next];
      if (!recorded) {
        throw diverged(n, `the recording holds only ${this.exchanges.length} exchanges`);
      }
      const difference = recorded.provider !== id
        ? `model: recorded ${recorded.provider}, this run uses ${id}`
        : compareRequests(recorded.request, request);
      if (difference) throw diverged(n, difference);
      this.#next++;
      return recorded;
    };
    return {
      id,
      async *stream(request: ChatRequest, options?: StreamOptions) {
        options?.signal?.throwIfAborted();
        const recorded = take(request);
        for (const event of recorded.events) {
          options?.signal?.throwIfAborted();
          yield structuredClone(event);
        }
        if (recorded.outcome === "error" && recorded.error) {
          throw new DagentError(recorded.error.message, {
            code: recorded.error.code,
            hint: recorded.error.hint,
          });
        }
        if (recorded.outcome === "aborted") {
          throw new DOMException("the recorded run was cancelled here", "AbortError");
        }
        // Let a consumer waiting on the signal see it between exchanges.
        await Promise.resolve();
      },
    };
  }
}

/**
 * What differs between a recorded request and this run's (model aside): the first differing
 * path among the messages and the tools (names and input schemas), or undefined when equal.
 */
export function compareRequests(recorded: ChatRequest, actual: ChatRequest): string | undefined {
  return firstDifference(comparable(recorded), comparable(actual), "");
}

function comparable(request: ChatRequest): unknown {
  const tools = [...(request.tools ?? [])]
    .map((t) => ({ name: t.name, inputSchema: t.inputSchema }))
    .sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  return normalize({ messages: request.messages ?? [], tools });
}

/** Sorted keys, no undefined members, LF line endings, no trailing whitespace. */
function normalize(value: unknown): unknown {
  if (typeof value === "string") return value.replace(/\r\n?/g, "\n").trimEnd();
  if (Array.isArray(value)) return value.map(normalize);
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = normalize(v);
    }
    return out;
  }
  return value;
}

function firstDifference(a: unknown, b: unknown, path: string): string | undefined {
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      const d = firstDifference(a[i], b[i], `${path}[${i}]`);
      if (d) return d;
    }
    if (a.length !== b.length) {
      return `${
        path || "request"
      }: this run sent ${b.length} entries, the recording has ${a.length}`;
    }
    return undefined;
  }
  if (
    a && b && typeof a === "object" && typeof b === "object" && !Array.isArray(a) &&
    !Array.isArray(b)
  ) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    for (const key of keys) {
      const d = firstDifference(
        (a as Record<string, unknown>)[key],
        (b as Record<string, unknown>)[key],
        path ? `${path}.${key}` : key,
      );
      if (d) return d;
    }
    return undefined;
  }
  if (a === b) return undefined;
  return `${path}: recorded ${preview(a)}, this run sent ${preview(b)}`;
}

function preview(value: unknown): string {
  if (value === undefined) return "nothing";
  const text = JSON.stringify(value);
  return text.length > 80 ? text.slice(0, 80) + "…" : text;
}

function diverged(n: number, what: string): DagentError {
  return new DagentError(`the run diverged from the recording at exchange ${n}: ${what}`, {
    code: "model.replay_diverged",
    hint: "Record the run again with --record FILE, or undo what changed (config, tools, input).",
  });
}
