/**
 * The end-to-end agent run under narrowed Deno permissions (issue 7): the demo agent signs
 * in to the OAuth fixture "no-dcr-path-issuer" over the HTTPS loopback callback, calls the
 * server's tool and answers from the committed recording — run as `deno run FLAGS main.ts
 * exec …` with exactly the flags `dagent permissions --discover --format flags` prints, and
 * again with the compile task's default set. A second run must reuse the stored token.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { startOAuthScenario } from "../fixtures/oauth/mod.ts";
import { DEMO_AGENT_CONFIG, DEMO_QUESTION, DEMO_RECORDING } from "../fixtures/demo_agent.ts";

const MAIN = fileURLToPath(new URL("../main.ts", import.meta.url));
const PROGRAM_DIR = fileURLToPath(new URL("..", import.meta.url)).replace(/\/$/, "");
const BROWSER_CLI = fileURLToPath(new URL("../fixtures/oauth/browser_cli.ts", import.meta.url));
/** A run that hangs (e.g. a sign-in waiting on a browser that never started) is killed. */
const RUN_DEADLINE_MS = 60_000;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function deno(args: string[], env: Record<string, string>): Promise<Run> {
  const output = await new Deno.Command(Deno.execPath(), {
    args,
    env,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(RUN_DEADLINE_MS),
  }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: output.code, stdout: decode(output.stdout), stderr: decode(output.stderr) };
}

/** The final answer of a recording: the text of its last exchange. */
async function recordedAnswer(path: string): Promise<string> {
  const lines = (await Deno.readTextFile(path)).trim().split("\n");
  const last = JSON.parse(lines.at(-1)!) as { events: { type: string; delta?: string }[] };
  const answer = last.events.filter((e) => e.type === "text").map((e) => e.delta).join("");
  assert.ok(answer.length > 0, "the recording ends with a text answer");
  return answer;
}

interface Demo {
  scenario: ReturnType<typeof startOAuthScenario>;
  dir: string;
  config: string;
  recording: string;
  home: string;
  env: Record<string, string>;
}

/**
 * Starts the OAuth fixture and writes the demo agent's config and a copy of the recording
 * to a temporary directory (the copy lies outside dagent's program directory, so read
 * access to it must come from `dagent permissions --replay`).
 */
async function withDemo(body: (demo: Demo) => Promise<void>): Promise<void> {
  const scenario = startOAuthScenario("no-dcr-path-issuer");
  const dir = await Deno.makeTempDir({ prefix: "dagent-perm-e2e-" });
  try {
    const config = `${dir}/agent.yaml`;
    const recording = `${dir}/demo.jsonl`;
    await Deno.writeTextFile(config, DEMO_AGENT_CONFIG);
    await Deno.copyFile(DEMO_RECORDING, recording);
    const home = `${dir}/dagent`;
    const passed = Object.fromEntries(
      ["HOME", "PATH", "DENO_DIR"].flatMap((name) => {
        const value = Deno.env.get(name);
        return value ? [[name, value]] : [];
      }),
    );
    await body({
      scenario,
      dir,
      config,
      recording,
      home,
      env: {
        ...passed,
        NO_COLOR: "1",
        CHAT_MCP_URL: scenario.mcpUrl,
        CHAT_CLIENT_ID: scenario.clientId!,
        CHAT_CLIENT_SECRET: scenario.clientSecret!,
        DAGENT_HOME: home,
        DAGENT_KEYCHAIN: "off",
        BROWSER: `${Deno.execPath()} run --allow-net ` +
          `--unsafely-ignore-certificate-errors=127.0.0.1 ${BROWSER_CLI}`,
      },
    });
  } finally {
    await scenario.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** `dagent permissions ARGS`, run with every permission; the printed flags, split. */
async function printedFlags(args: string[], env: Record<string, string>): Promise<string[]> {
  const run = await deno(
    ["run", "--allow-all", MAIN, "permissions", ...args, "--format", "flags"],
    env,
  );
  assert.equal(run.code, 0, run.stderr);
  const flags = run.stdout.trim().split(" ");
  for (const flag of flags) assert.ok(!flag.startsWith("'"), `unexpected quoting: ${flag}`);
  return flags;
}

/** The comma-separated values of `--allow-NAME=…` in `flags`. */
function allowed(flags: string[], name: string): string[] {
  const flag = flags.find((f) => f.startsWith(`--allow-${name}=`));
  assert.ok(flag, `no --allow-${name}=… in ${flags.join(" ")}`);
  return flag.slice(`--allow-${name}=`.length).split(",");
}

function exec(flags: string[], demo: Demo): Promise<Run> {
  return deno(
    [
      "run",
      ...flags,
      MAIN,
      "exec",
      demo.config,
      DEMO_QUESTION,
      "--yes",
      "--yolo",
      "--replay",
      demo.recording,
    ],
    demo.env,
  );
}

/**
 * Runs the agent turn twice under `flags`: the first signs in over the HTTPS callback and
 * stores the token (0600), the second uses it without a request to the authorization server.
 */
async function signInThenReuse(flags: string[], demo: Demo): Promise<void> {
  const answer = await recordedAnswer(demo.recording);

  const first = await exec(flags, demo);
  assert.equal(first.code, 0, first.stderr);
  assert.equal(first.stdout.trim(), answer);
  const address = first.stderr.match(/^\s*(http:\/\/127\.0\.0\.1:\d+\/t\/authorize\?\S+)$/m);
  assert.ok(address, `no sign-in address on stderr:\n${first.stderr}`);
  const redirect = new URL(address[1]).searchParams.get("redirect_uri") ?? "";
  assert.match(redirect, /^https:\/\/127\.0\.0\.1:\d+\/callback$/);
  assert.match(first.stderr, /^Signed in to chat\.$/m);
  assert.match(first.stderr, /← \{"clientId":"123\.456","scopes":\["mcp:read"\]\}/);
  const log = demo.scenario.as.log;
  assert.equal(log.countKind("authorize"), 1);
  assert.equal(log.countKind("token", "authorization_code"), 1);
  const token = await Deno.stat(`${demo.home}/tokens.json`);
  assert.equal((token.mode ?? 0) & 0o777, 0o600);

  log.clear();
  const second = await exec(flags, demo);
  assert.equal(second.code, 0, second.stderr);
  assert.equal(second.stdout.trim(), answer);
  assert.doesNotMatch(second.stderr, /Open this address|Signed in/);
  assert.equal(log.total, 0, JSON.stringify(log.entries));
}

Deno.test("permissions e2e: an agent turn with an OAuth sign-in under the printed flags", async () => {
  await withDemo(async (demo) => {
    const flags = await printedFlags(
      [demo.config, "--discover", "--replay", demo.recording],
      demo.env,
    );
    // Every flag is narrowed, and each set is what this config needs and no more.
    assert.ok(flags.every((flag) => /^--allow-[a-z]+=/.test(flag)), flags.join(" "));
    assert.deepEqual(allowed(flags, "net"), ["127.0.0.1"]);
    assert.deepEqual(allowed(flags, "run"), [Deno.execPath()]);
    assert.deepEqual(
      allowed(flags, "read"),
      [demo.config, demo.recording, demo.home, PROGRAM_DIR].sort(),
    );
    assert.deepEqual(allowed(flags, "write"), [demo.home]);
    assert.deepEqual(allowed(flags, "env"), [
      "BROWSER",
      "CHAT_CLIENT_ID",
      "CHAT_CLIENT_SECRET",
      "CHAT_MCP_URL",
      "DAGENT_DEBUG",
      "DAGENT_HOME",
      "DAGENT_KEYCHAIN",
      "DEMO_MODEL",
      "DEMO_MODEL_URL",
      "DISPLAY",
      "HOME",
      "WAYLAND_DISPLAY",
      "XDG_CONFIG_HOME",
    ]);
    await signInThenReuse(flags, demo);
  });
});

Deno.test("permissions e2e: without --replay the recording is not readable, and the hint says so", async () => {
  await withDemo(async (demo) => {
    const flags = await printedFlags([demo.config, "--discover"], demo.env);
    assert.ok(!allowed(flags, "read").includes(demo.recording));
    demo.scenario.as.log.clear(); // --discover asked for the metadata
    const run = await exec(flags, demo);
    assert.equal(run.code, 1);
    assert.match(
      run.stderr,
      new RegExp(`^hint: add --allow-read=${demo.recording.replaceAll(".", "\\.")} `, "m"),
    );
    assert.equal(demo.scenario.as.log.total, 0, "it failed before any sign-in");
  });
});

Deno.test("permissions e2e: the same turn under the compile task's default flags", async () => {
  const config = JSON.parse(
    await Deno.readTextFile(new URL("../deno.json", import.meta.url)),
  );
  const words: string[] = config.tasks.compile.split(/\s+/);
  assert.deepEqual(words.slice(0, 2), ["deno", "compile"]);
  assert.equal(words.at(-1), "main.ts");
  const flags = words.filter((word) => word.startsWith("--allow-"));
  assert.ok(flags.length > 0 && !flags.includes("--allow-all"), flags.join(" "));
  await withDemo((demo) => signInThenReuse(flags, demo));
});
