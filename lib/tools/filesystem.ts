/**
 * The `filesystem` toolset: read, write, edit, list and search files, confined to a set of
 * root directories (the config's `allowed_directories`, else the working directory).
 *
 * Confinement: every path is resolved to its real location — symbolic links followed
 * through the deepest existing ancestor, and links whose targets do not exist yet followed
 * by hand — and refused unless that location is inside a root. So `..`, absolute paths
 * elsewhere, links to files or directories outside, and writes that would create a file
 * through a link are all refused, as tool errors naming the roots. Operations then act on
 * the resolved path. (A process racing to swap a directory for a link between the check
 * and the operation is out of scope: the agent is the only writer it is meant to contain.)
 * Tool names and arguments follow cagent's filesystem tools.
 * @module
 */
import { basename, dirname, join, resolve, sep } from "node:path";
import {
  ArgumentError,
  type BuiltinTool,
  errorResult,
  formatBytes,
  messageOf,
  optionalNumber,
  optionalStringArray,
  requireString,
  requireStringArray,
  textResult,
} from "./common.ts";
import type { ToolResult } from "../mcp/types.ts";

/** Most bytes of one file `read_file` returns (and the largest file `edit_file` edits). */
export const MAX_READ_BYTES = 1024 * 1024;
/** Most files one `read_multiple_files` call reads. */
export const MAX_FILES_PER_READ = 50;
/** Most entries `list_directory`, `directory_tree` and `search_files` return. */
export const MAX_ENTRIES = 1000;
/** Most entries `search_files` looks at before it stops. */
export const MAX_VISITED = 100_000;
/** Default and largest `max_depth` of `directory_tree`. */
export const DEFAULT_TREE_DEPTH = 3;
/** Largest `max_depth` of `directory_tree`. */
export const MAX_TREE_DEPTH = 10;

/** Symbolic links followed while resolving one path, as the kernel's ELOOP limit. */
const MAX_LINKS = 40;

/** A path the toolset will not touch, with a message for the model. */
export class PathRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PathRefused";
  }
}

/**
 * Resolves paths the model names and refuses those whose real location is outside every
 * root. Relative paths are taken from the first root.
 */
export class PathGuard {
  /** The roots' real paths. */
  readonly roots: readonly string[];

  private constructor(roots: string[]) {
    this.roots = roots;
  }

  /** Resolves the roots (they must exist and be directories). Rejects with a plain Error. */
  static async open(roots: readonly string[]): Promise<PathGuard> {
    if (roots.length === 0) throw new Error("no allowed directories configured");
    const real: string[] = [];
    for (const root of roots) {
      let path: string;
      let info: Deno.FileInfo;
      try {
        path = await Deno.realPath(root);
        info = await Deno.stat(path);
      } catch (error) {
        throw new Error(`allowed directory ${root} cannot be used: ${fsMessage(error)}`);
      }
      if (!info.isDirectory) throw new Error(`allowed directory ${root} is not a directory`);
      real.push(path);
    }
    return new PathGuard(real);
  }

  /** A human list of the roots, for messages. */
  describeRoots(): string {
    return this.roots.join(", ");
  }

  /**
   * The real location of `path` (which need not exist yet). Throws {@link PathRefused}
   * when it is outside every root or cannot be resolved safely.
   */
  async resolve(path: string): Promise<string> {
    if (path.includes("\0")) throw new PathRefused(`path ${show(path)} contains a NUL byte`);
    const wanted = resolve(this.roots[0], path);
    const real = await realLocation(wanted, path);
    if (!this.roots.some((root) => within(root, real))) {
      throw new PathRefused(
        `access denied: ${show(path)} is outside the allowed directories (${this.describeRoots()})`,
      );
    }
    return real;
  }
}

/**
 * Real path of `absolute`: `Deno.realPath` on the deepest existing ancestor, plus the
 * components below it. A component that exists only as a link (its target is missing) is
 * followed by hand, so a write cannot create a file through it somewhere else.
 */
async function realLocation(absolute: string, shown: string): Promise<string> {
  let current = absolute;
  let rest: string[] = [];
  for (let links = 0;;) {
    try {
      const real = await Deno.realPath(current);
      return rest.length ? join(real, ...rest) : real;
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory)) {
        throw new PathRefused(`cannot resolve ${show(shown)}: ${fsMessage(error)}`);
      }
    }
    let link: string | undefined;
    try {
      const info = await Deno.lstat(current);
      if (info.isSymlink) link = await Deno.readLink(current);
    } catch { /* does not exist: go up */ }
    if (link !== undefined) {
      if (++links > MAX_LINKS) {
        throw new PathRefused(`cannot resolve ${show(shown)}: too many symbolic links`);
      }
      current = resolve(dirname(current), link, ...rest);
      rest = [];
      continue;
    }
    const parent = dirname(current);
    if (parent === current) throw new PathRefused(`cannot resolve ${show(shown)}`);
    rest.unshift(basename(current));
    current = parent;
  }
}

function within(root: string, path: string): boolean {
  if (path === root) return true;
  const prefix = root.endsWith(sep) ? root : root + sep;
  return path.startsWith(prefix);
}

/** Options of {@link filesystemTools}. */
export interface FilesystemOptions {
  /** Absolute root directories; relative paths are resolved against the first. */
  roots: readonly string[];
}

/** The filesystem tools plus `ready()`, which resolves the roots (the toolset's start). */
export function filesystemTools(options: FilesystemOptions): {
  tools: BuiltinTool[];
  ready(): Promise<PathGuard>;
} {
  let pending: Promise<PathGuard> | undefined;
  const ready = () => {
    pending ??= PathGuard.open(options.roots).catch((error) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };

  /** Wraps a handler: resolves the guard, turns refusals and fs errors into results. */
  const tool = (
    info: BuiltinTool["info"],
    handler: (
      guard: PathGuard,
      args: Record<string, unknown>,
      signal: AbortSignal,
    ) => Promise<ToolResult>,
  ): BuiltinTool => ({
    info,
    async run(args, signal) {
      let guard: PathGuard;
      try {
        guard = await ready();
      } catch (error) {
        return errorResult(messageOf(error));
      }
      try {
        return await handler(guard, args, signal);
      } catch (error) {
        if (error instanceof ArgumentError) throw error;
        if (error instanceof PathRefused) return errorResult(error.message);
        if (error instanceof ToolFailure) return errorResult(error.message);
        if (error instanceof Error && error.name === "AbortError") {
          return errorResult(`${info.name} was cancelled`);
        }
        return errorResult(`${info.name} failed: ${fsMessage(error)}`);
      }
    },
  });

  const pathArg = { type: "string", description: "Path of the file or directory" };
  const readOnly = { readOnlyHint: true };

  return {
    ready,
    tools: [
      tool({
        name: "read_file",
        description: `Read a text file. At most ${formatBytes(MAX_READ_BYTES)} is returned.`,
        inputSchema: objectSchema({ path: pathArg }, ["path"]),
        annotations: { title: "Read file", ...readOnly },
      }, async (guard, args) => {
        const path = requireString(args, "path");
        return textResult(await readText(guard, path));
      }),
      tool({
        name: "read_multiple_files",
        description: `Read several text files at once (at most ${MAX_FILES_PER_READ}). ` +
          "A file that cannot be read is reported without failing the others.",
        inputSchema: objectSchema({
          paths: { type: "array", items: { type: "string" }, description: "Paths to read" },
        }, ["paths"]),
        annotations: { title: "Read files", ...readOnly },
      }, async (guard, args) => {
        const paths = requireStringArray(args, "paths");
        if (paths.length === 0) throw new ArgumentError(`argument "paths" must not be empty`);
        if (paths.length > MAX_FILES_PER_READ) {
          throw new ArgumentError(`at most ${MAX_FILES_PER_READ} paths per call`);
        }
        let failures = 0;
        const parts: string[] = [];
        for (const path of paths) {
          try {
            parts.push(`${path}:\n${await readText(guard, path)}`);
          } catch (error) {
            if (error instanceof Error && error.name === "AbortError") throw error;
            failures++;
            const message = error instanceof PathRefused || error instanceof ToolFailure
              ? error.message
              : fsMessage(error);
            parts.push(`${path}: Error - ${message}`);
          }
        }
        const text = parts.join("\n---\n");
        return failures === paths.length ? errorResult(text) : textResult(text);
      }),
      tool({
        name: "write_file",
        description: "Create a file or replace its content. Missing parent directories " +
          "are created.",
        inputSchema: objectSchema({
          path: pathArg,
          content: { type: "string", description: "The complete new content" },
        }, ["path", "content"]),
        annotations: { title: "Write file", readOnlyHint: false, destructiveHint: true },
      }, async (guard, args) => {
        const path = requireString(args, "path");
        const content = requireString(args, "content");
        const real = await guard.resolve(path);
        const info = await statOrNull(real);
        if (info?.isDirectory) throw new ToolFailure(`${show(path)} is a directory`);
        await Deno.mkdir(dirname(real), { recursive: true });
        const bytes = new TextEncoder().encode(content);
        await Deno.writeFile(real, bytes);
        return textResult(`Wrote ${bytes.length} bytes to ${path}`);
      }),
      tool({
        name: "edit_file",
        description: "Edit a text file by replacing exact text. Each oldText must occur " +
          "exactly once (include surrounding lines to make it unique). Edits apply in " +
          "order, all or none.",
        inputSchema: objectSchema({
          path: pathArg,
          edits: {
            type: "array",
            minItems: 1,
            items: {
              type: "object",
              properties: {
                oldText: { type: "string", description: "Text to find (exactly)" },
                newText: { type: "string", description: "Text to put in its place" },
              },
              required: ["oldText", "newText"],
            },
          },
        }, ["path", "edits"]),
        annotations: { title: "Edit file", readOnlyHint: false, destructiveHint: true },
      }, async (guard, args) => {
        const path = requireString(args, "path");
        const edits = editsOf(args);
        const real = await guard.resolve(path);
        const info = await regularFile(real, path);
        if (info.size > MAX_READ_BYTES) {
          throw new ToolFailure(
            `${show(path)} is ${info.size} bytes; edit_file handles files up to ` +
              formatBytes(MAX_READ_BYTES),
          );
        }
        let text = new TextDecoder().decode(await Deno.readFile(real));
        edits.forEach((edit, index) => {
          const count = occurrences(text, edit.oldText);
          const which = edits.length > 1 ? `edit ${index + 1}: ` : "";
          if (count === 0) {
            throw new ToolFailure(`${which}oldText not found in ${show(path)}; nothing changed`);
          }
          if (count > 1) {
            throw new ToolFailure(
              `${which}oldText occurs ${count} times in ${show(path)}; include more ` +
                "surrounding text so it is unique. Nothing changed",
            );
          }
          const at = text.indexOf(edit.oldText);
          text = text.slice(0, at) + edit.newText + text.slice(at + edit.oldText.length);
        });
        await Deno.writeTextFile(real, text);
        return textResult(`Applied ${edits.length} edit${edits.length > 1 ? "s" : ""} to ${path}`);
      }),
      tool({
        name: "list_directory",
        description: "List a directory's entries, marked [DIR], [FILE] or [LINK].",
        inputSchema: objectSchema({ path: pathArg }, ["path"]),
        annotations: { title: "List directory", ...readOnly },
      }, async (guard, args) => {
        const path = requireString(args, "path");
        const real = await guard.resolve(path);
        await directory(real, path);
        const entries: Deno.DirEntry[] = [];
        let more = false;
        for await (const entry of Deno.readDir(real)) {
          if (entries.length === MAX_ENTRIES) {
            more = true;
            break;
          }
          entries.push(entry);
        }
        entries.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
        const lines = entries.map((entry) => `${kindTag(entry)} ${entry.name}`);
        if (more) lines.push(`[truncated: only the first ${MAX_ENTRIES} entries are listed]`);
        return textResult(lines.length ? lines.join("\n") : `${path} is empty`);
      }),
      tool({
        name: "directory_tree",
        description: "A recursive JSON tree of a directory ({name, type, children}). " +
          "Symbolic links are listed, not followed.",
        inputSchema: objectSchema({
          path: pathArg,
          max_depth: {
            type: "integer",
            minimum: 1,
            maximum: MAX_TREE_DEPTH,
            description: `How many levels to descend (default ${DEFAULT_TREE_DEPTH})`,
          },
        }, ["path"]),
        annotations: { title: "Directory tree", ...readOnly },
      }, async (guard, args, signal) => {
        const path = requireString(args, "path");
        const depth = optionalNumber(args, "max_depth") ?? DEFAULT_TREE_DEPTH;
        if (!Number.isInteger(depth) || depth < 1 || depth > MAX_TREE_DEPTH) {
          throw new ArgumentError(
            `argument "max_depth" must be an integer from 1 to ${MAX_TREE_DEPTH}`,
          );
        }
        const real = await guard.resolve(path);
        await directory(real, path);
        const budget = { left: MAX_ENTRIES, truncated: false };
        const tree = await treeOf(real, depth, budget, signal);
        const note = budget.truncated
          ? `\n[truncated: the tree was cut at ${MAX_ENTRIES} entries; use a smaller max_depth]`
          : "";
        return textResult(JSON.stringify(tree, null, 2) + note);
      }),
      tool({
        name: "search_files",
        description: "Find files and directories under a path whose name matches a pattern: " +
          "a glob (*, ?, ** across directories) or, without wildcards, a case-insensitive " +
          "substring. exclude_patterns are globs matched against names and relative paths.",
        inputSchema: objectSchema({
          path: pathArg,
          pattern: { type: "string", description: "Glob or substring to match names" },
          exclude_patterns: {
            type: "array",
            items: { type: "string" },
            description: "Globs of names or relative paths to skip (e.g. node_modules, *.log)",
          },
        }, ["path", "pattern"]),
        annotations: { title: "Search files", ...readOnly },
      }, async (guard, args, signal) => {
        const path = requireString(args, "path");
        const pattern = requireString(args, "pattern");
        if (!pattern) throw new ArgumentError(`argument "pattern" must not be empty`);
        const excludes = (optionalStringArray(args, "exclude_patterns") ?? []).map(globRegex);
        const real = await guard.resolve(path);
        await directory(real, path);
        const matches = nameMatcher(pattern);
        const found: string[] = [];
        const state = { visited: 0, stopped: "" };
        await search(real, "", {
          matches,
          excludes,
          found,
          state,
          signal,
        });
        const lines = found.map((rel) => join(path, rel));
        if (state.stopped) lines.push(`[truncated: ${state.stopped}]`);
        return textResult(lines.length ? lines.join("\n") : "No matches found");
      }),
      tool({
        name: "create_directory",
        description: "Create a directory, and any missing parents. Succeeds if it exists.",
        inputSchema: objectSchema({ path: pathArg }, ["path"]),
        annotations: { title: "Create directory", readOnlyHint: false, destructiveHint: false },
      }, async (guard, args) => {
        const path = requireString(args, "path");
        const real = await guard.resolve(path);
        const info = await statOrNull(real);
        if (info && !info.isDirectory) {
          throw new ToolFailure(`${show(path)} exists and is not a directory`);
        }
        await Deno.mkdir(real, { recursive: true });
        return textResult(info ? `${path} already exists` : `Created directory ${path}`);
      }),
      tool({
        name: "get_file_info",
        description: "Size, type, times and permissions of a file or directory.",
        inputSchema: objectSchema({ path: pathArg }, ["path"]),
        annotations: { title: "File info", ...readOnly },
      }, async (guard, args) => {
        const path = requireString(args, "path");
        const real = await guard.resolve(path);
        const info = await Deno.stat(real);
        const type = info.isDirectory ? "directory" : info.isFile ? "file" : "other";
        const facts: Record<string, unknown> = {
          path,
          realPath: real,
          type,
          size: info.size,
          modified: info.mtime?.toISOString() ?? null,
          accessed: info.atime?.toISOString() ?? null,
          created: info.birthtime?.toISOString() ?? null,
          permissions: info.mode === null ? null : (info.mode & 0o777).toString(8).padStart(3, "0"),
        };
        const text = Object.entries(facts).map(([key, value]) => `${key}: ${value ?? "unknown"}`)
          .join("\n");
        return textResult(text, facts);
      }),
    ],
  };
}

/** A tool-level failure with a message meant for the model. */
class ToolFailure extends Error {}

function objectSchema(properties: Record<string, unknown>, required: string[]) {
  return { type: "object", properties, required };
}

async function readText(guard: PathGuard, path: string): Promise<string> {
  const real = await guard.resolve(path);
  const info = await regularFile(real, path);
  using file = await Deno.open(real, { read: true });
  const buffer = new Uint8Array(Math.min(info.size, MAX_READ_BYTES) + 1);
  let length = 0;
  while (length < buffer.length) {
    const n = await file.read(buffer.subarray(length));
    if (n === null) break;
    length += n;
  }
  const truncated = length > MAX_READ_BYTES || info.size > MAX_READ_BYTES;
  const bytes = buffer.subarray(0, Math.min(length, MAX_READ_BYTES));
  if (bytes.subarray(0, 8192).includes(0)) {
    throw new ToolFailure(`${show(path)} looks like a binary file (${info.size} bytes)`);
  }
  const text = new TextDecoder().decode(bytes);
  if (!truncated) return text;
  return `${text}\n[truncated: showing the first ${formatBytes(MAX_READ_BYTES)} of ${
    Math.max(info.size, length)
  } bytes]`;
}

async function regularFile(real: string, path: string): Promise<Deno.FileInfo> {
  const info = await statOrThrow(real, path);
  if (info.isDirectory) throw new ToolFailure(`${show(path)} is a directory`);
  if (!info.isFile) throw new ToolFailure(`${show(path)} is not a regular file`);
  return info;
}

async function directory(real: string, path: string): Promise<void> {
  const info = await statOrThrow(real, path);
  if (!info.isDirectory) throw new ToolFailure(`${show(path)} is not a directory`);
}

async function statOrThrow(real: string, path: string): Promise<Deno.FileInfo> {
  try {
    return await Deno.stat(real);
  } catch (error) {
    throw new ToolFailure(`${show(path)}: ${fsMessage(error)}`);
  }
}

async function statOrNull(real: string): Promise<Deno.FileInfo | null> {
  try {
    return await Deno.stat(real);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
}

function editsOf(args: Record<string, unknown>): { oldText: string; newText: string }[] {
  const edits = args.edits;
  const valid = Array.isArray(edits) && edits.length > 0 &&
    edits.every((edit) =>
      typeof edit === "object" && edit !== null &&
      typeof (edit as Record<string, unknown>).oldText === "string" &&
      typeof (edit as Record<string, unknown>).newText === "string"
    );
  if (!valid) {
    throw new ArgumentError(
      `argument "edits" must be a non-empty array of {oldText, newText} strings`,
    );
  }
  const list = edits as { oldText: string; newText: string }[];
  if (list.some((edit) => edit.oldText === "")) {
    throw new ArgumentError(`an edit's oldText must not be empty`);
  }
  return list.map(({ oldText, newText }) => ({ oldText, newText }));
}

function occurrences(text: string, needle: string): number {
  let count = 0;
  for (let at = text.indexOf(needle); at !== -1; at = text.indexOf(needle, at + 1)) count++;
  return count;
}

function kindTag(entry: Deno.DirEntry): string {
  return entry.isSymlink ? "[LINK]" : entry.isDirectory ? "[DIR]" : "[FILE]";
}

interface TreeNode {
  name: string;
  type: "directory" | "file" | "symlink";
  children?: TreeNode[];
}

async function treeOf(
  dir: string,
  depth: number,
  budget: { left: number; truncated: boolean },
  signal: AbortSignal,
): Promise<TreeNode[]> {
  signal.throwIfAborted();
  const entries: Deno.DirEntry[] = [];
  for await (const entry of Deno.readDir(dir)) entries.push(entry);
  entries.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  const nodes: TreeNode[] = [];
  for (const entry of entries) {
    if (budget.left === 0) {
      budget.truncated = true;
      break;
    }
    budget.left--;
    const type = entry.isSymlink ? "symlink" : entry.isDirectory ? "directory" : "file";
    const node: TreeNode = { name: entry.name, type };
    if (type === "directory") {
      node.children = depth > 1
        ? await treeOf(join(dir, entry.name), depth - 1, budget, signal)
        : [];
    }
    nodes.push(node);
  }
  return nodes;
}

interface SearchContext {
  matches: (name: string, rel: string) => boolean;
  excludes: RegExp[];
  found: string[];
  state: { visited: number; stopped: string };
  signal: AbortSignal;
}

/** Depth-first walk that never follows symbolic links (they could lead outside a root). */
async function search(dir: string, relDir: string, context: SearchContext): Promise<void> {
  context.signal.throwIfAborted();
  let entries: Deno.DirEntry[];
  try {
    entries = [];
    for await (const entry of Deno.readDir(dir)) entries.push(entry);
  } catch {
    return; // unreadable subdirectory: skip it, as find(1) would after a warning
  }
  entries.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  for (const entry of entries) {
    if (context.state.stopped) return;
    if (++context.state.visited > MAX_VISITED) {
      context.state.stopped = `stopped after looking at ${MAX_VISITED} entries`;
      return;
    }
    const rel = relDir ? `${relDir}/${entry.name}` : entry.name;
    if (context.excludes.some((glob) => glob.test(entry.name) || glob.test(rel))) continue;
    if (context.matches(entry.name, rel)) {
      if (context.found.length === MAX_ENTRIES) {
        context.state.stopped = `only the first ${MAX_ENTRIES} matches are listed`;
        return;
      }
      context.found.push(rel);
    }
    if (entry.isDirectory && !entry.isSymlink) {
      await search(join(dir, entry.name), rel, context);
    }
  }
}

function nameMatcher(pattern: string): (name: string, rel: string) => boolean {
  if (!/[*?]/.test(pattern)) {
    const needle = pattern.toLowerCase();
    return (name) => name.toLowerCase().includes(needle);
  }
  const glob = globRegex(pattern);
  return pattern.includes("/") ? (_name, rel) => glob.test(rel) : (name) => glob.test(name);
}

/** A case-insensitive anchored regex for a glob: `**` any path, `*` and `?` within a name. */
function globRegex(glob: string): RegExp {
  let source = "";
  for (let i = 0; i < glob.length; i++) {
    const char = glob[i];
    if (char === "*" && glob[i + 1] === "*") {
      i++;
      if (glob[i + 1] === "/") {
        i++;
        source += "(?:.*/)?";
      } else {
        source += ".*";
      }
    } else if (char === "*") source += "[^/]*";
    else if (char === "?") source += "[^/]";
    else source += char.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${source}$`, "i");
}

function fsMessage(error: unknown): string {
  if (error instanceof Deno.errors.NotFound) return "no such file or directory";
  if (error instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (error instanceof Deno.errors.NotADirectory) {
    return "a component of the path is not a directory";
  }
  if (error instanceof Deno.errors.IsADirectory) return "is a directory";
  if (error instanceof Deno.errors.AlreadyExists) return "already exists";
  // Deno's messages end with the OS call and path, e.g. "..., open '/x'": keep the cause only.
  return messageOf(error).replace(/:? [a-z]+ '.*'$/, "");
}

/** A path quoted for messages (JSON escapes control characters). */
function show(path: string): string {
  return JSON.stringify(path);
}
