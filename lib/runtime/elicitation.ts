/**
 * The elicitation interface: how dagent asks its user something in the middle of work
 * (sign in to a server? paste the redirect address; fill in a server's form).
 *
 * Implementations: terminal (prompts on the TTY), non-interactive (`--yes` or a clear
 * error), scripted (tests). OAuth toolsets start only once one is available.
 * @module
 */

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
