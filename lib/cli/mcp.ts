/**
 * `dagent mcp tools` and `dagent mcp call`: connect to the MCP servers an agent of a
 * config names (or to one `--url`), list their tools, or call one and print the result.
 *
 * Toolsets start concurrently; one that fails is reported with its name and reason while
 * the others are still listed (exit 1). Usage and config mistakes exit 2.
 * @module
 */
import { DagentError, ExitCode, UsageError } from "../errors.ts";
import { nearest } from "../suggest.ts";
import { loadConfig, type LoadedConfig } from "../config/mod.ts";
import type { ToolsetConfig } from "../config/types.ts";
import type { ToolInfo, ToolResult, Toolset } from "../mcp/types.ts";
import { ToolAllowList } from "../mcp/filter.ts";
import { createCliOAuthContext, OAUTH_FLAGS, oauthOptionsFromFlags } from "./oauth_setup.ts";
import { OAuthFetches, signInWhereNeeded } from "../mcp/sign_in.ts";
import {
  createToolset,
  DEFAULT_CONNECT_TIMEOUT_MS,
  type StartResult,
  startToolsets,
  toolsetNames,
} from "../mcp/toolsets.ts";
import { expectPositionals, type FlagSpecs, parseFlags, renderHelp } from "./args.ts";

const TOOLS_USAGE = "dagent mcp tools CONFIG [--agent A] [--toolset NAME] [--json]\n" +
  "       dagent mcp tools --url URL [--header K=V]... [--transport sse] [--json]";
const CALL_USAGE = "dagent mcp call CONFIG TOOLSET TOOL [JSON_ARGS] [--agent A] [--json]\n" +
  "       dagent mcp call --url URL TOOL [JSON_ARGS] [--header K=V]... [--transport sse]";

const COMMON_FLAGS: FlagSpecs = {
  agent: { type: "string", placeholder: "NAME", description: "Agent whose toolsets to use" },
  url: { type: "string", placeholder: "URL", description: "A remote MCP server, no config" },
  header: {
    type: "string",
    multiple: true,
    placeholder: "K=V",
    description: "HTTP header for --url (repeatable)",
  },
  transport: {
    type: "string",
    placeholder: "T",
    description: "Transport for --url: streamable (default) or sse",
  },
  timeout: {
    type: "string",
    placeholder: "SECONDS",
    description: `Deadline to connect to each server (default ${
      DEFAULT_CONNECT_TIMEOUT_MS / 1000
    })`,
  },
  json: { type: "boolean", description: "Machine-readable output" },
  "client-id": {
    type: "string",
    placeholder: "ID",
    description: "With --url: pre-registered OAuth client id (skips registration)",
  },
  "client-secret": {
    type: "string",
    placeholder: "SECRET",
    description: "With --url: that client's secret (prefer --client-secret-env)",
  },
  "client-secret-env": {
    type: "string",
    placeholder: "NAME",
    description: "With --url: read the client secret from this environment variable",
  },
  scope: {
    type: "string",
    multiple: true,
    placeholder: "SCOPE",
    description: "With --url: OAuth scope to request (repeatable)",
  },
  ...OAUTH_FLAGS,
};

const TOOLS_FLAGS: FlagSpecs = {
  ...COMMON_FLAGS,
  toolset: { type: "string", placeholder: "NAME", description: "Only this toolset" },
};

const SUBCOMMANDS = ["tools", "call"];

/** Runs `dagent mcp …` with the arguments after `mcp`. */
export async function run(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === "tools") return await runTools(rest);
  if (sub === "call") return await runCall(rest);
  if (sub === undefined || sub === "--help" || sub === "-h" || sub === "help") {
    console.log(
      "Usage: dagent mcp tools|call ...\n\n" +
        "  tools  List the tools of a config's MCP servers (or of --url)\n" +
        "  call   Call one tool and print its result\n\n" +
        "Run 'dagent mcp tools --help' or 'dagent mcp call --help' for their flags.\n",
    );
    return sub === undefined ? ExitCode.Usage : ExitCode.Ok;
  }
  const guess = nearest(sub, SUBCOMMANDS);
  throw new UsageError(
    `mcp: unknown subcommand '${sub}'`,
    guess ? `did you mean 'dagent mcp ${guess}'?` : "use 'dagent mcp tools' or 'dagent mcp call'",
  );
}

/**
 * Prepares OAuth for the selected toolsets: the process's OAuth context (store, prompts),
 * then a sign-in for each remote server that needs one and has no token. Returns the
 * OAuth fetches and the toolsets whose sign-in failed (reported like failed starts).
 */
async function prepareOAuth(
  selected: Selected[],
  values: Record<string, unknown>,
  configPath: string | undefined,
  timeoutMs: number,
): Promise<{ fetches?: OAuthFetches; failures: Map<string, DagentError> }> {
  if (!selected.some((s) => s.config.remote)) return { failures: new Map() };
  const fetches = new OAuthFetches(
    await createCliOAuthContext(oauthOptionsFromFlags(values, configPath)),
  );
  const failures = await signInWhereNeeded(fetches, selected, {
    probeTimeoutMs: timeoutMs,
    configPath,
  });
  return { fetches, failures };
}

/** One MCP toolset selected from a config (or built from `--url`). */
interface Selected {
  name: string;
  config: ToolsetConfig;
  /** `FILE:LINE:COL` of the toolset in the config, when it came from one. */
  where?: string;
}

async function runTools(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags("mcp tools", args, TOOLS_FLAGS);
  if (values.help) {
    console.log(renderHelp(
      TOOLS_USAGE,
      "List the tools of the MCP servers an agent uses (default agent: root): name, input\n" +
        "summary (a: string, b?: number) and description, grouped by toolset. Servers are\n" +
        "contacted concurrently; one that fails is reported and the others still listed\n" +
        "(exit 1). With --url, list the tools of one remote server without a config.",
      TOOLS_FLAGS,
    ));
    return ExitCode.Ok;
  }
  const url = stringFlag(values.url);
  let selected: Selected[];
  let baseDir: string | undefined;
  let configPath: string | undefined;
  if (url !== undefined) {
    rejectConfigFlags("mcp tools", values);
    expectPositionals("mcp tools", positionals, 0, 0, TOOLS_USAGE);
    selected = [urlToolset(url, values)];
  } else {
    rejectUrlFlags("mcp tools", values);
    expectPositionals("mcp tools", positionals, 1, 1, TOOLS_USAGE);
    const loaded = await loadConfig(positionals[0]);
    baseDir = dirOf(loaded.path);
    configPath = loaded.path;
    selected = selectToolsets(loaded, stringFlag(values.agent), stringFlag(values.toolset));
  }

  const timeoutMs = timeoutFlag(values.timeout);
  const { fetches, failures } = await prepareOAuth(selected, values, configPath, timeoutMs);
  const toolsets = selected.filter((s) => !failures.has(s.name))
    .map((s) => makeToolset(s, baseDir, timeoutMs, fetches, configPath));
  try {
    const started: StartResult[] = [
      ...await startToolsets(toolsets, { timeoutMs }),
      ...[...failures].map(([name, error]) => failedStart(name, error)),
    ];
    const listed = await Promise.all(started.map((result) => listOne(result)));
    if (values.json) {
      const ok = listed.every((entry) => entry.ok);
      console.log(JSON.stringify({ ok, toolsets: listed.map(jsonEntry) }, null, 2));
    } else {
      printListing(listed, selected);
    }
    return listed.every((entry) => entry.ok) ? ExitCode.Ok : ExitCode.Failed;
  } finally {
    await Promise.all(toolsets.map((toolset) => toolset.stop().catch(() => {})));
  }
}

async function runCall(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags("mcp call", args, COMMON_FLAGS);
  if (values.help) {
    console.log(renderHelp(
      CALL_USAGE,
      "Call one tool of one of an agent's MCP toolsets and print its result (text parts,\n" +
        'then a note for other content). JSON_ARGS is a JSON object, e.g. \'{"text":"hi"}\'.\n' +
        "Exit 1 when the tool reports an error (isError) or the server fails.",
      COMMON_FLAGS,
    ));
    return ExitCode.Ok;
  }
  const url = stringFlag(values.url);
  if (url !== undefined) {
    rejectConfigFlags("mcp call", values);
    expectPositionals("mcp call", positionals, 1, 2, CALL_USAGE);
    const [tool, rawArgs] = positionals;
    const toolArgs = parseToolArgs(rawArgs);
    return await callAndPrint(urlToolset(url, values), tool, toolArgs, values, {});
  }
  rejectUrlFlags("mcp call", values);
  expectPositionals("mcp call", positionals, 3, 4, CALL_USAGE);
  const [file, toolsetName, tool, rawArgs] = positionals;
  // Bad arguments are a usage error before anything is contacted.
  const toolArgs = parseToolArgs(rawArgs);
  const loaded = await loadConfig(file);
  const [target] = selectToolsets(loaded, stringFlag(values.agent), toolsetName);
  return await callAndPrint(target, tool, toolArgs, values, {
    baseDir: dirOf(loaded.path),
    configPath: loaded.path,
  });
}

async function callAndPrint(
  target: Selected,
  tool: string,
  toolArgs: Record<string, unknown>,
  values: Record<string, unknown>,
  origin: { baseDir?: string; configPath?: string },
): Promise<number> {
  // A tool outside the allow-list is refused before anything is started.
  try {
    new ToolAllowList(target.config.tools).check(target.name, tool);
  } catch (error) {
    throw error instanceof DagentError ? new UsageError(error.message, error.hint) : error;
  }
  const timeoutMs = timeoutFlag(values.timeout);
  const { fetches, failures } = await prepareOAuth([target], values, origin.configPath, timeoutMs);
  const signInFailure = failures.get(target.name);
  if (signInFailure) throw located(signInFailure, target.where);
  const toolset = makeToolset(target, origin.baseDir, timeoutMs, fetches, origin.configPath);
  try {
    const [started] = await startToolsets([toolset], { timeoutMs });
    if (!started.ok) throw located(started.error, target.where);
    const tools = await toolset.listTools();
    if (!tools.some((info) => info.name === tool)) {
      const names = tools.map((info) => info.name);
      const guess = nearest(tool, names);
      throw new UsageError(
        `toolset "${target.name}" has no tool "${tool}"`,
        guess
          ? `did you mean "${guess}"? Tools: ${names.join(", ")}`
          : `tools: ${names.join(", ")}`,
      );
    }
    const result = await toolset.callTool(tool, toolArgs);
    if (values.json) {
      console.log(JSON.stringify({ ok: !result.isError, result }, null, 2));
    } else {
      const text = renderResult(result);
      if (text) console.log(text);
      if (result.isError) console.error(`dagent: tool "${tool}" reported an error`);
    }
    return result.isError ? ExitCode.Failed : ExitCode.Ok;
  } finally {
    await toolset.stop().catch(() => {});
  }
}

/** Parses JSON_ARGS; a syntax error is a usage error naming the position. */
function parseToolArgs(raw: string | undefined): Record<string, unknown> {
  if (raw === undefined || raw.trim() === "") return {};
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const scanned = jsonErrorOffset(raw);
    const at = scanned >= 0 ? scanned : Number(/position (\d+)/.exec(message)?.[1] ?? raw.length);
    const reason = message
      .replace(/, ".*" is not valid JSON$/s, "")
      .replace(/\s*in JSON at position.*$/s, "");
    const from = Math.max(0, at - 40);
    const prefix = from > 0 ? "…" : "";
    const snippet = prefix + raw.slice(from, from + 60).replace(/[\r\n\t]/g, " ");
    // The hint is printed after "hint: " (6 columns); the caret lines up under `at`.
    const caret = " ".repeat(6 + prefix.length + at - from) + "^";
    throw new UsageError(
      `mcp call: JSON_ARGS is not valid JSON at position ${at}: ${reason}`,
      `${snippet}\n${caret}\npass one JSON object, in single quotes: '{"text": "hi"}'`,
    );
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new UsageError(
      "mcp call: JSON_ARGS must be a JSON object",
      `e.g. '{"text": "hi"}' — got ${Array.isArray(value) ? "an array" : typeof value}`,
    );
  }
  return value as Record<string, unknown>;
}

/**
 * Offset of the first syntax error in `text` as JSON (RFC 8259), or -1 when it is valid.
 * JSON.parse's messages do not always carry the position, so it is found here.
 */
function jsonErrorOffset(text: string): number {
  let i = 0;
  const fail = (): never => {
    throw i;
  };
  const space = () => {
    while (i < text.length && " \t\n\r".includes(text[i])) i++;
  };
  const string = () => {
    i++; // opening quote
    while (i < text.length) {
      const c = text[i];
      if (c === '"') return void i++;
      if (c === "\\") {
        i++;
        if (text[i] === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) fail();
          i += 5;
        } else if ('"\\/bfnrt'.includes(text[i] ?? "x")) i++;
        else fail();
        continue;
      }
      if (c < " ") fail();
      i++;
    }
    fail();
  };
  const value = (): void => {
    space();
    const c = text[i];
    if (c === "{" || c === "[") {
      const close = c === "{" ? "}" : "]";
      i++;
      space();
      if (text[i] === close) return void i++;
      for (;;) {
        if (c === "{") {
          space();
          if (text[i] !== '"') fail();
          string();
          space();
          if (text[i] !== ":") fail();
          i++;
        }
        value();
        space();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === close) return void i++;
        fail();
      }
    }
    if (c === '"') return string();
    const number = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i))?.[0];
    if (number) return void (i += number.length);
    for (const word of ["true", "false", "null"]) {
      if (text.startsWith(word, i)) return void (i += word.length);
    }
    fail();
  };
  try {
    value();
    space();
    if (i < text.length) fail();
    return -1;
  } catch (offset) {
    if (typeof offset === "number") return offset;
    throw offset;
  }
}

/** The MCP toolsets of an agent, optionally only the one named `only`. */
function selectToolsets(
  loaded: LoadedConfig,
  agentFlag: string | undefined,
  only: string | undefined,
): Selected[] {
  const agents = Object.keys(loaded.config.agents ?? {});
  const agentName = agentFlag ?? "root";
  const agent = loaded.config.agents?.[agentName];
  if (!agent) {
    const guess = nearest(agentName, agents);
    throw new UsageError(
      `unknown agent "${agentName}" in ${loaded.path}`,
      `${guess ? `did you mean "${guess}"? ` : ""}agents: ${agents.join(", ") || "(none)"}` +
        (agentFlag ? "" : "; pick one with --agent"),
    );
  }
  const entries = (agent.toolsets ?? [])
    .map((config, index) => ({ config, index }))
    .filter(({ config }) => config.type === "mcp");
  const names = toolsetNames(entries.map(({ config }) => config));
  let selected: Selected[] = entries.map(({ config, index }, i) => {
    const position = loaded.locate(["agents", agentName, "toolsets", index]);
    const where = position ? `${loaded.path}:${position.line}:${position.col}` : undefined;
    return { name: names[i], config, where };
  });
  if (only !== undefined) {
    selected = selected.filter((s) => s.name === only);
    if (selected.length === 0) {
      const guess = nearest(only, names);
      throw new UsageError(
        `agent "${agentName}" has no MCP toolset "${only}"`,
        `${guess ? `did you mean "${guess}"? ` : ""}toolsets: ${names.join(", ") || "(none)"}`,
      );
    }
  }
  if (selected.length === 0) {
    throw new UsageError(
      `agent "${agentName}" has no MCP toolsets in ${loaded.path}`,
      "add a toolset with type: mcp (a command, or remote.url)",
    );
  }
  return selected;
}

function urlToolset(url: string, values: Record<string, unknown>): Selected {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`--url: not a valid URL: ${url}`, "e.g. --url http://127.0.0.1:8080/mcp");
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new UsageError(`--url must be http(s), got ${parsed.protocol}`);
  }
  const transport = stringFlag(values.transport) ?? "streamable";
  if (transport !== "streamable" && transport !== "sse") {
    throw new UsageError(
      `--transport must be streamable or sse, got '${transport}'`,
      "sse is the older HTTP+SSE protocol (servers with a /sse endpoint)",
    );
  }
  const headers: Record<string, string> = {};
  for (const header of (values.header as string[] | undefined) ?? []) {
    const match = /^([^=:\s]+)\s*[=:]\s*(.*)$/.exec(header);
    if (!match) {
      throw new UsageError(`--header must be K=V, got '${header}'`, "e.g. --header X-Team=blue");
    }
    headers[match[1]] = match[2];
  }
  const clientId = stringFlag(values["client-id"]);
  const secretEnv = stringFlag(values["client-secret-env"]);
  const clientSecret = stringFlag(values["client-secret"]) ??
    (secretEnv !== undefined ? Deno.env.get(secretEnv) : undefined);
  if (secretEnv !== undefined && clientSecret === undefined) {
    throw new UsageError(`--client-secret-env: ${secretEnv} is not set`, `export ${secretEnv}=...`);
  }
  if (clientSecret !== undefined && clientId === undefined) {
    throw new UsageError("--client-secret needs --client-id");
  }
  const scopes = values.scope as string[] | undefined;
  const oauth = clientId !== undefined || scopes !== undefined
    ? {
      ...(clientId !== undefined ? { clientId } : {}),
      ...(clientSecret !== undefined ? { clientSecret } : {}),
      ...(scopes !== undefined ? { scopes } : {}),
    }
    : undefined;
  return {
    name: parsed.hostname,
    config: {
      type: "mcp",
      remote: { url, transport_type: transport, headers, ...(oauth ? { oauth } : {}) },
    },
  };
}

function makeToolset(
  selected: Selected,
  baseDir: string | undefined,
  timeoutMs: number,
  fetches: OAuthFetches | undefined,
  configPath: string | undefined,
): Toolset {
  return createToolset(selected.config, {
    name: selected.name,
    connectTimeoutMs: timeoutMs,
    fetch: fetches?.fetchFor(selected.config, selected.name, configPath),
    cwd: baseDir,
  });
}

/** A toolset whose sign-in failed, reported like one that failed to start. */
function failedStart(name: string, error: DagentError): StartResult {
  const placeholder: Toolset = {
    name,
    requiresAuth: true,
    start: () => Promise.reject(error),
    listTools: () => Promise.reject(error),
    callTool: () => Promise.reject(error),
    stop: () => Promise.resolve(),
  };
  return { toolset: placeholder, ok: false, error };
}

type Listed =
  | { name: string; ok: true; tools: ToolInfo[] }
  | { name: string; ok: false; error: DagentError };

async function listOne(result: StartResult): Promise<Listed> {
  const name = result.toolset.name;
  if (!result.ok) return { name, ok: false, error: result.error };
  try {
    return { name, ok: true, tools: await result.toolset.listTools() };
  } catch (error) {
    const failure = error instanceof DagentError
      ? error
      : new DagentError(`toolset "${name}": ${String(error)}`);
    return { name, ok: false, error: failure };
  }
}

function printListing(listed: Listed[], selected: Selected[]): void {
  const blocks: string[] = [];
  for (const entry of listed) {
    if (!entry.ok) continue;
    const lines = [
      `${entry.name} (${entry.tools.length} tool${entry.tools.length === 1 ? "" : "s"})`,
    ];
    for (const tool of entry.tools) {
      const readOnly = tool.annotations?.readOnlyHint === true ? "  [read-only]" : "";
      lines.push(`  ${tool.name}(${summarizeSchema(tool.inputSchema)})${readOnly}`);
      const description = firstLine(tool.description);
      if (description) lines.push(`      ${description}`);
    }
    blocks.push(lines.join("\n"));
  }
  if (blocks.length > 0) console.log(blocks.join("\n\n"));
  for (const entry of listed) {
    if (entry.ok) continue;
    const where = selected.find((s) => s.name === entry.name)?.where;
    console.error(`dagent: ${where ? `${where}: ` : ""}${entry.error.message}`);
    if (entry.error.hint) console.error(`hint: ${entry.error.hint}`);
  }
}

function jsonEntry(entry: Listed): Record<string, unknown> {
  if (entry.ok) return { name: entry.name, ok: true, tools: entry.tools };
  const { message, code, hint } = entry.error;
  return { name: entry.name, ok: false, error: { code, message, ...(hint ? { hint } : {}) } };
}

/**
 * A one-line summary of a tool's JSON Schema arguments: `a: string, b?: number`
 * (optional properties get `?`; arrays `string[]`; enums `"x" | "y"`).
 */
export function summarizeSchema(schema: Record<string, unknown> | undefined): string {
  const properties = schema?.properties;
  if (!properties || typeof properties !== "object") return "";
  const required = new Set(Array.isArray(schema.required) ? schema.required as string[] : []);
  return Object.entries(properties as Record<string, unknown>)
    .map(([name, property]) =>
      `${name}${required.has(name) ? "" : "?"}: ${typeName(property as Record<string, unknown>)}`
    )
    .join(", ");
}

function typeName(property: Record<string, unknown> | undefined, depth = 0): string {
  if (!property || typeof property !== "object" || depth > 3) return "any";
  if (Array.isArray(property.enum)) {
    const values = property.enum.slice(0, 5).map((value) => JSON.stringify(value));
    return values.join(" | ") + (property.enum.length > 5 ? " | …" : "");
  }
  if ("const" in property) return JSON.stringify(property.const);
  const union = (property.anyOf ?? property.oneOf) as Record<string, unknown>[] | undefined;
  if (Array.isArray(union)) return union.map((p) => typeName(p, depth + 1)).join(" | ");
  const type = property.type;
  if (Array.isArray(type)) return type.join(" | ");
  if (type === "array") {
    const item = typeName(property.items as Record<string, unknown> | undefined, depth + 1);
    return item.includes(" ") ? `(${item})[]` : `${item}[]`;
  }
  return typeof type === "string" ? type : "any";
}

/** The printable form of a tool result: text parts, then a note per other part. */
function renderResult(result: ToolResult): string {
  const parts: string[] = [];
  for (const part of result.content) {
    const item = part as Record<string, unknown>;
    if (part.type === "text") parts.push(String(item.text ?? ""));
    else if (part.type === "image" || part.type === "audio") {
      const bytes = Math.floor(String(item.data ?? "").length * 3 / 4);
      parts.push(`[${part.type}: ${String(item.mimeType)}, ${bytes} bytes]`);
    } else if (part.type === "resource") {
      const resource = (item.resource ?? {}) as Record<string, unknown>;
      parts.push(
        typeof resource.text === "string"
          ? resource.text
          : `[resource: ${String(resource.uri ?? "")}]`,
      );
    } else if (part.type === "resource_link") parts.push(`[link: ${String(item.uri)}]`);
    else parts.push(`[${part.type} content]`);
  }
  if (parts.length === 0 && result.structuredContent) {
    parts.push(JSON.stringify(result.structuredContent, null, 2));
  }
  return parts.join("\n");
}

function located(error: DagentError, where: string | undefined): DagentError {
  if (!where) return error;
  return new DagentError(`${where}: ${error.message}`, {
    code: error.code,
    hint: error.hint,
    exitCode: error.exitCode,
    cause: error,
  });
}

function rejectConfigFlags(command: string, values: Record<string, unknown>): void {
  for (const flag of ["agent", "toolset"]) {
    if (values[flag] !== undefined) {
      throw new UsageError(`${command}: --${flag} needs a config file, not --url`);
    }
  }
}

function rejectUrlFlags(command: string, values: Record<string, unknown>): void {
  for (
    const flag of [
      "header",
      "transport",
      "client-id",
      "client-secret",
      "client-secret-env",
      "scope",
    ]
  ) {
    if (values[flag] !== undefined) {
      throw new UsageError(
        `${command}: --${flag} only applies with --url`,
        "set these on the toolset's remote block (headers, transport_type, oauth) in the config",
      );
    }
  }
}

function timeoutFlag(value: unknown): number {
  if (value === undefined) return DEFAULT_CONNECT_TIMEOUT_MS;
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new UsageError(`--timeout must be a positive number of seconds, got '${value}'`);
  }
  return Math.round(seconds * 1000);
}

function stringFlag(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

function firstLine(text: string | undefined): string {
  const line = (text ?? "").trim().split("\n")[0];
  return line.length > 100 ? `${line.slice(0, 99)}…` : line;
}

function dirOf(path: string): string {
  const index = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
  return index < 0 ? "." : index === 0 ? "/" : path.slice(0, index);
}
