/**
 * Typed OAuth errors with stable codes, and the sanitizer for text that came from a server.
 *
 * Every failure of a protocol step is an {@link OAuthError}: a {@link DagentError} whose
 * message names the toolset and the setting to change, and never contains a token, a
 * secret or a raw server body.
 * @module
 */
import { DagentError } from "../errors.ts";

/** The stable codes of {@link OAuthError}; other `oauth.*` codes may be added by callers. */
export type OAuthErrorCode =
  | "oauth.discovery_failed"
  | "oauth.invalid_metadata"
  | "oauth.resource_mismatch"
  | "oauth.issuer_mismatch"
  | "oauth.no_registration"
  | "oauth.registration_failed"
  | "oauth.pkce_unsupported"
  | "oauth.invalid_token_response"
  | "oauth.token_error"
  | "oauth.invalid_grant"
  | "oauth.insecure_endpoint"
  | "oauth.redirect_refused"
  | "oauth.http_error"
  | "oauth.timeout"
  | "oauth.too_large"
  | "oauth.invalid_json"
  | "oauth.declined"
  | "oauth.authorization_failed"
  | "oauth.invalid_callback"
  | "oauth.state_mismatch"
  | "oauth.iss_mismatch"
  | "oauth.invalid_key";

/** Options of an {@link OAuthError}. */
export interface OAuthErrorOptions {
  /** A stable code such as `oauth.discovery_failed`. */
  code: OAuthErrorCode | `oauth.${string}`;
  /** Name of the toolset (or the server URL) the error concerns. */
  server?: string;
  /** The RFC 6749 `error` code a server returned, when there was one. */
  oauthError?: string;
  /** What the user should do next. */
  hint?: string;
  /** The underlying error (kept for `--debug` only). */
  cause?: unknown;
}

/** A failure of an OAuth protocol step; `code` is stable, the message safe to print. */
export class OAuthError extends DagentError {
  /** The toolset (or server URL) concerned, when known. */
  readonly server?: string;
  /** The RFC 6749 `error` code the server sent, when there was one. */
  readonly oauthError?: string;

  /** @param message what happened and what to do; must not contain secrets */
  constructor(message: string, options: OAuthErrorOptions) {
    super(message, { code: options.code, hint: options.hint, cause: options.cause });
    this.name = "OAuthError";
    this.server = options.server;
    this.oauthError = options.oauthError;
  }
}

/** Shorthand: `oauthError(code, message, options)` is `new OAuthError(message, {code, ...})`. */
export function oauthError(
  code: OAuthErrorOptions["code"],
  message: string,
  options: Omit<OAuthErrorOptions, "code"> = {},
): OAuthError {
  return new OAuthError(message, { ...options, code });
}

/** Longest server-provided text kept in a message. */
const MAX_SERVER_TEXT = 200;

/**
 * Makes text a server sent (an `error_description`, an `error` code, a URL it named) safe
 * to show: control characters become spaces, whitespace collapses, `<` and `>` become the
 * look-alikes `‹` and `›` (so no markup survives into a message that --json output or a UI
 * may render), and it is cut to `max` characters. Non-strings give "".
 */
export function sanitizeServerText(text: unknown, max = MAX_SERVER_TEXT): string {
  if (typeof text !== "string") return "";
  // deno-lint-ignore no-control-regex
  const clean = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, " ")
    .replace(/</g, "\u2039").replace(/>/g, "\u203a")
    .replace(/\s+/g, " ").trim();
  const chars = [...clean];
  return chars.length > max ? chars.slice(0, max).join("") + "…" : clean;
}

/** How a message names the server: the toolset name, or a neutral phrase. */
export function serverLabel(server: string | undefined): string {
  return server ? `"${sanitizeServerText(server, 80)}"` : "the MCP server";
}
