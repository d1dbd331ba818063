/**
 * Reading a config file and parsing it as YAML while keeping source positions, so
 * that every problem found later (schema, semantics, interpolation) can be reported
 * as `FILE:LINE:COL`.
 *
 * Also home of {@link ConfigProblem} and {@link ConfigError}, the shape in which every
 * stage of config loading reports what is wrong.
 *
 * Plain configs are parsed by a small subset parser (yaml_subset.js); everything else,
 * broken YAML included, by the `yaml` package (yaml_full.ts), loaded only then.
 * @module
 */
import { DagentError, ExitCode } from "../errors.ts";
import { findInSubset, lineStartsOf, parseYamlSubset } from "./yaml_subset.js";

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
 *
 * The file is read with the synchronous calls: a config is read at start-up, when nothing
 * else runs yet, and in a fresh process they take ~0.5 ms less than the asynchronous ones
 * (no hand-off to a worker thread), a measurable part of `dagent validate`.
 */
export async function readConfigFile(path: string): Promise<string> {
  const fail = (message: string, hint?: string, at: Position = { line: 1, col: 1 }) =>
    new ConfigError(path, [{ file: path, ...at, message, hint }]);
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(path);
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
    bytes = Deno.readFileSync(path);
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

/** Offsets of a node found in a parsed document (`yaml`'s `range[0..1]`). */
export interface NodeSpan {
  start: number;
  end: number;
  /** A scalar (its source is `text.slice(start, end)`), not a collection. */
  scalar: boolean;
  /** The null of a `key:` with nothing after it (an empty range). */
  emptyNull: boolean;
}

/** What a pointer leads to: the key and value nodes, and whether the path exists in full. */
export interface SpanFound {
  key?: NodeSpan;
  value?: NodeSpan;
  exact: boolean;
}

/** A document as one of the two YAML parsers (yaml_subset.js, yaml_full.ts) returns it. */
export interface ParsedYaml {
  /** The plain JS value; undefined when it could not be built. */
  data: unknown;
  /** Problems without the file name. */
  problems: Omit<ConfigProblem, "file">[];
  /** True when the data cannot be trusted for further checks. */
  fatal: boolean;
  /** The nodes at `pointer` (deepest existing ancestor, `exact: false`, when it does not exist). */
  find(pointer: Pointer): SpanFound;
}

let fullParser: Promise<typeof import("./yaml_full.ts")> | undefined;

/**
 * lib/config/yaml_full.ts, loaded on first use. The specifier is computed so that Deno
 * does not load `yaml` at start-up for the configs that never need it; `deno compile`
 * is told to include the module (deno.json, task `compile`).
 */
function loadFullParser(): Promise<typeof import("./yaml_full.ts")> {
  return fullParser ??= import(new URL("./yaml_full.ts", import.meta.url).href);
}

/**
 * A parsed YAML config document with the means to map paths in it back to positions.
 * Made by {@link parseYaml}.
 */
export class YamlSource {
  /** The file as the user named it. */
  readonly file: string;
  /** The whole text. */
  readonly text: string;
  /** The plain JS value of the document; undefined when it could not be built. */
  readonly data: unknown;
  /** Syntax problems, duplicate keys and the like. */
  readonly problems: ConfigProblem[];
  /** True when the problems are such that the data cannot be trusted for further checks. */
  readonly fatal: boolean;
  readonly #lineStarts: number[];
  readonly #find: (pointer: Pointer) => SpanFound;

  /** Use {@link parseYaml}. */
  constructor(text: string, file: string, lineStarts: number[], parsed: ParsedYaml) {
    this.file = file;
    this.text = text;
    this.#lineStarts = lineStarts;
    this.data = parsed.data;
    this.problems = parsed.problems.map((problem) => ({ file, ...problem }));
    this.fatal = parsed.fatal;
    this.#find = parsed.find;
  }

  /** 1-based line and column of a character offset. */
  position(offset: number): Position {
    return positionIn(this.#lineStarts, Math.max(0, Math.min(offset, this.text.length)));
  }

  /**
   * The position of the node at `pointer`: its value (default) or its key. When the
   * path does not exist in full, the deepest existing ancestor is used and `exact` is
   * false.
   */
  locate(pointer: Pointer, target: "key" | "value" = "value"): Position & { exact: boolean } {
    const found = this.#found(pointer);
    const node = target === "key" ? (found.key ?? found.value) : found.value ?? found.key;
    return { ...this.position(node?.start ?? 0), exact: found.exact };
  }

  /** Source text and start offset of the scalar at `pointer`, when it exists. */
  source(pointer: Pointer): { text: string; offset: number } | undefined {
    const found = this.#found(pointer);
    if (!found.exact || !found.value?.scalar) return undefined;
    const { start, end } = found.value;
    return { text: this.text.slice(start, end), offset: start };
  }

  #found(pointer: Pointer): SpanFound {
    const found = this.#find(pointer);
    // `key:` with nothing after it: point at the key rather than the line's end.
    if (found.value?.emptyNull) return { ...found, value: found.key ?? found.value };
    return found;
  }
}

/**
 * Parses a config's text: with the small subset parser when the text is plain YAML (the
 * usual case, and fast at start-up), else with the `yaml` package, which is loaded then.
 * Either way the result is the same (tests/yaml_subset_test.ts).
 */
export async function parseYaml(text: string, file: string): Promise<YamlSource> {
  const lineStarts = lineStartsOf(text);
  const subset = parseYamlSubset(text, lineStarts);
  if (subset) {
    const { root, data } = subset;
    const parsed = {
      data,
      problems: [],
      fatal: false,
      find: (p: Pointer) => findInSubset(root, p),
    };
    return new YamlSource(text, file, lineStarts, parsed);
  }
  const { parseWithYaml } = await loadFullParser();
  const parsed = parseWithYaml(text, (offset) => positionIn(lineStarts, offset));
  return new YamlSource(text, file, lineStarts, parsed);
}

/** 1-based line and column of `offset`, from the offsets at which lines start. */
function positionIn(lineStarts: number[], offset: number): Position {
  let low = 0;
  let high = lineStarts.length - 1;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if (lineStarts[mid] <= offset) low = mid;
    else high = mid - 1;
  }
  return { line: low + 1, col: offset - lineStarts[low] + 1 };
}
