/**
 * Reading a config file and parsing it as YAML while keeping source positions, so
 * that every problem found later (schema, semantics, interpolation) can be reported
 * as `FILE:LINE:COL`.
 *
 * Also home of {@link ConfigProblem} and {@link ConfigError}, the shape in which every
 * stage of config loading reports what is wrong.
 *
 * The YAML parser is the `yaml` package from its one-file ES-module bundle
 * (lib/npm_bundles.ts explains why), typed by the package's own declarations.
 * @module
 */
import {
  type Document,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  type Pair,
  parseDocument,
  visit,
  type YAMLMap,
} from "./yaml_bundle.generated.js";
import { DagentError, ExitCode } from "../errors.ts";

/** Largest config file dagent reads (checked with stat before reading). */
export const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

/** One thing wrong with a config, at a 1-based line and column of its file. */
export interface ConfigProblem {
  /** The file as the user named it. */
  file: string;
  /** 1-based line. */
  line: number;
  /** 1-based column (in UTF-16 code units, as editors count). */
  col: number;
  /** What is wrong. Never contains secret values, only names and locations. */
  message: string;
  /** What to do about it, when that is not obvious from the message. */
  hint?: string;
  /** Where in the document, e.g. `agents.root.toolsets[0].remote`, when known. */
  path?: string;
}

/** A config that cannot be used; carries every problem found, not just the first. */
export class ConfigError extends DagentError {
  /** All problems, sorted by position. */
  readonly problems: ConfigProblem[];
  /** The file as the user named it. */
  readonly file: string;

  constructor(file: string, problems: ConfigProblem[]) {
    const sorted = sortProblems(problems);
    const count = sorted.length === 1 ? "1 problem" : `${sorted.length} problems`;
    super(`invalid config ${file} (${count}):\n${sorted.map(formatProblem).join("\n")}`, {
      exitCode: ExitCode.Usage,
      code: "config",
      hint: `fix the config, then check it with 'dagent validate ${file}'`,
    });
    this.name = "ConfigError";
    this.problems = sorted;
    this.file = file;
  }
}

/** Formats a problem as `FILE:LINE:COL: message`, plus an indented `hint:` line. */
export function formatProblem(problem: ConfigProblem): string {
  const head = `${problem.file}:${problem.line}:${problem.col}: ${problem.message}`;
  return problem.hint ? `${head}\n  hint: ${problem.hint}` : head;
}

/** Sorts problems by line then column, dropping exact duplicates. */
export function sortProblems(problems: ConfigProblem[]): ConfigProblem[] {
  const seen = new Set<string>();
  const unique = problems.filter((p) => {
    const key = `${p.line}:${p.col}:${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return unique.sort((a, b) => a.line - b.line || a.col - b.col);
}

/** A 1-based position in a file. */
export interface Position {
  line: number;
  col: number;
}

/** A path into the config document: map keys and sequence indexes. */
export type Pointer = readonly (string | number)[];

/**
 * Reads a config file as UTF-8 text. Missing files, directories, files over
 * {@link MAX_CONFIG_BYTES}, unreadable files and bytes that are not UTF-8 become a
 * {@link ConfigError} with one positioned problem.
 */
export async function readConfigFile(path: string): Promise<string> {
  const fail = (message: string, hint?: string, at: Position = { line: 1, col: 1 }) =>
    new ConfigError(path, [{ file: path, ...at, message, hint }]);
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (error) {
    throw readFailure(error, path, fail);
  }
  if (info.isDirectory) {
    const inside = await yamlFilesIn(path);
    throw fail(
      "this is a directory, not a config file",
      inside.length > 0
        ? `name a YAML file, e.g. ${
          inside.map((name) => `${path.replace(/\/$/, "")}/${name}`)
            .join(" or ")
        }`
        : "name a YAML config file",
    );
  }
  if (!info.isFile) throw fail("this is not a regular file", "name a YAML config file");
  if (info.size > MAX_CONFIG_BYTES) throw fail(tooLarge(info.size), tooLargeHint);
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (error) {
    throw readFailure(error, path, fail);
  }
  // The file may have grown between stat and read.
  if (bytes.length > MAX_CONFIG_BYTES) throw fail(tooLarge(bytes.length), tooLargeHint);
  return decodeUtf8(bytes, path);
}

const tooLargeHint = "a config is a small YAML file; check that this is the right file";

function tooLarge(size: number): string {
  const mib = (size / 1024 / 1024).toFixed(1);
  return `the file is too large (${mib} MiB; the limit is ${MAX_CONFIG_BYTES / 1024 / 1024} MiB)`;
}

function readFailure(
  error: unknown,
  path: string,
  fail: (message: string, hint?: string) => ConfigError,
): ConfigError {
  if (error instanceof Deno.errors.NotFound) {
    return fail("no such file", "check the path; configs are YAML files such as agent.yaml");
  }
  if (error instanceof Deno.errors.PermissionDenied) {
    return fail("cannot read the file: permission denied", `check the permissions of ${path}`);
  }
  const reason = error instanceof Error ? error.message.split("\n")[0] : String(error);
  return fail(`cannot read the file: ${reason}`);
}

async function yamlFilesIn(dir: string): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (entry.isFile && /\.ya?ml$/i.test(entry.name)) names.push(entry.name);
    }
  } catch {
    return [];
  }
  return names.sort().slice(0, 3);
}

/**
 * Decodes UTF-8 strictly (a leading BOM is dropped). Invalid bytes become a
 * {@link ConfigError} pointing at the line and column of the first bad byte.
 */
export function decodeUtf8(bytes: Uint8Array, file: string): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    const offset = firstInvalidUtf8(bytes);
    const before = new TextDecoder("utf-8").decode(bytes.subarray(0, offset));
    const lineStart = before.lastIndexOf("\n") + 1;
    const line = before.split("\n").length;
    const col = before.length - lineStart + 1;
    const byte = bytes[offset]?.toString(16).toUpperCase().padStart(2, "0") ?? "??";
    throw new ConfigError(file, [{
      file,
      line,
      col,
      message: `the file is not valid UTF-8 (byte 0x${byte} at offset ${offset})`,
      hint: "save the file as UTF-8",
    }]);
  }
}

/** Offset of the first byte that is not part of a well-formed UTF-8 sequence (RFC 3629 §4). */
function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i];
    if (b < 0x80) {
      i++;
      continue;
    }
    let length: number;
    let low = 0x80;
    let high = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) length = 2;
    else if (b >= 0xe0 && b <= 0xef) {
      length = 3;
      if (b === 0xe0) low = 0xa0;
      if (b === 0xed) high = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      length = 4;
      if (b === 0xf0) low = 0x90;
      if (b === 0xf4) high = 0x8f;
    } else return i;
    if (i + length > bytes.length) return i;
    if (bytes[i + 1] < low || bytes[i + 1] > high) return i;
    for (let k = 2; k < length; k++) {
      if ((bytes[i + k] & 0xc0) !== 0x80) return i;
    }
    i += length;
  }
  return bytes.length;
}

/** Hints for YAML parser error codes that have a usual cause. */
const YAML_HINTS: Record<string, string> = {
  TAB_AS_INDENT: "indent with spaces; YAML does not allow tabs for indentation",
  BAD_INDENT: "check the indentation: the keys of one map must start in the same column",
  MULTIPLE_DOCS: "a config is one YAML document; remove the extra '---'",
  BLOCK_AS_IMPLICIT_KEY: 'quote a value that contains ": ", e.g. key: "a: b"',
  MISSING_CHAR: "close the quote or bracket that was opened before this point",
  TAG_RESOLVE_FAILED: "dagent configs use no custom YAML tags; remove the '!' tag",
};

/** A parsed YAML config document with the means to map paths in it back to positions. */
export class YamlSource {
  /** The file as the user named it. */
  readonly file: string;
  /** The whole text. */
  readonly text: string;
  /** The `yaml` document (comments, ranges). */
  readonly doc: Document.Parsed;
  /** The plain JS value of the document; undefined when it could not be built. */
  readonly data: unknown;
  /** Syntax problems, duplicate keys and the like. */
  readonly problems: ConfigProblem[];
  /** True when the problems are such that the data cannot be trusted for further checks. */
  readonly fatal: boolean;
  readonly #lines: LineCounter;

  constructor(text: string, file: string) {
    this.file = file;
    this.text = text;
    this.#lines = new LineCounter();
    this.doc = parseDocument(text, {
      lineCounter: this.#lines,
      prettyErrors: false,
      uniqueKeys: false, // duplicates are reported below, with both places named
      merge: true, // `<<: *anchor`, as Go's yaml (cagent) accepts
    });
    this.problems = [];
    for (const issue of [...this.doc.errors, ...this.doc.warnings]) {
      this.problems.push({
        file,
        ...this.position(issue.pos[0]),
        message: `invalid YAML: ${issue.message.split("\n")[0]}`,
        hint: YAML_HINTS[issue.code],
      });
    }
    this.problems.push(...this.#duplicateKeys());
    let data: unknown = undefined;
    if (this.doc.errors.length === 0) {
      try {
        data = this.doc.toJS({ maxAliasCount: 100 });
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        this.problems.push({
          file,
          line: 1,
          col: 1,
          message: `the YAML cannot be expanded: ${reason}`,
          hint: "use fewer aliases (*name); a config needs very few",
        });
      }
    }
    this.data = data;
    // Duplicate keys and unknown tags still leave a usable document: keep checking it.
    this.fatal = this.doc.errors.length > 0 || data === undefined;
    if (!this.fatal && this.doc.contents === null) {
      this.problems.push({
        file,
        line: 1,
        col: 1,
        message: "the file is empty",
        hint: "a config needs at least an 'agents:' map with a 'root' agent; " +
          "see 'dagent schema'",
      });
      this.fatal = true;
    }
  }

  /** 1-based line and column of a character offset. */
  position(offset: number): Position {
    const { line, col } = this.#lines.linePos(Math.max(0, Math.min(offset, this.text.length)));
    return { line, col };
  }

  /**
   * The position of the node at `pointer`: its value (default) or its key. When the
   * path does not exist in full, the deepest existing ancestor is used and `exact` is
   * false.
   */
  locate(pointer: Pointer, target: "key" | "value" = "value"): Position & { exact: boolean } {
    const found = this.#find(pointer);
    const node = target === "key" ? (found.key ?? found.value) : found.value ?? found.key;
    const offset = node?.range?.[0] ?? 0;
    return { ...this.position(offset), exact: found.exact };
  }

  /** Source text and start offset of the node at `pointer`, when it exists. */
  source(pointer: Pointer): { text: string; offset: number } | undefined {
    const found = this.#find(pointer);
    if (!found.exact || !found.value?.range) return undefined;
    const [start, end] = found.value.range;
    return { text: this.text.slice(start, end), offset: start };
  }

  #find(pointer: Pointer): { key?: Node; value?: Node; exact: boolean } {
    let value: Node | undefined = this.#resolve(this.doc.contents ?? undefined);
    let key: Node | undefined;
    for (const segment of pointer) {
      let next: { key?: Node; value?: Node } | undefined;
      if (isMap(value)) {
        const pair = this.#pairIn(value, String(segment));
        if (pair) next = { key: pair.key as Node, value: (pair.value ?? undefined) as Node };
      } else if (isSeq(value) && /^\d+$/.test(String(segment))) {
        const item = value.items[Number(segment)] as Node | undefined;
        if (item) next = { value: item };
      }
      if (!next) return { key, value, exact: false };
      key = next.key;
      value = this.#resolve(next.value);
      // `key:` with nothing after it: point at the key rather than the line's end.
      if (isScalar(value) && value.value === null && value.range?.[0] === value.range?.[1]) {
        value = key ?? value;
      }
    }
    return { key, value, exact: true };
  }

  #pairIn(map: YAMLMap, name: string, depth = 0): Pair | undefined {
    // The last of duplicate keys wins, as in the data (the duplicate is reported).
    const direct = map.items.findLast((pair) => keyText(pair.key) === name);
    if (direct || depth > 8) return direct;
    // Keys brought in by a merge (`<<: *anchor`) are found in the anchored map.
    for (const pair of map.items) {
      if (keyText(pair.key) !== "<<") continue;
      const sources = isSeq(pair.value) ? pair.value.items : [pair.value];
      for (const source of sources) {
        const resolved = this.#resolve(source as Node);
        if (isMap(resolved)) {
          const merged = this.#pairIn(resolved, name, depth + 1);
          if (merged) return merged;
        }
      }
    }
    return undefined;
  }

  #resolve(node: Node | undefined): Node | undefined {
    let current = node;
    for (let i = 0; i < 16 && isAlias(current); i++) {
      current = current.resolve(this.doc) as Node | undefined;
    }
    return current;
  }

  #duplicateKeys(): ConfigProblem[] {
    const problems: ConfigProblem[] = [];
    visit(this.doc, {
      Map: (_, map) => {
        const first = new Map<string, Node>();
        for (const pair of map.items) {
          const name = keyText(pair.key);
          if (name === undefined || name === "<<") continue;
          const earlier = first.get(name);
          const here = pair.key as Node;
          if (!earlier) {
            first.set(name, here);
            continue;
          }
          const was = this.position(earlier.range?.[0] ?? 0);
          problems.push({
            file: this.file,
            ...this.position(here.range?.[0] ?? 0),
            message: `duplicate key '${name}' (first defined at line ${was.line})`,
            hint: "remove one of them; YAML keys must be unique within a map",
          });
        }
      },
    });
    return problems;
  }
}

function keyText(key: unknown): string | undefined {
  if (!isScalar(key)) return undefined;
  // With `merge: true` the `<<` key's value is a symbol; its source is still `<<`.
  if (typeof key.value === "symbol") return (key as { source?: string }).source ?? "<<";
  return String(key.value);
}
