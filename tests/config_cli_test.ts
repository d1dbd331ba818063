/**
 * `dagent validate` and `dagent schema` as a user runs them: a subprocess of
 * `deno run --allow-all main.ts`, checked on stdout, stderr and exit code.
 */
import assert from "node:assert/strict";
import { type CliRun, runDagent } from "./helpers/cli.ts";

const REPO = new URL("../", import.meta.url).pathname;

function dagent(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  return runDagent(args, { env, cwd: REPO });
}

/** No stack trace nor internal-error report may reach the user. */
function assertNoStackTrace(run: CliRun): void {
  const all = run.stdout + run.stderr;
  assert.doesNotMatch(all, /^\s+at .+:\d+:\d+\)?$/m, all);
  assert.doesNotMatch(all, /internal error|Uncaught/, all);
}

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "dagent-cli-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("validate: a good config prints FILE: ok and exits 0", async () => {
  const run = await dagent(["validate", "tests/configs/good/minimal.yaml"]);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, "tests/configs/good/minimal.yaml: ok\n");
  assert.equal(run.stderr, "");
});

Deno.test("validate: every problem as FILE:LINE:COL: message with hints, exit 2", async () => {
  const file = "tests/configs/bad/unknown_keys.yaml";
  const run = await dagent(["validate", file]);
  assert.equal(run.code, 2);
  assert.deepEqual(run.stdout.split("\n").filter((l) => !l.startsWith("  hint: ") && l), [
    `${file}:1:1: unknown top-level key 'verison'`,
    `${file}:5:5: unknown key 'instructions' in agents.root`,
    `${file}:11:13: unknown key 'clientID' in agents.root.toolsets[0].remote.oauth`,
    `${file}:12:13: unknown key 'callback_port' in agents.root.toolsets[0].remote.oauth`,
    `${file}:13:13: unknown key 'frobnicate' in agents.root.toolsets[0].remote.oauth`,
  ]);
  assert.match(
    run.stdout,
    /:1:1: unknown top-level key 'verison'\n {2}hint: did you mean 'version'\?/,
  );
  assert.equal(run.stderr, "dagent: 5 problems in 1 file\n");
  assertNoStackTrace(run);
});

Deno.test("validate: several files, each reported; exit 2 if any has a problem", async () => {
  const run = await dagent([
    "validate",
    "tests/configs/good/minimal.yaml",
    "tests/configs/bad/cycle.yaml",
  ]);
  assert.equal(run.code, 2);
  assert.match(run.stdout, /^tests\/configs\/good\/minimal\.yaml: ok$/m);
  assert.match(run.stdout, /^tests\/configs\/bad\/cycle\.yaml:10:18: sub-agents form a cycle/m);
});

Deno.test("validate --json: a machine-readable report with positions", async () => {
  const run = await dagent([
    "validate",
    "--json",
    "tests/configs/good/minimal.yaml",
    "tests/configs/bad/secret_without_id.yaml",
  ]);
  assert.equal(run.code, 2);
  const report = JSON.parse(run.stdout);
  assert.equal(report.ok, false);
  assert.deepEqual(report.files[0], {
    file: "tests/configs/good/minimal.yaml",
    ok: true,
    problems: [],
  });
  assert.equal(report.files[1].ok, false);
  assert.deepEqual(report.files[1].problems, [{
    file: "tests/configs/bad/secret_without_id.yaml",
    line: 9,
    col: 13,
    message: "agents.root.toolsets[0].remote.oauth.clientSecret needs clientId",
    hint: "add the client id that goes with this secret",
    path: "agents.root.toolsets[0].remote.oauth.clientSecret",
  }]);
});

Deno.test("validate: file-level errors (missing, directory, non-UTF-8, huge, empty)", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeFile(`${dir}/latin1.yaml`, new Uint8Array([0x61, 0x3a, 0x20, 0xff, 0x0a]));
    await Deno.writeTextFile(`${dir}/empty.yaml`, "# nothing\n");
    await Deno.writeTextFile(`${dir}/huge.yaml`, "");
    await Deno.truncate(`${dir}/huge.yaml`, 5 * 1024 * 1024);
    const run = await dagent([
      "validate",
      `${dir}/missing.yaml`,
      dir,
      `${dir}/latin1.yaml`,
      `${dir}/huge.yaml`,
      `${dir}/empty.yaml`,
    ]);
    assert.equal(run.code, 2);
    const heads = run.stdout.split("\n").filter((l) => l && !l.startsWith("  hint: "));
    assert.deepEqual(heads, [
      `${dir}/missing.yaml:1:1: no such file`,
      `${dir}:1:1: this is a directory, not a config file`,
      `${dir}/latin1.yaml:1:4: the file is not valid UTF-8 (byte 0xFF at offset 3)`,
      `${dir}/huge.yaml:1:1: the file is too large (5.0 MiB; the limit is 4 MiB)`,
      `${dir}/empty.yaml:1:1: the file is empty`,
    ]);
    assertNoStackTrace(run);
  });
});

Deno.test("validate: a YAML syntax error is positioned, never a stack trace", async () => {
  await withTempDir(async (dir) => {
    const file = `${dir}/broken.yaml`;
    await Deno.writeTextFile(file, "agents:\n  root:\n    model: [openai/gpt-4o\n");
    const run = await dagent(["validate", file]);
    assert.equal(run.code, 2);
    assert.match(run.stdout, new RegExp(`^${file}:4:1: invalid YAML: `, "m"));
    assertNoStackTrace(run);
  });
});

Deno.test("validate: ${VAR} references are resolved from the environment", async () => {
  const file = "fixtures/examples/remote_oauth.yaml";
  const missing = await dagent(["validate", file]);
  assert.equal(missing.code, 2);
  assert.match(
    missing.stdout,
    /remote_oauth\.yaml:\d+:\d+: .*environment variable SLACK_CLIENT_SECRET is not set/,
  );
  const set = await dagent(["validate", file], { SLACK_CLIENT_SECRET: "from-env" });
  assert.equal(set.code, 0, set.stdout);
  assert.equal(set.stdout, `${file}: ok\n`);
});

Deno.test("validate: usage errors exit 2 with a one-line message and hint", async () => {
  const none = await dagent(["validate"]);
  assert.equal(none.code, 2);
  assert.equal(
    none.stderr,
    "dagent: validate: missing argument\nhint: usage: dagent validate FILE... [--json]\n",
  );
  const flag = await dagent(["validate", "--jsn", "x.yaml"]);
  assert.equal(flag.code, 2);
  assert.match(flag.stderr, /unknown flag --jsn\nhint: did you mean --json\?/);
  assertNoStackTrace(flag);
});

Deno.test("validate --help and schema --help", async () => {
  const validate = await dagent(["validate", "--help"]);
  assert.equal(validate.code, 0);
  assert.match(validate.stdout, /^Usage: dagent validate FILE\.\.\. \[--json\]/);
  assert.match(validate.stdout, /--json/);
  const schema = await dagent(["schema", "--help"]);
  assert.equal(schema.code, 0);
  assert.match(schema.stdout, /^Usage: dagent schema\n/);
});

Deno.test("schema prints the JSON Schema file's content, exit 0", async () => {
  const run = await dagent(["schema"]);
  assert.equal(run.code, 0, run.stderr);
  const printed = JSON.parse(run.stdout);
  const file = JSON.parse(await Deno.readTextFile(`${REPO}schema/agent-schema.json`));
  assert.deepEqual(printed, file);
  const extra = await dagent(["schema", "extra"]);
  assert.equal(extra.code, 2);
  assert.match(extra.stderr, /unexpected argument 'extra'/);
});
