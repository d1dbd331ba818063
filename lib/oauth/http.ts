/**
 * The one HTTP primitive of the OAuth modules: {@link oauthFetch}. It refuses non-HTTPS
 * endpoints (loopback excepted), never follows redirects, puts one timeout over headers and
 * body, and reads the body with a byte cap — the seed review's "no unbounded HTTP call".
 * @module
 */
import { OAuthError, oauthError, sanitizeServerText, serverLabel } from "./errors.ts";

/** Options shared by every request the OAuth modules make. */
export interface HttpOptions {
  /** Timeout over headers and body, in ms (default 10 000). */
  timeoutMs?: number;
  /** Largest body accepted, in bytes (default 1 MiB). */
  maxBytes?: number;
  /** The fetch to use (default: the global one). */
  fetch?: typeof fetch;
  /** `MCP-Protocol-Version` sent on metadata requests (default "2025-11-25"). */
  protocolVersion?: string;
  /** Called with the URL of every request before it is sent (to count requests). */
  onRequest?: (url: string) => void;
}

/** Per-call options of {@link oauthFetch}. */
export interface OAuthFetchOptions extends HttpOptions {
  /** Toolset name, for messages. */
  server?: string;
  /** What is being fetched, for messages ("authorization server metadata"). */
  what?: string;
  /** Send `MCP-Protocol-Version`; defaults to true for GET requests (metadata). */
  metadata?: boolean;
}

/** Default timeout of an OAuth HTTP request (ms). */
export const DEFAULT_TIMEOUT_MS = 10_000;
/** Default cap of an OAuth response body (bytes). */
export const DEFAULT_MAX_BYTES = 1024 * 1024;
/** The MCP protocol version announced on metadata requests. */
export const DEFAULT_PROTOCOL_VERSION = "2025-11-25";

/** True for http(s) URLs whose host is 127.0.0.0/8, ::1 or localhost. */
export function isLoopbackUrl(url: string | URL): boolean {
  let parsed: URL;
  try {
    parsed = typeof url === "string" ? new URL(url) : url;
  } catch {
    return false;
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") return false;
  const host = parsed.hostname.toLowerCase();
  if (host === "localhost" || host.endsWith(".localhost")) return true;
  if (host === "[::1]") return true;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * Parses `url` and checks that it is absolute `https:` or loopback `http:` (OAuth 2.1 §1.5,
 * RFC 8252 §8.3); throws OAuthError `oauth.insecure_endpoint` naming `what` otherwise.
 */
export function assertSecureUrl(url: string | URL, what: string, server?: string): URL {
  let parsed: URL;
  try {
    parsed = typeof url === "string" ? new URL(url) : new URL(url.href);
  } catch {
    throw oauthError(
      "oauth.insecure_endpoint",
      `${serverLabel(server)}: the ${what} is not an absolute URL`,
      { server, hint: "Check remote.url and the server's OAuth metadata." },
    );
  }
  const ok = parsed.protocol === "https:" || (parsed.protocol === "http:" && isLoopbackUrl(parsed));
  if (!ok || parsed.username || parsed.password) {
    throw oauthError(
      "oauth.insecure_endpoint",
      `${serverLabel(server)}: refusing the ${what} (${safeUrl(parsed)}): OAuth endpoints must ` +
        "use https (plain http is allowed only on loopback addresses)",
      { server, hint: "Use an https URL for remote.url; ask the server operator to fix metadata." },
    );
  }
  return parsed;
}

/**
 * A URL for messages: no credentials, no query, no fragment, at most 200 chars. A URL that
 * is not http(s) shows only its scheme ("a data: URL"): opaque paths such as those of `data:`
 * and `javascript:` URLs are not percent-encoded, so they could carry raw markup.
 */
export function safeUrl(url: string | URL): string {
  try {
    const u = typeof url === "string" ? new URL(url) : url;
    if (u.protocol !== "http:" && u.protocol !== "https:") {
      return `a ${sanitizeServerText(u.protocol, 40)} URL`;
    }
    const s = `${u.protocol}//${u.host}${u.pathname}`;
    return s.length > 200 ? s.slice(0, 200) + "…" : s;
  } catch {
    return "(invalid URL)";
  }
}

/**
 * Sends `request` and reads its whole body, within one timeout and a byte cap.
 * Redirects are never followed (a 3xx throws `oauth.redirect_refused`); any other status
 * is returned for the caller to judge. Throws OAuthError `oauth.insecure_endpoint`,
 * `oauth.timeout`, `oauth.too_large` or `oauth.http_error` (network failure).
 */
export async function oauthFetch(
  request: Request,
  opts: OAuthFetchOptions = {},
): Promise<{ response: Response; body: Uint8Array }> {
  const { server } = opts;
  const what = opts.what ?? "OAuth endpoint";
  const url = assertSecureUrl(request.url, what, server);
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = AbortSignal.any([timeout, request.signal]);
  const headers = new Headers(request.headers);
  if ((opts.metadata ?? request.method === "GET") && !headers.has("mcp-protocol-version")) {
    headers.set("MCP-Protocol-Version", opts.protocolVersion ?? DEFAULT_PROTOCOL_VERSION);
  }
  const outbound = new Request(request, { headers, redirect: "manual", signal });
  opts.onRequest?.(url.href);
  const doFetch = opts.fetch ?? fetch;
  const timedOut = () =>
    oauthError(
      "oauth.timeout",
      `${serverLabel(server)}: the ${what} at ${safeUrl(url)} did not answer within ` +
        `${Math.round(timeoutMs / 100) / 10} s`,
      { server, hint: "Check that the server is reachable, then try again." },
    );

  let response: Response;
  try {
    response = await raceAbort(doFetch(outbound), signal);
  } catch (err) {
    if (timeout.aborted) throw timedOut();
    if (err instanceof OAuthError) throw err;
    throw oauthError(
      "oauth.http_error",
      `${serverLabel(server)}: could not reach the ${what} at ${safeUrl(url)}`,
      { server, cause: err, hint: "Check the URL and your network, then try again." },
    );
  }
  if (response.type === "opaqueredirect" || (response.status >= 300 && response.status < 400)) {
    await response.body?.cancel().catch(() => {});
    throw oauthError(
      "oauth.redirect_refused",
      `${serverLabel(server)}: the ${what} at ${safeUrl(url)} answered with a redirect ` +
        `(HTTP ${response.status}); OAuth requests never follow redirects`,
      { server, hint: "Configure the final URL instead of one that redirects." },
    );
  }
  try {
    const body = await readCapped(response, maxBytes, signal);
    if (body === undefined) {
      throw oauthError(
        "oauth.too_large",
        `${serverLabel(server)}: the ${what} at ${safeUrl(url)} sent more than ${maxBytes} bytes`,
        { server, hint: "Check that the URL points at the OAuth endpoint." },
      );
    }
    return { response, body };
  } catch (err) {
    if (err instanceof OAuthError) throw err;
    if (timeout.aborted) throw timedOut();
    throw oauthError(
      "oauth.http_error",
      `${serverLabel(server)}: the response of the ${what} at ${safeUrl(url)} was cut off`,
      { server, cause: err, hint: "Try again." },
    );
  }
}

/**
 * Parses a response body as a JSON object; throws OAuthError `oauth.invalid_json` when it is
 * not JSON or not an object (arrays, strings and null are refused).
 */
export function readJson(
  body: Uint8Array,
  what = "response",
  server?: string,
): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(body));
  } catch {
    value = undefined;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw oauthError(
      "oauth.invalid_json",
      `${serverLabel(server)}: the ${what} is not a JSON object`,
      { server, hint: "Check that the URL points at the OAuth endpoint." },
    );
  }
  return value as Record<string, unknown>;
}

/** Rejects with the signal's reason when it aborts first (fetch impls that ignore signals). */
function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/** Reads the body up to `max` bytes; undefined when it is larger (the stream is cancelled). */
async function readCapped(
  response: Response,
  max: number,
  signal: AbortSignal,
): Promise<Uint8Array | undefined> {
  if (!response.body) return new Uint8Array(0);
  const declared = Number(response.headers.get("content-length"));
  const reader = response.body.getReader();
  if (Number.isFinite(declared) && declared > max) {
    await reader.cancel().catch(() => {});
    return undefined;
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (true) {
      const { done, value } = await raceAbort(reader.read(), signal);
      if (done) break;
      size += value.byteLength;
      if (size > max) {
        await reader.cancel().catch(() => {});
        return undefined;
      }
      chunks.push(value);
    }
  } catch (err) {
    await reader.cancel().catch(() => {});
    throw err;
  }
  const out = new Uint8Array(size);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}
