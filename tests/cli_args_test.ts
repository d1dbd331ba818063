/**
 * lib/cli/args.ts: the flag forms every command accepts, and the errors for the wrong ones
 * (each a UsageError that says what to type instead).
 */
import assert from "node:assert/strict";
import { type FlagSpecs, parseFlags } from "../lib/cli/args.ts";
import { UsageError } from "../lib/errors.ts";

const SPECS: FlagSpecs = {
  yes: { type: "boolean", short: "y", description: "assume yes" },
  verbose: { type: "boolean", short: "v", description: "more output" },
  output: { type: "string", short: "o", description: "where", placeholder: "FILE" },
  header: { type: "string", multiple: true, description: "a header" },
};

const parse = (...args: string[]) => parseFlags("demo", args, SPECS);

function usageError(args: string[]): UsageError {
  try {
    parse(...args);
  } catch (error) {
    assert.ok(error instanceof UsageError, `a UsageError for ${args.join(" ")}`);
    return error;
  }
  assert.fail(`no error for ${args.join(" ")}`);
}

Deno.test("args: long, short, inline and separate values, positionals in any order", () => {
  assert.deepEqual(parse("a.yaml", "--yes", "--output", "out.txt", "b"), {
    values: { yes: true, output: "out.txt" },
    positionals: ["a.yaml", "b"],
  });
  assert.deepEqual(parse("--output=x=y", "-y").values, { output: "x=y", yes: true });
  assert.deepEqual(parse("-o", "f").values, { output: "f" });
  assert.deepEqual(parse("-of").values, { output: "f" });
  assert.deepEqual(parse("--output=").values, { output: "" });
  assert.deepEqual(parse("-h").values, { help: true });
  assert.deepEqual(parse("--help").values, { help: true });
});

Deno.test("args: grouped short booleans, a string flag ending the group", () => {
  assert.deepEqual(parse("-yv").values, { yes: true, verbose: true });
  assert.deepEqual(parse("-yvo", "file").values, { yes: true, verbose: true, output: "file" });
  assert.deepEqual(parse("-yofile").values, { yes: true, output: "file" });
});

Deno.test("args: `multiple` collects every occurrence; otherwise the last one wins", () => {
  assert.deepEqual(parse("--header", "a: 1", "--header=b: 2").values, {
    header: ["a: 1", "b: 2"],
  });
  assert.deepEqual(parse("-o", "first", "--output", "second").values, { output: "second" });
});

Deno.test("args: `--` ends the flags and a lone `-` is a positional or a value", () => {
  assert.deepEqual(parse("--", "--yes", "-o"), { values: {}, positionals: ["--yes", "-o"] });
  assert.deepEqual(parse("-"), { values: {}, positionals: ["-"] });
  assert.deepEqual(parse("--output", "-").values, { output: "-" });
  assert.deepEqual(parse("--output=-x").values, { output: "-x" });
});

Deno.test("args: unknown flags name the nearest known one", () => {
  const long = usageError(["--verbos"]);
  assert.equal(long.message, "demo: unknown flag --verbos");
  assert.match(long.hint ?? "", /did you mean --verbose\?/);
  const inline = usageError(["--outptu=x"]);
  assert.equal(inline.message, "demo: unknown flag --outptu");
  assert.match(inline.hint ?? "", /did you mean --output\?/);
  const short = usageError(["-q"]);
  assert.equal(short.message, "demo: unknown flag -q");
  assert.match(short.hint ?? "", /dagent demo --help/);
  // Object.prototype keys are not flags.
  assert.equal(usageError(["--constructor"]).message, "demo: unknown flag --constructor");
});

Deno.test("args: a string flag without a value, a boolean with one", () => {
  assert.equal(usageError(["--output"]).message, "demo: --output needs a value");
  assert.equal(usageError(["-o"]).message, "demo: -o needs a value");
  const flagLike = usageError(["--output", "--yes"]);
  assert.match(flagLike.message, /--output needs a value, and '--yes' looks like a flag/);
  assert.match(flagLike.hint ?? "", /--output=--yes/);
  assert.equal(usageError(["--yes=no"]).message, "demo: --yes takes no value");
});
