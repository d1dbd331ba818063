/**
 * Config validation: the JSON Schema (schema/agent-schema.json, the single source of
 * truth) run through ajv, then the semantic checks a schema cannot express
 * (references between agents and models, cycles, OAuth combinations). Problems are
 * reported by path; the loader turns paths into `LINE:COL`.
 *
 * The schema is compiled ahead of time (schema/generate_validator.ts, ajv standalone
 * code) into schema_validator.generated.js, so start-up neither imports ajv nor
 * compiles the schema; only ajv's types are imported here.
 * @module
 */
import type { ErrorObject, ValidateFunction } from "ajv";
import { validate as generatedValidate } from "./schema_validator.generated.js";
import { nearest } from "../suggest.ts";

/** A path into the config: map keys and sequence indexes. */
export type ProblemPath = (string | number)[];

/** A problem found at a path; `target` says whether to point at the key or the value. */
export interface PathProblem {
  path: ProblemPath;
  target: "key" | "value";
  message: string;
  hint?: string;
}

/** Options of {@link validateSchema}. */
export interface SchemaCheckOptions {
  /** Source text of the value at a path, used for hints such as "quote it". */
  sourceOf?: (path: ProblemPath) => string | undefined;
}

/** Providers dagent talks to without a `base_url`. */
export const BUILTIN_PROVIDERS = ["openai", "anthropic", "dmr", "ollama"] as const;

/**
 * The precompiled schema (options allErrors, verbose, strict): it sets `errors` to ajv's
 * usual error objects, each with `data` and `parentSchema`.
 */
const validate = generatedValidate as unknown as ValidateFunction;

/** Validates `data` against the config schema; returns every violation. */
export function validateSchema(data: unknown, options: SchemaCheckOptions = {}): PathProblem[] {
  if (validate(data)) return [];
  const problems: PathProblem[] = [];
  for (const error of validate.errors ?? []) {
    const problem = describeError(error, options);
    if (problem) problems.push(problem);
  }
  return problems;
}

/** Splits an ajv instancePath (a JSON Pointer, RFC 6901) into segments. */
function splitPointer(pointer: string): ProblemPath {
  if (pointer === "") return [];
  return pointer.slice(1).split("/").map((s) => s.replaceAll("~1", "/").replaceAll("~0", "~"));
}

/**
 * The nearest candidate ({@link nearest}), or one that differs only by two swapped
 * adjacent letters (`modle` → `model`), a common typo plain edit distance counts as 2.
 */
function suggest(input: string, candidates: Iterable<string>): string | undefined {
  const list = [...candidates];
  const close = nearest(input, list);
  if (close !== undefined) return close;
  const lower = input.toLowerCase();
  return list.find((candidate) => {
    const other = candidate.toLowerCase();
    if (other.length !== lower.length) return false;
    const diff = [...lower].flatMap((ch, i) => ch === other[i] ? [] : [i]);
    return diff.length === 2 && diff[1] === diff[0] + 1 &&
      lower[diff[0]] === other[diff[1]] && lower[diff[1]] === other[diff[0]];
  });
}

/** `agents.root.toolsets[0].remote` for a path; "the config" for the root. */
export function describePath(path: ProblemPath): string {
  if (path.length === 0) return "the config";
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number" || /^\d+$/.test(segment)) out += `[${segment}]`;
    else out += out === "" ? segment : `.${segment}`;
  }
  return out;
}

function kindOf(value: unknown): string {
  if (value === null) return "empty (null)";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a map";
  if (typeof value === "string") return "a string";
  if (typeof value === "number") return Number.isInteger(value) ? "an integer" : "a number";
  return `a ${typeof value}`;
}

const TYPE_NAMES: Record<string, string> = {
  object: "a map",
  array: "a list",
  string: "a string",
  integer: "an integer",
  number: "a number",
  boolean: "true or false",
};

const PATTERN_MESSAGES: Record<string, string> = {
  scopes: "is not a valid scope (no spaces, quotes or backslashes; RFC 6749 §3.3)",
  privateKeyEnv: "must be an environment variable name (letters, digits, _)",
  token_key: "must be an environment variable name (letters, digits, _)",
};

function describeError(error: ErrorObject, options: SchemaCheckOptions): PathProblem | undefined {
  const path = splitPointer(error.instancePath);
  const where = describePath(path);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case "additionalProperties": {
      const key = String(params.additionalProperty);
      const properties = (error.parentSchema as { properties?: Record<string, unknown> })
        ?.properties;
      const allowed = properties ? Object.keys(properties) : [];
      const guess = suggest(key, allowed);
      return {
        path: [...path, key],
        target: "key",
        message: path.length === 0
          ? `unknown top-level key '${key}'`
          : `unknown key '${key}' in ${where}`,
        hint: guess
          ? `did you mean '${guess}'?`
          : allowed.length > 0
          ? `valid keys here: ${allowed.join(", ")}`
          : undefined,
      };
    }
    case "required": {
      const missing = String(params.missingProperty);
      return {
        path,
        target: "key",
        message: `${where} is missing the required key '${missing}'`,
        hint: requiredHint(path, missing),
      };
    }
    case "type": {
      const expected = String(params.type).split(",").map((t) => TYPE_NAMES[t] ?? t).join(
        " or ",
      );
      return {
        path,
        target: "value",
        message: `${where} must be ${expected}, not ${kindOf(error.data)}`,
        hint: typeHint(path, String(params.type), error.data, options),
      };
    }
    case "enum": {
      const allowed = (params.allowedValues as unknown[]).map(String);
      const guess = typeof error.data === "string" ? suggest(error.data, allowed) : undefined;
      return {
        path,
        target: "value",
        message: `${where} must be one of: ${allowed.join(", ")}`,
        hint: guess ? `did you mean '${guess}'?` : undefined,
      };
    }
    case "format":
      return {
        path,
        target: "value",
        message: `${where} is not a valid URL`,
        hint: "write a full URL such as https://mcp.example.com/mcp",
      };
    case "pattern": {
      const last = [...path].reverse().find((s) => typeof s === "string" && !/^\d+$/.test(s));
      const message = PATTERN_MESSAGES[String(last)] ?? `must match ${String(params.pattern)}`;
      return { path, target: "value", message: `${where} ${message}` };
    }
    case "minimum":
    case "maximum":
    case "exclusiveMinimum":
    case "exclusiveMaximum": {
      const words: Record<string, string> = {
        ">=": "at least",
        "<=": "at most",
        ">": "greater than",
        "<": "less than",
      };
      const comparison = words[String(params.comparison)] ?? String(params.comparison);
      return {
        path,
        target: "value",
        message: `${where} must be ${comparison} ${String(params.limit)}`,
      };
    }
    case "minLength":
      return { path, target: "value", message: `${where} must not be empty` };
    case "minProperties":
      return {
        path,
        target: "key",
        message: `${where} must not be empty`,
        hint: path[0] === "agents" ? "define at least a 'root' agent with a model" : undefined,
      };
    case "uniqueItems": {
      const later = Math.max(Number(params.i), Number(params.j));
      const earlier = Math.min(Number(params.i), Number(params.j));
      return {
        path: [...path, later],
        target: "value",
        message: `${where} lists the same item twice ([${earlier}] and [${later}])`,
        hint: "remove the repeated entry",
      };
    }
    default:
      return { path, target: "value", message: `${where} ${error.message ?? "is invalid"}` };
  }
}

function requiredHint(path: ProblemPath, missing: string): string | undefined {
  if (path.length === 0 && missing === "agents") {
    return "add an 'agents:' map with a 'root' agent; see 'dagent schema'";
  }
  if (path[0] === "agents" && missing === "model") {
    return "name a key of 'models', or write provider/model, e.g. openai/gpt-4o";
  }
  if (missing === "url") return "give the server's MCP endpoint, e.g. https://mcp.example.com/mcp";
  return undefined;
}

function typeHint(
  path: ProblemPath,
  expected: string,
  data: unknown,
  options: SchemaCheckOptions,
): string | undefined {
  const key = path[path.length - 1];
  if (expected === "string" && (typeof data === "number" || typeof data === "boolean")) {
    // YAML reads 123.456 as a number and may round it; a quoted value is kept as written.
    const written = options.sourceOf?.(path) ?? String(data);
    return `quote it to keep it as written: ${typeof key === "string" ? `${key}: ` : ""}"${
      written.replaceAll('"', '\\"')
    }"`;
  }
  if (data === null) return "give it a value, or remove the key";
  if (
    typeof data === "string" && ["integer", "number", "boolean"].includes(expected) &&
    /^(-?\d+(\.\d+)?|true|false)$/.test(data.trim())
  ) {
    return `remove the quotes: ${typeof key === "string" ? `${key}: ` : ""}${data.trim()}`;
  }
  if (expected === "array" && typeof data === "string") {
    return `write a list, e.g. ${typeof key === "string" ? `${key}: ` : ""}[${data}]`;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------
// Semantic checks. They run on data that may have failed the schema, so every
// access is guarded: a value of the wrong type was already reported there.
// ---------------------------------------------------------------------------------

type Obj = Record<string, unknown>;

function isObj(value: unknown): value is Obj {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function has(object: Obj, key: string): boolean {
  return Object.hasOwn(object, key) && object[key] !== undefined;
}

/** True for 127.0.0.0/8, ::1 and localhost (RFC 8252 §8.3: loopback redirects). */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  return host === "localhost" || host === "::1" || /^127(\.\d{1,3}){3}$/.test(host);
}

/**
 * The checks a schema cannot express: model and sub-agent references, cycles, a root
 * agent, unique toolset names, and which toolset and OAuth keys may go together.
 */
export function checkSemantics(data: unknown): PathProblem[] {
  if (!isObj(data)) return [];
  const problems: PathProblem[] = [];
  const models = isObj(data.models) ? data.models : {};
  for (const [name, model] of Object.entries(models)) {
    if (isObj(model)) checkModel(name, model, problems);
  }
  if (!isObj(data.agents)) return problems;
  const agents = data.agents;
  const names = Object.keys(agents);
  if (names.length > 0 && !has(agents, "root")) {
    const guess = suggest("root", names);
    problems.push({
      path: ["agents"],
      target: "key",
      message: `no agent is named 'root' (agents: ${names.join(", ")})`,
      hint: guess
        ? `commands run 'root' unless given --agent; did you mean to name '${guess}' root?`
        : "commands run 'root' unless given --agent; name the main agent root",
    });
  }
  for (const [name, agent] of Object.entries(agents)) {
    if (!isObj(agent)) continue;
    checkAgentModel(name, agent, models, problems);
    checkSubAgents(name, agent, names, problems);
    if (Array.isArray(agent.toolsets)) checkToolsets(name, agent.toolsets, problems);
  }
  checkCycles(agents, problems);
  return problems;
}

function checkModel(name: string, model: Obj, problems: PathProblem[]): void {
  const provider = model.provider;
  if (typeof provider !== "string" || provider === "") return;
  if ((BUILTIN_PROVIDERS as readonly string[]).includes(provider) || has(model, "base_url")) {
    return;
  }
  const guess = suggest(provider, BUILTIN_PROVIDERS);
  problems.push({
    path: ["models", name, "provider"],
    target: "value",
    message: `models.${name}: provider '${provider}' is not built in and has no base_url`,
    hint: guess
      ? `did you mean '${guess}'? Otherwise set base_url to its OpenAI-compatible API`
      : `set base_url to its OpenAI-compatible API (built in: ${BUILTIN_PROVIDERS.join(", ")})`,
  });
}

function checkAgentModel(name: string, agent: Obj, models: Obj, problems: PathProblem[]): void {
  const ref = agent.model;
  if (typeof ref !== "string" || ref === "" || has(models, ref)) return;
  const path = ["agents", name, "model"];
  const slash = ref.indexOf("/");
  if (slash > 0 && slash < ref.length - 1) {
    const provider = ref.slice(0, slash);
    if ((BUILTIN_PROVIDERS as readonly string[]).includes(provider)) return;
    const guess = suggest(provider, BUILTIN_PROVIDERS);
    problems.push({
      path,
      target: "value",
      message: `agents.${name}.model '${ref}' names an unknown provider '${provider}'`,
      hint: guess
        ? `did you mean '${guess}/${ref.slice(slash + 1)}'?`
        : `inline models use ${
          BUILTIN_PROVIDERS.join(", ")
        }; define others under 'models:' with base_url`,
    });
    return;
  }
  const guess = suggest(ref, Object.keys(models));
  problems.push({
    path,
    target: "value",
    message: `agents.${name}.model '${ref}' is not a key of 'models' nor a provider/model name`,
    hint: guess
      ? `did you mean '${guess}'?`
      : "define it under 'models:', or write provider/model, e.g. openai/gpt-4o",
  });
}

function checkSubAgents(name: string, agent: Obj, names: string[], problems: PathProblem[]) {
  if (!Array.isArray(agent.sub_agents)) return;
  agent.sub_agents.forEach((sub, index) => {
    if (typeof sub !== "string" || sub === "") return;
    const path = ["agents", name, "sub_agents", index];
    if (sub === name) {
      problems.push({
        path,
        target: "value",
        message: `agent '${name}' lists itself as a sub-agent`,
        hint: "remove it; an agent cannot transfer a task to itself",
      });
    } else if (!names.includes(sub)) {
      const guess = suggest(sub, names.filter((n) => n !== name));
      problems.push({
        path,
        target: "value",
        message: `sub-agent '${sub}' of agent '${name}' is not defined in 'agents'`,
        hint: guess ? `did you mean '${guess}'?` : `defined agents: ${names.join(", ")}`,
      });
    }
  });
}

/** Depth-first search with colours; each back edge closes one reported cycle. */
function checkCycles(agents: Obj, problems: PathProblem[]): void {
  const edges = (name: string): string[] => {
    const agent = agents[name];
    if (!isObj(agent) || !Array.isArray(agent.sub_agents)) return [];
    return agent.sub_agents.map((s) => typeof s === "string" ? s : "");
  };
  const state = new Map<string, "active" | "done">();
  const stack: string[] = [];
  const visit = (name: string): void => {
    state.set(name, "active");
    stack.push(name);
    edges(name).forEach((sub, index) => {
      if (sub === name || !Object.hasOwn(agents, sub)) return;
      if (state.get(sub) === "active") {
        const cycle = [...stack.slice(stack.indexOf(sub)), sub];
        problems.push({
          path: ["agents", name, "sub_agents", index],
          target: "value",
          message: `sub-agents form a cycle: ${cycle.join(" → ")}`,
          hint: `remove '${sub}' from the sub_agents of '${name}' (or another link of the cycle)`,
        });
      } else if (!state.has(sub)) {
        visit(sub);
      }
    });
    stack.pop();
    state.set(name, "done");
  };
  for (const name of Object.keys(agents)) if (!state.has(name)) visit(name);
}

const TOOLSET_TYPES = ["mcp", "think", "todo", "filesystem", "shell", "fetch"];

const ONLY_FOR: Record<string, { types: string[]; what: string }> = {
  command: { types: ["mcp"], what: "type mcp" },
  args: { types: ["mcp"], what: "type mcp" },
  env: { types: ["mcp"], what: "type mcp" },
  cwd: { types: ["mcp"], what: "type mcp" },
  remote: { types: ["mcp"], what: "type mcp (and so does its oauth)" },
  allowed_directories: { types: ["filesystem"], what: "type filesystem" },
  timeout: { types: ["shell", "fetch"], what: "types shell and fetch" },
};

function checkToolsets(agent: string, toolsets: unknown[], problems: PathProblem[]): void {
  const seen = new Map<string, number>();
  toolsets.forEach((toolset, index) => {
    if (!isObj(toolset)) return;
    const base = ["agents", agent, "toolsets", index];
    if (typeof toolset.name === "string" && toolset.name !== "") {
      const earlier = seen.get(toolset.name);
      if (earlier === undefined) seen.set(toolset.name, index);
      else {
        problems.push({
          path: [...base, "name"],
          target: "value",
          message: `toolset name '${toolset.name}' is used twice in agent '${agent}' ` +
            `(also toolsets[${earlier}])`,
          hint: "give each toolset of an agent its own name",
        });
      }
    }
    const type = toolset.type;
    // An unknown type was reported by the schema; which keys it allows is unknowable.
    if (typeof type !== "string" || !TOOLSET_TYPES.includes(type)) return;
    for (const [key, rule] of Object.entries(ONLY_FOR)) {
      if (has(toolset, key) && !rule.types.includes(type)) {
        problems.push({
          path: [...base, key],
          target: "key",
          message: `'${key}' applies only to toolsets of ${rule.what}; this one is type ${type}`,
          hint: rule.types[0] === "mcp"
            ? "remove it, or make this toolset 'type: mcp'"
            : "remove it",
        });
      }
    }
    if (type === "mcp") checkMcpToolset(toolset, base, problems);
  });
}

function checkMcpToolset(toolset: Obj, base: ProblemPath, problems: PathProblem[]): void {
  const hasCommand = has(toolset, "command");
  const hasRemote = has(toolset, "remote");
  if (!hasCommand && !hasRemote) {
    problems.push({
      path: base,
      target: "value",
      message: `${describePath(base)}: an mcp toolset needs 'command' (a local server) or ` +
        "'remote' (a server at a URL)",
      hint: "add e.g. command: npx, or remote: { url: https://mcp.example.com/mcp }",
    });
  }
  if (hasCommand && hasRemote) {
    problems.push({
      path: [...base, "remote"],
      target: "key",
      message: `${describePath(base)}: an mcp toolset has 'command' or 'remote', not both`,
      hint: "split it into two toolsets",
    });
  }
  if (hasRemote && !hasCommand) {
    for (const key of ["args", "env", "cwd"]) {
      if (!has(toolset, key)) continue;
      problems.push({
        path: [...base, key],
        target: "key",
        message: `'${key}' applies only to a local (command) server; this toolset is remote`,
        hint: key === "env" ? "to send values to a remote server, use remote.headers" : "remove it",
      });
    }
  }
  if (isObj(toolset.remote)) checkRemote(toolset.remote, [...base, "remote"], problems);
}

function checkRemote(remote: Obj, base: ProblemPath, problems: PathProblem[]): void {
  const url = typeof remote.url === "string" ? parseUrl(remote.url) : undefined;
  if (url && url.protocol !== "https:" && url.protocol !== "http:") {
    problems.push({
      path: [...base, "url"],
      target: "value",
      message: `${describePath([...base, "url"])} must be an http(s) URL, not ${url.protocol}`,
    });
  }
  if (!has(remote, "oauth")) return;
  if (url && url.protocol === "http:" && !isLoopbackHost(url.hostname)) {
    problems.push({
      path: [...base, "url"],
      target: "value",
      message: `${describePath([...base, "url"])} uses http:// with oauth: tokens would be ` +
        "sent unencrypted",
      hint: "use https:// (http:// is accepted only for 127.0.0.1 / localhost)",
    });
  }
  if (isObj(remote.oauth)) checkOAuth(remote.oauth, [...base, "oauth"], problems);
}

function checkOAuth(oauth: Obj, base: ProblemPath, problems: PathProblem[]): void {
  const at = (key: string) => describePath([...base, key]);
  const hasClientId = has(oauth, "clientId");
  if (has(oauth, "clientSecret") && !hasClientId) {
    problems.push({
      path: [...base, "clientSecret"],
      target: "key",
      message: `${at("clientSecret")} needs clientId`,
      hint: "add the client id that goes with this secret",
    });
  }
  for (const key of ["privateKeyFile", "privateKeyEnv"]) {
    if (has(oauth, key) && !hasClientId) {
      problems.push({
        path: [...base, key],
        target: "key",
        message: `${at(key)} needs clientId (private_key_jwt signs as the client)`,
        hint: "add the client id registered with this key",
      });
    }
  }
  if (has(oauth, "privateKeyFile") && has(oauth, "privateKeyEnv")) {
    problems.push({
      path: [...base, "privateKeyEnv"],
      target: "key",
      message: `${describePath(base)}: set privateKeyFile or privateKeyEnv, not both`,
    });
  }
  if (oauth.grantType === "client_credentials") {
    const credential = has(oauth, "clientSecret") || has(oauth, "privateKeyFile") ||
      has(oauth, "privateKeyEnv");
    if (!hasClientId || !credential) {
      const missing = [
        ...(hasClientId ? [] : ["clientId"]),
        ...(credential ? [] : ["clientSecret (or privateKeyFile / privateKeyEnv)"]),
      ];
      problems.push({
        path: [...base, "grantType"],
        target: "value",
        message: `grantType client_credentials needs ${missing.join(" and ")}`,
        hint: "an unattended client authenticates with its id and a secret or a private key",
      });
    }
  }
  if (typeof oauth.callbackRedirectURL === "string") {
    checkHttpsOrLoopback(
      // `${callbackPort}` is filled in at sign-in; any valid port will do here.
      oauth.callbackRedirectURL.replaceAll("${callbackPort}", "1"),
      [...base, "callbackRedirectURL"],
      problems,
    );
  }
  if (typeof oauth.clientMetadataUrl === "string") {
    checkHttpsOrLoopback(oauth.clientMetadataUrl, [...base, "clientMetadataUrl"], problems);
  }
}

function checkHttpsOrLoopback(value: string, path: ProblemPath, problems: PathProblem[]): void {
  const url = parseUrl(value);
  if (!url) {
    problems.push({
      path,
      target: "value",
      message: `${describePath(path)} is not a valid URL`,
      hint: "write a full URL such as https://example.com/callback",
    });
    return;
  }
  if (url.protocol === "https:") return;
  if (url.protocol === "http:" && isLoopbackHost(url.hostname)) return;
  problems.push({
    path,
    target: "value",
    message: `${describePath(path)} must use https:// (http:// only on a loopback host)`,
    hint: url.protocol === "http:"
      ? "use https://, or http://127.0.0.1 / http://localhost"
      : `only https:// and loopback http:// URLs are accepted, not ${url.protocol}`,
  });
}

function parseUrl(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}
