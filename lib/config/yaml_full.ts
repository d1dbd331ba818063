/**
 * Parsing a config with the `yaml` package (from its one-file ES-module bundle,
 * lib/npm_bundles.ts explains why): the path for every text the subset parser
 * (yaml_subset.js) declines, which includes every text with a syntax error, so the
 * messages about broken YAML and their positions come from here.
 *
 * load.ts imports this module on demand: most configs never need it, and loading and
 * first running `yaml` is most of what parsing would otherwise cost at start-up.
 * @module
 */
import {
  type Document,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  type Node,
  type Pair,
  parseDocument,
  visit,
  type YAMLMap,
} from "./yaml_bundle.generated.js";
import type { NodeSpan, ParsedYaml, Pointer, Position, SpanFound } from "./load.ts";

/** Hints for `yaml`'s error codes that users meet in configs. */
const YAML_HINTS: Record<string, string> = {
  TAB_AS_INDENT: "indent with spaces; YAML does not allow tabs for indentation",
  BAD_INDENT: "check the indentation: the keys of one map must start in the same column",
  MULTIPLE_DOCS: "a config is one YAML document; remove the extra '---'",
  BLOCK_AS_IMPLICIT_KEY: 'quote a value that contains ": ", e.g. key: "a: b"',
  MISSING_CHAR: "close the quote or bracket that was opened before this point",
  TAG_RESOLVE_FAILED: "dagent configs use no custom YAML tags; remove the '!' tag",
};

/**
 * Parses `text` with `yaml`: its data (when it can be built), its problems (syntax
 * errors and warnings, duplicate keys, too many aliases, an empty document), and a
 * way to find the nodes at a pointer. `position` turns an offset into line and column.
 */
export function parseWithYaml(text: string, position: (offset: number) => Position): ParsedYaml {
  const doc = parseDocument(text, {
    prettyErrors: false,
    uniqueKeys: false, // duplicates are reported below, with both places named
    merge: true, // `<<: *anchor`, as Go's yaml (cagent) accepts
  });
  const problems: ParsedYaml["problems"] = [];
  for (const issue of [...doc.errors, ...doc.warnings]) {
    problems.push({
      ...position(issue.pos[0]),
      message: `invalid YAML: ${issue.message.split("\n")[0]}`,
      hint: YAML_HINTS[issue.code],
    });
  }
  problems.push(...duplicateKeys(doc, position));
  let data: unknown = undefined;
  if (doc.errors.length === 0) {
    try {
      data = doc.toJS({ maxAliasCount: 100 });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      problems.push({
        line: 1,
        col: 1,
        message: `the YAML cannot be expanded: ${reason}`,
        hint: "use fewer aliases (*name); a config needs very few",
      });
    }
  }
  // Duplicate keys and unknown tags still leave a usable document: keep checking it.
  let fatal = doc.errors.length > 0 || data === undefined;
  if (!fatal && doc.contents === null) {
    problems.push({
      line: 1,
      col: 1,
      message: "the file is empty",
      hint: "a config needs at least an 'agents:' map with a 'root' agent; see 'dagent schema'",
    });
    fatal = true;
  }
  return { data, problems, fatal, find: (pointer) => find(doc, pointer) };
}

function span(node: Node | undefined): NodeSpan | undefined {
  if (!node) return undefined;
  const [start, end] = node.range ?? [0, 0];
  const scalar = isScalar(node);
  return { start, end, scalar, emptyNull: scalar && node.value === null && start === end };
}

function find(doc: Document.Parsed, pointer: Pointer): SpanFound {
  let value: Node | undefined = resolve(doc, doc.contents ?? undefined);
  let key: Node | undefined;
  for (const segment of pointer) {
    let next: { key?: Node; value?: Node } | undefined;
    if (isMap(value)) {
      const pair = pairIn(doc, value, String(segment));
      if (pair) next = { key: pair.key as Node, value: (pair.value ?? undefined) as Node };
    } else if (isSeq(value) && /^\d+$/.test(String(segment))) {
      const item = value.items[Number(segment)] as Node | undefined;
      if (item) next = { value: item };
    }
    if (!next) return { key: span(key), value: span(value), exact: false };
    key = next.key;
    value = resolve(doc, next.value);
  }
  return { key: span(key), value: span(value), exact: true };
}

function pairIn(doc: Document.Parsed, map: YAMLMap, name: string, depth = 0): Pair | undefined {
  // The last of duplicate keys wins, as in the data (the duplicate is reported).
  const direct = map.items.findLast((pair) => keyText(pair.key) === name);
  if (direct || depth > 8) return direct;
  // Keys brought in by a merge (`<<: *anchor`) are found in the anchored map.
  for (const pair of map.items) {
    if (keyText(pair.key) !== "<<") continue;
    const sources = isSeq(pair.value) ? pair.value.items : [pair.value];
    for (const source of sources) {
      const resolved = resolve(doc, source as Node);
      if (isMap(resolved)) {
        const merged = pairIn(doc, resolved, name, depth + 1);
        if (merged) return merged;
      }
    }
  }
  return undefined;
}

function resolve(doc: Document.Parsed, node: Node | undefined): Node | undefined {
  let current = node;
  for (let i = 0; i < 16 && isAlias(current); i++) {
    current = current.resolve(doc) as Node | undefined;
  }
  return current;
}

function duplicateKeys(
  doc: Document.Parsed,
  position: (offset: number) => Position,
): ParsedYaml["problems"] {
  const problems: ParsedYaml["problems"] = [];
  visit(doc, {
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
        const was = position(earlier.range?.[0] ?? 0);
        problems.push({
          ...position(here.range?.[0] ?? 0),
          message: `duplicate key '${name}' (first defined at line ${was.line})`,
          hint: "remove one of them; YAML keys must be unique within a map",
        });
      }
    },
  });
  return problems;
}

function keyText(key: unknown): string | undefined {
  if (!isScalar(key)) return undefined;
  // With `merge: true` the `<<` key's value is a symbol; its source is still `<<`.
  if (typeof key.value === "symbol") return (key as { source?: string }).source ?? "<<";
  return String(key.value);
}
