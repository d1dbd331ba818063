/**
 * Provider-neutral model types: the conversation a {@link ModelProvider} is sent
 * ({@link ChatRequest}) and the events it streams back ({@link StreamEvent}).
 *
 * The agent loop speaks only these types; `openai.ts` and `anthropic.ts` translate them
 * to and from the wire formats, and `record.ts` stores them as they are.
 * @module
 */

/** A complete tool call requested by the model. */
export interface ToolCall {
  /** The provider's id of the call; tool results refer to it. */
  id: string;
  /** The tool's name. */
  name: string;
  /**
   * The parsed JSON arguments. When the model sent arguments that are not a JSON object,
   * this is `{}` and {@link ToolCall.argumentsError} says why.
   */
  arguments: Record<string, unknown>;
  /**
   * Set when the model's arguments were not valid JSON (or not an object). The tool must not
   * run; the loop should answer the call with an error result quoting this message so the
   * model can retry. A `warning` event is streamed alongside.
   */
  argumentsError?: string;
}

/** A tool offered to the model. */
export interface ToolSpec {
  name: string;
  description?: string;
  /** JSON schema of the arguments (an object schema). */
  inputSchema: Record<string, unknown>;
}

/** A user turn. */
export interface UserMessage {
  role: "user";
  content: string;
}

/** A model turn: its text and the tool calls it made. */
export interface AssistantMessage {
  role: "assistant";
  content: string;
  toolCalls?: ToolCall[];
}

/** The result of one tool call, sent back to the model. */
export interface ToolResultMessage {
  role: "tool";
  /** The {@link ToolCall.id} this answers. */
  toolCallId: string;
  /** The tool's name (OpenAI-compatible servers ignore it; kept for records and messages). */
  name: string;
  content: string;
  /** The tool failed (Anthropic's `is_error`; OpenAI gets an `Error: ` prefix). */
  isError?: boolean;
}

/** One message of a conversation. */
export type ChatMessage = UserMessage | AssistantMessage | ToolResultMessage;

/** One request to a model: the whole conversation so far plus generation settings. */
export interface ChatRequest {
  /** System prompt (the agent's instruction). */
  system?: string;
  messages: ChatMessage[];
  tools: ToolSpec[];
  /** Overrides the model config's `max_tokens`. */
  maxTokens?: number;
  /** Overrides the model config's `temperature`. */
  temperature?: number;
}

/** Why the model stopped. Unknown provider reasons map to `other`. */
export type StopReason =
  | "end_turn"
  | "tool_use"
  | "max_tokens"
  | "stop_sequence"
  | "content_filter"
  | "other";

/** One event of a model's streamed answer. */
export type StreamEvent =
  /** A piece of the answer's text. */
  | { type: "text"; delta: string }
  /** A complete tool call, emitted once its argument deltas are assembled and parsed. */
  | { type: "tool_call"; call: ToolCall }
  /** Token usage of this request (emitted at most once, before `done`). */
  | { type: "usage"; inputTokens: number; outputTokens: number }
  /** Something the user may want to know (a retry after a 429, unparsable tool arguments). */
  | { type: "warning"; message: string }
  /** The answer is complete; always the last event of a successful stream. */
  | { type: "done"; stopReason: StopReason };

/** Per-call options of {@link ModelProvider.stream}. */
export interface StreamOptions {
  /**
   * Cancels the request; the stream then stops promptly and the iterator throws
   * `signal.reason` (Ctrl-C stops the turn, not the session).
   */
  signal?: AbortSignal;
}

/** A model the agent loop can talk to. */
export interface ModelProvider {
  /** `provider/model`, e.g. `openai/gpt-4o`. */
  readonly id: string;
  /**
   * Sends `request` and streams the answer. Errors the user can act on (bad key, unknown
   * model, rate limits after retries, timeouts) are thrown as DagentError.
   */
  stream(request: ChatRequest, options?: StreamOptions): AsyncIterable<StreamEvent>;
}
