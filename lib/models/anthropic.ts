/**
 * Anthropic Messages API with streaming (`POST {base_url}/v1/messages`, `stream: true`):
 * text and `tool_use` content blocks in, `tool_result` blocks out. Event names and shapes
 * follow Anthropic's "Streaming Messages" reference (message_start, content_block_start /
 * _delta / _stop, message_delta, message_stop, ping, error).
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
const ANTHROPIC_API = "the Anthropic API";
/** The `anthropic-version` header sent with every request. */
export const ANTHROPIC_VERSION = "2023-06-01";
/** `max_tokens` when neither the request nor the config sets it (the API requires one). */
export const DEFAULT_ANTHROPIC_MAX_TOKENS = 8192;

/** Settings of an Anthropic provider. */
export interface AnthropicOptions extends ProviderOptions {
  /** API root without the version, e.g. `https://api.anthropic.com`. */
  baseUrl: string;
  /** Sent as `x-api-key`. */
  apiKey?: string;
}

/** An Anthropic Messages provider. */
export function createAnthropicProvider(opts: AnthropicOptions): ModelProvider {
  return {
    id: opts.id,
    stream: (request, options) => streamMessages(opts, request, options ?? {}),
  };
}

/** The JSON body of a streaming Messages request for `request`. */
export function buildAnthropicBody(
  opts: AnthropicOptions,
  request: ChatRequest,
): Record<string, unknown> {
  const body: Record<string, unknown> = {
    model: opts.model,
    max_tokens: request.maxTokens ?? opts.maxTokens ?? DEFAULT_ANTHROPIC_MAX_TOKENS,
    messages: toWire(request.messages),
    stream: true,
  };
  if (request.system) body.system = request.system;
  const temperature = request.temperature ?? opts.temperature;
  if (temperature !== undefined) body.temperature = temperature;
  if (opts.topP !== undefined) body.top_p = opts.topP;
  if (request.tools.length > 0) {
    body.tools = request.tools.map((t) => ({
      name: t.name,
      ...(t.description ? { description: t.description } : {}),
      input_schema: t.inputSchema,
    }));
  }
  return body;
}

type Block = Record<string, unknown>;
type WireMessage = { role: "user" | "assistant"; content: Block[] };

/**
 * Maps the conversation to Messages form: tool results become `tool_result` blocks of a user
 * message, and consecutive user-side entries merge into one message (roles must alternate).
 */
function toWire(messages: ChatMessage[]): WireMessage[] {
  const out: WireMessage[] = [];
  const push = (role: "user" | "assistant", blocks: Block[]) => {
    const last = out[out.length - 1];
    if (last && last.role === role) last.content.push(...blocks);
    else out.push({ role, content: blocks });
  };
  for (const m of messages) {
    if (m.role === "user") push("user", [{ type: "text", text: m.content }]);
    else if (m.role === "tool") {
      const block: Block = { type: "tool_result", tool_use_id: m.toolCallId, content: m.content };
      if (m.isError) block.is_error = true;
      push("user", [block]);
    } else {
      const blocks: Block[] = [];
      if (m.content !== "") blocks.push({ type: "text", text: m.content });
      for (const c of m.toolCalls ?? []) {
        blocks.push({ type: "tool_use", id: c.id, name: c.name, input: c.arguments });
      }
      push("assistant", blocks.length ? blocks : [{ type: "text", text: "(no answer)" }]);
    }
  }
  return out;
}

/** A content block being assembled. */
interface OpenBlock {
  type: string;
  id: string;
  name: string;
  json: string;
}

async function* streamMessages(
  opts: AnthropicOptions,
  request: ChatRequest,
  options: StreamOptions,
): AsyncGenerator<StreamEvent, void, undefined> {
  const url = opts.baseUrl.replace(/\/+$/, "") + "/v1/messages";
  const payload = JSON.stringify(buildAnthropicBody(opts, request));
  const headers: Record<string, string> = {
    "content-type": "application/json",
    accept: "text/event-stream",
    "anthropic-version": ANTHROPIC_VERSION,
  };
  if (opts.apiKey) headers["x-api-key"] = opts.apiKey;
  const secrets = opts.apiKey ? [opts.apiKey] : [];
  const events = yield* openEventStream(
    opts,
    { url, headers, body: payload, api: ANTHROPIC_API },
    options.signal,
  );

  const blocks = new Map<number, OpenBlock>();
  let inputTokens = 0;
  let outputTokens = 0;
  let sawUsage = false;
  let stopReason: StopReason | undefined;
  let stopped = false;
  for await (const sse of events) {
    const data = parseEventData(sse.data, opts.id, ANTHROPIC_API);
    const type = typeof data.type === "string" ? data.type : sse.event;
    switch (type) {
      case "message_start": {
        const usage = ((data.message ?? {}) as Block).usage as Block | undefined;
        if (usage) {
          sawUsage = true;
          inputTokens = numberOr0(usage.input_tokens) +
            numberOr0(usage.cache_creation_input_tokens) +
            numberOr0(usage.cache_read_input_tokens);
          outputTokens = numberOr0(usage.output_tokens);
        }
        break;
      }
      case "content_block_start": {
        const block = (data.content_block ?? {}) as Block;
        const open: OpenBlock = {
          type: String(block.type ?? ""),
          id: String(block.id ?? ""),
          name: String(block.name ?? ""),
          json: "",
        };
        blocks.set(numberOr0(data.index), open);
        if (open.type === "text" && typeof block.text === "string" && block.text !== "") {
          yield { type: "text", delta: block.text };
        }
        break;
      }
      case "content_block_delta": {
        const delta = (data.delta ?? {}) as Block;
        const open = blocks.get(numberOr0(data.index));
        if (delta.type === "text_delta" && typeof delta.text === "string" && delta.text !== "") {
          yield { type: "text", delta: delta.text };
        } else if (delta.type === "input_json_delta" && open) {
          open.json += typeof delta.partial_json === "string" ? delta.partial_json : "";
        }
        break;
      }
      case "content_block_stop": {
        const index = numberOr0(data.index);
        const open = blocks.get(index);
        blocks.delete(index);
        if (open?.type === "tool_use") yield* finishCall(open, index, opts.id);
        break;
      }
      case "message_delta": {
        const delta = (data.delta ?? {}) as Block;
        if (typeof delta.stop_reason === "string") stopReason = mapStop(delta.stop_reason);
        const usage = data.usage as Block | undefined;
        if (usage) {
          sawUsage = true;
          if (typeof usage.output_tokens === "number") outputTokens = usage.output_tokens;
          if (typeof usage.input_tokens === "number" && usage.input_tokens > 0) {
            inputTokens = usage.input_tokens;
          }
        }
        break;
      }
      case "message_stop":
        stopped = true;
        break;
      case "error": {
        const error = (data.error ?? {}) as Block;
        throw new DagentError(
          `${opts.id}: the model server reported an error mid-stream${
            quoteServerMessage(error.message ?? error.type, secrets)
          }`,
          {
            code: error.type === "overloaded_error" ? "model.overloaded" : "model.stream_error",
            hint: "Try again in a moment.",
          },
        );
      }
        // "ping" and unknown events (e.g. thinking deltas) are ignored, as the API asks.
    }
    if (stopped) break;
  }
  if (!stopped) throw cutOff(opts.id);
  if (sawUsage) yield { type: "usage", inputTokens, outputTokens };
  yield { type: "done", stopReason: stopReason ?? "end_turn" };
}

function* finishCall(
  open: OpenBlock,
  index: number,
  label: string,
): Generator<StreamEvent, void, undefined> {
  const call: ToolCall = { id: open.id || `toolu_${index}`, name: open.name, arguments: {} };
  const parsed = parseToolArguments(open.json);
  if (parsed.ok) call.arguments = parsed.value;
  else {
    call.argumentsError = parsed.error;
    yield {
      type: "warning",
      message: `${label}: the arguments of tool call ${call.name} were not usable: ${parsed.error}`,
    };
  }
  yield { type: "tool_call", call };
}

function mapStop(reason: string): StopReason {
  switch (reason) {
    case "end_turn":
    case "tool_use":
    case "max_tokens":
    case "stop_sequence":
      return reason;
    case "refusal":
      return "content_filter";
    default:
      return "other";
  }
}
