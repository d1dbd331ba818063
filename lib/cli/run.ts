/**
 * `dagent run CONFIG [MESSAGE]` (interactive chat with an agent) and
 * `dagent exec CONFIG MESSAGE` (one turn to completion: the answer on stdout, progress on
 * stderr). Both wire the runtime to the terminal: prompts, approvals, OAuth sign-ins,
 * the audit log, and `--record` / `--replay` of model exchanges.
 * @module
 */
import { DagentError, ExitCode, UsageError } from "../errors.ts";
import { loadConfig } from "../config/mod.ts";
import type { AuditConfig, LoadedConfig } from "../config/mod.ts";
import type { AuditLog } from "../audit/mod.ts";
import { createProvider } from "../models/mod.ts";
import type { ModelProvider } from "../models/mod.ts";
import { OAuthFetches } from "../mcp/sign_in.ts";
import { createBuiltinToolset } from "../tools/mod.ts";
import { ToolApprover } from "../runtime/approval.ts";
import { NonInteractiveElicitation } from "../runtime/elicitation.ts";
import type { ElicitationHandler, SignInPrompt } from "../runtime/elicitation.ts";
import type { EventSink, RuntimeEvent } from "../runtime/events.ts";
import { Runtime, Session } from "../runtime/runtime.ts";
import { AgentToolsets } from "../runtime/toolsets.ts";
import { readStdinLine } from "../runtime/stdin_lines.ts";
import { expectPositionals, type FlagSpecs, parseFlags, renderHelp } from "./args.ts";
import { createCliOAuthContext, OAUTH_FLAGS, oauthOptionsFromFlags } from "./oauth_setup.ts";
import { jsonLines, stderr, stdout, terminalRenderer } from "./render.ts";
import { TerminalApprovalPrompt, TerminalElicitation } from "./terminal_prompt.ts";

const FLAGS: FlagSpecs = {
  agent: { type: "string", placeholder: "NAME", description: "Agent to talk to (default: root)" },
  yolo: { type: "boolean", description: "Approve every tool call without asking" },
  json: { type: "boolean", description: "Print events as JSON lines on stdout" },
  record: {
    type: "string",
    placeholder: "FILE",
    description: "Save every model request and response of the run to FILE",
  },
  replay: {
    type: "string",
    placeholder: "FILE",
    description: "Answer model requests from a recording instead of calling the provider",
  },
  ...OAUTH_FLAGS,
};

const RUN_USAGE = "dagent run CONFIG [MESSAGE] [--agent NAME] [--yolo] [--json]";
const EXEC_USAGE = "dagent exec CONFIG MESSAGE [--agent NAME] [--yolo] [--json]";

/** Everything a run needs, built from the flags and the config. */
interface RunSetup {
  loaded: LoadedConfig;
  agent: string;
  runtime: Runtime;
  toolsets: AgentToolsets;
  audit?: AuditLog;
}

/** `dagent run` and `dagent exec` share this module; main.ts passes the command name. */
export function run(args: string[]): Promise<number> {
  return runChat(args);
}

/** `dagent exec CONFIG MESSAGE`. */
export async function exec(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags("exec", args, FLAGS);
  if (values.help) {
    console.log(renderHelp(
      EXEC_USAGE,
      "Run one turn of an agent to completion: the final answer goes to stdout, progress\n" +
        "(tool calls, sign-ins, warnings) to stderr. Exit 0 when the agent answered, 1 when the\n" +
        "turn failed (model error, max_iterations reached, interrupted). Without a terminal,\n" +
        "tool calls that need approval are rejected unless --yolo (the model is told why).",
      FLAGS,
    ));
    return ExitCode.Ok;
  }
  expectPositionals("exec", positionals, 2, 2, EXEC_USAGE);
  const json = values.json === true;
  const interactive = Deno.stdin.isTerminal();
  const [file, message] = positionals;
  const loaded = await loadConfig(file);
  const agent = agentFlag(values.agent, loaded);
  const sink = json ? jsonLines(stdout) : terminalRenderer({
    mainAgent: agent,
    mode: "final",
    answer: stdout,
    progress: stderr,
  });
  const setup = await buildSetup(loaded, agent, values, sink, interactive, false);
  const controller = new AbortController();
  const onInterrupt = () => controller.abort(interrupted());
  Deno.addSignalListener("SIGINT", onInterrupt);
  let status: "ok" | "error" | "interrupted" = "ok";
  try {
    await setup.runtime.runTurn(new Session(agent), message, controller.signal);
    return ExitCode.Ok;
  } catch (error) {
    status = controller.signal.aborted ? "interrupted" : "error";
    return reportTurnError(error, sink);
  } finally {
    Deno.removeSignalListener("SIGINT", onInterrupt);
    await finish(setup, status);
  }
}

async function runChat(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags("run", args, FLAGS);
  if (values.help) {
    console.log(renderHelp(
      RUN_USAGE,
      "Chat with an agent (default: root). A first MESSAGE is sent at once. Type /exit to leave,\n" +
        "/reset to start the conversation over. Ctrl-C stops the current turn, not the session.\n" +
        "Tool calls are shown compactly and need your approval unless read-only or --yolo.",
      FLAGS,
    ));
    return ExitCode.Ok;
  }
  expectPositionals("run", positionals, 1, 2, RUN_USAGE);
  const json = values.json === true;
  const interactive = Deno.stdin.isTerminal();
  const [file, first] = positionals;
  const loaded = await loadConfig(file);
  const agent = agentFlag(values.agent, loaded);
  const sink = json ? jsonLines(stdout) : terminalRenderer({
    mainAgent: agent,
    mode: "stream",
    answer: stdout,
    progress: stderr,
  });
  const setup = await buildSetup(loaded, agent, values, sink, interactive, interactive);
  const session = new Session(agent);
  let controller: AbortController | undefined;
  let failed = false;
  const onInterrupt = () => {
    if (controller) {
      controller.abort(interrupted());
    } else {
      stderr("\n");
      Deno.exit(ExitCode.Ok);
    }
  };
  Deno.addSignalListener("SIGINT", onInterrupt);
  try {
    if (!json && interactive) {
      stderr(`Talking to ${agent} (${loaded.path}). /exit to leave, /reset to start over.\n`);
    }
    let next: string | null = first ?? null;
    for (;;) {
      if (next === null) {
        if (!json && interactive) stderr("\n> ");
        next = await readStdinLine();
        if (next === null) break;
      }
      const message = next.trim();
      next = null;
      if (message === "") continue;
      if (message === "/exit" || message === "/quit") break;
      if (message === "/reset") {
        session.reset();
        if (!json) stderr("(conversation reset)\n");
        continue;
      }
      controller = new AbortController();
      try {
        await setup.runtime.runTurn(session, message, controller.signal);
        failed = false;
      } catch (error) {
        failed = true;
        reportTurnError(error, sink);
      } finally {
        controller = undefined;
      }
    }
    return failed && !interactive ? ExitCode.Failed : ExitCode.Ok;
  } finally {
    Deno.removeSignalListener("SIGINT", onInterrupt);
    await finish(setup, failed ? "error" : "ok");
  }
}

/**
 * The session's audit log; undefined without an `audit` block. The audit modules (with
 * `node:crypto`, ~25 ms to load) are imported only for a config that has one; the
 * specifier is computed so that Deno does not load them at start-up either (the compile
 * task --includes lib/audit/mod.ts).
 */
async function openAudit(config: AuditConfig | undefined): Promise<AuditLog | undefined> {
  if (!config) return undefined;
  const audit: typeof import("../audit/mod.ts") = await import(
    new URL("../audit/mod.ts", import.meta.url).href
  );
  return await audit.openAuditLog({ config });
}

/** Builds the runtime with its prompts, OAuth, toolsets, providers and audit log. */
async function buildSetup(
  loaded: LoadedConfig,
  agent: string,
  values: Record<string, unknown>,
  sink: EventSink,
  interactive: boolean,
  askToContinue: boolean,
): Promise<RunSetup> {
  const yes = values.yes === true;
  const audit = await openAudit(loaded.config.audit);
  const onEvent = sink;
  const elicitation = withAuthEvents(
    interactive
      ? new TerminalElicitation({ yes })
      : new NonInteractiveElicitation({ yes, configPath: loaded.path }),
    onEvent,
  );
  const remote = Object.values(loaded.config.agents).some((a) => a.toolsets?.some((t) => t.remote));
  const oauth = remote
    ? new OAuthFetches(
      await createCliOAuthContext({
        ...oauthOptionsFromFlags(values, loaded.path),
        elicitation,
      }),
    )
    : undefined;
  if (oauth && audit) {
    oauth.context.onAuthEvent = (event) => {
      audit.append({ type: "auth", ...event }).catch((error) =>
        onEvent({ type: "warning", message: `audit log: ${error.message}` })
      );
    };
  }
  const toolsets = new AgentToolsets({
    loaded,
    elicitation,
    oauth,
    onEvent,
    builtin: createBuiltinToolset,
  });
  const providers = new Map<string, ModelProvider>();
  const providerFor = (name: string) => {
    let provider = providers.get(name);
    if (!provider) {
      provider = createProvider(loaded.config.agents[name].model, loaded.config, {
        recordPath: typeof values.record === "string" ? values.record : undefined,
        replayPath: typeof values.replay === "string" ? values.replay : undefined,
      });
      providers.set(name, provider);
    }
    return provider;
  };
  const runtime = new Runtime({
    loaded,
    toolsets,
    providerFor,
    approver: new ToolApprover({
      yolo: values.yolo === true,
      prompt: interactive ? new TerminalApprovalPrompt() : undefined,
    }),
    onEvent,
    continueAfterMaxIterations: askToContinue
      ? async (name, iterations) => {
        stderr(
          `\n${name} has made ${iterations} tool-call rounds (max_iterations). Continue? [y/N] `,
        );
        const answer = (await readStdinLine())?.trim().toLowerCase();
        return answer === "y" || answer === "yes";
      }
      : undefined,
    audit,
  });
  // Fail on a bad model reference before anything else happens.
  runtime.agentConfig(agent);
  providerFor(agent);
  return { loaded, agent, runtime, toolsets, audit };
}

/** Emits `auth_prompt` events for sign-in prompts, then asks the wrapped handler. */
function withAuthEvents(handler: ElicitationHandler, onEvent: EventSink): ElicitationHandler {
  return {
    get interactive() {
      return handler.interactive;
    },
    confirmSignIn(prompt: SignInPrompt) {
      onEvent({
        type: "auth_prompt",
        server: prompt.server,
        issuer: prompt.issuer,
        scopes: prompt.scopes,
      });
      return handler.confirmSignIn(prompt);
    },
    readRedirect: (prompt) => handler.readRedirect(prompt),
    elicitForm: (request) => handler.elicitForm(request),
    notify: (message) => handler.notify(message),
  };
}

async function finish(setup: RunSetup, status: "ok" | "error" | "interrupted"): Promise<void> {
  await setup.toolsets.stopAll();
  await setup.audit?.close(status);
}

/** Reports a failed turn as an `error` event and returns the exit code. */
function reportTurnError(error: unknown, sink: EventSink): number {
  const failure = error instanceof DagentError ? error : new DagentError(
    `internal error: ${error instanceof Error ? error.message : String(error)}`,
    { code: "internal", hint: "this is a bug in dagent; rerun with DAGENT_DEBUG=1" },
  );
  const event: RuntimeEvent = {
    type: "error",
    message: failure.message,
    code: failure.code,
    ...(failure.hint ? { hint: failure.hint } : {}),
  };
  sink(event);
  if (Deno.env.get("DAGENT_DEBUG") && error instanceof Error) console.error(error.stack);
  return failure.exitCode === ExitCode.Usage ? ExitCode.Usage : ExitCode.Failed;
}

function agentFlag(value: unknown, loaded: LoadedConfig): string {
  const agent = typeof value === "string" ? value : "root";
  if (!loaded.config.agents[agent]) {
    throw new UsageError(
      `no agent named "${agent}" in ${loaded.path}`,
      `agents: ${Object.keys(loaded.config.agents).join(", ")}`,
    );
  }
  return agent;
}

function interrupted(): DagentError {
  return new DagentError("interrupted", { code: "interrupted", hint: "the turn was stopped" });
}
