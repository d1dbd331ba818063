/**
 * lib/config/yaml_bundle.generated.js, the `yaml` package's ES-module build in one file:
 * it is the version deno.json pins, it is what `deno bundle` makes of that version now,
 * it loads no CommonJS and no `node:` module, and it parses exactly as `npm:yaml` does.
 */
import assert from "node:assert/strict";
import * as npmYaml from "yaml";
import * as bundled from "../lib/config/yaml.ts";
import {
  generateYamlBundleSource,
  parseBundleHeader,
  pinnedYamlVersion,
  YAML_BUNDLE,
} from "../lib/config/yaml_bundle_generator.ts";

const committed = await Deno.readTextFile(YAML_BUNDLE);
const header = parseBundleHeader(committed);

Deno.test("the yaml bundle is built from the version deno.json pins", () => {
  assert.ok(header, "the bundle starts with its GENERATED header");
  assert.equal(
    header.yaml,
    pinnedYamlVersion(),
    "lib/config/yaml_bundle.generated.js is out of date: run `deno task yaml:bundle`",
  );
});

Deno.test({
  name: "the committed yaml bundle is what `deno bundle` makes of that version now",
  // esbuild's output may change between Deno releases; compare with the Deno that made it.
  ignore: header?.deno !== Deno.version.deno,
  fn: async () => {
    const fresh = await generateYamlBundleSource();
    assert.ok(
      committed === fresh,
      "lib/config/yaml_bundle.generated.js is out of date: run `deno task yaml:bundle`",
    );
  },
});

Deno.test("the yaml bundle is plain ES modules: no require, no node: imports, no imports at all", () => {
  assert.doesNotMatch(committed, /\brequire\s*\(/);
  assert.doesNotMatch(committed, /^\s*import\b|\bimport\s*\(/m);
  assert.match(committed, /^export \{/m);
});

Deno.test("the yaml bundle parses as npm:yaml does: values, positions, errors, merge keys", () => {
  const texts = [
    "a: 1\nb: [x, {y: z}]\nc: |\n  block\n  text\n",
    "base: &b {k: v}\nderived:\n  <<: *b\n  k2: v2\n",
    "key: value\nkey: again\n",
    "a: [unclosed\n",
    "\uFEFF# comment\n- 'single'\n- \"double\\n\"\n- 0x1F\n- 2026-11-27\n",
  ];
  for (const text of texts) {
    const options = { merge: true, uniqueKeys: false, keepSourceTokens: true } as const;
    const ours = bundled.parseDocument(text, options);
    const theirs = npmYaml.parseDocument(text, options);
    assert.deepEqual(ours.toJS(), theirs.toJS(), text);
    assert.deepEqual(ours.contents?.range, theirs.contents?.range, text);
    assert.deepEqual(
      ours.errors.map((e) => [e.code, e.pos, e.message]),
      theirs.errors.map((e) => [e.code, e.pos, e.message]),
      text,
    );
  }
  // The node type guards recognise the bundle's own nodes.
  const doc = bundled.parseDocument("a: [1]\n");
  assert.ok(bundled.isMap(doc.contents));
  const pair = doc.contents.items[0];
  assert.ok(bundled.isScalar(pair.key) && bundled.isSeq(pair.value));
});
