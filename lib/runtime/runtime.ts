/**
 * The agent loop: send the conversation and the agent's tools to its model, stream the
 * answer, run the tool calls it asks for (with approval), feed the results back, repeat
 * until the model answers without tools — within `max_iterations`. `transfer_task` runs a
 * sub-agent in a child session and returns its final answer as the tool result.
 * @module
 */
import type { LoadedConfig } from "../config/mod.ts";
import type { AgentConfig } from "../config/types.ts";
import { DagentError } from "../errors.ts";
import type { ToolInfo, ToolResult } from "../mcp/types.ts";
import type { ChatMessage, ModelProvider, ToolCall, ToolSpec } from "../models/types.ts";
import type { AuditEvent } from "../audit/records.ts";
import type { ToolApprover } from "./approval.ts";
import type { EventSink } from "./events.ts";
import type { AgentToolsets, ReadyToolset } from "./toolsets.ts";

/** Tool-call rounds per turn when the agent sets no `max_iterations`. */
export const DEFAULT_MAX_ITERATIONS = 30;
/** Characters of a tool result shown in events (the model gets all of it). */
const DISPLAY_CHARS = 2000;
/** The tool that hands a task to a sub-agent. */
export const TRANSFER_TOOL = "transfer_task";

/** Where audit events go (lib/audit's AuditLog fits). */
export interface AuditSink {
  append(event: AuditEvent): Promise<void>;
}

/** Options of {@link Runtime}. */
export interface RuntimeOptions {
  loaded: LoadedConfig;
  toolsets: AgentToolsets;
  /** The model provider of an agent (the CLI applies --record / --replay here). */
  providerFor: (agent: string) => ModelProvider;
  approver: ToolApprover;
  onEvent: EventSink;
  /**
   * Asked when an agent reaches its `max_iterations`: true continues for another round of
   * iterations. Absent (exec, non-interactive): the turn stops with an error.
   */
  continueAfterMaxIterations?: (agent: string, iterations: number) => Promise<boolean>;
  audit?: AuditSink;
  /** Clock for `add_date` (tests). */
  now?: () => Date;
}

/** The conversation of one agent. */
export class Session {
  readonly agent: string;
  messages: ChatMessage[] = [];
  constructor(agent: string) {
    this.agent = agent;
  }
  /** Forgets the conversation (`/reset`). */
  reset(): void {
    this.messages = [];
  }
}

/** A tool as the loop routes it: which toolset serves it, and whether it is read-only. */
interface RoutedTool {
  spec: ToolSpec;
  toolset?: ReadyToolset;
  readOnly: boolean;
}

/** Runs turns of agents from one config. */
export class Runtime {
  readonly #options: RuntimeOptions;

  constructor(options: RuntimeOptions) {
    this.#options = options;
  }

  /** The agent's config, or a usage error naming the agents that exist. */
  agentConfig(agent: string): AgentConfig {
    const config = this.#options.loaded.config.agents[agent];
    if (!config) {
      const names = Object.keys(this.#options.loaded.config.agents);
      throw new DagentError(`no agent named "${agent}" in ${this.#options.loaded.path}`, {
        exitCode: 2,
        code: "runtime.unknown_agent",
        hint: `agents: ${names.join(", ")}`,
      });
    }
    return config;
  }

  /**
   * Runs one turn: `message` from the user to `session`'s agent, until the agent answers
   * without tool calls. Returns the final answer (also emitted as `turn_end`). On failure
   * the session is rolled back to where it was before the turn.
   */
  async runTurn(session: Session, message: string, signal?: AbortSignal): Promise<string> {
    // A turn that fails or is interrupted leaves the conversation as it was before it, so
    // the next message starts from a valid history (no tool calls without results).
    const before = session.messages.length;
    try {
      return await this.#turn(session, message, signal);
    } catch (error) {
      session.messages.length = before;
      throw error;
    }
  }

  async #turn(session: Session, message: string, signal?: AbortSignal): Promise<string> {
    const { onEvent } = this.#options;
    const agent = session.agent;
    const config = this.agentConfig(agent);
    onEvent({ type: "turn_start", agent, message });
    const tools = await this.#tools(agent, config);
    const provider = this.#options.providerFor(agent);
    const system = this.#systemPrompt(agent, config);
    session.messages.push({ role: "user", content: message });

    const limit = config.max_iterations ?? DEFAULT_MAX_ITERATIONS;
    let rounds = 0;
    let total = 0;
    for (;;) {
      signal?.throwIfAborted();
      const { text, calls } = await this.#callModel(agent, provider, {
        system,
        messages: session.messages,
        tools: [...tools.values()].map((tool) => tool.spec),
      }, signal);
      session.messages.push({
        role: "assistant",
        content: text,
        ...(calls.length ? { toolCalls: calls } : {}),
      });
      if (calls.length === 0) {
        onEvent({ type: "turn_end", agent, text, iterations: total });
        return text;
      }
      for (const call of calls) {
        signal?.throwIfAborted();
        const result = await this.#runTool(agent, config, tools, call, signal);
        session.messages.push({
          role: "tool",
          toolCallId: call.id,
          name: call.name,
          content: result.text,
          ...(result.isError ? { isError: true } : {}),
        });
      }
      rounds++;
      total++;
      if (rounds >= limit) {
        const keepGoing = await this.#options.continueAfterMaxIterations?.(agent, total);
        if (!keepGoing) {
          throw new DagentError(
            `agent "${agent}" stopped after ${total} tool-call rounds (max_iterations is ${limit})`,
            {
              code: "runtime.max_iterations",
              hint: `raise agents.${agent}.max_iterations in the config if the task needs more`,
            },
          );
        }
        rounds = 0;
      }
    }
  }

  /** Streams one model call, emitting text and usage; returns the text and tool calls. */
  async #callModel(
    agent: string,
    provider: ModelProvider,
    request: Parameters<ModelProvider["stream"]>[0],
    signal: AbortSignal | undefined,
  ): Promise<{ text: string; calls: ToolCall[] }> {
    const { onEvent } = this.#options;
    let text = "";
    const calls: ToolCall[] = [];
    for await (const event of provider.stream(request, { signal })) {
      switch (event.type) {
        case "text":
          text += event.delta;
          onEvent({ type: "text", agent, delta: event.delta });
          break;
        case "tool_call":
          calls.push(event.call);
          break;
        case "usage":
          onEvent({
            type: "usage",
            agent,
            model: provider.id,
            inputTokens: event.inputTokens,
            outputTokens: event.outputTokens,
          });
          await this.#audit({
            type: "model_call",
            agent,
            provider: provider.id.split("/")[0],
            model: provider.id.split("/").slice(1).join("/"),
            usage: { input_tokens: event.inputTokens, output_tokens: event.outputTokens },
          });
          break;
        case "warning":
          onEvent({ type: "warning", agent, message: event.message });
          break;
        case "done":
          break;
      }
    }
    return { text, calls };
  }

  /** Runs one tool call (approval, routing, transfer) and reports it. */
  async #runTool(
    agent: string,
    config: AgentConfig,
    tools: Map<string, RoutedTool>,
    call: ToolCall,
    signal: AbortSignal | undefined,
  ): Promise<{ text: string; isError: boolean }> {
    const { onEvent, approver } = this.#options;
    const routed = tools.get(call.name);
    const toolsetName = call.name === TRANSFER_TOOL ? "agent" : routed?.toolset?.name ?? "?";
    onEvent({
      type: "tool_call",
      agent,
      callId: call.id,
      toolset: toolsetName,
      tool: call.name,
      arguments: call.arguments,
    });
    const finish = async (text: string, isError: boolean) => {
      onEvent({
        type: "tool_result",
        agent,
        callId: call.id,
        toolset: toolsetName,
        tool: call.name,
        isError,
        text: text.length > DISPLAY_CHARS ? text.slice(0, DISPLAY_CHARS) + "…" : text,
        bytes: new TextEncoder().encode(text).length,
      });
      await this.#audit({
        type: "tool_result",
        agent,
        toolset: toolsetName,
        tool: call.name,
        status: isError ? "error" : "ok",
        result: text,
      });
      return { text, isError };
    };

    if (call.argumentsError) {
      return await finish(
        `the arguments of ${call.name} were not valid JSON (${call.argumentsError}); ` +
          "call the tool again with a JSON object",
        true,
      );
    }
    if (!routed) {
      return await finish(
        `there is no tool named ${call.name}; available: ${[...tools.keys()].join(", ")}`,
        true,
      );
    }

    const decision = call.name === TRANSFER_TOOL
      ? { approved: true, by: "read_only" as const }
      : await approver.decide({
        agent,
        toolset: toolsetName,
        tool: call.name,
        arguments: call.arguments,
        readOnly: routed.readOnly,
      });
    onEvent({
      type: "tool_approval",
      agent,
      callId: call.id,
      tool: call.name,
      decision: decision.approved ? "approved" : "rejected",
      by: decision.by,
      ...(decision.reason ? { reason: decision.reason } : {}),
    });
    await this.#audit({
      type: "tool_call",
      agent,
      toolset: toolsetName,
      tool: call.name,
      arguments: call.arguments,
      approval: !decision.approved
        ? "rejected"
        : decision.by === "yolo"
        ? "yolo"
        : decision.by === "user" || decision.by === "session"
        ? "user"
        : "auto",
      approvedBy: decision.by,
    });
    if (!decision.approved) return await finish(decision.reason ?? "rejected", true);

    if (call.name === TRANSFER_TOOL) {
      return await this.#transfer(agent, config, call.arguments, signal).then(
        (text) => finish(text, false),
        (error) => {
          if (signal?.aborted) throw error;
          return finish(`the sub-agent failed: ${messageOf(error)}`, true);
        },
      );
    }
    try {
      const result = await routed.toolset!.toolset.callTool(call.name, call.arguments, { signal });
      return await finish(resultText(result), result.isError === true);
    } catch (error) {
      if (signal?.aborted) throw error;
      return await finish(`the tool call failed: ${messageOf(error)}`, true);
    }
  }

  /** `transfer_task`: runs a listed sub-agent in a child session; its answer is the result. */
  async #transfer(
    agent: string,
    config: AgentConfig,
    args: Record<string, unknown>,
    signal: AbortSignal | undefined,
  ): Promise<string> {
    const target = String(args.agent ?? "");
    const task = String(args.task ?? "");
    if (!(config.sub_agents ?? []).includes(target)) {
      throw new DagentError(
        `"${target}" is not a sub-agent of ${agent}; sub-agents: ${
          (config.sub_agents ?? []).join(", ") || "none"
        }`,
        { code: "runtime.not_a_sub_agent" },
      );
    }
    const expected = typeof args.expected_output === "string" && args.expected_output
      ? `\n\nExpected output: ${args.expected_output}`
      : "";
    this.#options.onEvent({ type: "agent_switch", from: agent, to: target, task });
    try {
      return await this.runTurn(new Session(target), task + expected, signal);
    } finally {
      this.#options.onEvent({ type: "agent_switch", from: target, to: agent });
    }
  }

  /** The agent's tools by name: its toolsets' (first one wins a name) plus transfer_task. */
  async #tools(agent: string, config: AgentConfig): Promise<Map<string, RoutedTool>> {
    const tools = new Map<string, RoutedTool>();
    for (const toolset of await this.#options.toolsets.forAgent(agent)) {
      for (const tool of toolset.tools) {
        if (tools.has(tool.name)) {
          this.#options.onEvent({
            type: "warning",
            agent,
            message: `tool ${tool.name} of toolset "${toolset.name}" is hidden by another ` +
              `toolset's tool of the same name (use the toolsets' tools: lists to choose)`,
          });
          continue;
        }
        tools.set(tool.name, { spec: toSpec(tool), toolset, readOnly: isReadOnly(tool) });
      }
    }
    if (config.sub_agents?.length) {
      tools.set(TRANSFER_TOOL, {
        spec: transferSpec(this.#options.loaded, config),
        readOnly: true,
      });
    }
    return tools;
  }

  #systemPrompt(agent: string, config: AgentConfig): string {
    const parts = [config.instruction ?? `You are the agent "${agent}".`];
    if (config.add_date) {
      parts.push(
        `Today's date is ${(this.#options.now?.() ?? new Date()).toISOString().slice(0, 10)}.`,
      );
    }
    if (config.sub_agents?.length) {
      const lines = config.sub_agents.map((name) =>
        `- ${name}: ${this.#options.loaded.config.agents[name]?.description ?? "(no description)"}`
      );
      parts.push(
        `You can hand tasks to these sub-agents with the ${TRANSFER_TOOL} tool:\n${
          lines.join("\n")
        }`,
      );
    }
    return parts.join("\n\n");
  }

  async #audit(event: AuditEvent): Promise<void> {
    await this.#options.audit?.append(event);
  }
}

function toSpec(tool: ToolInfo): ToolSpec {
  return { name: tool.name, description: tool.description, inputSchema: tool.inputSchema };
}

function isReadOnly(tool: ToolInfo): boolean {
  return tool.annotations?.readOnlyHint === true;
}

function transferSpec(loaded: LoadedConfig, config: AgentConfig): ToolSpec {
  const agents = config.sub_agents ?? [];
  return {
    name: TRANSFER_TOOL,
    description: "Give a task to one of your sub-agents and get its final answer back. " +
      agents.map((name) => `${name}: ${loaded.config.agents[name]?.description ?? ""}`)
        .join("; "),
    inputSchema: {
      type: "object",
      properties: {
        agent: { type: "string", enum: agents, description: "The sub-agent to run" },
        task: { type: "string", description: "What the sub-agent should do, in full" },
        expected_output: { type: "string", description: "What the answer should look like" },
      },
      required: ["agent", "task"],
    },
  };
}

/** A tool result as the model sees it: text parts, and a note for every other part. */
export function resultText(result: ToolResult): string {
  const parts = result.content.map((part) => {
    if (part.type === "text") return String((part as { text: string }).text);
    if (part.type === "image" || part.type === "audio") {
      const { mimeType, data } = part as { mimeType: string; data: string };
      return `[${part.type} ${mimeType}, ${Math.floor(data.length * 3 / 4)} bytes]`;
    }
    if (part.type === "resource_link") return `[resource ${(part as { uri: string }).uri}]`;
    return `[${part.type} content]`;
  });
  if (parts.length === 0 && result.structuredContent) {
    return JSON.stringify(result.structuredContent);
  }
  return parts.join("\n");
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
