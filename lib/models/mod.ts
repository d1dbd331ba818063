/**
 * Model providers: the provider-neutral types, {@link createProvider} for an agent's
 * `model:` reference, and record / replay of model exchanges.
 * @module
 */
export type {
  AssistantMessage,
  ChatMessage,
  ChatRequest,
  ModelProvider,
  StopReason,
  StreamEvent,
  StreamOptions,
  ToolCall,
  ToolResultMessage,
  ToolSpec,
  UserMessage,
} from "./types.ts";
export {
  createProvider,
  type CreateProviderOptions,
  PROVIDERS,
  type ResolvedModel,
  resolveModel,
} from "./resolve.ts";
export { compareRequests, type RecordedExchange, Recorder, Replayer } from "./record.ts";
