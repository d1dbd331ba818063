/**
 * The toolsets of each agent, started on first use: not while dagent starts up, but when
 * the agent's first turn runs with an elicitation handler that can answer. Remote servers
 * that ask for a sign-in get it first (one at a time), then every toolset of the agent
 * connects concurrently. A toolset that fails is reported and left out; the others work.
 * @module
 */
import { dirname } from "node:path";
import type { LoadedConfig } from "../config/mod.ts";
import type { ToolsetConfig } from "../config/types.ts";
import type { DagentError } from "../errors.ts";
import type { ToolInfo, Toolset } from "../mcp/types.ts";
import { createToolset, startToolsets, toolsetNames } from "../mcp/toolsets.ts";
import type { OAuthFetches } from "../mcp/sign_in.ts";
import { signInWhereNeeded } from "../mcp/sign_in.ts";
import type { ElicitationHandler } from "./elicitation.ts";
import type { EventSink } from "./events.ts";

/** A started toolset and the tools it offers (after the allow-list). */
export interface ReadyToolset {
  name: string;
  toolset: Toolset;
  tools: ToolInfo[];
}

/** Makes a built-in toolset (think, todo, filesystem, shell, fetch). */
export type BuiltinFactory = (
  config: ToolsetConfig,
  options: { name: string; cwd: string; configDir: string },
) => Toolset;

/** Options of {@link AgentToolsets}. */
export interface AgentToolsetsOptions {
  loaded: LoadedConfig;
  elicitation: ElicitationHandler;
  /** OAuth fetches for remote toolsets; undefined means plain fetch (no sign-in). */
  oauth?: OAuthFetches;
  onEvent: EventSink;
  builtin: BuiltinFactory;
  /** Deadline for connecting each toolset (default 30 s). */
  connectTimeoutMs?: number;
  /** Working directory of built-in toolsets (default: the process's). */
  cwd?: string;
}

/** Starts and holds the toolsets of every agent that has run. */
export class AgentToolsets {
  readonly #options: AgentToolsetsOptions;
  readonly #ready = new Map<string, Promise<ReadyToolset[]>>();
  readonly #started: Toolset[] = [];

  constructor(options: AgentToolsetsOptions) {
    this.#options = options;
  }

  /** The agent's started toolsets; the first call starts them. */
  forAgent(agent: string): Promise<ReadyToolset[]> {
    let ready = this.#ready.get(agent);
    if (!ready) {
      ready = this.#start(agent);
      this.#ready.set(agent, ready);
    }
    return ready;
  }

  /** Stops every started toolset (child processes, connections). */
  async stopAll(): Promise<void> {
    await Promise.all(this.#started.map((toolset) => toolset.stop().catch(() => {})));
  }

  async #start(agent: string): Promise<ReadyToolset[]> {
    const { loaded, oauth, onEvent, elicitation } = this.#options;
    const configs = loaded.config.agents[agent]?.toolsets ?? [];
    const names = toolsetNames(configs);
    const entries = configs.map((config, index) => ({ name: names[index], config }));
    const configDir = dirname(loaded.path);
    const timeoutMs = this.#options.connectTimeoutMs ?? 30_000;

    const failures = oauth
      ? await signInWhereNeeded(oauth, entries.filter((e) => e.config.remote), {
        probeTimeoutMs: timeoutMs,
        configPath: loaded.path,
      })
      : new Map<string, DagentError>();
    for (const [name, error] of failures) {
      onEvent({
        type: "warning",
        agent,
        message: `toolset "${name}" is unavailable: ${error.message}`,
      });
    }

    const toolsets = entries.filter((entry) => !failures.has(entry.name)).map(({ name, config }) =>
      config.type === "mcp"
        ? createToolset(config, {
          name,
          fetch: oauth?.fetchFor(config, name, loaded.path),
          connectTimeoutMs: timeoutMs,
          cwd: configDir,
          onElicitation: async (request) => {
            const result = await elicitation.elicitForm({ ...request, server: name });
            onEvent({
              type: "elicitation",
              server: name,
              message: request.message,
              action: result.action,
            });
            return result;
          },
        })
        : this.#options.builtin(config, {
          name,
          cwd: this.#options.cwd ?? Deno.cwd(),
          configDir,
        })
    );
    this.#started.push(...toolsets);
    const started = await startToolsets(toolsets, { timeoutMs });
    const ready: ReadyToolset[] = [];
    for (const result of started) {
      if (!result.ok) {
        onEvent({
          type: "warning",
          agent,
          message: `toolset "${result.toolset.name}" is unavailable: ${result.error.message}`,
        });
        continue;
      }
      try {
        ready.push({
          name: result.toolset.name,
          toolset: result.toolset,
          tools: await result.toolset.listTools(),
        });
      } catch (error) {
        onEvent({
          type: "warning",
          agent,
          message: `toolset "${result.toolset.name}" could not list its tools: ${
            error instanceof Error ? error.message : String(error)
          }`,
        });
      }
    }
    return ready;
  }
}
