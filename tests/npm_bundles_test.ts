/**
 * The one-file bundles of npm code (lib/npm_bundles.ts): each is what `deno bundle` makes of
 * the versions deno.json pins, typed by the packages' own declarations, free of CommonJS
 * loaders and imports; and each behaves as the npm package does.
 */
import assert from "node:assert/strict";
import * as npmYaml from "yaml";
import * as npmTypes from "@modelcontextprotocol/sdk/types.js";
import * as yamlBundle from "../lib/config/yaml_bundle.generated.js";
import * as sdkBundle from "../lib/mcp/sdk_bundle.generated.js";
import {
  BUNDLES,
  generateBundleSource,
  generateTypesSource,
  parseBundleHeader,
  pinnedVersion,
  typesPath,
} from "../lib/npm_bundles.ts";

const ROOT = new URL("../", import.meta.url);

for (const spec of BUNDLES) {
  const committed = await Deno.readTextFile(new URL(spec.output, ROOT));
  const header = parseBundleHeader(committed);

  Deno.test(`${spec.output}: built from the versions deno.json pins`, () => {
    assert.ok(header, "the bundle has its GENERATED line");
    assert.deepEqual(
      header.packages,
      spec.packages.map((name) => `${name}@${pinnedVersion(name)}`),
      `${spec.output} is out of date: run \`deno task bundles\``,
    );
  });

  Deno.test({
    name: `${spec.output}: what \`deno bundle\` makes of those versions now`,
    // esbuild's output may change between Deno releases: compare with the Deno that made it.
    ignore: header?.deno !== Deno.version.deno,
    fn: async () => {
      const fresh = await generateBundleSource(spec);
      assert.ok(committed === fresh, `${spec.output} is out of date: run \`deno task bundles\``);
      const types = await Deno.readTextFile(new URL(typesPath(spec), ROOT));
      assert.equal(types, generateTypesSource(spec), `${typesPath(spec)} is out of date`);
    },
  });

  Deno.test(`${spec.output}: ES module only, typed through its .d.ts`, () => {
    assert.match(committed, /^\/\/ @ts-self-types="\.\/[\w.]+\.d\.ts"\n/);
    // No import of anything (npm, node: or a file) and no CommonJS loader of Deno's.
    assert.doesNotMatch(committed, /^\s*import\b|\bimport\s*\(/m);
    assert.doesNotMatch(committed, /\b__require\s*\(\s*["']/);
    assert.match(committed, /^export \{/m);
    // Every package it holds is named with its licence.
    for (const name of spec.packages) {
      assert.match(committed, new RegExp(`^// ── ${name.replace("/", "\\/")}@`, "m"));
    }
  });
}

Deno.test("yaml bundle: parses as npm:yaml does — values, positions, errors, merge keys", () => {
  const texts = [
    "a: 1\nb: [x, {y: z}]\nc: |\n  block\n  text\n",
    "base: &b {k: v}\nderived:\n  <<: *b\n  k2: v2\n",
    "key: value\nkey: again\n",
    "a: [unclosed\n",
    "\uFEFF# comment\n- 'single'\n- \"double\\n\"\n- 0x1F\n- 2026-11-27\n",
  ];
  for (const text of texts) {
    const options = { merge: true, uniqueKeys: false, keepSourceTokens: true } as const;
    const ours = yamlBundle.parseDocument(text, options);
    const theirs = npmYaml.parseDocument(text, options);
    assert.deepEqual(ours.toJS(), theirs.toJS(), text);
    assert.deepEqual(ours.contents?.range, theirs.contents?.range, text);
    assert.deepEqual(
      ours.errors.map((e) => [e.code, e.pos, e.message]),
      theirs.errors.map((e) => [e.code, e.pos, e.message]),
      text,
    );
  }
  const doc = yamlBundle.parseDocument("a: [1]\n");
  assert.ok(yamlBundle.isMap(doc.contents));
  const pair = doc.contents.items[0];
  assert.ok(yamlBundle.isScalar(pair.key) && yamlBundle.isSeq(pair.value));
});

Deno.test("sdk bundle: the protocol constants and schemas are the SDK's", () => {
  assert.equal(sdkBundle.LATEST_PROTOCOL_VERSION, npmTypes.LATEST_PROTOCOL_VERSION);
  assert.deepEqual({ ...sdkBundle.ErrorCode }, { ...npmTypes.ErrorCode });
  const elicit = {
    method: "elicitation/create",
    params: { message: "m", requestedSchema: { type: "object", properties: {} } },
  };
  assert.deepEqual(
    sdkBundle.ElicitRequestSchema.parse(elicit),
    npmTypes.ElicitRequestSchema.parse(elicit),
  );
  assert.equal(sdkBundle.ElicitRequestSchema.safeParse({ method: "x" }).success, false);
  const error = new sdkBundle.McpError(sdkBundle.ErrorCode.RequestTimeout, "late");
  assert.equal(error.code, npmTypes.ErrorCode.RequestTimeout);
  assert.match(error.message, /late/);
});
