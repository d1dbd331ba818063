/**
 * The interactive elicitation handler: asks on the terminal (prompts on stderr, answers
 * from stdin) before any browser opens, for pasted redirects, and for servers' forms.
 * @module
 */
import { formDefaults } from "../runtime/elicitation.ts";
import type {
  ElicitationHandler,
  FormRequest,
  FormResult,
  RedirectPrompt,
  SignInAnswer,
  SignInPrompt,
} from "../runtime/elicitation.ts";
import { readStdinLine } from "../runtime/stdin_lines.ts";
import type { ApprovalPrompt, ApprovalRequest } from "../runtime/approval.ts";

const encoder = new TextEncoder();

/** Options of {@link TerminalElicitation}. */
export interface TerminalOptions {
  /** `--yes`: accept sign-in prompts without asking (forms are still asked). */
  yes?: boolean;
  write?: (text: string) => void;
  readLine?: () => Promise<string | null>;
}

/** Prompts a person at the terminal. */
export class TerminalElicitation implements ElicitationHandler {
  readonly interactive = true;
  readonly #yes: boolean;
  readonly #write: (text: string) => void;
  readonly #readLine: () => Promise<string | null>;

  constructor(options: TerminalOptions = {}) {
    this.#yes = options.yes ?? false;
    this.#write = options.write ?? ((text) => Deno.stderr.writeSync(encoder.encode(text)));
    this.#readLine = options.readLine ?? readStdinLine;
  }

  async confirmSignIn(prompt: SignInPrompt): Promise<SignInAnswer> {
    const scopes = prompt.scopes.length ? prompt.scopes.join(" ") : "(the server's default)";
    this.#write(
      `\n${prompt.server} wants you to sign in.\n` +
        `  server:  ${prompt.serverUrl}\n  issuer:  ${prompt.issuer}\n  scopes:  ${scopes}\n`,
    );
    if (this.#yes) {
      this.#write("  accepted by --yes\n");
      return "accept";
    }
    for (;;) {
      this.#write("Sign in now? [Y/n] ");
      const answer = await this.#readLine();
      if (answer === null) return "decline";
      const normalized = answer.trim().toLowerCase();
      if (normalized === "" || normalized === "y" || normalized === "yes") return "accept";
      if (normalized === "n" || normalized === "no") return "decline";
      this.#write("Please answer y or n.\n");
    }
  }

  async readRedirect(prompt: RedirectPrompt): Promise<string> {
    this.#write(
      `After signing in to ${prompt.server}, your browser lands on an address starting with the ` +
        `redirect URI (it may fail to load; that is fine).\nPaste that whole address (or just the code): `,
    );
    const line = await this.#readLine();
    return line?.trim() ?? "";
  }

  async elicitForm(request: FormRequest): Promise<FormResult> {
    this.#write(`\n${request.server} asks: ${request.message}\n`);
    const properties = (request.requestedSchema.properties ?? {}) as Record<
      string,
      Record<string, unknown>
    >;
    const required = new Set((request.requestedSchema.required ?? []) as string[]);
    const content: NonNullable<FormResult["content"]> = {
      ...formDefaults(request.requestedSchema),
    };
    for (const [name, field] of Object.entries(properties)) {
      const label = String(field.title ?? name);
      const choices = Array.isArray(field.enum) ? ` (${field.enum.join("/")})` : "";
      const current = content[name] !== undefined ? ` [${content[name]}]` : "";
      for (;;) {
        this.#write(`  ${label}${choices}${current}${required.has(name) ? " *" : ""}: `);
        const line = await this.#readLine();
        if (line === null) return { action: "cancel" };
        const text = line.trim();
        if (text === "") {
          if (content[name] !== undefined || !required.has(name)) break;
          this.#write("    required\n");
          continue;
        }
        const value = coerce(text, field);
        if (value === undefined) {
          this.#write(`    expected ${field.type ?? "text"}${choices}\n`);
          continue;
        }
        content[name] = value;
        break;
      }
    }
    this.#write("Send this answer? [Y/n/c=cancel] ");
    const confirm = (await this.#readLine())?.trim().toLowerCase();
    if (confirm === undefined || confirm === "c" || confirm === "cancel") {
      return { action: "cancel" };
    }
    if (confirm === "n" || confirm === "no") return { action: "decline" };
    return { action: "accept", content };
  }

  notify(message: string): void {
    this.#write(message + "\n");
  }
}

/** Converts typed text to the field's JSON type; undefined when it does not fit. */
function coerce(
  text: string,
  field: Record<string, unknown>,
): string | number | boolean | undefined {
  if (Array.isArray(field.enum) && !field.enum.includes(text)) return undefined;
  switch (field.type) {
    case "number":
    case "integer": {
      const value = Number(text);
      if (!Number.isFinite(value) || (field.type === "integer" && !Number.isInteger(value))) {
        return undefined;
      }
      return value;
    }
    case "boolean":
      if (/^(y|yes|true)$/i.test(text)) return true;
      if (/^(n|no|false)$/i.test(text)) return false;
      return undefined;
    default:
      return text;
  }
}

/** Asks on the terminal whether to run a tool call: once, always (this session), or no. */
export class TerminalApprovalPrompt implements ApprovalPrompt {
  readonly #write: (text: string) => void;
  readonly #readLine: () => Promise<string | null>;

  constructor(options: Omit<TerminalOptions, "yes"> = {}) {
    this.#write = options.write ?? ((text) => Deno.stderr.writeSync(encoder.encode(text)));
    this.#readLine = options.readLine ?? readStdinLine;
  }

  async ask(
    request: ApprovalRequest,
  ): Promise<{ answer: "once" } | { answer: "session" } | { answer: "reject"; reason?: string }> {
    const args = JSON.stringify(request.arguments);
    this.#write(
      `\n${request.agent} wants to run ${request.toolset}.${request.tool} ${
        args.length > 300 ? args.slice(0, 297) + "…" : args
      }\n`,
    );
    for (;;) {
      this.#write("Run it? [y]es / [a]lways this tool / [n]o: ");
      const line = await this.#readLine();
      if (line === null) return { answer: "reject", reason: "no answer (end of input)" };
      const answer = line.trim().toLowerCase();
      if (answer === "y" || answer === "yes" || answer === "") return { answer: "once" };
      if (answer === "a" || answer === "always") return { answer: "session" };
      if (answer === "n" || answer === "no") {
        this.#write("Reason for the agent (optional): ");
        const reason = (await this.#readLine())?.trim();
        return { answer: "reject", ...(reason ? { reason } : {}) };
      }
      this.#write("Please answer y, a or n.\n");
    }
  }
}
