/**
 * From an agent's `model:` reference to a {@link ModelProvider}: a key of `models:` or an
 * inline `provider/model`; the API key from `token_key` or the provider's usual variable;
 * the wire format and base URL of the provider; and `--record` / `--replay` wrapping.
 * @module
 */
import { DagentError, ExitCode } from "../errors.ts";
import { nearest } from "../suggest.ts";
import type { Config, ModelConfig } from "../config/types.ts";
import { createAnthropicProvider } from "./anthropic.ts";
import { createOpenAIProvider } from "./openai.ts";
import { Recorder, Replayer } from "./record.ts";
import type { RetryPolicy } from "./retry.ts";
import type { ModelProvider } from "./types.ts";

/** Built-in providers: wire format, default base URL, usual key variable. */
export const PROVIDERS: Record<
  string,
  { wire: "openai" | "anthropic"; baseUrl: string; keyEnv?: string }
> = {
  openai: { wire: "openai", baseUrl: "https://api.openai.com/v1", keyEnv: "OPENAI_API_KEY" },
  anthropic: {
    wire: "anthropic",
    baseUrl: "https://api.anthropic.com",
    keyEnv: "ANTHROPIC_API_KEY",
  },
  dmr: { wire: "openai", baseUrl: "http://localhost:12434/engines/v1" },
  ollama: { wire: "openai", baseUrl: "http://localhost:11434/v1" },
};

/** A model reference resolved against a config. */
export interface ResolvedModel {
  /** The reference as written. */
  ref: string;
  /** The `models:` key, when the reference is one. */
  name?: string;
  provider: string;
  model: string;
  /** `provider/model`. */
  id: string;
  wire: "openai" | "anthropic";
  baseUrl: string;
  /** The environment variable the API key comes from; undefined when none is needed. */
  keyEnv?: string;
  /** The model's settings (for inline references: just provider and model). */
  config: ModelConfig;
}

/**
 * Resolves `ref`: a key of `config.models` wins; else `provider/model` with a built-in
 * provider (split at the first `/`, so `dmr/ai/smollm2` is model `ai/smollm2`). Throws a
 * usage DagentError `model.unknown` (with a "did you mean") otherwise.
 */
export function resolveModel(ref: string, config: Config): ResolvedModel {
  const models = config.models ?? {};
  let name: string | undefined;
  let settings: ModelConfig;
  if (Object.hasOwn(models, ref)) {
    name = ref;
    settings = models[ref];
  } else {
    const slash = ref.indexOf("/");
    const provider = slash > 0 ? ref.slice(0, slash) : "";
    const model = slash > 0 ? ref.slice(slash + 1) : "";
    if (!PROVIDERS[provider] || model === "") {
      const guess = nearest(ref, Object.keys(models)) ??
        (provider ? nearest(provider, Object.keys(PROVIDERS)) : undefined);
      throw new DagentError(`unknown model '${ref}'`, {
        code: "model.unknown",
        exitCode: ExitCode.Usage,
        hint: guess
          ? `did you mean '${guess}${PROVIDERS[guess] && model ? "/" + model : ""}'?`
          : `name a key of 'models:' or write provider/model with one of ${
            Object.keys(PROVIDERS).join(", ")
          }, e.g. openai/gpt-4o`,
      });
    }
    settings = { provider, model };
  }
  const builtin = PROVIDERS[settings.provider];
  if (!builtin && !settings.base_url) {
    throw new DagentError(
      `models.${name}: provider '${settings.provider}' is not built in and has no base_url`,
      {
        code: "model.unknown",
        exitCode: ExitCode.Usage,
        hint: `set base_url to its OpenAI-compatible API (built in: ${
          Object.keys(PROVIDERS).join(", ")
        })`,
      },
    );
  }
  return {
    ref,
    name,
    provider: settings.provider,
    model: settings.model,
    id: `${settings.provider}/${settings.model}`,
    wire: builtin?.wire ?? "openai",
    baseUrl: settings.base_url ?? builtin.baseUrl,
    keyEnv: settings.token_key ?? builtin?.keyEnv,
    config: settings,
  };
}

/** Options of {@link createProvider}. */
export interface CreateProviderOptions {
  /** Where API keys are read (default: the process environment). */
  env?: Record<string, string | undefined> | ((name: string) => string | undefined);
  fetch?: typeof fetch;
  /** `--record FILE`: save every exchange (shared by all providers of the run). */
  recordPath?: string;
  /** `--replay FILE`: serve recorded exchanges; no key and no network needed. */
  replayPath?: string;
  retry?: Partial<RetryPolicy>;
  firstByteTimeoutMs?: number;
  idleTimeoutMs?: number;
}

/**
 * The provider for `ref` (see {@link resolveModel}). Throws DagentError `model.no_key`
 * naming the variable when the API key is missing (dmr, ollama and other keyless servers need
 * none; a replay needs none).
 */
export function createProvider(
  ref: string,
  config: Config,
  opts: CreateProviderOptions = {},
): ModelProvider {
  const resolved = resolveModel(ref, config);
  if (opts.replayPath) return Replayer.open(opts.replayPath).provider(resolved.id);
  const apiKey = readKey(resolved, opts.env);
  const settings = resolved.config;
  const common = {
    id: resolved.id,
    model: resolved.model,
    baseUrl: resolved.baseUrl,
    apiKey,
    maxTokens: settings.max_tokens,
    temperature: settings.temperature,
    topP: settings.top_p,
    fetch: opts.fetch,
    retry: opts.retry,
    firstByteTimeoutMs: opts.firstByteTimeoutMs,
    idleTimeoutMs: opts.idleTimeoutMs,
    ...hints(resolved),
  };
  const provider = resolved.wire === "anthropic"
    ? createAnthropicProvider(common)
    : createOpenAIProvider({
      ...common,
      maxCompletionTokens: resolved.provider === "openai" && !settings.base_url,
      frequencyPenalty: settings.frequency_penalty,
      presencePenalty: settings.presence_penalty,
      parallelToolCalls: settings.parallel_tool_calls,
    });
  if (!opts.recordPath) return provider;
  return Recorder.open(opts.recordPath).wrap(provider, { secrets: apiKey ? [apiKey] : [] });
}

function readKey(
  resolved: ResolvedModel,
  env: CreateProviderOptions["env"],
): string | undefined {
  const name = resolved.keyEnv;
  if (!name) return undefined;
  const get = typeof env === "function"
    ? env
    : env
    ? (n: string) => env[n]
    : (n: string) => Deno.env.get(n);
  const value = get(name)?.trim();
  if (value) return value;
  const where = resolved.config.token_key
    ? `models.${resolved.name}.token_key names ${name}`
    : `${resolved.provider} models read their key from ${name}`;
  throw new DagentError(`the model '${resolved.ref}' needs an API key, but ${name} is not set`, {
    code: "model.no_key",
    hint: `Set ${name} (${where}), e.g. export ${name}=…` +
      (resolved.config.token_key ? "" : "; or name another variable with token_key."),
  });
}

function hints(resolved: ResolvedModel): {
  keyHint?: string;
  notFoundHint?: string;
  unreachableHint?: string;
} {
  const where = resolved.name ? `models.${resolved.name}` : `the model '${resolved.ref}'`;
  const keyHint = resolved.keyEnv
    ? `Check that ${resolved.keyEnv} holds a valid API key with access to ${resolved.model}.`
    : `This server wants an API key: set token_key in ${where} to the variable holding it.`;
  switch (resolved.provider) {
    case "dmr":
      return {
        keyHint,
        notFoundHint: `Pull the model first: docker model pull ${resolved.model}`,
        unreachableHint: "Is Docker Model Runner running with host TCP access? " +
          "(docker desktop enable model-runner --tcp 12434), or set base_url.",
      };
    case "ollama":
      return {
        keyHint,
        notFoundHint: `Pull the model first: ollama pull ${resolved.model}`,
        unreachableHint: "Is Ollama running? Start it with: ollama serve (or set base_url).",
      };
    default:
      return {
        keyHint,
        notFoundHint: `Check the model name '${resolved.model}' and the base_url of ${where}.`,
        unreachableHint: `Check the base_url of ${where} and your network.`,
      };
  }
}
