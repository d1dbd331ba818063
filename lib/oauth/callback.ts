/**
 * The loopback redirect receiver of the authorization code flow (RFC 8252 §7.3): a one-shot
 * HTTP(S) server on 127.0.0.1 that waits for the authorization response on an exact path,
 * checks `state` in constant time, answers with a page that escapes everything it echoes,
 * and hands the response parameters to the flow. Also the headless path: parsing what the
 * user pastes when no browser can reach the loopback server.
 * @module
 */

import { DagentError } from "../errors.ts";
import { constantTimeEqual } from "./pkce.ts";

/** Options of {@link startCallbackServer}. */
export interface CallbackServerOptions {
  /** Port to listen on; 0 (default) lets the OS pick a free one. */
  port?: number;
  /** Serve HTTPS with this certificate and key (PEM), e.g. from `generateSelfSignedCertificate`. */
  tls?: { certPem: string; keyPem: string };
  /** Exact path of the redirect URI (default "/callback"). */
  path?: string;
  /** The `state` sent in the authorization request; only a response carrying it is accepted. */
  expectedState: string;
  /** How long to wait for the response (default 300 000 ms = 5 minutes). */
  timeoutMs?: number;
  /** Toolset name, used in pages and messages. */
  server: string;
}

/** A running callback server. */
export interface CallbackServer {
  /** `http(s)://127.0.0.1:PORT/callback` — the loopback redirect URI to register and send. */
  redirectUri: string;
  /** The port actually listened on. */
  port: number;
  /**
   * The authorization response's query parameters: resolves once a request with the right
   * path and state arrives (carrying `code`, or `error` — reported as data, not thrown).
   * Rejects with a DagentError `oauth.callback_timeout` when the wait times out, or
   * `oauth.callback_closed` when {@link close} is called first.
   */
  result: Promise<URLSearchParams>;
  /** Stops the server after any in-flight response has been sent. Idempotent. */
  close(): Promise<void>;
}

/** The outcome of checking authorization response parameters against the expected state. */
export type CallbackCheck =
  | { kind: "code"; code: string }
  | { kind: "error"; error: string; description?: string }
  | { kind: "bad_state" }
  | { kind: "malformed"; reason: string };

const DEFAULT_TIMEOUT_MS = 300_000;
const MAX_ECHO = 300;

/** Headers every page carries: nothing runs, nothing is sniffed, cached or leaked onward. */
const PAGE_HEADERS = {
  "Content-Type": "text/html; charset=utf-8",
  "Content-Security-Policy": "default-src 'none'",
  "X-Content-Type-Options": "nosniff",
  "Cache-Control": "no-store",
  "Referrer-Policy": "no-referrer",
} as const;

/**
 * Starts the callback server and returns once it is listening, so the browser can be opened
 * afterwards. Listens on 127.0.0.1 only (RFC 8252 §7.3, §8.3).
 */
export function startCallbackServer(opts: CallbackServerOptions): Promise<CallbackServer> {
  const path = opts.path ?? "/callback";
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const requestedPort = opts.port ?? 0;
  let settled = false;
  let resolveResult!: (params: URLSearchParams) => void;
  let rejectResult!: (error: DagentError) => void;
  const result = new Promise<URLSearchParams>((resolve, reject) => {
    resolveResult = resolve;
    rejectResult = reject;
  });
  // The caller may never await `result` (e.g. it closes early); do not crash on that.
  result.catch(() => {});

  const handler = (request: Request): Response => {
    const url = new URL(request.url);
    if (url.pathname !== path) {
      return page(404, "Not found", "<p>This address is not part of a dagent sign-in.</p>");
    }
    if (request.method !== "GET" && request.method !== "HEAD") {
      const response = page(405, "Method not allowed", "<p>Only GET is accepted here.</p>");
      response.headers.set("Allow", "GET, HEAD");
      return response;
    }
    if (settled) {
      return page(
        200,
        "Already done",
        `<p>This sign-in for ${escapeHtml(opts.server)} already completed. ` +
          "You can close this tab and return to dagent.</p>",
      );
    }
    const check = checkCallbackParams(url.searchParams, opts.expectedState, true);
    if (check.kind === "bad_state") {
      return page(
        400,
        "Sign-in not recognised",
        "<p>This response does not belong to the sign-in dagent is waiting for " +
          "(the <code>state</code> parameter does not match). Nothing was accepted. " +
          "If you started a new sign-in, use the newest browser tab.</p>",
      );
    }
    if (check.kind === "malformed") {
      return page(400, "Sign-in response not usable", `<p>${escapeHtml(check.reason)}</p>`);
    }
    settled = true;
    clearTimeout(timer);
    resolveResult(new URLSearchParams(url.searchParams));
    if (check.kind === "error") {
      const description = check.description
        ? `<p>The server said: ${escapeHtml(truncate(check.description))}</p>`
        : "";
      return page(
        200,
        "Sign-in failed",
        `<p>Sign-in for ${escapeHtml(opts.server)} failed: ` +
          `<code>${escapeHtml(truncate(check.error))}</code></p>${description}` +
          "<p>Return to dagent for what to do next.</p>",
      );
    }
    return page(
      200,
      "Signed in",
      `<p>Sign-in for ${escapeHtml(opts.server)} succeeded.</p>` +
        "<p>You can close this tab and return to dagent.</p>",
    );
  };

  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    const listen = {
      hostname: "127.0.0.1",
      port: requestedPort,
      onListen() {},
      onError: () => page(500, "Error", "<p>dagent could not handle this request.</p>"),
    };
    server = opts.tls
      ? Deno.serve({ ...listen, cert: opts.tls.certPem, key: opts.tls.keyPem }, handler)
      : Deno.serve(listen, handler);
  } catch (error) {
    return Promise.reject(listenError(error, requestedPort, opts.server));
  }

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    clearTimeout(timer);
    if (!settled) {
      settled = true;
      rejectResult(
        new DagentError(`The sign-in for ${opts.server} was cancelled.`, {
          code: "oauth.callback_closed",
        }),
      );
    }
    // shutdown() lets in-flight requests finish, so the page is delivered before the
    // listener goes away (the seed's shutdown race).
    closing ??= server.shutdown();
    return closing;
  };

  // Declared after the handler and close(), which only run once this function has returned.
  const timer = setTimeout(() => {
    if (settled) return;
    settled = true;
    rejectResult(
      new DagentError(
        `The sign-in for ${opts.server} timed out after ${describeDuration(timeoutMs)} ` +
          "without an answer from the browser.",
        {
          code: "oauth.callback_timeout",
          hint: "Run `dagent auth login` again and finish the sign-in in the browser " +
            "(or use --no-browser and paste the address the browser ends on).",
        },
      ),
    );
    closing ??= server.shutdown();
  }, timeoutMs);

  const port = server.addr.port;
  return Promise.resolve({
    redirectUri: `${opts.tls ? "https" : "http"}://127.0.0.1:${port}${path}`,
    port,
    result,
    close,
  });
}

/**
 * Checks authorization response parameters (RFC 6749 §4.1.2, §4.1.2.1): `state` must be
 * present exactly once and equal the expected one (compared in constant time), unless
 * `requireState` is false and it is absent (a pasted bare code); then an `error` is reported
 * as data, else a single `code` is required.
 */
export function checkCallbackParams(
  params: URLSearchParams,
  expectedState: string,
  requireState: boolean,
): CallbackCheck {
  const states = params.getAll("state");
  if (states.length > 1) return { kind: "bad_state" };
  if (states.length === 0) {
    if (requireState) return { kind: "bad_state" };
  } else if (!constantTimeEqual(states[0], expectedState)) {
    return { kind: "bad_state" };
  }
  // RFC 6749 §3.1: parameters must not be repeated.
  for (const name of ["code", "error", "error_description", "iss"]) {
    if (params.getAll(name).length > 1) {
      return { kind: "malformed", reason: `The response repeats the "${name}" parameter.` };
    }
  }
  const error = params.get("error");
  if (error !== null) {
    return { kind: "error", error, description: params.get("error_description") ?? undefined };
  }
  const code = params.get("code");
  if (!code) {
    return { kind: "malformed", reason: "The response has neither a code nor an error." };
  }
  return { kind: "code", code };
}

/**
 * Parses what a user pasted in the headless (`--no-browser`) path: the full address the
 * browser ended on (http or https, any host), a query string (`code=...&state=...`, with or
 * without a leading `?`), or a bare authorization code. Throws a DagentError
 * (`oauth.bad_redirect_input`) for empty or unusable input. State is checked by the caller
 * with {@link checkCallbackParams}, exactly as for the callback server.
 */
export function parseRedirectInput(input: string): URLSearchParams {
  const text = input.trim();
  const hint = "Paste the whole address from the browser's address bar after signing in " +
    "(it contains code=... and state=...), or just the code.";
  const fail = (message: string) =>
    new DagentError(message, { code: "oauth.bad_redirect_input", hint });
  if (text === "") throw fail("Nothing was pasted.");
  if (text.length > 8192) throw fail("The pasted text is too long to be a sign-in address.");

  let params: URLSearchParams;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw fail("The pasted address is not a valid URL.");
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw fail("The pasted address is not an http(s) address.");
    }
    params = url.searchParams;
  } else if (text.startsWith("?") || /^[A-Za-z0-9_.~-]+=/.test(text)) {
    params = new URLSearchParams(text.startsWith("?") ? text.slice(1) : text);
  } else {
    // RFC 6749 §A.11: a code is VSCHAR (printable ASCII, no spaces).
    if (!/^[\x21-\x7e]+$/.test(text)) {
      throw fail("The pasted text is neither a sign-in address nor an authorization code.");
    }
    return new URLSearchParams({ code: text });
  }
  if (!params.has("code") && !params.has("error")) {
    throw fail("The pasted address has no authorization code in it.");
  }
  return new URLSearchParams(params);
}

/** Escapes text for HTML element content and attribute values: & < > " ' (OWASP rule #1). */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);
}

const HTML_ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

function page(status: number, title: string, bodyHtml: string): Response {
  const html = `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">` +
    `<meta name="viewport" content="width=device-width">` +
    `<title>dagent – ${escapeHtml(title)}</title></head>` +
    `<body><h1>${escapeHtml(title)}</h1>${bodyHtml}</body></html>\n`;
  return new Response(html, { status, headers: PAGE_HEADERS });
}

function truncate(text: string): string {
  return text.length > MAX_ECHO ? `${text.slice(0, MAX_ECHO)}…` : text;
}

function describeDuration(ms: number): string {
  if (ms >= 60_000) {
    const minutes = Math.round(ms / 60_000);
    return `${minutes} minute${minutes === 1 ? "" : "s"}`;
  }
  const seconds = Math.round(ms / 100) / 10;
  return `${seconds} second${seconds === 1 ? "" : "s"}`;
}

function listenError(error: unknown, port: number, server: string): DagentError {
  if (error instanceof Deno.errors.AddrInUse) {
    return new DagentError(
      `Cannot receive the sign-in for ${server}: port ${port} on 127.0.0.1 is already in use ` +
        "(remote.oauth.callbackPort).",
      {
        code: "oauth.callback_port_in_use",
        hint: "Set remote.oauth.callbackPort to 0 for any free port, or to another port " +
          "your OAuth app allows, or stop the program that holds it.",
        cause: error,
      },
    );
  }
  return new DagentError(
    `Cannot start the sign-in callback server for ${server} on 127.0.0.1:${port}.`,
    {
      code: "oauth.callback_listen_failed",
      hint: "Check remote.oauth.callbackPort (0 means any free port) and that dagent may " +
        "listen on the loopback interface (--allow-net).",
      cause: error,
    },
  );
}
