/**
 * `dagent permissions`: the exact permission set of every example config (pure function),
 * the details that decide entries (platform, environment, sub-agents, `${…}` references),
 * `--discover` against real OAuth fixtures, and runs of `deno run main.ts` under exactly the
 * printed flags — including a missing flag producing a hint that names it.
 */
import assert from "node:assert/strict";
import {
  agentsInScope,
  computePermissions,
  formatDenoFlags,
  hostPort,
  type PermissionInputs,
  type PermissionSet,
  referencedEnvNames,
} from "../lib/config/permissions.ts";
import { parseConfigText } from "../lib/config/mod.ts";
import { reportError } from "../lib/cli/main.ts";
import { DagentError } from "../lib/errors.ts";
import { type RunningServer, startHttpServer } from "../fixtures/mcp/http_server.ts";
import { startSseServer } from "../fixtures/mcp/sse_server.ts";
import { startOAuthScenario } from "../fixtures/oauth/mod.ts";

const REPO = new URL("../", import.meta.url);
const MAIN = new URL("main.ts", REPO).pathname;
const EXAMPLES = new URL("fixtures/examples/", REPO).pathname;
const LOCAL = EXAMPLES + "local.yaml";

const HOME = "/home/u";
const CONFIG_DIR = `${HOME}/.config/dagent`;
const DATA_DIR = `${HOME}/.local/share/dagent`;
const CWD = "/work";

/** Variables every run reads, and those of the token store and sign-in. */
const BASE_ENV = ["DAGENT_DEBUG"];
const STORE_ENV = ["DAGENT_HOME", "DAGENT_KEYCHAIN", "HOME", "XDG_CONFIG_HOME"];
const SIGN_IN_ENV = ["BROWSER", "DISPLAY", "WAYLAND_DISPLAY"];
const STDIO_ENV = [
  "HOME",
  "LOGNAME",
  "NODE_V8_COVERAGE",
  "OSTYPE",
  "PATH",
  "SHELL",
  "TERM",
  "USER",
];

/** Loads an example, a placeholder standing in for each variable that has no default. */
async function example(name: string): Promise<{ text: string; path: string }> {
  const path = EXAMPLES + name;
  return { text: await Deno.readTextFile(path), path };
}

async function inputs(
  text: string,
  path: string,
  overrides: Partial<PermissionInputs> = {},
): Promise<PermissionInputs> {
  const referenced = await referencedEnvNames(text);
  const env = Object.fromEntries(referenced.map((n) => [n, `placeholder-${n}`]));
  // Defaults must win where there is one: only give values to names used without default.
  for (const name of Object.keys(env)) {
    if (!new RegExp(`\\$\\{(env\\.)?${name}\\}`).test(text)) delete env[name];
  }
  const { config } = await parseConfigText(text, path, { env });
  return {
    config,
    referencedEnv: referenced,
    configPath: path,
    platform: "linux",
    env: { HOME, DISPLAY: ":0" },
    cwd: CWD,
    configDir: CONFIG_DIR,
    auditDataDir: DATA_DIR,
    available: () => true,
    ...overrides,
  };
}

async function permissionsOf(
  name: string,
  overrides: Partial<PermissionInputs> = {},
): Promise<PermissionSet> {
  const { text, path } = await example(name);
  return computePermissions(await inputs(text, path, overrides));
}

function sets(set: PermissionSet) {
  const { net, run, read, write, env, discoveredAtRunTime } = set;
  return { net, run, read, write, env, discoveredAtRunTime };
}

const sorted = (...lists: string[][]) => [...new Set(lists.flat())].sort();

Deno.test("permissions: slack.yaml (pre-registered app, fixed TLS callback port)", async () => {
  const set = await permissionsOf("slack.yaml");
  assert.deepEqual(sets(set), {
    net: ["127.0.0.1:3118", "api.anthropic.com:443", "mcp.slack.com:443"],
    run: ["secret-tool", "xdg-open"],
    read: sorted([CONFIG_DIR, EXAMPLES + "slack.yaml"]),
    write: [CONFIG_DIR],
    env: sorted(BASE_ENV, STORE_ENV, SIGN_IN_ENV, ["ANTHROPIC_API_KEY", "SLACK_CLIENT_SECRET"]),
    discoveredAtRunTime: ["https://mcp.slack.com/mcp"],
  });
  assert.ok(
    set.notes.some((n) => n.includes("discovered at run time") && n.includes("--discover")),
  );
});

Deno.test("permissions: github.yaml (OAuth app id and secret from the environment)", async () => {
  const set = await permissionsOf("github.yaml");
  assert.deepEqual(sets(set), {
    net: ["127.0.0.1:8976", "api.githubcopilot.com:443", "api.openai.com:443"],
    run: ["secret-tool", "xdg-open"],
    read: sorted([CONFIG_DIR, EXAMPLES + "github.yaml"]),
    write: [CONFIG_DIR],
    env: sorted(
      BASE_ENV,
      STORE_ENV,
      SIGN_IN_ENV,
      ["GITHUB_CLIENT_ID", "GITHUB_CLIENT_SECRET", "OPENAI_API_KEY"],
    ),
    discoveredAtRunTime: ["https://api.githubcopilot.com/mcp/"],
  });
});

Deno.test("permissions: notion.yaml and linear.yaml (DCR: any callback port)", async () => {
  assert.deepEqual(sets(await permissionsOf("notion.yaml")), {
    net: ["127.0.0.1", "api.anthropic.com:443", "mcp.notion.com:443"],
    run: ["secret-tool", "xdg-open"],
    read: sorted([CONFIG_DIR, EXAMPLES + "notion.yaml"]),
    write: [CONFIG_DIR],
    env: sorted(BASE_ENV, STORE_ENV, SIGN_IN_ENV, ["ANTHROPIC_API_KEY"]),
    discoveredAtRunTime: ["https://mcp.notion.com/mcp"],
  });
  assert.deepEqual(sets(await permissionsOf("linear.yaml")), {
    net: ["127.0.0.1", "api.openai.com:443", "mcp.linear.app:443"],
    run: ["secret-tool", "xdg-open"],
    read: sorted([CONFIG_DIR, EXAMPLES + "linear.yaml"]),
    write: [CONFIG_DIR],
    env: sorted(BASE_ENV, STORE_ENV, SIGN_IN_ENV, ["OPENAI_API_KEY"]),
    discoveredAtRunTime: ["https://mcp.linear.app/mcp"],
  });
});

Deno.test("permissions: local_stdio.yaml needs no token store, no callback, no key", async () => {
  const set = await permissionsOf("local_stdio.yaml");
  assert.deepEqual(sets(set), {
    net: ["localhost:11434"],
    run: ["npx"],
    read: [EXAMPLES + "local_stdio.yaml"],
    write: [],
    env: sorted(BASE_ENV, STDIO_ENV),
    discoveredAtRunTime: [],
  });
  assert.deepEqual(set.notes, []);
});

Deno.test("permissions: team.yaml — sub-agents, filesystem root, audit dirs", async () => {
  const all = await permissionsOf("team.yaml");
  const writable = [CONFIG_DIR, DATA_DIR, `${CWD}/.dagent/audit`, `${CWD}/docs/releases`];
  assert.deepEqual(sets(all), {
    net: ["127.0.0.1", "api.anthropic.com:443", "api.openai.com:443", "mcp.linear.app:443"],
    run: ["secret-tool", "xdg-open"],
    read: sorted(writable, [EXAMPLES + "team.yaml"]),
    write: writable,
    env: sorted(
      BASE_ENV,
      STORE_ENV,
      SIGN_IN_ENV,
      ["ANTHROPIC_API_KEY", "OPENAI_API_KEY", "XDG_DATA_HOME"],
    ),
    discoveredAtRunTime: ["https://mcp.linear.app/mcp"],
  });
  // The writer alone: no Linear, no OpenAI, no token store; the audit log stays.
  const writer = await permissionsOf("team.yaml", { agent: "writer" });
  assert.deepEqual(writer.net, ["api.anthropic.com:443"]);
  assert.deepEqual(writer.run, []);
  assert.deepEqual(writer.write, [DATA_DIR, `${CWD}/.dagent/audit`, `${CWD}/docs/releases`]);
  assert.ok(!writer.env.includes("OPENAI_API_KEY"));
});

Deno.test("permissions: local.yaml and the older examples", async () => {
  const local = await permissionsOf("local.yaml");
  assert.deepEqual(sets(local), {
    // The callback may take any port, which also covers the fixture servers and the model.
    net: ["127.0.0.1"],
    run: ["deno", "secret-tool", "xdg-open"],
    read: sorted([CONFIG_DIR, LOCAL]),
    write: [CONFIG_DIR],
    env: sorted(BASE_ENV, STORE_ENV, SIGN_IN_ENV, STDIO_ENV, [
      "DAGENT_HTTP_URL",
      "DAGENT_MODEL_URL",
      "DAGENT_SSE_URL",
      "OPENAI_API_KEY",
      "TEAM",
    ]),
    discoveredAtRunTime: ["http://127.0.0.1:8931/mcp", "http://127.0.0.1:8932/sse"],
  });
  const helper = await permissionsOf("local.yaml", { agent: "helper" });
  assert.deepEqual(helper.net, ["127.0.0.1:8930"]);
  assert.deepEqual(helper.run, ["deno"]);

  const basic = await permissionsOf("basic.yaml");
  assert.deepEqual(basic.net, ["api.openai.com:443"]);
  assert.deepEqual(basic.run, ["npx"]);

  // A fetch toolset reaches any URL: the net flag is unrestricted, and says why.
  const remote = await permissionsOf("remote_oauth.yaml");
  assert.deepEqual(remote.net, ["*"]);
  assert.ok(remote.notes.some((n) => /fetch toolset may fetch any URL/.test(n)));
  assert.deepEqual(remote.write, [CONFIG_DIR, DATA_DIR, `${CWD}/.dagent`]);
});

Deno.test("permissions: platform, keychain switch, $BROWSER and missing programs", async () => {
  const mac = await permissionsOf("notion.yaml", { platform: "darwin", env: { HOME } });
  assert.deepEqual(mac.run, ["open", "security"]);

  const off = await permissionsOf("notion.yaml", {
    env: { HOME, DISPLAY: ":0", DAGENT_KEYCHAIN: "off", BROWSER: "firefox --new-tab %s" },
  });
  assert.deepEqual(off.run, ["firefox"]);

  const headless = await permissionsOf("notion.yaml", { env: { HOME } });
  assert.deepEqual(headless.run, ["secret-tool"]);
  assert.ok(headless.notes.some((n) => n.includes("no graphical session")));

  const bare = await permissionsOf("notion.yaml", { available: (p) => p === "xdg-open" });
  assert.deepEqual(bare.run, ["xdg-open"]);
  assert.ok(bare.notes.some((n) => n.includes("secret-tool is not installed")));

  const win = await permissionsOf("local_stdio.yaml", { platform: "windows" });
  assert.ok(win.env.includes("PATHEXT") && win.env.includes("SYSTEMROOT"));
});

Deno.test("permissions: env references use the loader's grammar", async () => {
  const text = [
    "# ${IN_A_COMMENT}",
    'version: "2"',
    "agents:",
    "  root:",
    "    model: ${MODEL:-openai/gpt-4o}",
    "    instruction: costs $${NOT_A_VAR} and ${env.PRICE} and ${TAX}",
    "    toolsets:",
    "      - type: mcp",
    "        remote:",
    "          url: https://mcp.example.com/mcp",
    "          oauth:",
    "            callbackRedirectURL: https://tunnel.example/cb?p=${callbackPort}",
  ].join("\n");
  assert.deepEqual(await referencedEnvNames(text), ["MODEL", "PRICE", "TAX"]);
});

Deno.test("permissions: sub-agent closure handles cycles and unknown names", () => {
  const config = {
    agents: {
      root: { model: "m", sub_agents: ["a"] },
      a: { model: "m", sub_agents: ["b", "root"] },
      b: { model: "m" },
      lonely: { model: "m" },
    },
  };
  assert.deepEqual(agentsInScope(config, "root"), ["root", "a", "b"]);
  assert.deepEqual(agentsInScope(config, "b"), ["b"]);
  assert.deepEqual(agentsInScope(config), ["root", "a", "b", "lonely"]);
});

Deno.test("permissions: flag formatting quotes, escapes commas, widens on *", () => {
  const set: PermissionSet = {
    net: ["*"],
    run: [],
    read: ["/Users/me/Library/Application Support/dagent", "/a,b"],
    write: [],
    env: ["HOME"],
    discoveredAtRunTime: [],
    notes: [],
  };
  assert.deepEqual(formatDenoFlags(set), [
    "--allow-net",
    "'--allow-read=/Users/me/Library/Application Support/dagent,/a,,b'",
    "--allow-env=HOME",
  ]);
  assert.equal(hostPort("https://mcp.slack.com/mcp"), "mcp.slack.com:443");
  assert.equal(hostPort("http://localhost:11434/v1"), "localhost:11434");
});

Deno.test("permissions: a missing Deno permission names the flag to add", () => {
  const lines: string[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => lines.push(args.join(" "));
  try {
    const net = new Deno.errors.NotCapable(
      'Requires net access to "api.example.com:443", run again with the --allow-net flag',
    );
    assert.equal(reportError(net), 1);
    const wrapped = new DagentError("toolset x: could not start", {
      cause: new Deno.errors.PermissionDenied(
        'Requires run access to "npx", run again with the --allow-run flag',
      ),
    });
    assert.equal(reportError(wrapped), 1);
    const whole = new Deno.errors.NotCapable(
      "Requires env access, run again with the --allow-env flag",
    );
    assert.equal(reportError(whole), 1);
  } finally {
    console.error = original;
  }
  assert.deepEqual(lines, [
    'dagent: missing permission: net access to "api.example.com:443"',
    "hint: add --allow-net=api.example.com:443 (see 'dagent permissions CONFIG')",
    "dagent: toolset x: could not start",
    "hint: add --allow-run=npx (see 'dagent permissions CONFIG')",
    "dagent: missing permission: env access",
    "hint: add --allow-env (see 'dagent permissions CONFIG')",
  ]);
});

// ---- subprocess runs ---------------------------------------------------------------------

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function deno(args: string[], env: Record<string, string>): Promise<Run> {
  const output = await new Deno.Command(Deno.execPath(), {
    args,
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: output.code, stdout: decode(output.stdout), stderr: decode(output.stderr) };
}

/** `dagent permissions ARGS --format json`, run with every permission. */
async function permissionsJson(args: string[], env: Record<string, string>) {
  const run = await deno(
    ["run", "--allow-all", MAIN, "permissions", ...args, "--format", "json"],
    env,
  );
  assert.equal(run.code, 0, run.stderr);
  return JSON.parse(run.stdout) as PermissionSet;
}

/** The `deno run …` line `dagent permissions` prints, split into its flags. */
async function printedFlags(args: string[], env: Record<string, string>): Promise<string[]> {
  const run = await deno(["run", "--allow-all", MAIN, "permissions", ...args], env);
  assert.equal(run.code, 0, run.stderr);
  const line = run.stdout.split("\n").find((l) => l.startsWith("deno run "));
  assert.ok(line, run.stdout);
  const words = line.split(" ");
  assert.equal(words.at(-1), MAIN);
  for (const word of words) assert.ok(!word.startsWith("'"), `unexpected quoting: ${word}`);
  return words.slice(2, -1);
}

async function withLocalServers(body: (env: Record<string, string>) => Promise<void>) {
  const servers: RunningServer[] = [];
  const home = await Deno.makeTempDir({ prefix: "dagent-perm-" });
  try {
    servers.push(await startHttpServer(), await startSseServer());
    await body({
      DAGENT_HTTP_URL: servers[0].url,
      DAGENT_SSE_URL: servers[1].url,
      DAGENT_HOME: home,
      DAGENT_KEYCHAIN: "off",
    });
  } finally {
    await Promise.all(servers.map((server) => server.close()));
    await Deno.remove(home, { recursive: true });
  }
}

Deno.test("permissions e2e: mcp tools runs under exactly the printed flags (stdio agent)", async () => {
  await withLocalServers(async (env) => {
    const flags = await printedFlags([LOCAL, "--agent", "helper"], env);
    assert.ok(
      flags.every((flag) => flag.startsWith("--allow-") && flag.includes("=")),
      flags.join(" "),
    );
    const run = await deno(
      ["run", ...flags, MAIN, "mcp", "tools", LOCAL, "--agent", "helper"],
      env,
    );
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^local \(2 tools\)$/m);
  });
});

/** `flags` without `entry` in the list of `--allow-NAME=…` (the flag goes when it empties). */
function withoutEntry(flags: string[], name: string, entry: string): string[] {
  const prefix = `--allow-${name}=`;
  const out = flags.flatMap((flag) => {
    if (!flag.startsWith(prefix)) return [flag];
    const rest = flag.slice(prefix.length).split(",").filter((value) => value !== entry);
    return rest.length ? [prefix + rest.join(",")] : [];
  });
  assert.notDeepEqual(out, flags, `${entry} is not among the ${prefix} entries`);
  return out;
}

Deno.test("permissions e2e: dropping one printed entry names the toolset and the flag to add", async () => {
  await withLocalServers(async (env) => {
    const helper = await printedFlags([LOCAL, "--agent", "helper"], env);
    const all = await printedFlags([LOCAL, "--discover"], env);
    const port = (url: string) => new URL(url).port;
    const cases = [
      // Read by the stdio client's `which` as it loads.
      {
        flags: withoutEntry(helper, "env", "OSTYPE"),
        args: ["--agent", "helper"],
        toolset: "local",
        access: 'env access to "OSTYPE"',
        flag: "--allow-env=OSTYPE",
      },
      // The stdio server's command.
      {
        flags: withoutEntry(helper, "run", Deno.execPath().split("/").pop()!),
        args: ["--agent", "helper"],
        toolset: "local",
        access: null,
        flag: "--allow-run",
      },
      // The Streamable HTTP server.
      {
        flags: withoutEntry(all, "net", `127.0.0.1:${port(env.DAGENT_HTTP_URL)}`),
        args: [],
        toolset: "http",
        access: `net access to "127.0.0.1:${port(env.DAGENT_HTTP_URL)}"`,
        flag: `--allow-net=127.0.0.1:${port(env.DAGENT_HTTP_URL)}`,
      },
    ];
    for (const { flags, args, toolset, access, flag } of cases) {
      const run = await deno(["run", ...flags, MAIN, "mcp", "tools", LOCAL, ...args], env);
      assert.equal(run.code, 1, run.stderr);
      const lines = run.stderr.split("\n");
      const failure = lines.findIndex((line) =>
        line.includes(`toolset "${toolset}": missing permission: `)
      );
      assert.ok(failure >= 0, run.stderr);
      assert.match(lines[failure], /^dagent: \S+local\.yaml:\d+:\d+: toolset /);
      if (access) assert.ok(lines[failure].endsWith(`missing permission: ${access}`), run.stderr);
      assert.match(
        lines[failure + 1],
        new RegExp(
          `^hint: add ${flag.replaceAll(".", "\\.")}[= ].*see 'dagent permissions CONFIG'`,
        ),
      );
    }
  });
});

/** The whole local.yaml (stdio, Streamable HTTP and SSE servers) under the printed flags. */
Deno.test({
  name: "permissions e2e: mcp tools on every toolset of local.yaml under the printed flags",
  fn: async () => {
    await withLocalServers(async (env) => {
      const flags = await printedFlags([LOCAL, "--discover"], env);
      const run = await deno(["run", ...flags, MAIN, "mcp", "tools", LOCAL], env);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /^local \(6 tools\)$/m);
      assert.match(run.stdout, /^http \(6 tools\)$/m);
      assert.match(run.stdout, /^sse \(3 tools\)$/m);
    });
  },
});

Deno.test("permissions --discover: unprotected servers need no sign-in entries", async () => {
  await withLocalServers(async (env) => {
    const set = await permissionsJson([LOCAL, "--discover"], env);
    assert.deepEqual(set.discoveredAtRunTime, []);
    assert.deepEqual(
      set.net,
      [
        "127.0.0.1:8930",
        hostPort(env.DAGENT_HTTP_URL),
        hostPort(env.DAGENT_SSE_URL),
      ].sort(),
    );
    assert.ok(!set.run.includes("xdg-open"));
  });
});

Deno.test("permissions --discover: the authorization server found via RFC 9728 is allowed", async () => {
  const scenario = startOAuthScenario("dcr");
  const dir = await Deno.makeTempDir({ prefix: "dagent-perm-" });
  try {
    const config = `${dir}/oauth.yaml`;
    await Deno.writeTextFile(
      config,
      [
        'version: "2"',
        "agents:",
        "  root:",
        "    model: openai/gpt-4o",
        "    toolsets:",
        "      - type: mcp",
        "        remote:",
        `          url: ${scenario.mcpUrl}`,
        "          oauth: { callbackPort: 3118 }",
      ].join("\n"),
    );
    const env = { DAGENT_HOME: dir, DAGENT_KEYCHAIN: "off" };
    const before = await permissionsJson([config], env);
    assert.deepEqual(before.discoveredAtRunTime, [scenario.mcpUrl]);
    assert.ok(!before.net.includes(hostPort(scenario.as.url)));

    const after = await permissionsJson([config, "--discover"], env);
    assert.deepEqual(after.discoveredAtRunTime, []);
    assert.deepEqual(
      after.net,
      ["127.0.0.1:3118", "api.openai.com:443", hostPort(scenario.mcpUrl), hostPort(scenario.as.url)]
        .sort(),
    );
    assert.notEqual(hostPort(scenario.as.url), hostPort(scenario.mcpUrl));
  } finally {
    await scenario.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("compile task: every module loaded by a computed import is included", async () => {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", REPO)));
  const words: string[] = config.tasks.compile.split(/\s+/);
  const included = words.filter((_, i) => words[i - 1] === "--include");
  const root = new URL("lib/", REPO);
  const targets: string[] = [];
  async function scan(dir: URL): Promise<void> {
    for await (const entry of Deno.readDir(dir)) {
      const url = new URL(entry.name + (entry.isDirectory ? "/" : ""), dir);
      if (entry.isDirectory) await scan(url);
      if (!entry.name.endsWith(".ts")) continue;
      const text = await Deno.readTextFile(url);
      // `import(new URL("./x.ts", import.meta.url)…)`: invisible to `deno compile`.
      for (
        const match of text.matchAll(/import\(\s*new URL\(\s*"([^"]+)",\s*import\.meta\.url\s*\)/g)
      ) {
        targets.push(new URL(match[1], url).pathname.slice(REPO.pathname.length));
      }
      // lib/cli/main.ts loads the command modules of its table the same way.
      if (/\bnew URL\(entry\.module, import\.meta\.url\)/.test(text)) {
        for (const match of text.matchAll(/module: "(\.\/[^"]+)"/g)) {
          targets.push(new URL(match[1], url).pathname.slice(REPO.pathname.length));
        }
      }
    }
  }
  await scan(root);
  assert.ok(targets.includes("lib/cli/validate.ts") && targets.includes("lib/mcp/stdio.ts"));
  const missing = targets.filter((target) =>
    !included.some((path) => target === path || target.startsWith(`${path}/`))
  );
  assert.deepEqual(missing, [], `add --include for these to the compile task`);
});

Deno.test("compile task: its baked-in default flags run every toolset of local.yaml", async () => {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", REPO)));
  const words: string[] = config.tasks.compile.split(/\s+/);
  assert.deepEqual(words.slice(0, 2), ["deno", "compile"]);
  assert.equal(words.at(-1), "main.ts");
  const flags = words.filter((word) => word.startsWith("--allow-"));
  assert.ok(!flags.includes("--allow-all"), "the default set is narrower than --allow-all");
  await withLocalServers(async (env) => {
    const run = await deno(["run", ...flags, MAIN, "mcp", "tools", LOCAL], env);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^local \(6 tools\)$/m);
    assert.match(run.stdout, /^http \(6 tools\)$/m);
    assert.match(run.stdout, /^sse \(3 tools\)$/m);
  });
});
