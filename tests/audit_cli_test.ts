import assert from "node:assert/strict";
import { type CliRun, runDagent } from "./helpers/cli.ts";
import { joinLines, otherKey, writeLog, type WrittenLog } from "./audit_helpers.ts";

/** Runs `dagent ...args` as a user would, with DAGENT_HOME set. */
function dagent(args: string[], home: string): Promise<CliRun> {
  return runDagent(args, { env: { DAGENT_HOME: home, TZ: "UTC" } });
}

async function withLog(fn: (log: WrittenLog) => Promise<void>): Promise<void> {
  const log = await writeLog(3);
  try {
    await fn(log);
  } finally {
    await Deno.remove(log.dir, { recursive: true });
  }
}

Deno.test("cli: audit verify on an intact log prints FILE: ok and exits 0", async () => {
  await withLog(async (log) => {
    const result = await dagent(["audit", "verify", log.path], log.dir);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, new RegExp(`^${escape(log.path)}: ok \\(5 records, 1 session,`));
  });
});

Deno.test("cli: audit verify on an edited log prints FILE:LINE: and exits 1", async () => {
  await withLog(async (log) => {
    const lines = [...log.lines];
    lines[2] = lines[2].replace('"tool":"tool_1"', '"tool":"tool_X"');
    assert.notEqual(lines[2], log.lines[2]);
    await Deno.writeTextFile(log.path, joinLines(lines));
    const result = await dagent(["audit", "verify", log.path], log.dir);
    assert.equal(result.code, 1);
    assert.match(result.stdout, new RegExp(`^${escape(log.path)}:3: signature does not verify`));
  });
});

Deno.test("cli: --json, --key (value and file), and a wrong --key", async () => {
  await withLog(async (log) => {
    const json = await dagent(["audit", "verify", log.path, "--json"], log.dir);
    assert.equal(json.code, 0, json.stderr);
    const report = JSON.parse(json.stdout);
    assert.equal(report.ok, true);
    assert.deepEqual(report.publicKeys, [log.publicKey]);

    const byValue = await dagent(["audit", "verify", log.path, "--key", log.publicKey], log.dir);
    assert.equal(byValue.code, 0, byValue.stdout + byValue.stderr);
    const keyFile = `${log.dir}/trusted.pub`;
    await Deno.writeTextFile(keyFile, log.publicKey + "\n");
    const byFile = await dagent(["audit", "verify", log.path, "--key", keyFile], log.dir);
    assert.equal(byFile.code, 0, byFile.stdout + byFile.stderr);

    const wrong = await dagent(
      ["audit", "verify", log.path, "--key", (await otherKey()).publicKey, "--json"],
      log.dir,
    );
    assert.equal(wrong.code, 1);
    assert.deepEqual(JSON.parse(wrong.stdout).finding.kind, "key");
  });
});

Deno.test("cli: a log without session_end exits 1 unless --allow-open", async () => {
  await withLog(async (log) => {
    await Deno.writeTextFile(log.path, joinLines(log.lines.slice(0, -1)));
    const cut = await dagent(["audit", "verify", log.path], log.dir);
    assert.equal(cut.code, 1);
    assert.match(cut.stdout, /:4: truncated: no session_end/);
    const open = await dagent(["audit", "verify", log.path, "--allow-open"], log.dir);
    assert.equal(open.code, 0, open.stdout);
    assert.match(open.stdout, /last session still open/);
  });
});

Deno.test("cli: usage errors exit 2 with a hint (missing file, bad key, unknown subcommand)", async () => {
  const home = await Deno.makeTempDir();
  try {
    const missing = await dagent(["audit", "verify", `${home}/nope.jsonl`], home);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /No audit log at .*nope\.jsonl/);
    assert.match(missing.stderr, /hint: Check the path\. Session logs are kept in /);
    const badKey = await dagent(["audit", "verify", `${home}/x`, "--key", "zzz"], home);
    assert.equal(badKey.code, 2);
    const unknown = await dagent(["audit", "verfy", "x"], home);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /did you mean 'dagent audit verify'/);
    const noFile = await dagent(["audit", "verify"], home);
    assert.equal(noFile.code, 2);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("cli: audit show prints a timeline; --json the records; audit key the key", async () => {
  await withLog(async (log) => {
    const shown = await dagent(["audit", "show", log.path, "--utc"], log.dir);
    assert.equal(shown.code, 0, shown.stderr);
    const lines = shown.stdout.trimEnd().split("\n");
    assert.equal(lines.length, 5);
    assert.match(lines[0], /^\d\d:\d\d:\d\d {2}session_start {2}session s1 key /);
    assert.match(
      lines[1],
      /^\d\d:\d\d:\d\d {2}tool_call {6}root → fs\.tool_0 \{sha256:[0-9a-f]{8}…\} auto$/,
    );
    assert.match(lines[4], /session_end {4}ok, 5 records$/);
    assert.equal(shown.stderr, "");

    const json = await dagent(["audit", "show", log.path, "--json"], log.dir);
    const records = JSON.parse(json.stdout);
    assert.equal(records.length, 5);
    assert.equal(records[1].tool, "tool_0");

    const key = await dagent(["audit", "key"], log.dir);
    assert.equal(key.code, 0, key.stderr);
    assert.equal(key.stdout.trim(), log.publicKey);

    // show warns on stderr when what it shows does not verify.
    await Deno.writeTextFile(log.path, joinLines(log.lines.filter((_, i) => i !== 2)));
    const warned = await dagent(["audit", "show", log.path], log.dir);
    assert.equal(warned.code, 0);
    assert.match(warned.stderr, /^warning: .*:3: 1 record\(s\) deleted/);
  });
});

Deno.test("cli: dagent --help lists the audit command", async () => {
  const home = await Deno.makeTempDir();
  try {
    const help = await dagent(["--help"], home);
    assert.match(help.stdout, /audit\s+Verify or show a tamper-evident audit log/);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
