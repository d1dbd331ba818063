/**
 * The `fetch` toolset: GET one http(s) URL and return its body as text, markdown-ish text
 * or raw HTML (modelled on cagent's `fetch`). Every request has a deadline (config
 * `timeout`), the body is read as a stream and cut at a size cap, and redirects are
 * followed by hand — at most {@link MAX_REDIRECTS}, and only to http(s) URLs (Fetch
 * Standard §4.4 "HTTP-redirect fetch" is the model; `file:`, `data:` and the like are
 * refused).
 * @module
 */
import {
  ArgumentError,
  type BuiltinTool,
  errorResult,
  formatBytes,
  messageOf,
  optionalNumber,
  optionalString,
  requireString,
  textResult,
} from "./common.ts";
import type { ToolResult } from "../mcp/types.ts";

/** Default timeout of one fetch, redirects included (config `timeout` overrides it). */
export const DEFAULT_FETCH_TIMEOUT_MS = 30_000;
/** Longest timeout a call may ask for. */
export const MAX_FETCH_TIMEOUT_MS = 300_000;
/** Most body bytes read; the rest is not downloaded. */
export const MAX_BODY_BYTES = 1024 * 1024;
/** Most redirects followed. */
export const MAX_REDIRECTS = 5;
/** Longest error-response body shown to the model. */
const MAX_ERROR_BODY_CHARS = 2000;

const FORMATS = ["markdown", "text", "html"] as const;
type Format = typeof FORMATS[number];

const ACCEPT: Record<Format, string> = {
  markdown: "text/markdown;q=1.0, text/plain;q=0.9, text/html;q=0.7, */*;q=0.1",
  text: "text/plain;q=1.0, text/markdown;q=0.9, text/html;q=0.8, */*;q=0.1",
  html: "text/html;q=1.0, text/plain;q=0.8, */*;q=0.1",
};

/** Options of {@link fetchTools}. */
export interface FetchOptions {
  /** Default deadline of one call, in milliseconds. */
  timeoutMs: number;
  /** Body cap in bytes (tests may lower it); default {@link MAX_BODY_BYTES}. */
  maxBodyBytes?: number;
}

/** The tools of a `fetch` toolset: `fetch(url, format?, timeout?)`. */
export function fetchTools(options: FetchOptions): BuiltinTool[] {
  const cap = options.maxBodyBytes ?? MAX_BODY_BYTES;
  return [{
    info: {
      name: "fetch",
      description: "Fetch an http or https URL with GET and return the response body. HTML " +
        "is converted to markdown (default) or plain text, or returned as is with format " +
        `html. At most ${formatBytes(cap)} of the body is read; up to ${MAX_REDIRECTS} ` +
        "redirects are followed.",
      inputSchema: {
        type: "object",
        properties: {
          url: { type: "string", description: "The http(s) URL to fetch" },
          format: {
            type: "string",
            enum: [...FORMATS],
            description: "markdown (default), text, or html",
          },
          timeout: {
            type: "number",
            exclusiveMinimum: 0,
            maximum: MAX_FETCH_TIMEOUT_MS / 1000,
            description: `Timeout in seconds (default ${options.timeoutMs / 1000})`,
          },
        },
        required: ["url"],
      },
      annotations: { title: "Fetch URL", readOnlyHint: false, openWorldHint: true },
    },
    run(args, signal) {
      const url = requireString(args, "url");
      const format = optionalString(args, "format") ?? "markdown";
      if (!(FORMATS as readonly string[]).includes(format)) {
        throw new ArgumentError(`argument "format" must be one of: ${FORMATS.join(", ")}`);
      }
      const seconds = optionalNumber(args, "timeout");
      if (seconds !== undefined && !(seconds > 0 && seconds * 1000 <= MAX_FETCH_TIMEOUT_MS)) {
        throw new ArgumentError(
          `argument "timeout" must be between 0 and ${MAX_FETCH_TIMEOUT_MS / 1000} seconds`,
        );
      }
      const timeoutMs = seconds === undefined ? options.timeoutMs : Math.round(seconds * 1000);
      return fetchUrl(url, format as Format, { timeoutMs, signal, cap });
    },
  }];
}

async function fetchUrl(
  raw: string,
  format: Format,
  options: { timeoutMs: number; signal: AbortSignal; cap: number },
): Promise<ToolResult> {
  const first = httpUrl(raw);
  if (typeof first === "string") return errorResult(first);
  let url: URL = first;
  const deadline = AbortSignal.timeout(options.timeoutMs);
  const signal = AbortSignal.any([options.signal, deadline]);
  try {
    for (let redirects = 0;; redirects++) {
      const response = await fetch(url, {
        method: "GET",
        redirect: "manual",
        signal,
        headers: { accept: ACCEPT[format], "user-agent": "dagent/0.1 (fetch tool)" },
      });
      if (response.status >= 300 && response.status < 400 && response.headers.has("location")) {
        await response.body?.cancel().catch(() => {});
        if (redirects === MAX_REDIRECTS) {
          return errorResult(`too many redirects (more than ${MAX_REDIRECTS}) from ${show(raw)}`);
        }
        const next = httpUrl(response.headers.get("location")!, url);
        if (typeof next === "string") return errorResult(`redirect refused: ${next}`);
        url = next;
        continue;
      }
      return await render(response, url, format, options.cap);
    }
  } catch (error) {
    if (deadline.aborted) {
      return errorResult(
        `fetching ${show(url.href)} timed out after ${options.timeoutMs / 1000} s`,
      );
    }
    if (options.signal.aborted) return errorResult(`fetching ${show(url.href)} was cancelled`);
    return errorResult(`fetching ${show(url.href)} failed: ${messageOf(error)}`);
  }
}

/** Parses `raw` (relative to `base`) and accepts only http(s); else a message. */
function httpUrl(raw: string, base?: URL): URL | string {
  let url: URL;
  try {
    url = new URL(raw, base);
  } catch {
    return `${show(raw)} is not a valid URL`;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return `only http and https URLs can be fetched, not ${url.protocol}`;
  }
  return url;
}

async function render(response: Response, url: URL, format: Format, cap: number) {
  const { bytes, truncated } = await readCapped(response, cap);
  const type = response.headers.get("content-type") ?? "";
  const head = `${url.href} (HTTP ${response.status}${type ? `, ${type.split(";")[0]}` : ""})`;
  if (isBinary(type, bytes)) {
    return errorResult(`${head}: binary content (${bytes.length} bytes read) is not shown`);
  }
  let body = new TextDecoder(charset(type)).decode(bytes);
  const html = /html/i.test(type) || (!type && /^\s*<(!doctype html|html)/i.test(body));
  if (html && format !== "html") {
    body = format === "markdown" ? htmlToMarkdown(body) : htmlToText(body);
  }
  const note = truncated
    ? `\n[truncated: only the first ${formatBytes(cap)} of the body was read]`
    : "";
  if (!response.ok) {
    const excerpt = body.length > MAX_ERROR_BODY_CHARS
      ? `${body.slice(0, MAX_ERROR_BODY_CHARS)}\n[…]`
      : body;
    return errorResult(`${head}: request failed\n\n${excerpt}`, { status: response.status });
  }
  return textResult(`${head}\n\n${body}${note}`, { status: response.status, url: url.href });
}

/** Reads at most `cap` bytes of the body, then cancels the rest of the download. */
async function readCapped(
  response: Response,
  cap: number,
): Promise<{ bytes: Uint8Array; truncated: boolean }> {
  if (!response.body) return { bytes: new Uint8Array(), truncated: false };
  const chunks: Uint8Array[] = [];
  let length = 0;
  let truncated = false;
  const reader = response.body.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      if (length + value.length > cap) {
        chunks.push(value.subarray(0, cap - length));
        length = cap;
        truncated = true;
        break;
      }
      chunks.push(value);
      length += value.length;
    }
  } finally {
    if (truncated) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
  const bytes = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return { bytes, truncated };
}

function charset(type: string): string {
  const label = /charset="?([\w.:-]+)/i.exec(type)?.[1] ?? "utf-8";
  try {
    new TextDecoder(label);
    return label;
  } catch {
    return "utf-8";
  }
}

function isBinary(type: string, bytes: Uint8Array): boolean {
  const mime = type.split(";")[0].trim().toLowerCase();
  if (/^(image|audio|video|font)\//.test(mime)) return true;
  if (/^application\/(octet-stream|pdf|zip|gzip|x-tar|wasm)/.test(mime)) return true;
  return bytes.subarray(0, 8192).includes(0);
}

const ENTITIES: Record<string, string> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
  nbsp: " ",
};

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (match, name: string) => {
    if (name[0] === "#") {
      const code = name[1] === "x" || name[1] === "X"
        ? parseInt(name.slice(2), 16)
        : parseInt(name.slice(1), 10);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : match;
    }
    return ENTITIES[name.toLowerCase()] ?? match;
  });
}

/** Drops the parts of an HTML page that are never content. */
function stripNoise(html: string): string {
  return html
    .replace(/<!--[\s\S]*?-->/g, "")
    .replace(/<(script|style|noscript|template|svg|head)\b[\s\S]*?<\/\1\s*>/gi, "");
}

/** Plain text of an HTML page: blocks become lines, tags go, entities are decoded. */
export function htmlToText(html: string): string {
  const text = stripNoise(html)
    .replace(/<br\s*\/?>/gi, "\n")
    .replace(/<\/li\s*>/gi, "")
    .replace(/<li\b[^>]*>/gi, "\n")
    .replace(
      /<\/?(p|div|section|article|header|footer|tr|h[1-6]|pre|blockquote|ul|ol|table)\b[^>]*>/gi,
      "\n",
    )
    .replace(/<[^>]+>/g, "");
  return tidy(decodeEntities(text));
}

/**
 * Markdown-ish text of an HTML page: headings, links, emphasis, code, list items and
 * paragraphs are kept in markdown syntax; everything else becomes plain text.
 */
export function htmlToMarkdown(html: string): string {
  let text = stripNoise(html);
  text = text.replace(
    /<pre\b[^>]*>([\s\S]*?)<\/pre>/gi,
    (_, code: string) => `\n\n\`\`\`\n${code.replace(/<[^>]+>/g, "")}\n\`\`\`\n\n`,
  );
  text = text
    .replace(
      /<h([1-6])\b[^>]*>([\s\S]*?)<\/h\1\s*>/gi,
      (_, level: string, inner: string) =>
        `\n\n${"#".repeat(Number(level))} ${inner.replace(/<[^>]+>/g, "").trim()}\n\n`,
    )
    .replace(
      /<a\b[^>]*?href\s*=\s*("([^"]*)"|'([^']*)')[^>]*>([\s\S]*?)<\/a\s*>/gi,
      (_, _q, dq: string | undefined, sq: string | undefined, inner: string) => {
        const label = inner.replace(/<[^>]+>/g, "").trim();
        const href = dq ?? sq ?? "";
        return label ? `[${label}](${href})` : "";
      },
    )
    .replace(/<(strong|b)\b[^>]*>([\s\S]*?)<\/\1\s*>/gi, "**$2**")
    .replace(/<(em|i)\b[^>]*>([\s\S]*?)<\/\1\s*>/gi, "_$2_")
    .replace(/<code\b[^>]*>([\s\S]*?)<\/code\s*>/gi, "`$1`")
    .replace(/<li\b[^>]*>/gi, "\n- ")
    .replace(/<br\s*\/?>/gi, "\n")
    .replace(
      /<\/?(p|div|section|article|header|footer|tr|ul|ol|table|blockquote)\b[^>]*>/gi,
      "\n\n",
    )
    .replace(/<[^>]+>/g, "");
  return tidy(decodeEntities(text));
}

function tidy(text: string): string {
  return text
    .split("\n")
    .map((line) => line.replace(/[ \t\r\f\v]+/g, " ").trimEnd())
    .join("\n")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
}

function show(url: string): string {
  const shown = url.length > 200 ? `${url.slice(0, 200)}…` : url;
  return JSON.stringify(shown);
}
