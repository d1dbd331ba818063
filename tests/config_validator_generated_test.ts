/**
 * lib/config/schema_validator.generated.js, the config schema compiled ahead of time:
 * it is up to date with schema/agent-schema.json, it imports nothing (so `dagent validate`
 * loads no ajv at start-up), and it reports exactly the errors ajv reports when it compiles
 * the schema at run time with the same options.
 */
import assert from "node:assert/strict";
import { Ajv, type ErrorObject } from "ajv";
import { parse } from "../lib/config/yaml_bundle.generated.js";
import schema from "../schema/agent-schema.json" with { type: "json" };
import {
  compileEagerly,
  GENERATED_MODULE,
  generateValidatorSource,
} from "../schema/generate_validator.ts";
import { validate as generated } from "../lib/config/schema_validator.generated.js";

type Validate = ((data: unknown) => boolean) & { errors?: ErrorObject[] | null };
const precompiled = generated as unknown as Validate;

/** ajv compiling the schema now, as lib/config/validate.ts did before the precompiled module. */
function compileAtRunTime(): Validate {
  const ajv = new Ajv({ allErrors: true, verbose: true, strict: true });
  ajv.addFormat("uri", (value: string) => {
    if (!/^[a-z][a-z0-9+.-]*:/i.test(value)) return false;
    try {
      new URL(value);
      return true;
    } catch {
      return false;
    }
  });
  return ajv.compile(schema);
}

/** Every YAML config the tests and the docs use, parsed as the loader does (merge keys on). */
async function corpus(): Promise<[string, unknown][]> {
  const out: [string, unknown][] = [];
  for (const dir of ["tests/configs/good", "tests/configs/bad", "fixtures/examples"]) {
    for await (const entry of Deno.readDir(new URL(`../${dir}/`, import.meta.url))) {
      if (!entry.name.endsWith(".yaml")) continue;
      const text = await Deno.readTextFile(new URL(`../${dir}/${entry.name}`, import.meta.url));
      out.push([`${dir}/${entry.name}`, parse(text, { merge: true, uniqueKeys: false })]);
    }
  }
  return out;
}

/** Hand-written values for keywords the corpus may not reach (formats, lengths, uniqueness). */
const EDGE_CASES: [string, unknown][] = [
  ["not a map", "agents"],
  ["null", null],
  ["a list", [1, 2]],
  ["empty map", {}],
  ["no root, empty agents", { agents: {} }],
  ["bad uri", {
    agents: {
      root: { model: "openai/gpt-4o", toolsets: [{ type: "mcp", remote: { url: "nope" } }] },
    },
  }],
  ["uri without scheme", {
    agents: {
      root: { model: "a/b", toolsets: [{ type: "mcp", remote: { url: "//example.com/mcp" } }] },
    },
  }],
  ["good uri", {
    agents: {
      root: { model: "a/b", toolsets: [{ type: "mcp", remote: { url: "https://e.example/mcp" } }] },
    },
  }],
  ["empty strings and an astral character", {
    agents: { root: { model: "", instruction: "\u{1F600}", description: "" } },
  }],
  ["repeated scopes and bad ones", {
    agents: {
      root: {
        model: "a/b",
        toolsets: [{
          type: "mcp",
          remote: { url: "https://e.example/mcp", oauth: { scopes: ["a", "a", "b c", 3] } },
        }],
      },
    },
  }],
  ["numbers out of range", {
    agents: { root: { model: "m", max_iterations: -1 } },
    models: { m: { provider: "openai", model: "x", temperature: 9, max_tokens: 0 } },
  }],
];

Deno.test("the committed schema validator is up to date with schema/agent-schema.json", async () => {
  const committed = await Deno.readTextFile(GENERATED_MODULE);
  const fresh = await generateValidatorSource();
  assert.ok(
    committed === fresh,
    "lib/config/schema_validator.generated.js is out of date: run `deno task schema:generate`",
  );
});

Deno.test("the precompiled validator imports nothing (no ajv at start-up)", async () => {
  const source = await Deno.readTextFile(GENERATED_MODULE);
  assert.doesNotMatch(source, /^\s*import\b|\bimport\s*\(|\brequire\s*\(/m);
  assert.match(source, /^export const validate = /m);
});

Deno.test("the precompiled validator's functions are compiled with the module (PIFE)", async () => {
  const source = await Deno.readTextFile(GENERATED_MODULE);
  // Function declarations would be compiled lazily, on the first validation.
  assert.doesNotMatch(source, /^function /m);
  const wrapped = [...source.matchAll(/^const (validate\d+) = \(function \1\(/gm)];
  assert.ok(wrapped.length >= 1, "no validator function in parentheses");
  assert.equal(source.match(/^\}\);$/gm)?.length, wrapped.length);
  // A syntax check of the transformation on its own: a declaration becomes a PIFE.
  assert.equal(
    compileEagerly(
      "function validate1(a) {\n  return a;\n}\nexport const validate = validate1;\nexport default validate1;\n",
    ),
    "// deno-fmt-ignore\nconst validate1 = (function validate1(a) {\n  return a;\n});\nexport const validate = validate1;\nexport default validate1;\n",
  );
});

Deno.test("the precompiled validator reports the same errors as ajv compiling at run time", async () => {
  const runtime = compileAtRunTime();
  const cases = [...await corpus(), ...EDGE_CASES];
  assert.ok(cases.length > 30, `only ${cases.length} configs found`);
  let invalid = 0;
  for (const [name, data] of cases) {
    const expectedValid = runtime(data);
    const expectedErrors = runtime.errors ?? null;
    const actualValid = precompiled(data);
    assert.equal(actualValid, expectedValid, `${name}: valid?`);
    assert.deepEqual(precompiled.errors ?? null, expectedErrors, `${name}: errors`);
    if (!actualValid) invalid++;
  }
  // The comparison means something only if both kinds of input were seen.
  assert.ok(invalid >= 15 && invalid < cases.length, `${invalid} of ${cases.length} invalid`);
});

Deno.test("the precompiled validator keeps verbose error objects (data, parentSchema)", () => {
  const data = { agents: { root: { model: "a/b", modle: "x" } } };
  assert.equal(precompiled(data), false);
  const error = precompiled.errors?.find((e) => e.keyword === "additionalProperties");
  assert.ok(error, "an additionalProperties error");
  assert.equal(error.instancePath, "/agents/root");
  assert.deepEqual(error.params, { additionalProperty: "modle" });
  assert.deepEqual(error.data, data.agents.root);
  const properties = (error.parentSchema as { properties?: Record<string, unknown> }).properties;
  assert.ok(properties && "model" in properties, "parentSchema lists the allowed keys");
});

Deno.test("the uri format accepts absolute URLs only", () => {
  const check = (url: string) =>
    precompiled({
      agents: { root: { model: "a/b", toolsets: [{ type: "mcp", remote: { url } }] } },
    });
  assert.equal(check("https://mcp.example.com/mcp"), true);
  assert.equal(check("http://127.0.0.1:8080/mcp"), true);
  assert.equal(check("mcp.example.com/mcp"), false);
  assert.equal(check("//mcp.example.com"), false);
  assert.equal(check("https://"), false);
});
