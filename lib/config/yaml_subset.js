// @ts-check
/**
 * A small parser for the plain YAML that configs are nearly always written in: block
 * maps and sequences indented with spaces, one-line plain and quoted scalars, `|` and `>`
 * block scalars, one-line flow sequences, comments.
 *
 * It exists for start-up time. The `yaml` package handles all of YAML, but the first
 * parse in a process costs about 15 ms (V8 compiles its lexer, parser and composer
 * function by function on first call, and Deno's code cache does not keep those), which
 * was most of what `dagent validate` added to an empty `deno run`.
 *
 * The contract is all or nothing: for a text it accepts, the result is exactly what
 * `yaml`'s `parseDocument(text, { merge: true, uniqueKeys: false }).toJS()` gives, with
 * the same source offsets for every node; for anything else (anchors, tags, multi-line
 * plain or quoted scalars, flow maps, duplicate or merge keys, tabs, CRLF, values whose
 * YAML 1.2 core-schema type it does not resolve itself, and every syntax error) it
 * returns `undefined` and the caller parses with `yaml`, so messages about broken YAML
 * always come from `yaml`. tests/yaml_subset_test.ts holds the two to that, on the
 * repository's YAML and on generated documents.
 *
 * Why JavaScript (type-checked through JSDoc, `@ts-check`), and why every function is
 * written `const f = (function f() {…});`: V8 compiles a function expression in
 * parentheses together with its script (the "PIFE" heuristic), and Deno's code cache
 * keeps what was compiled with the module, so later processes load this parser's
 * bytecode instead of compiling it on the first parse (about 1.7 ms of `dagent
 * validate`). TypeScript's emit drops those parentheses; `deno fmt` keeps them because
 * of the comment inside.
 * @module
 */

/** @typedef {import("./load.ts").NodeSpan} NodeSpan */
/** @typedef {import("./load.ts").Pointer} Pointer */
/** @typedef {import("./load.ts").SpanFound} SpanFound */

/**
 * A scalar: its core-schema value and the offsets `yaml` gives it (`range[0..1]`).
 * @typedef {{ kind: "scalar", value: string | number | boolean | null, start: number, end: number }} SubsetScalar
 */
/**
 * A block or flow map; `start` is the offset of its first key (or its `{`).
 * @typedef {{ kind: "map", start: number, entries: { key: SubsetScalar, value: SubsetNode }[] }} SubsetMap
 */
/**
 * A block or flow sequence; `start` is the offset of its first `-` (or its `[`).
 * @typedef {{ kind: "seq", start: number, items: SubsetNode[] }} SubsetSeq
 */
/** A node of a parsed document. @typedef {SubsetScalar | SubsetMap | SubsetSeq} SubsetNode */
/**
 * A document the subset parser accepted: its root collection, and its plain JS value as
 * `yaml`'s `toJS()` builds it.
 * @typedef {{ root: SubsetMap | SubsetSeq, data: unknown }} SubsetDocument
 */
/**
 * One parse: the text, the offsets at which its lines start, the line being parsed.
 * @typedef {{ text: string, starts: number[], line: number }} State
 */

// deno-lint-ignore no-control-regex
const UNSUPPORTED_CHARACTERS = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]/;

/** Thrown inside the parser when the text leaves the subset. */
const DECLINE = Symbol("outside the YAML subset");

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
/** The longest implicit key `yaml` accepts is 1024 characters; stay clear of that limit. */
const MAX_KEY_LENGTH = 1000;

/**
 * Double-quoted escapes (YAML 1.2 §5.7) with a fixed meaning.
 * @type {Record<string, string>}
 */
const ESCAPES = {
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

/**
 * Parses `text` when it is in the subset; `undefined` when it is not (the caller then
 * uses the `yaml` package). `lineStarts`: {@link lineStartsOf} the text, when the caller
 * has it already.
 */
export const parseYamlSubset = (
  // compiled with the module: see the module documentation
  /**
   * @param {string} text
   * @param {number[]} [lineStarts]
   * @returns {SubsetDocument | undefined}
   */
  function parseYamlSubset(text, lineStarts = lineStartsOf(text)) {
    // Tabs, CR, BOM, other control characters and the Unicode line separators: `yaml`
    // treats each specially (or rejects it), so they are left to it.
    if (UNSUPPORTED_CHARACTERS.test(text)) return undefined;
    try {
      const root = parseDocument({ text, starts: lineStarts, line: 0 });
      return { root, data: toData(root) };
    } catch (error) {
      if (error === DECLINE) return undefined;
      throw error;
    }
  }
);

/** Line starts (offsets) of `text`: 0 and every offset after a `\n`. */
export const lineStartsOf = (
  // compiled with the module
  /**
   * @param {string} text
   * @returns {number[]}
   */
  function lineStartsOf(text) {
    const starts = [0];
    for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) starts.push(i + 1);
    return starts;
  }
);

/**
 * Follows `pointer` (map keys, sequence indexes) from `root`; when it leads nowhere,
 * the deepest node on the way with `exact: false`.
 */
export const findInSubset = (
  // compiled with the module
  /**
   * @param {SubsetNode} root
   * @param {Pointer} pointer
   * @returns {SpanFound}
   */
  function findInSubset(root, pointer) {
    /** @type {SubsetNode} */
    let value = root;
    /** @type {SubsetScalar | undefined} */
    let key;
    for (const segment of pointer) {
      /** @type {{ key?: SubsetScalar, value: SubsetNode } | undefined} */
      let next;
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
);

const decline = (
  // compiled with the module
  /** @returns {never} */
  function decline() {
    throw DECLINE;
  }
);

/** A plain scalar's value under the YAML 1.2 core schema (§10.3.2), or decline. */
const resolvePlain = (
  // compiled with the module
  /**
   * @param {string} source
   * @returns {string | number | boolean | null}
   */
  function resolvePlain(source) {
    if (NULLS.has(source)) return null;
    if (TRUE.has(source)) return true;
    if (FALSE.has(source)) return false;
    if (INTEGER.test(source) && source !== "-0") return Number(source);
    if (DECIMAL.test(source)) return parseFloat(source);
    if (CORE_NUMBER.test(source)) decline();
    return source;
  }
);

const parseDocument = (
  // compiled with the module
  /**
   * @param {State} s
   * @returns {SubsetMap | SubsetSeq}
   */
  function parseDocument(s) {
    let line = skipBlankLines(s);
    if (line === -1) decline(); // empty: `yaml` reports it
    const start = s.starts[line];
    if (/^---( |$)/.test(restOf(s, start))) {
      // A `---` marker line before the one document is fine; content after it is not.
      const rest = s.text.slice(start + 3, lineEnd(s, line));
      if (rest !== "" && !/^ +(#.*)?$/.test(rest)) decline();
      s.line = line + 1;
      line = nextContentLine(s);
      if (line === -1) decline();
    }
    const indent = indentOf(s, line);
    const first = s.starts[line] + indent;
    const root = isDash(s, first) ? sequence(s, indent) : map(s, indent, first);
    if (nextContentLine(s) !== -1) decline();
    return root;
  }
);

/** End offset of line `line` (its `\n`, or the end of the text). */
const lineEnd = (
  // compiled with the module
  /**
   * @param {State} s
   * @param {number} line
   */
  function lineEnd(s, line) {
    return line + 1 < s.starts.length ? s.starts[line + 1] - 1 : s.text.length;
  }
);

const indentOf = (
  // compiled with the module
  /**
   * @param {State} s
   * @param {number} line
   */
  function indentOf(s, line) {
    const start = s.starts[line];
    let i = start;
    while (s.text.charCodeAt(i) === 32) i++;
    return i - start;
  }
);

/** Moves past blank and comment-only lines; the index of the next line, or -1. */
const skipBlankLines = (
  // compiled with the module
  /** @param {State} s */
  function skipBlankLines(s) {
    for (; s.line < s.starts.length; s.line++) {
      const at = s.starts[s.line] + indentOf(s, s.line);
      if (at < lineEnd(s, s.line) && s.text[at] !== "#") return s.line;
    }
    return -1;
  }
);

/** Like skipBlankLines; document markers (`---`, `...`) there are left to `yaml`. */
const nextContentLine = (
  // compiled with the module
  /** @param {State} s */
  function nextContentLine(s) {
    const line = skipBlankLines(s);
    if (line !== -1 && /^(---|\.\.\.)( |$)/.test(restOf(s, s.starts[line]))) decline();
    return line;
  }
);

const restOf = (
  // compiled with the module
  /**
   * @param {State} s
   * @param {number} at
   */
  function restOf(s, at) {
    const end = s.text.indexOf("\n", at);
    return s.text.slice(at, end === -1 ? s.text.length : end);
  }
);

/** `-` followed by a space or the end of the line: a block sequence entry. */
const isDash = (
  // compiled with the module
  /**
   * @param {State} s
   * @param {number} at
   */
  function isDash(s, at) {
    if (s.text[at] !== "-") return false;
    const next = s.text[at + 1];
    return next === " " || next === "\n" || next === undefined;
  }
);

const skipSpaces = (
  // compiled with the module
  /**
   * @param {State} s
   * @param {number} at
   */
  function skipSpaces(s, at) {
    while (s.text.charCodeAt(at) === 32) at++;
    return at;
  }
);

/** True when `at` (after a node on the current line) is the end of the line or a comment. */
const atLineEnd = (
  // compiled with the module
  /**
   * @param {State} s
   * @param {number} at
   * @param {boolean} spaced
   */
  function atLineEnd(s, at, spaced) {
    return at === lineEnd(s, s.line) || (spaced && s.text[at] === "#");
  }
);

/** After a one-line node ending at `at`: only spaces and a comment may follow. */
const finishLine = (
  // compiled with the module
  /**
   * @param {State} s
   * @param {number} at
   */
  function finishLine(s, at) {
    const next = skipSpaces(s, at);
    if (!atLineEnd(s, next, next > at)) decline();
    s.line++;
  }
);

/** A block sequence whose entries' `-` are in column `indent`. */
const sequence = (
  // compiled with the module
  /**
   * @param {State} s
   * @param {number} indent
   * @returns {SubsetSeq}
   */
  function sequence(s, indent) {
    /** @type {SubsetNode[]} */
    const items = [];
    const start = s.starts[s.line] + indent;
    for (;;) {
      const line = nextContentLine(s);
      if (line === -1) break;
      const lineIndent = indentOf(s, line);
      if (lineIndent < indent) break;
      if (lineIndent > indent) decline();
      const dash = s.starts[line] + indent;
      if (!isDash(s, dash)) break; // a key of the map this sequence is the value of
      const at = skipSpaces(s, dash + 1);
      if (atLineEnd(s, at, true)) {
        // `-` alone: the entry is the block node on the lines below.
        s.line++;
        const next = nextContentLine(s);
        if (next === -1 || indentOf(s, next) <= indent) decline(); // a null entry
        items.push(block(s, indentOf(s, next)));
      } else {
        items.push(inline(s, at, indent, true));
      }
    }
    return { kind: "seq", start, items };
  }
);

/**
 * A block map whose keys are in column `indent`; its first key is at `first` (on the
 * current line; after a `- ` for a map that is a sequence entry).
 */
const map = (
  // compiled with the module
  /**
   * @param {State} s
   * @param {number} indent
   * @param {number} first
   * @returns {SubsetMap}
   */
  function map(s, indent, first) {
    /** @type {SubsetMap["entries"]} */
    const entries = [];
    const seen = new Set();
    let at = first;
    for (;;) {
      if (entries.length > 0) {
        const line = nextContentLine(s);
        if (line === -1) break;
        const lineIndent = indentOf(s, line);
        if (lineIndent < indent) break;
        if (lineIndent > indent) decline();
        at = s.starts[line] + indent;
        if (isDash(s, at)) decline();
      }
      const { key, next } = mapKey(s, at);
      // Duplicates are reported with both places by the `yaml` path; `<<` merges and
      // `__proto__` are left to `yaml` too.
      const name = key.value;
      if (seen.has(name) || name === "<<" || name === "__proto__") decline();
      seen.add(name);
      const valueAt = skipSpaces(s, next);
      /** @type {SubsetNode} */
      let value;
      if (atLineEnd(s, valueAt, valueAt > next)) {
        s.line++;
        const line = nextContentLine(s);
        const lineIndent = line === -1 ? -1 : indentOf(s, line);
        if (lineIndent > indent) value = block(s, lineIndent);
        else if (lineIndent === indent && isDash(s, s.starts[line] + indent)) {
          value = sequence(s, indent);
        } else value = { kind: "scalar", value: null, start: valueAt, end: valueAt };
      } else {
        value = inline(s, valueAt, indent, false);
      }
      entries.push({ key, value });
    }
    return { kind: "map", start: first, entries };
  }
);

/** The block collection that starts on the current line, in column `indent`. */
const block = (
  // compiled with the module
  /**
   * @param {State} s
   * @param {number} indent
   * @returns {SubsetNode}
   */
  function block(s, indent) {
    const at = s.starts[s.line] + indent;
    return isDash(s, at) ? sequence(s, indent) : map(s, indent, at);
  }
);

/** A map key at `at` and the offset after its `:`. */
const mapKey = (
  // compiled with the module
  /**
   * @param {State} s
   * @param {number} at
   * @returns {{ key: SubsetScalar, next: number }}
   */
  function mapKey(s, at) {
    const text = s.text;
    const end = lineEnd(s, s.line);
    if (text[at] === '"' || text[at] === "'") {
      const key = quoted(s, at);
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
);

/**
 * The node that starts at `at` on the current line (after `key: ` or `- `), inside a
 * collection in column `indent`; a map (`- key: value`) only as a sequence entry.
 */
const inline = (
  // compiled with the module
  /**
   * @param {State} s
   * @param {number} at
   * @param {number} indent
   * @param {boolean} entry
   * @returns {SubsetNode}
   */
  function inline(s, at, indent, entry) {
    const text = s.text;
    const c = text[at];
    if (c === "|" || c === ">") return blockScalar(s, at, indent);
    if (c === "[") return flowSequence(s, at);
    if (c === "{") {
      // Only the empty flow map: `{}`.
      if (text[at + 1] !== "}") decline();
      finishLine(s, at + 2);
      return { kind: "map", start: at, entries: [] };
    }
    if (c === '"' || c === "'") {
      const scalar = quoted(s, at);
      finishLine(s, scalar.end);
      return scalar;
    }
    if (isDash(s, at)) decline(); // `- - x`: a sequence in a sequence entry
    if (entry && isKeyLine(s, at)) return map(s, at - s.starts[s.line], at);
    const scalar = plain(s, at);
    finishLine(s, scalar.end);
    return scalar;
  }
);

/** Whether a `key:` starts at `at` (a map that is a sequence entry: `- key: value`). */
const isKeyLine = (
  // compiled with the module
  /**
   * @param {State} s
   * @param {number} at
   */
  function isKeyLine(s, at) {
    const text = s.text;
    if (text[at] === '"' || text[at] === "'") {
      try {
        return text[quoted(s, at).end] === ":";
      } catch (error) {
        if (error === DECLINE) return false;
        throw error;
      }
    }
    const end = lineEnd(s, s.line);
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
);

/** A one-line plain scalar in block context. */
const plain = (
  // compiled with the module
  /**
   * @param {State} s
   * @param {number} at
   * @returns {SubsetScalar}
   */
  function plain(s, at) {
    const text = s.text;
    if (INDICATORS.has(text[at]) && !(text[at] === "-" && !isDash(s, at))) decline();
    if (text[at] === "-" && (text[at + 1] === "?" || text[at + 1] === ":")) decline();
    const end = lineEnd(s, s.line);
    const comment = text.indexOf(" #", at);
    const stop = comment === -1 || comment > end ? end : comment;
    const source = text.slice(at, stop).trimEnd();
    // `a: b: c` and a trailing `:` are maps in YAML (and errors in a value).
    if (source.includes(": ") || source.endsWith(":")) decline();
    return { kind: "scalar", value: resolvePlain(source), start: at, end: at + source.length };
  }
);

/** A quoted scalar that starts and ends on the current line. */
const quoted = (
  // compiled with the module
  /**
   * @param {State} s
   * @param {number} at
   * @returns {SubsetScalar}
   */
  function quoted(s, at) {
    const text = s.text;
    const end = lineEnd(s, s.line);
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
);

/** A flow sequence of scalars on one line: `[a, "b", 3]`. */
const flowSequence = (
  // compiled with the module
  /**
   * @param {State} s
   * @param {number} at
   * @returns {SubsetSeq}
   */
  function flowSequence(s, at) {
    const text = s.text;
    const end = lineEnd(s, s.line);
    /** @type {SubsetNode[]} */
    const items = [];
    let i = skipSpaces(s, at + 1);
    if (text[i] === "]") {
      finishLine(s, i + 1);
      return { kind: "seq", start: at, items };
    }
    for (;;) {
      if (i >= end) decline();
      /** @type {SubsetScalar} */
      let item;
      const c = text[i];
      if (c === '"' || c === "'") {
        item = quoted(s, i);
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
      i = skipSpaces(s, item.end);
      if (text[i] === "]") break;
      if (text[i] !== ",") decline();
      i = skipSpaces(s, i + 1);
      if (text[i] === "]" || text[i] === ",") decline(); // `[a,]`, `[a,,b]`
    }
    finishLine(s, i + 1);
    return { kind: "seq", start: at, items };
  }
);

/**
 * A `|` or `>` block scalar (YAML 1.2 §8.1) in a collection in column `indent`, with
 * clip (default) or strip (`-`) chomping and auto-detected indentation.
 */
const blockScalar = (
  // compiled with the module
  /**
   * @param {State} s
   * @param {number} at
   * @param {number} indent
   * @returns {SubsetScalar}
   */
  function blockScalar(s, at, indent) {
    const text = s.text;
    const folded = text[at] === ">";
    let i = at + 1;
    const strip = text[i] === "-";
    if (strip) i++;
    // `+` (keep) and explicit indentation indicators are left to `yaml`.
    finishLine(s, i);
    /** @type {string[]} */
    const lines = [];
    let contentIndent = -1;
    let blankRun = 0;
    let end = -1;
    for (; s.line < s.starts.length; s.line++) {
      const start = s.starts[s.line];
      const stop = lineEnd(s, s.line);
      const lineIndent = indentOf(s, s.line);
      if (start + lineIndent === stop) {
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
      const content = text.slice(start + contentIndent, stop);
      // More-indented lines and trailing spaces fold differently (§8.1.3): left to `yaml`.
      if (folded && (lineIndent > contentIndent || content.endsWith(" "))) decline();
      if (lines.length > 0) {
        if (folded) lines.push(blankRun === 0 ? " " : "\n".repeat(blankRun));
        else lines.push(...Array(blankRun).fill(""));
      }
      blankRun = 0;
      lines.push(content);
      end = stop < text.length ? stop + 1 : stop;
    }
    if (contentIndent === -1) decline();
    const body = folded ? lines.join("") : lines.join("\n");
    return { kind: "scalar", value: strip ? body : body + "\n", start: at, end };
  }
);

/** The plain JS value of a node, as `yaml`'s `toJS()` builds it. */
const toData = (
  // compiled with the module
  /**
   * @param {SubsetNode} node
   * @returns {unknown}
   */
  function toData(node) {
    if (node.kind === "scalar") return node.value;
    if (node.kind === "seq") return node.items.map(toData);
    /** @type {Record<string, unknown>} */
    const object = {};
    for (const { key, value } of node.entries) object[String(key.value)] = toData(value);
    return object;
  }
);

const span = (
  // compiled with the module
  /**
   * @param {SubsetNode | undefined} node
   * @returns {NodeSpan | undefined}
   */
  function span(node) {
    if (!node) return undefined;
    if (node.kind !== "scalar") {
      return { start: node.start, end: node.start, scalar: false, emptyNull: false };
    }
    const emptyNull = node.value === null && node.start === node.end;
    return { start: node.start, end: node.end, scalar: true, emptyNull };
  }
);
