/**
 * A small parser for the plain YAML that configs are nearly always written in: block
 * maps and sequences indented with spaces, one-line plain and quoted scalars, `|` and `>`
 * block scalars, one-line flow sequences, comments.
 *
 * It exists for start-up time. The `yaml` package handles all of YAML, but the first
 * parse in a process costs about 15 ms (V8 compiles its lexer, parser and composer
 * function by function on first call, and Deno's code cache does not keep those), which
 * was most of what `dagent validate` added to an empty `deno run`. This parser compiles
 * and runs in well under a millisecond.
 *
 * The contract is all or nothing: for a text it accepts, the result is exactly what
 * `yaml`'s `parseDocument(text, { merge: true, uniqueKeys: false }).toJS()` gives, with
 * the same source offsets for every node; for anything else — anchors, tags, multi-line
 * plain or quoted scalars, flow maps, duplicate or merge keys, tabs, CRLF, values whose
 * YAML 1.2 core-schema type it does not resolve itself, and every syntax error — it
 * returns `undefined` and the caller parses with `yaml`, so messages about broken YAML
 * always come from `yaml`. tests/yaml_subset_test.ts holds the two to that, on the
 * fixtures and on generated documents.
 * @module
 */
import type { NodeSpan, Pointer, SpanFound } from "./load.ts";

/** A scalar: its core-schema value and the offsets `yaml` gives it (`range[0..1]`). */
export interface SubsetScalar {
  kind: "scalar";
  value: string | number | boolean | null;
  start: number;
  end: number;
}

/** A block or flow map; `start` is the offset of its first key (or its `{`). */
export interface SubsetMap {
  kind: "map";
  start: number;
  entries: { key: SubsetScalar; value: SubsetNode }[];
}

/** A block or flow sequence; `start` is the offset of its first `-` (or its `[`). */
export interface SubsetSeq {
  kind: "seq";
  start: number;
  items: SubsetNode[];
}

/** A node of a parsed document. */
export type SubsetNode = SubsetScalar | SubsetMap | SubsetSeq;

/** A document the subset parser accepted. */
export interface SubsetDocument {
  /** The root collection. */
  root: SubsetMap | SubsetSeq;
  /** Its plain JS value, as `yaml`'s `toJS()` builds it. */
  data: unknown;
}

/**
 * Parses `text` when it is in the subset; `undefined` when it is not (the caller then
 * uses the `yaml` package).
 */
export function parseYamlSubset(text: string): SubsetDocument | undefined {
  // Tabs, CR, BOM, other control characters and the Unicode line separators: `yaml`
  // treats each specially (or rejects it), so they are left to it.
  if (UNSUPPORTED_CHARACTERS.test(text)) return undefined;
  try {
    const root = new SubsetParser(text).document();
    return { root, data: toData(root) };
  } catch (error) {
    if (error === DECLINE) return undefined;
    throw error;
  }
}

/** Line starts (offsets) of `text`: 0 and every offset after a `\n`. */
export function lineStartsOf(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) starts.push(i + 1);
  return starts;
}

// deno-lint-ignore no-control-regex
const UNSUPPORTED_CHARACTERS = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]/;

/** Thrown inside the parser when the text leaves the subset. */
const DECLINE = Symbol("outside the YAML subset");

function decline(): never {
  throw DECLINE;
}

/** Plain scalars that start with one of these are left to `yaml` (YAML 1.2 §7.3.3). */
const INDICATORS = new Set("-?:,[]{}#&*!|>'\"%@`");
const NULLS = new Set(["~", "null", "Null", "NULL"]);
const TRUE = new Set(["true", "True", "TRUE"]);
const FALSE = new Set(["false", "False", "FALSE"]);
const INTEGER = /^-?(?:0|[1-9][0-9]{0,14})$/;
const DECIMAL = /^-?(?:0|[1-9][0-9]{0,14})\.[0-9]{1,15}$/;
/** Every number form of the core schema (`yaml`'s tests, joined); those not above are declined. */
const CORE_NUMBER =
  /^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|0o[0-7]+|0x[0-9a-fA-F]+|[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/;
/** Longest implicit key `yaml` accepts is 1024 characters; stay clear of that limit. */
const MAX_KEY_LENGTH = 1000;

/** Double-quoted escapes (YAML 1.2 §5.7) with a fixed meaning. */
const ESCAPES: Record<string, string> = {
  "0": "\0",
  a: "\x07",
  b: "\b",
  t: "\t",
  n: "\n",
  v: "\v",
  f: "\f",
  r: "\r",
  e: "\x1b",
  " ": " ",
  '"': '"',
  "/": "/",
  "\\": "\\",
  N: "\x85",
  _: "\xa0",
  L: "\u2028",
  P: "\u2029",
};

/** A plain scalar's value under the YAML 1.2 core schema (§10.3.2), or decline. */
function resolvePlain(source: string): string | number | boolean | null {
  if (NULLS.has(source)) return null;
  if (TRUE.has(source)) return true;
  if (FALSE.has(source)) return false;
  if (INTEGER.test(source) && source !== "-0") return Number(source);
  if (DECIMAL.test(source)) return parseFloat(source);
  if (CORE_NUMBER.test(source)) decline();
  return source;
}

class SubsetParser {
  readonly #text: string;
  readonly #starts: number[];
  /** Index of the line being parsed. */
  #line = 0;

  constructor(text: string) {
    this.#text = text;
    this.#starts = lineStartsOf(text);
  }

  document(): SubsetMap | SubsetSeq {
    let line = this.#skipBlankLines();
    if (line === -1) decline(); // empty: `yaml` reports it
    const start = this.#starts[line];
    if (/^---( |$)/.test(this.#restOf(start))) {
      // A `---` marker line before the one document is fine; content after it is not.
      const rest = this.#text.slice(start + 3, this.#end(line));
      if (rest !== "" && !/^ +(#.*)?$/.test(rest)) decline();
      this.#line = line + 1;
      line = this.#nextContentLine();
      if (line === -1) decline();
    }
    const indent = this.#indent(line);
    const root = this.#isDash(this.#starts[line] + indent)
      ? this.#sequence(indent)
      : this.#map(indent, this.#starts[line] + indent);
    if (this.#nextContentLine() !== -1) decline();
    return root;
  }

  /** End offset of line `line` (its `\n`, or the end of the text). */
  #end(line: number): number {
    return line + 1 < this.#starts.length ? this.#starts[line + 1] - 1 : this.#text.length;
  }

  #indent(line: number): number {
    const start = this.#starts[line];
    let i = start;
    while (this.#text.charCodeAt(i) === 32) i++;
    return i - start;
  }

  /** Moves past blank and comment-only lines; the index of the next line, or -1. */
  #skipBlankLines(): number {
    for (; this.#line < this.#starts.length; this.#line++) {
      const at = this.#starts[this.#line] + this.#indent(this.#line);
      if (at < this.#end(this.#line) && this.#text[at] !== "#") return this.#line;
    }
    return -1;
  }

  /** Like #skipBlankLines; document markers (`---`, `...`) there are left to `yaml`. */
  #nextContentLine(): number {
    const line = this.#skipBlankLines();
    if (line !== -1 && /^(---|\.\.\.)( |$)/.test(this.#restOf(this.#starts[line]))) decline();
    return line;
  }

  #restOf(at: number): string {
    const end = this.#text.indexOf("\n", at);
    return this.#text.slice(at, end === -1 ? this.#text.length : end);
  }

  /** `-` followed by a space or the end of the line: a block sequence entry. */
  #isDash(at: number): boolean {
    if (this.#text[at] !== "-") return false;
    const next = this.#text[at + 1];
    return next === " " || next === "\n" || next === undefined;
  }

  #skipSpaces(at: number): number {
    while (this.#text.charCodeAt(at) === 32) at++;
    return at;
  }

  /** True when `at` (after a node on the current line) is the end of the line or a comment. */
  #atLineEnd(at: number, spaced: boolean): boolean {
    const end = this.#end(this.#line);
    return at === end || (spaced && this.#text[at] === "#");
  }

  /** After a one-line node ending at `at`: only spaces and a comment may follow. */
  #finishLine(at: number): void {
    const next = this.#skipSpaces(at);
    if (!this.#atLineEnd(next, next > at)) decline();
    this.#line++;
  }

  /** A block sequence whose entries' `-` are in column `indent`. */
  #sequence(indent: number): SubsetSeq {
    const items: SubsetNode[] = [];
    const start = this.#starts[this.#line] + indent;
    for (;;) {
      const line = this.#nextContentLine();
      if (line === -1) break;
      const lineIndent = this.#indent(line);
      if (lineIndent < indent) break;
      if (lineIndent > indent) decline();
      const dash = this.#starts[line] + indent;
      if (!this.#isDash(dash)) break; // a key of the map this sequence is the value of
      const at = this.#skipSpaces(dash + 1);
      if (this.#atLineEnd(at, true)) {
        // `-` alone: the entry is the block node on the lines below.
        this.#line++;
        const next = this.#nextContentLine();
        if (next === -1 || this.#indent(next) <= indent) decline(); // a null entry
        items.push(this.#block(this.#indent(next)));
      } else {
        items.push(this.#inline(at, indent, true));
      }
    }
    return { kind: "seq", start, items };
  }

  /**
   * A block map whose keys are in column `indent`; its first key is at `first` (on the
   * current line; after a `- ` for a map that is a sequence entry).
   */
  #map(indent: number, first: number): SubsetMap {
    const entries: SubsetMap["entries"] = [];
    const seen = new Set<string>();
    let at = first;
    for (;;) {
      if (entries.length > 0) {
        const line = this.#nextContentLine();
        if (line === -1) break;
        const lineIndent = this.#indent(line);
        if (lineIndent < indent) break;
        if (lineIndent > indent) decline();
        at = this.#starts[line] + indent;
        if (this.#isDash(at)) decline();
      }
      const { key, next } = this.#key(at);
      // Duplicates are reported with both places by the `yaml` path; `<<` merges and
      // `__proto__` are left to `yaml` too.
      const name = key.value as string;
      if (seen.has(name) || name === "<<" || name === "__proto__") decline();
      seen.add(name);
      const valueAt = this.#skipSpaces(next);
      let value: SubsetNode;
      if (this.#atLineEnd(valueAt, valueAt > next)) {
        this.#line++;
        const line = this.#nextContentLine();
        const lineIndent = line === -1 ? -1 : this.#indent(line);
        if (lineIndent > indent) value = this.#block(lineIndent);
        else if (lineIndent === indent && this.#isDash(this.#starts[line] + indent)) {
          value = this.#sequence(indent);
        } else value = { kind: "scalar", value: null, start: valueAt, end: valueAt };
      } else {
        value = this.#inline(valueAt, indent, false);
      }
      entries.push({ key, value });
    }
    return { kind: "map", start: first, entries };
  }

  /** The block collection that starts on the current line, in column `indent`. */
  #block(indent: number): SubsetNode {
    const at = this.#starts[this.#line] + indent;
    return this.#isDash(at) ? this.#sequence(indent) : this.#map(indent, at);
  }

  /** A map key at `at` and the offset after its `:`. */
  #key(at: number): { key: SubsetScalar; next: number } {
    const text = this.#text;
    const end = this.#end(this.#line);
    if (text[at] === '"' || text[at] === "'") {
      const key = this.#quoted(at);
      if (text[key.end] !== ":" || !(key.end + 1 === end || text[key.end + 1] === " ")) decline();
      if (key.end - at > MAX_KEY_LENGTH) decline();
      return { key, next: key.end + 1 };
    }
    if (INDICATORS.has(text[at])) decline();
    let colon = at;
    for (;;) {
      colon = text.indexOf(":", colon + 1);
      if (colon === -1 || colon >= end) decline(); // not a key: a scalar or broken YAML
      if (colon + 1 === end || text[colon + 1] === " ") break;
    }
    const raw = text.slice(at, colon);
    if (raw.includes(" #") || raw.length > MAX_KEY_LENGTH) decline();
    const source = raw.trimEnd();
    const value = resolvePlain(source);
    if (typeof value !== "string") decline(); // `1:`, `true:`, `~:` become strings in toJS
    return { key: { kind: "scalar", value, start: at, end: at + source.length }, next: colon + 1 };
  }

  /**
   * The node that starts at `at` on the current line (after `key: ` or `- `), inside a
   * collection in column `indent`; a map (`- key: value`) only as a sequence entry.
   */
  #inline(at: number, indent: number, entry: boolean): SubsetNode {
    const text = this.#text;
    const c = text[at];
    if (c === "|" || c === ">") return this.#blockScalar(at, indent);
    if (c === "[") return this.#flowSequence(at);
    if (c === "{") {
      // Only the empty flow map: `{}`.
      if (text[at + 1] !== "}") decline();
      this.#finishLine(at + 2);
      return { kind: "map", start: at, entries: [] };
    }
    if (c === '"' || c === "'") {
      const scalar = this.#quoted(at);
      this.#finishLine(scalar.end);
      return scalar;
    }
    if (this.#isDash(at)) decline(); // `- - x`: a sequence in a sequence entry
    if (entry && this.#isKeyLine(at)) return this.#map(at - this.#starts[this.#line], at);
    const scalar = this.#plain(at);
    this.#finishLine(scalar.end);
    return scalar;
  }

  /** Whether a `key:` starts at `at` (a map that is a sequence entry: `- key: value`). */
  #isKeyLine(at: number): boolean {
    const text = this.#text;
    if (text[at] === '"' || text[at] === "'") {
      try {
        const end = this.#quoted(at).end;
        return text[end] === ":";
      } catch (error) {
        if (error === DECLINE) return false;
        throw error;
      }
    }
    const end = this.#end(this.#line);
    const comment = text.indexOf(" #", at);
    const stop = comment === -1 || comment > end ? end : comment;
    for (
      let colon = text.indexOf(":", at);
      colon !== -1 && colon < stop;
      colon = text.indexOf(":", colon + 1)
    ) {
      if (colon + 1 === end || text[colon + 1] === " ") return true;
    }
    return false;
  }

  /** A one-line plain scalar in block context. */
  #plain(at: number): SubsetScalar {
    const text = this.#text;
    if (INDICATORS.has(text[at]) && !(text[at] === "-" && !this.#isDash(at))) decline();
    if (text[at] === "-" && (text[at + 1] === "?" || text[at + 1] === ":")) decline();
    const end = this.#end(this.#line);
    const comment = text.indexOf(" #", at);
    const stop = comment === -1 || comment > end ? end : comment;
    const source = text.slice(at, stop).trimEnd();
    // `a: b: c` and a trailing `:` are maps in YAML (and errors in a value).
    if (source.includes(": ") || source.endsWith(":")) decline();
    return { kind: "scalar", value: resolvePlain(source), start: at, end: at + source.length };
  }

  /** A quoted scalar that starts and ends on the current line. */
  #quoted(at: number): SubsetScalar {
    const text = this.#text;
    const end = this.#end(this.#line);
    const quote = text[at];
    let value = "";
    let i = at + 1;
    for (;;) {
      if (i >= end) decline(); // closes on a later line, or never
      const c = text[i];
      if (quote === "'") {
        if (c === "'") {
          if (text[i + 1] !== "'") break;
          value += "'";
          i += 2;
          continue;
        }
      } else if (c === '"') {
        break;
      } else if (c === "\\") {
        const escape = text[i + 1];
        if (escape in ESCAPES) {
          value += ESCAPES[escape];
          i += 2;
          continue;
        }
        const digits = escape === "x" ? 2 : escape === "u" ? 4 : 0;
        const hex = text.slice(i + 2, i + 2 + digits);
        if (digits === 0 || !/^[0-9a-fA-F]+$/.test(hex) || hex.length !== digits) decline();
        const code = parseInt(hex, 16);
        if (code >= 0xd800 && code <= 0xdfff) decline(); // surrogate halves
        value += String.fromCharCode(code);
        i += 2 + digits;
        continue;
      }
      value += c;
      i++;
    }
    return { kind: "scalar", value, start: at, end: i + 1 };
  }

  /** A flow sequence of scalars on one line: `[a, "b", 3]`. */
  #flowSequence(at: number): SubsetSeq {
    const text = this.#text;
    const end = this.#end(this.#line);
    const items: SubsetNode[] = [];
    let i = this.#skipSpaces(at + 1);
    if (text[i] === "]") {
      this.#finishLine(i + 1);
      return { kind: "seq", start: at, items };
    }
    for (;;) {
      if (i >= end) decline();
      let item: SubsetScalar;
      const c = text[i];
      if (c === '"' || c === "'") {
        item = this.#quoted(i);
      } else {
        // `-1` is a number; other indicators at the start go to `yaml`.
        if (INDICATORS.has(c) && !(c === "-" && /[0-9]/.test(text[i + 1]))) decline();
        let stop = i;
        for (; stop < end; stop++) {
          const d = text[stop];
          if (",[]{}#".includes(d)) break;
          // `read:org` is one plain scalar; `: ` would make the entry a map (§7.3.3).
          if (d === ":" && (stop + 1 === end || " ,[]{}".includes(text[stop + 1]))) break;
        }
        // Only `,` and `]` end an item here; `:`, `#` and nested brackets go to `yaml`.
        if (stop >= end || "[{}:#".includes(text[stop])) decline();
        const source = text.slice(i, stop).trimEnd();
        item = { kind: "scalar", value: resolvePlain(source), start: i, end: i + source.length };
      }
      items.push(item);
      i = this.#skipSpaces(item.end);
      if (text[i] === "]") break;
      if (text[i] !== ",") decline();
      i = this.#skipSpaces(i + 1);
      if (text[i] === "]" || text[i] === ",") decline(); // `[a,]`, `[a,,b]`
    }
    this.#finishLine(i + 1);
    return { kind: "seq", start: at, items };
  }

  /**
   * A `|` or `>` block scalar (YAML 1.2 §8.1) in a collection in column `indent`, with
   * clip (default) or strip (`-`) chomping and auto-detected indentation.
   */
  #blockScalar(at: number, indent: number): SubsetScalar {
    const text = this.#text;
    const folded = text[at] === ">";
    let i = at + 1;
    const strip = text[i] === "-";
    if (strip) i++;
    // `+` (keep) and explicit indentation indicators are left to `yaml`.
    this.#finishLine(i);
    const lines: string[] = [];
    let contentIndent = -1;
    let blankRun = 0;
    let end = -1;
    for (; this.#line < this.#starts.length; this.#line++) {
      const start = this.#starts[this.#line];
      const lineEnd = this.#end(this.#line);
      const lineIndent = this.#indent(this.#line);
      if (start + lineIndent === lineEnd) {
        // Blank: part of the scalar when more content follows. Spaces beyond the
        // content's indentation would be content; leading blank lines change how the
        // indentation is detected. Both are left to `yaml`.
        if (contentIndent === -1 || lineIndent > contentIndent) decline();
        blankRun++;
        continue;
      }
      if (contentIndent === -1) {
        if (lineIndent <= indent) decline(); // an empty block scalar
        contentIndent = lineIndent;
      }
      if (lineIndent < contentIndent) break;
      const content = text.slice(start + contentIndent, lineEnd);
      // More-indented lines and trailing spaces fold differently (§8.1.3): left to `yaml`.
      if (folded && (lineIndent > contentIndent || content.endsWith(" "))) decline();
      if (lines.length > 0) {
        if (!folded) { for (let n = 0; n < blankRun; n++) lines.push(""); }
        else lines.push(blankRun === 0 ? " " : "\n".repeat(blankRun));
      }
      blankRun = 0;
      lines.push(content);
      end = lineEnd < text.length ? lineEnd + 1 : lineEnd;
    }
    if (contentIndent === -1) decline();
    const body = folded ? lines.join("") : lines.join("\n");
    const value = strip ? body : body + "\n";
    return { kind: "scalar", value, start: at, end };
  }
}

/** The plain JS value of a node, as `yaml`'s `toJS()` builds it. */
function toData(node: SubsetNode): unknown {
  if (node.kind === "scalar") return node.value;
  if (node.kind === "seq") return node.items.map(toData);
  const object: Record<string, unknown> = {};
  for (const { key, value } of node.entries) object[key.value as string] = toData(value);
  return object;
}

function span(node: SubsetNode | undefined): NodeSpan | undefined {
  if (!node) return undefined;
  if (node.kind !== "scalar") {
    return { start: node.start, end: node.start, scalar: false, emptyNull: false };
  }
  const emptyNull = node.value === null && node.start === node.end;
  return { start: node.start, end: node.end, scalar: true, emptyNull };
}

/**
 * Follows `pointer` (map keys, sequence indexes) from `root`; when it leads nowhere,
 * the deepest node on the way with `exact: false`.
 */
export function findInSubset(root: SubsetNode, pointer: Pointer): SpanFound {
  let value: SubsetNode = root;
  let key: SubsetScalar | undefined;
  for (const segment of pointer) {
    let next: { key?: SubsetScalar; value: SubsetNode } | undefined;
    if (value.kind === "map") {
      next = value.entries.find((entry) => entry.key.value === String(segment));
    } else if (value.kind === "seq" && /^\d+$/.test(String(segment))) {
      const item = value.items[Number(segment)];
      if (item) next = { value: item };
    }
    if (!next) return { key: span(key), value: span(value), exact: false };
    key = next.key;
    value = next.value;
  }
  return { key: span(key), value: span(value), exact: true };
}
