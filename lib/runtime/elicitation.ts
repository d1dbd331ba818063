/**
 * The elicitation interface: how dagent asks its user something in the middle of work
 * (sign in to a server? paste the redirect address; fill in a server's form).
 *
 * Implementations: terminal (prompts on the TTY), non-interactive (`--yes` or a clear
 * error), scripted (tests). OAuth toolsets start only once one is available.
 * @module
 */
import { DagentError } from "../errors.ts";
import { readStdinLine } from "./stdin_lines.ts";

/** What the user is asked before a browser is opened for a sign-in. */
export interface SignInPrompt {
  /** Toolset name (or server host) shown to the user. */
  server: string;
  /** The MCP server URL. */
  serverUrl: string;
  /** The authorization server's issuer. */
  issuer: string;
  /** Scopes that will be requested (may be empty). */
  scopes: string[];
  /** The authorization URL the browser will be sent to. */
  authorizationUrl: string;
}

/** The user's answer to a {@link SignInPrompt}. */
export type SignInAnswer = "accept" | "decline";

/** A request to paste the address the browser ended on (headless sign-in). */
export interface RedirectPrompt {
  server: string;
  authorizationUrl: string;
}

/** A server-initiated MCP elicitation (`elicitation/create`, form mode). */
export interface FormRequest {
  server: string;
  message: string;
  /** JSON schema of the requested object (flat properties, per the MCP spec). */
  requestedSchema: Record<string, unknown>;
}

/** The answer to a {@link FormRequest}, in MCP's `ElicitResult` shape. */
export interface FormResult {
  action: "accept" | "decline" | "cancel";
  content?: Record<string, string | number | boolean | string[]>;
}

/** Asks the user things on dagent's behalf. */
export interface ElicitationHandler {
  /** True when a person can answer (a TTY, or `--yes` standing in for one). */
  readonly interactive: boolean;
  /** Asks whether to sign in; resolves to the user's decision. */
  confirmSignIn(prompt: SignInPrompt): Promise<SignInAnswer>;
  /** Asks the user to paste the final redirect address (or the bare code). */
  readRedirect(prompt: RedirectPrompt): Promise<string>;
  /** Shows a server's form and returns the user's answer. */
  elicitForm(request: FormRequest): Promise<FormResult>;
  /** Tells the user something (progress, the URL to open); never secrets. */
  notify(message: string): void;
}

/** Error for a sign-in that needs a person when none can answer. */
function cannotAskError(prompt: SignInPrompt, configPath?: string): DagentError {
  return new DagentError(
    `${prompt.server} needs you to sign in, and this run has no terminal to ask on`,
    {
      code: "oauth.needs_login",
      hint: `run 'dagent auth login${configPath ? ` ${configPath}` : ""} ${prompt.server}' ` +
        "in a terminal first (the token is kept), or pass --yes to accept sign-in prompts",
    },
  );
}

/** Fills a form's fields from their schema defaults (what `--yes` answers). */
export function formDefaults(schema: Record<string, unknown>): FormResult["content"] {
  const properties = (schema.properties ?? {}) as Record<string, { default?: unknown }>;
  const content: NonNullable<FormResult["content"]> = {};
  for (const [name, property] of Object.entries(properties)) {
    const value = property?.default;
    if (
      typeof value === "string" || typeof value === "number" || typeof value === "boolean" ||
      (Array.isArray(value) && value.every((item) => typeof item === "string"))
    ) {
      content[name] = value;
    }
  }
  return content;
}

/** Options of {@link NonInteractiveElicitation}. */
export interface NonInteractiveOptions {
  /** `--yes`: accept sign-in prompts and answer forms with their defaults. */
  yes: boolean;
  /** Config path, for the hint when a sign-in is refused. */
  configPath?: string;
  /** Where messages go (default: stderr). */
  write?: (line: string) => void;
  /** Reads one line (the pasted redirect address); default: a line from stdin. */
  readLine?: () => Promise<string | null>;
}

/**
 * The handler for runs without a TTY (CI, pipes): `--yes` accepts sign-ins and answers
 * forms with defaults; without it, a sign-in is a clear error and forms are declined.
 */
export class NonInteractiveElicitation implements ElicitationHandler {
  readonly #options: NonInteractiveOptions;
  constructor(options: NonInteractiveOptions) {
    this.#options = options;
  }
  get interactive(): boolean {
    return this.#options.yes;
  }
  confirmSignIn(prompt: SignInPrompt): Promise<SignInAnswer> {
    if (!this.#options.yes) return Promise.reject(cannotAskError(prompt, this.#options.configPath));
    this.notify(`Signing in to ${prompt.server} (${prompt.issuer}) — accepted by --yes.`);
    return Promise.resolve("accept");
  }
  async readRedirect(prompt: RedirectPrompt): Promise<string> {
    this.notify(`Paste the address your browser ended on after signing in to ${prompt.server}:`);
    const line = await (this.#options.readLine ?? readStdinLine)();
    if (line === null || line.trim() === "") {
      throw new DagentError(`no redirect address was given for ${prompt.server}`, {
        code: "oauth.no_redirect",
        hint: "paste the full address from the browser's address bar after signing in",
      });
    }
    return line.trim();
  }
  elicitForm(request: FormRequest): Promise<FormResult> {
    if (!this.#options.yes) {
      this.notify(`${request.server} asked for input (${request.message}); declined: no terminal`);
      return Promise.resolve({ action: "decline" });
    }
    return Promise.resolve({ action: "accept", content: formDefaults(request.requestedSchema) });
  }
  notify(message: string): void {
    (this.#options.write ?? writeStderr)(message);
  }
}

/** Scripted answers, for tests and embedding: each prompt takes the next answer. */
export class ScriptedElicitation implements ElicitationHandler {
  readonly interactive = true;
  /** Every sign-in prompt seen, in order. */
  readonly signInPrompts: SignInPrompt[] = [];
  /** Every message passed to notify. */
  readonly messages: string[] = [];
  readonly #answers: SignInAnswer[];
  readonly #redirects: Array<string | ((prompt: RedirectPrompt) => Promise<string>)>;
  readonly #forms: FormResult[];

  constructor(script: {
    signIn?: SignInAnswer[];
    redirects?: Array<string | ((prompt: RedirectPrompt) => Promise<string>)>;
    forms?: FormResult[];
  } = {}) {
    this.#answers = [...(script.signIn ?? [])];
    this.#redirects = [...(script.redirects ?? [])];
    this.#forms = [...(script.forms ?? [])];
  }
  confirmSignIn(prompt: SignInPrompt): Promise<SignInAnswer> {
    this.signInPrompts.push(prompt);
    return Promise.resolve(this.#answers.shift() ?? "accept");
  }
  readRedirect(prompt: RedirectPrompt): Promise<string> {
    const next = this.#redirects.shift();
    if (next === undefined) return Promise.reject(new Error("no scripted redirect left"));
    return typeof next === "string" ? Promise.resolve(next) : next(prompt);
  }
  elicitForm(_request: FormRequest): Promise<FormResult> {
    return Promise.resolve(this.#forms.shift() ?? { action: "decline" });
  }
  notify(message: string): void {
    this.messages.push(message);
  }
}

function writeStderr(line: string): void {
  Deno.stderr.writeSync(new TextEncoder().encode(line + "\n"));
}
