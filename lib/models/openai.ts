/**
 * OpenAI Chat Completions with streaming (`POST {base_url}/chat/completions`, `stream: true`),
 * for `openai` and every OpenAI-compatible server (`dmr`, `ollama`, any `base_url`).
 * Tool-call deltas are assembled per `index` and emitted whole when the choice finishes.
 * @module
 */
import { DagentError } from "../errors.ts";
import { quoteServerMessage } from "./retry.ts";
import { cutOff, numberOr0, openEventStream, parseEventData, parseToolArguments } from "./wire.ts";
import type { ProviderOptions } from "./wire.ts";
import type {
  ChatMessage,
  ChatRequest,
  ModelProvider,
  StopReason,
  StreamEvent,
  StreamOptions,
  ToolCall,
} from "./types.ts";

/** How messages name this API. */
const OPENAI_API = "an OpenAI-compatible API";

/** Settings of an OpenAI-compatible provider. */
export interface OpenAIOptions extends ProviderOptions {
  /** API root including its version, e.g. `https://api.openai.com/v1`. */
  baseUrl: string;
  /** Sent as `Authorization: Bearer …` when set (local servers need none). */
  apiKey?: string;
  /**
   * Send `max_completion_tokens` (api.openai.com; required by reasoning models) instead of
   * `max_tokens` (what OpenAI-compatible servers understand). Default false.
   */
  maxCompletionTokens?: boolean;
  frequencyPenalty?: number;
  presencePenalty?: number;
  parallelToolCalls?: boolean;
}

/** An OpenAI-compatible Chat Completions provider. */
export function createOpenAIProvider(opts: OpenAIOptions): ModelProvider {
  return {
    id: opts.id,
    stream: (request, options) => streamChat(opts, request, options ?? {}),
  };
}

/** The JSON body of a streaming Chat Completions request for `request`. */
export function buildOpenAIBody(
  opts: OpenAIOptions,
  request: ChatRequest,
): Record<string, unknown> {
  const messages: Record<string, unknown>[] = [];
  if (request.system) messages.push({ role: "system", content: request.system });
  for (const m of request.messages) messages.push(toWire(m));
  const body: Record<string, unknown> = {
    model: opts.model,
    messages,
    stream: true,
    stream_options: { include_usage: true },
  };
  const maxTokens = request.maxTokens ?? opts.maxTokens;
  if (maxTokens !== undefined) {
    body[opts.maxCompletionTokens ? "max_completion_tokens" : "max_tokens"] = maxTokens;
  }
  const temperature = request.temperature ?? opts.temperature;
  if (temperature !== undefined) body.temperature = temperature;
  if (opts.topP !== undefined) body.top_p = opts.topP;
  if (opts.frequencyPenalty !== undefined) body.frequency_penalty = opts.frequencyPenalty;
  if (opts.presencePenalty !== undefined) body.presence_penalty = opts.presencePenalty;
  if (request.tools.length > 0) {
    body.tools = request.tools.map((t) => ({
      type: "function",
      function: {
        name: t.name,
        ...(t.description ? { description: t.description } : {}),
        parameters: t.inputSchema,
      },
    }));
    if (opts.parallelToolCalls !== undefined) body.parallel_tool_calls = opts.parallelToolCalls;
  }
  return body;
}

function toWire(m: ChatMessage): Record<string, unknown> {
  switch (m.role) {
    case "user":
      return { role: "user", content: m.content };
    case "assistant": {
      const out: Record<string, unknown> = {
        role: "assistant",
        content: m.content === "" && m.toolCalls?.length ? null : m.content,
      };
      if (m.toolCalls?.length) {
        out.tool_calls = m.toolCalls.map((c) => ({
          id: c.id,
          type: "function",
          function: { name: c.name, arguments: JSON.stringify(c.arguments) },
        }));
      }
      return out;
    }
    case "tool":
      return {
        role: "tool",
        tool_call_id: m.toolCallId,
        content: m.isError && !m.content.startsWith("Error") ? `Error: ${m.content}` : m.content,
      };
  }
}

/** A tool call being assembled from deltas. */
interface PendingCall {
  id: string;
  name: string;
  args: string;
}

async function* streamChat(
  opts: OpenAIOptions,
  request: ChatRequest,
  options: StreamOptions,
): AsyncGenerator<StreamEvent, void, undefined> {
  const url = opts.baseUrl.replace(/\/+$/, "") + "/chat/completions";
  const payload = JSON.stringify(buildOpenAIBody(opts, request));
  const headers: Record<string, string> = {
    "content-type": "application/json",
    accept: "text/event-stream",
  };
  if (opts.apiKey) headers.authorization = `Bearer ${opts.apiKey}`;
  const secrets = opts.apiKey ? [opts.apiKey] : [];
  const events = yield* openEventStream(
    opts,
    { url, headers, body: payload, api: OPENAI_API },
    options.signal,
  );

  const calls = new Map<number, PendingCall>();
  let stopReason: StopReason | undefined;
  let usage: { inputTokens: number; outputTokens: number } | undefined;
  let sawDone = false;
  for await (const sse of events) {
    if (sse.data.trim() === "[DONE]") {
      sawDone = true;
      break;
    }
    const chunk = parseEventData(sse.data, opts.id, OPENAI_API);
    if (chunk.error !== undefined) throw streamError(opts.id, chunk.error, secrets);
    const u = chunk.usage as Record<string, unknown> | null | undefined;
    if (u && typeof u === "object") {
      usage = {
        inputTokens: numberOr0(u.prompt_tokens),
        outputTokens: numberOr0(u.completion_tokens),
      };
    }
    const choices = Array.isArray(chunk.choices) ? chunk.choices : [];
    const choice = choices.find((c) => (c?.index ?? 0) === 0) as
      | Record<string, unknown>
      | undefined;
    if (!choice) continue;
    const delta = (choice.delta ?? {}) as Record<string, unknown>;
    if (typeof delta.content === "string" && delta.content !== "") {
      yield { type: "text", delta: delta.content };
    }
    if (Array.isArray(delta.tool_calls)) collectCallDeltas(delta.tool_calls, calls);
    if (typeof choice.finish_reason === "string" && stopReason === undefined) {
      stopReason = mapFinish(choice.finish_reason);
      yield* flushCalls(calls, opts.id);
    }
  }
  if (!sawDone && stopReason === undefined) throw cutOff(opts.id);
  if (calls.size > 0) yield* flushCalls(calls, opts.id);
  if (usage) yield { type: "usage", ...usage };
  yield { type: "done", stopReason: stopReason ?? "end_turn" };
}

/**
 * Merges tool-call deltas into `calls`. Deltas carry an `index` (the OpenAI format); some
 * compatible servers omit it and send each call whole, so a missing index falls back to the
 * call's `id` or its position in the array.
 */
function collectCallDeltas(deltas: unknown[], calls: Map<number, PendingCall>): void {
  deltas.forEach((raw, position) => {
    if (!raw || typeof raw !== "object") return;
    const d = raw as Record<string, unknown>;
    const fn = (d.function ?? {}) as Record<string, unknown>;
    let index = typeof d.index === "number" ? d.index : undefined;
    if (index === undefined) {
      const byId = [...calls.entries()].find(([, c]) => d.id && c.id === d.id);
      index = byId ? byId[0] : calls.size + position;
    }
    let call = calls.get(index);
    if (!call) {
      call = { id: "", name: "", args: "" };
      calls.set(index, call);
    }
    if (typeof d.id === "string" && d.id !== "") call.id = d.id;
    if (typeof fn.name === "string" && fn.name !== "" && call.name === "") call.name = fn.name;
    if (typeof fn.arguments === "string") call.args += fn.arguments;
    else if (fn.arguments && typeof fn.arguments === "object") {
      call.args += JSON.stringify(fn.arguments);
    }
  });
}

function* flushCalls(
  calls: Map<number, PendingCall>,
  label: string,
): Generator<StreamEvent, void, undefined> {
  const ordered = [...calls.entries()].sort(([a], [b]) => a - b);
  calls.clear();
  for (const [index, pending] of ordered) {
    const call: ToolCall = {
      id: pending.id || `call_${index}`,
      name: pending.name,
      arguments: {},
    };
    const parsed = parseToolArguments(pending.args);
    if (parsed.ok) call.arguments = parsed.value;
    else {
      call.argumentsError = parsed.error;
      yield {
        type: "warning",
        message:
          `${label}: the arguments of tool call ${call.name} were not usable: ${parsed.error}`,
      };
    }
    yield { type: "tool_call", call };
  }
}

function mapFinish(reason: string): StopReason {
  switch (reason) {
    case "stop":
      return "end_turn";
    case "tool_calls":
    case "function_call":
      return "tool_use";
    case "length":
      return "max_tokens";
    case "content_filter":
      return "content_filter";
    default:
      return "other";
  }
}

function streamError(label: string, error: unknown, secrets: string[]): DagentError {
  const message = typeof error === "string"
    ? error
    : (error as Record<string, unknown> | null)?.message;
  return new DagentError(
    `${label}: the model server reported an error mid-stream${
      quoteServerMessage(message, secrets)
    }`,
    { code: "model.stream_error", hint: "Try again." },
  );
}
