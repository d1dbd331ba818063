/**
 * `WWW-Authenticate` parsing (RFC 9110 §11.6.1) and the Bearer challenge of RFC 6750 §3
 * with RFC 9728 §5.1's `resource_metadata`.
 *
 * Grammar followed:
 * ```
 * WWW-Authenticate = #challenge
 * challenge        = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
 * auth-param       = token BWS "=" BWS ( token / quoted-string )
 * token68          = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
 * ```
 * The parser is total: malformed input never throws, it yields what could be parsed.
 * @module
 */

/** One challenge: scheme and parameter names lower-cased, values unescaped. */
export interface Challenge {
  scheme: string;
  params: Record<string, string>;
  token68?: string;
}

/** What dagent uses of a Bearer challenge. */
export interface BearerChallenge {
  /** RFC 9728 §5.1 `resource_metadata` URL. */
  resourceMetadata?: string;
  /** Scopes the resource asks for (RFC 6750 §3 `scope`, space separated). */
  scope?: string[];
  /** RFC 6750 §3.1 `error` (`invalid_token`, `insufficient_scope`, ...). */
  error?: string;
  /** `error_description`, as sent (sanitize before showing). */
  errorDescription?: string;
}

const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;
const TOKEN68_CHAR = /[A-Za-z0-9\-._~+/]/;

/** Parses one or more `WWW-Authenticate` field values into challenges, in order. */
export function parseWwwAuthenticate(values: string | string[] | Headers): Challenge[] {
  let list: string[];
  if (values instanceof Headers) {
    const v = values.get("www-authenticate");
    list = v === null ? [] : [v];
  } else {
    list = typeof values === "string" ? [values] : values;
  }
  const out: Challenge[] = [];
  for (const value of list) {
    if (typeof value === "string") out.push(...parseOne(value));
  }
  return out;
}

/**
 * The first Bearer challenge of a response's `WWW-Authenticate` headers, or undefined when
 * there is none.
 */
export function bearerChallenge(response: Response): BearerChallenge | undefined {
  const bearer = parseWwwAuthenticate(response.headers).find((c) => c.scheme === "bearer");
  if (!bearer) return undefined;
  const p = bearer.params;
  const result: BearerChallenge = {};
  if (p.resource_metadata) result.resourceMetadata = p.resource_metadata;
  if (p.scope !== undefined) result.scope = p.scope.split(/\s+/).filter((s) => s.length > 0);
  if (p.error) result.error = p.error;
  if (p.error_description !== undefined) result.errorDescription = p.error_description;
  return result;
}

/** A cursor over one header value. */
class Scanner {
  pos = 0;
  constructor(readonly s: string) {}
  get done(): boolean {
    return this.pos >= this.s.length;
  }
  peek(): string {
    return this.s[this.pos] ?? "";
  }
  skipWs(): void {
    while (this.peek() === " " || this.peek() === "\t") this.pos++;
  }
  /** Skips whitespace and list separators (RFC 9110 §5.6.1 allows empty list elements). */
  skipSeparators(): void {
    while (this.peek() === " " || this.peek() === "\t" || this.peek() === ",") this.pos++;
  }
  readWhile(re: RegExp): string {
    const start = this.pos;
    while (!this.done && re.test(this.peek())) this.pos++;
    return this.s.slice(start, this.pos);
  }
  /** Reads a quoted-string (RFC 9110 §5.6.4) starting at `"`; tolerates a missing end quote. */
  readQuoted(): string {
    this.pos++; // opening quote
    let out = "";
    while (!this.done) {
      const c = this.s[this.pos++];
      if (c === '"') return out;
      if (c === "\\" && !this.done) out += this.s[this.pos++];
      else out += c;
    }
    return out;
  }
  /** Skips to just after the next top-level comma (error recovery). */
  skipElement(): void {
    while (!this.done && this.peek() !== ",") {
      if (this.peek() === '"') this.readQuoted();
      else this.pos++;
    }
  }
}

function parseOne(value: string): Challenge[] {
  const sc = new Scanner(value);
  const out: Challenge[] = [];
  while (true) {
    sc.skipSeparators();
    if (sc.done) break;
    const scheme = sc.readWhile(TCHAR);
    if (!scheme) {
      sc.pos++;
      sc.skipElement();
      continue;
    }
    const challenge: Challenge = { scheme: scheme.toLowerCase(), params: {} };
    out.push(challenge);
    const hadSpace = sc.peek() === " " || sc.peek() === "\t";
    sc.skipWs();
    if (sc.done || sc.peek() === "," || !hadSpace) {
      if (!sc.done && sc.peek() !== ",") sc.skipElement();
      continue;
    }
    const t68 = tryToken68(sc);
    if (t68 !== undefined) {
      challenge.token68 = t68;
      continue;
    }
    parseParams(sc, challenge);
  }
  return out;
}

/** Reads a token68 when one stands alone up to the next comma or the end; else rewinds. */
function tryToken68(sc: Scanner): string | undefined {
  const start = sc.pos;
  const body = sc.readWhile(TOKEN68_CHAR);
  sc.readWhile(/=/);
  const end = sc.pos;
  sc.skipWs();
  // Alone up to the comma or the end, "abc" and "abc==" are token68 (RFC 9110 §11.2), never
  // a parameter with an empty value.
  if (body && (sc.done || sc.peek() === ",")) return sc.s.slice(start, end);
  sc.pos = start;
  return undefined;
}

/** Reads `#auth-param` into `challenge` until the next challenge starts. */
function parseParams(sc: Scanner, challenge: Challenge): void {
  while (true) {
    sc.skipSeparators();
    if (sc.done) return;
    const start = sc.pos;
    const name = sc.readWhile(TCHAR);
    sc.skipWs();
    if (!name || sc.peek() !== "=") {
      // Not a parameter: either the next challenge's scheme or garbage.
      sc.pos = start;
      if (!name) sc.skipElement();
      return;
    }
    sc.pos++; // "="
    sc.skipWs();
    let value: string;
    if (sc.peek() === '"') {
      value = sc.readQuoted();
    } else {
      value = sc.readWhile(TCHAR);
      if (value === "" && sc.peek() === "=") {
        // token68 padding like "abc==" seen as a parameter: treat as garbage.
        sc.skipElement();
        continue;
      }
    }
    const key = name.toLowerCase();
    if (!(key in challenge.params)) challenge.params[key] = value;
    sc.skipWs();
    if (!sc.done && sc.peek() !== ",") sc.skipElement();
  }
}
