/**
 * The fast YAML subset parser against the `yaml` package: for every text it accepts it
 * must give the same data and the same offsets for every node, and `yaml` must find no
 * error or warning in it. Checked on the repository's YAML files, on generated documents
 * that mix the subset with what it must decline, and on random edits of both.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  type Document,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
} from "../lib/config/yaml_bundle.generated.js";
import {
  findInSubset,
  lineStartsOf,
  parseYamlSubset,
  type SubsetNode,
} from "../lib/config/yaml_subset.js";
import { parseWithYaml } from "../lib/config/yaml_full.ts";
import { parseYaml, type Pointer, YamlSource } from "../lib/config/load.ts";

const ROOT = new URL("..", import.meta.url).pathname;

function parseFull(text: string): Document.Parsed {
  return parseDocument(text, { prettyErrors: false, uniqueKeys: false, merge: true });
}

/** Asserts that `node` (subset) and `full` (yaml) are the same tree at the same offsets. */
function assertSameNode(node: SubsetNode, full: unknown, path: string): void {
  const where = `at ${path || "/"}`;
  if (node.kind === "scalar") {
    assert.ok(isScalar(full), `${where}: yaml has no scalar`);
    assert.equal(full.value, node.value, `${where}: value`);
    assert.deepEqual(full.range?.slice(0, 2), [node.start, node.end], `${where}: range`);
    return;
  }
  if (node.kind === "seq") {
    assert.ok(isSeq(full), `${where}: yaml has no sequence`);
    assert.equal(full.range?.[0], node.start, `${where}: start`);
    assert.equal(full.items.length, node.items.length, `${where}: length`);
    node.items.forEach((item, i) => assertSameNode(item, full.items[i], `${path}/${i}`));
    return;
  }
  assert.ok(isMap(full), `${where}: yaml has no map`);
  assert.equal(full.range?.[0], node.start, `${where}: start`);
  assert.equal(full.items.length, node.entries.length, `${where}: size`);
  node.entries.forEach(({ key, value }, i) => {
    const pair = full.items[i];
    assertSameNode(key, pair.key, `${path}/${String(key.value)}(key)`);
    assertSameNode(value, pair.value, `${path}/${String(key.value)}`);
  });
}

/** Every path into `data`, and for each a path one step past it that does not exist. */
function pathsOf(data: unknown, path: Pointer = []): Pointer[] {
  const paths: Pointer[] = [path, [...path, "no-such-key"], [...path, 99]];
  if (Array.isArray(data)) data.forEach((item, i) => paths.push(...pathsOf(item, [...path, i])));
  else if (data && typeof data === "object") {
    for (const [key, value] of Object.entries(data)) paths.push(...pathsOf(value, [...path, key]));
  }
  return paths;
}

/** YamlSource answers the same with either parser behind it. */
function assertSameLookups(text: string): void {
  const lineStarts = lineStartsOf(text);
  const subset = parseYamlSubset(text)!;
  const fast = new YamlSource(text, "f.yaml", lineStarts, {
    data: subset.data,
    problems: [],
    fatal: false,
    find: (pointer) => findInSubset(subset.root, pointer),
  });
  const slow = new YamlSource(
    text,
    "f.yaml",
    lineStarts,
    parseWithYaml(text, (offset) => fast.position(offset)),
  );
  assert.deepEqual(slow.problems, []);
  for (const path of pathsOf(subset.data)) {
    const where = `at ${JSON.stringify(path)}`;
    assert.deepEqual(fast.locate(path), slow.locate(path), `${where}: value`);
    assert.deepEqual(fast.locate(path, "key"), slow.locate(path, "key"), `${where}: key`);
    assert.deepEqual(fast.source(path), slow.source(path), `${where}: source`);
  }
}

/**
 * Parses `text` with both; when the subset accepts it, asserts it agrees with `yaml`.
 * Returns whether it accepted.
 */
function compare(text: string): boolean {
  const subset = parseYamlSubset(text);
  if (!subset) return false;
  const full = parseFull(text);
  const context = `\n--- text ---\n${text}\n------------`;
  assert.deepEqual(full.errors.map((e) => e.code), [], `yaml errors${context}`);
  assert.deepEqual(full.warnings.map((e) => e.code), [], `yaml warnings${context}`);
  try {
    assert.deepStrictEqual(subset.data, full.toJS({ maxAliasCount: 100 }));
    assertSameNode(subset.root, full.contents as Node, "");
    assertSameLookups(text);
  } catch (error) {
    if (error instanceof Error) error.message += context;
    throw error;
  }
  return true;
}

/** Deterministic pseudo-random numbers (mulberry32), so failures can be replayed. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function repositoryYaml(): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  async function walk(dir: string): Promise<void> {
    for await (const entry of Deno.readDir(dir)) {
      if (entry.name === "node_modules" || entry.name.startsWith(".")) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory) await walk(path);
      else if (/\.ya?ml$/.test(entry.name)) files.set(path, await Deno.readTextFile(path));
    }
  }
  await walk(ROOT);
  return files;
}

Deno.test("the subset parser accepts every example config and agrees with yaml on them", async () => {
  const files = await repositoryYaml();
  assert.ok(files.size >= 20, `found ${files.size} YAML files`);
  let accepted = 0;
  for (const [path, text] of files) {
    if (compare(text)) accepted++;
    else if (path.includes("/fixtures/examples/")) {
      assert.fail(`${path} is a plain config; the subset parser should accept it`);
    }
  }
  assert.ok(accepted >= files.size / 2, `accepted ${accepted} of ${files.size}`);
});

Deno.test("the subset parser agrees with yaml on hand-picked cases or declines them", () => {
  const accepted = [
    'a: 1\nb:\nc: |\n  x\n  y\n\nd: [1, "x" , y]  # c\ne:\n  - f: g\n    h: i # j\n  - k\n',
    "a:   # c\nb: |-\n    x\n\n    y\n\n\nc: >\n  p\n  q\n\n  r\nd: >-\n  s\n  t\ne: []\nf: {}\n",
    "g:\n- x\n- y\nh: z\n",
    "---\nk: 'it''s'\nl: \"tab\\there \\u00e9 \\x41 \\\\ \\\"\"\n",
    "- a: 1\n  b:\n  - c\n- |\n  text\n- >-\n  folded\n  text",
    "url: http://example.com:8080/x#frag\nweird: a:b # comment\nkey with spaces: v\n",
    'n: [-1, 0.5, 12, true, ~, null, False, yes, no]\ns: "0x1F"\n',
    "  indented: root\n  second: 2\n",
    "k: |\n    # not a comment\n    line\n# a comment\nnext: 1\n",
  ];
  for (const text of accepted) assert.ok(compare(text), `declined:\n${text}`);
  const declined = [
    "", // empty: yaml reports it
    "a: &x 1\nb: *x\n", // anchors
    "a: !!str 1\n", // tags
    "a: b\na: c\n", // duplicate key
    "<<: {a: 1}\n", // merge key
    "a: multi\n  line\n", // multi-line plain scalar
    'a: "two\n  lines"\n', // multi-line quoted
    "a:\tb\n", // tab
    "a: b\r\n", // CRLF
    "a: {b: 1}\n", // flow map
    "a: [b, [c]]\n", // nested flow
    "a: 0x1F\n", // core-schema forms not resolved here
    "a: .inf\n",
    "a: 1e3\n",
    "1: a\n", // non-string key
    "a: b: c\n", // nested map in a value: an error in yaml
    "a: |+\n  keep\n\n", // keep chomping
    "a: |2\n   x\n", // indentation indicator
    "a: 1\n---\nb: 2\n", // two documents
    "just a scalar\n",
    "a:\n  b: 1\n c: 2\n", // bad indentation
  ];
  for (const text of declined) {
    assert.equal(parseYamlSubset(text), undefined, `accepted:\n${JSON.stringify(text)}`);
  }
});

Deno.test("positions are the ones yaml's LineCounter gives, at every offset", async () => {
  const text = "a: 1\n\n  b: |\n    x\nlast";
  const counter = new LineCounter();
  parseDocument(text, { lineCounter: counter });
  assert.deepEqual(lineStartsOf(text), counter.lineStarts);
  const source = await parseYaml(text, "p.yaml");
  for (let offset = 0; offset <= text.length; offset++) {
    assert.deepEqual(source.position(offset), counter.linePos(offset), `offset ${offset}`);
  }
});

Deno.test("a declined text is parsed by yaml, with its problems positioned", async () => {
  const text = "a: &x 1\nb: *x\na: 2\n";
  assert.equal(parseYamlSubset(text), undefined);
  const source = await parseYaml(text, "d.yaml");
  assert.deepEqual(source.data, { a: 2, b: 1 });
  assert.deepEqual(source.problems.map((p) => `${p.file}:${p.line}:${p.col}`), ["d.yaml:3:1"]);
  assert.match(source.problems[0].message, /^duplicate key 'a' \(first defined at line 1\)/);
  // An alias is followed to the node it names.
  assert.deepEqual(source.locate(["b"]), { line: 1, col: 7, exact: true });
});

// ── generated documents ────────────────────────────────────────────────────────────

const WORDS = [
  "name",
  "model",
  "a-b",
  "x_y",
  "dots.in.key",
  "http://h:1/p",
  "with space",
  "a#b",
  "a:b",
  "Yes",
  "nul",
];
const PLAIN_VALUES = [
  "gpt-4o",
  "12",
  "-3",
  "0",
  "-0",
  "0.25",
  "1.",
  ".5",
  "1e3",
  "0x1F",
  "0o17",
  ".inf",
  "-.Inf",
  ".nan",
  "null",
  "Null",
  "~",
  "True",
  "FALSE",
  "yes",
  "a: b",
  "x:",
  "a #c",
  "a#c",
  "-y",
  "- y",
  "@x",
  "`x`",
  "%x",
  "x]",
  "[x",
  "{x",
  "2024-01-01",
  "-",
  "?x",
  ":x",
  "a,b",
  "12345678901234567890",
  "+5",
  "1_000",
];
const SAFE_PLAIN_VALUES = [
  "gpt-4o",
  "12",
  "-3",
  "0.25",
  "null",
  "~",
  "True",
  "yes",
  "a#c",
  "-y",
  "x]",
];
const SAFE_QUOTED_VALUES = [
  '"plain"',
  '""',
  "''",
  '"a\\nb"',
  '"\\u00e9\\x41"',
  "'it''s'",
  '"a: b"',
];
/**
 * Half the generated documents keep to what the subset parser accepts (so deep accepted
 * documents are compared too); the other half mix in what it must decline.
 */
let clean = false;

const QUOTED_VALUES = [
  '"plain"',
  '""',
  "''",
  '"a\\nb"',
  '"\\u00e9\\x41"',
  '"\\U0001F600"',
  '"\\q"',
  '"\\ud800"',
  '"it\'s"',
  "'it''s'",
  "'a\"b'",
  '"a #b"',
  '"a: b"',
  '"unterminated',
  "'x' y",
  '"x"#c',
];

function pick<T>(rand: () => number, list: readonly T[]): T {
  return list[Math.floor(rand() * list.length)];
}

function generateDocument(rand: () => number): string {
  const lines: string[] = [];
  clean = rand() < 0.5;
  if (rand() < 0.1) lines.push("---");
  if (rand() < 0.2) lines.push("# a comment");
  generateMap(rand, lines, 0, 0, "");
  if (!clean && rand() < 0.05) lines.push("...");
  let text = lines.join("\n");
  if (rand() < 0.8) text += "\n";
  return text;
}

function generateKey(rand: () => number, used: string[]): string {
  const r = rand();
  if (clean) return `${pick(rand, WORDS)}${used.length}`;
  if (r < 0.05 && used.length > 0) return pick(rand, used); // a duplicate
  if (r < 0.1) return pick(rand, ['"quoted"', "'single'", "1", "true", "~", "<<", "__proto__"]);
  const key = `${pick(rand, WORDS)}${used.length}`;
  return r < 0.13 ? `${key} ` : key; // a space before the colon
}

function generateMap(
  rand: () => number,
  lines: string[],
  indent: number,
  depth: number,
  firstPrefix: string,
): void {
  const count = 1 + Math.floor(rand() * 4);
  const used: string[] = [];
  for (let i = 0; i < count; i++) {
    const pad = i === 0 && firstPrefix ? firstPrefix : " ".repeat(indent);
    const key = generateKey(rand, used);
    used.push(key);
    generateValue(rand, lines, `${pad}${key}:`, indent, depth);
    if (rand() < 0.1) lines.push(`${" ".repeat(Math.floor(rand() * 6))}# between`);
    if (rand() < 0.05) lines.push("");
  }
}

function generateSequence(
  rand: () => number,
  lines: string[],
  indent: number,
  depth: number,
): void {
  const count = 1 + Math.floor(rand() * 3);
  for (let i = 0; i < count; i++) {
    const pad = " ".repeat(indent);
    const r = rand();
    if (r < 0.35 && depth < 4) {
      const space = rand() < 0.8 ? " " : "   ";
      generateMap(rand, lines, indent + 1 + space.length, depth + 1, `${pad}-${space}`);
    } else if (r < 0.45 && depth < 4) {
      lines.push(`${pad}-`);
      generateMap(rand, lines, indent + 2, depth + 1, "");
    } else {
      generateValue(rand, lines, `${pad}-`, indent, depth);
    }
  }
}

function generateValue(
  rand: () => number,
  lines: string[],
  head: string,
  indent: number,
  depth: number,
): void {
  const r = rand();
  const comment = rand() < 0.15
    ? pick(rand, clean ? [" # note", "  #x"] : [" # note", "  #x", "#glued"])
    : "";
  const step = pick(rand, [2, 2, 2, 4, 1, 3]);
  if (r < 0.3) {
    lines.push(`${head} ${pick(rand, clean ? SAFE_PLAIN_VALUES : PLAIN_VALUES)}${comment}`);
  } else if (r < 0.42) {
    lines.push(`${head} ${pick(rand, clean ? SAFE_QUOTED_VALUES : QUOTED_VALUES)}${comment}`);
  } else if (r < 0.47) lines.push(`${head}${comment}`);
  else if (r < 0.58 && depth < 4) {
    lines.push(`${head}${comment}`);
    generateMap(rand, lines, indent + step, depth + 1, "");
  } else if (r < 0.68 && depth < 4) {
    lines.push(`${head}${comment}`);
    generateSequence(rand, lines, rand() < 0.3 ? indent : indent + step, depth + 1);
  } else if (r < 0.85) {
    const header = clean
      ? pick(rand, ["|", "|-", ">", ">-", "| # c", ">-  "])
      : pick(rand, ["|", "|-", ">", ">-", "|+", ">+", "|2", "| # c", ">-  "]);
    lines.push(`${head} ${header}`);
    const pad = " ".repeat(indent + step);
    const count = 1 + Math.floor(rand() * 4);
    for (let i = 0; i < count; i++) {
      const line = pick(rand, ["text", "more text", "# hash", "- dash", "key: v", "x  "]);
      const r2 = rand();
      if (r2 < 0.1 && (i > 0 || !clean)) lines.push("");
      else if (!clean && r2 < 0.15) lines.push(`${pad}  `);
      else if (!clean && r2 < 0.2) lines.push(`${pad}  ${line}`);
      else lines.push(`${pad}${line}`);
    }
  } else if (r < 0.95) {
    const items = pick(rand, [
      "[]",
      "[a, b]",
      '[ "x" , 1 , true ]',
      "[a,]",
      "[a, [b]]",
      "[a: b]",
      "[-1]",
      "{}",
      "{ }",
      "{a: 1}",
      "[a #c]",
      "[a",
      "['q', \"r\"]",
      "[http://x]",
    ]);
    lines.push(`${head} ${items}${comment}`);
  } else if (clean) {
    lines.push(`${head} ${pick(rand, SAFE_PLAIN_VALUES)}`);
  } else {
    lines.push(`${head} ${pick(rand, ["&a x", "*a", "!!str 1", "? x", "%x"])}`);
  }
}

const EDIT_CHARACTERS = [
  " ",
  "  ",
  ":",
  "-",
  "#",
  "'",
  '"',
  "|",
  ">",
  "[",
  "]",
  ",",
  "\n",
  "a",
  "1",
];

/** `text` with one random character inserted, deleted or replaced. */
function mutate(rand: () => number, text: string): string {
  const at = Math.floor(rand() * (text.length + 1));
  const r = rand();
  if (r < 0.33) return text.slice(0, at) + pick(rand, EDIT_CHARACTERS) + text.slice(at);
  if (r < 0.66) return text.slice(0, at) + text.slice(at + 1);
  return text.slice(0, at) + pick(rand, EDIT_CHARACTERS) + text.slice(at + 1);
}

Deno.test("generated documents: the subset parser agrees with yaml or declines", () => {
  const rand = random(20261127);
  let accepted = 0;
  const total = 4000;
  for (let i = 0; i < total; i++) if (compare(generateDocument(rand))) accepted++;
  // Enough of both: the comparison covers accepted documents, not just declines.
  assert.ok(accepted > total * 0.1 && accepted < total * 0.9, `accepted ${accepted} of ${total}`);
});

Deno.test("edited documents: the subset parser agrees with yaml or declines", async () => {
  const rand = random(7);
  const seeds = [...(await repositoryYaml()).values()].filter((text) => text.length < 6000);
  for (let i = 0; i < 400; i++) seeds.push(generateDocument(rand));
  let accepted = 0;
  let total = 0;
  for (const seed of seeds) {
    for (let n = 0; n < 12; n++) {
      let text = seed;
      const edits = 1 + Math.floor(rand() * 3);
      for (let e = 0; e < edits; e++) text = mutate(rand, text);
      total++;
      if (compare(text)) accepted++;
    }
  }
  assert.ok(accepted > total * 0.1, `accepted ${accepted} of ${total}`);
});
