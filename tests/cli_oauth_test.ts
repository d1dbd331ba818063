/**
 * The OAuth CLI as a user runs it: `deno run main.ts` subprocesses against the fixture
 * servers, with `$BROWSER` set to a scripted browser, a private DAGENT_HOME, and the
 * Slack-like server (no DCR, issuer with a path, HTTPS callback).
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { captureRedirect, startOAuthScenario } from "../fixtures/oauth/mod.ts";
import type { OAuthScenario } from "../fixtures/oauth/mod.ts";
import { type CliRun, MAIN, runDagent } from "./helpers/cli.ts";

const BROWSER_SCRIPT = fileURLToPath(new URL("../fixtures/oauth/browser_cli.ts", import.meta.url));
const BROWSER =
  `${Deno.execPath()} run --allow-net --unsafely-ignore-certificate-errors=127.0.0.1 ${BROWSER_SCRIPT}`;

const CONFIG = `# yaml-language-server: $schema=../schema/agent-schema.json
version: "2"
agents:
  root:
    model: openai/gpt-4o
    toolsets:
      - type: mcp
        name: slack
        remote:
          url: \${MCP_URL}
          oauth:
            clientId: "\${CLIENT_ID}"
            clientSecret: \${CLIENT_SECRET}
            tls: true
`;

interface Setup {
  scenario: OAuthScenario;
  home: string;
  config: string;
  env: Record<string, string>;
  close(): Promise<void>;
}

async function setup(): Promise<Setup> {
  const scenario = startOAuthScenario("no-dcr-path-issuer");
  const home = await Deno.makeTempDir({ prefix: "dagent-cli-oauth-" });
  const config = `${home}/agent.yaml`;
  await Deno.writeTextFile(config, CONFIG);
  return {
    scenario,
    home,
    config,
    env: {
      MCP_URL: scenario.mcpUrl,
      CLIENT_ID: scenario.clientId!,
      CLIENT_SECRET: scenario.clientSecret!,
      DAGENT_HOME: `${home}/dagent`,
      DAGENT_KEYCHAIN: "off",
      BROWSER,
      NO_COLOR: "1",
    },
    async close() {
      await scenario.close();
      await Deno.remove(home, { recursive: true });
    },
  };
}

function dagent(setup: Setup, args: string[], env: Record<string, string> = {}) {
  return runDagent(args, { env: { ...setup.env, ...env } });
}

/** Requests other than MCP calls: discovery, token, authorize… */
function authTraffic(scenario: OAuthScenario): number {
  const logs = new Set([scenario.as.log, scenario.mcp.log]);
  return [...logs].reduce(
    (sum, log) => sum + log.entries.filter((entry) => entry.kind !== "mcp").length,
    0,
  );
}

async function storedAccessToken(setup: Setup): Promise<string> {
  const file = JSON.parse(await Deno.readTextFile(`${setup.home}/dagent/tokens.json`));
  const tokens = Object.values(file.tokens) as Array<{ accessToken: string }>;
  assert.equal(tokens.length, 1);
  return tokens[0].accessToken;
}

function assertNoSecrets(outcome: CliRun, secrets: string[]): void {
  for (const secret of secrets) {
    assert.ok(!outcome.stdout.includes(secret), "a secret reached stdout");
    assert.ok(!outcome.stderr.includes(secret), "a secret reached stderr");
  }
}

Deno.test("mcp tools --yes signs in over an HTTPS callback, then later runs reuse the token", async () => {
  const s = await setup();
  try {
    const cold = await dagent(s, ["mcp", "tools", s.config, "--yes"]);
    assert.equal(cold.code, 0, cold.stderr);
    assert.match(cold.stdout, /whoami/);
    assert.match(cold.stderr, /Open this address to sign in to slack/);
    assert.match(cold.stderr, /self-signed/);
    const redirect = /redirect_uri=([^&\s]+)/.exec(cold.stderr)?.[1];
    assert.match(decodeURIComponent(redirect ?? ""), /^https:\/\/127\.0\.0\.1:\d+\/callback$/);
    const token = await storedAccessToken(s);
    assertNoSecrets(cold, [token, s.scenario.clientSecret!]);
    const info = await Deno.stat(`${s.home}/dagent/tokens.json`);
    assert.equal(info.mode! & 0o777, 0o600);

    s.scenario.as.log.clear();
    s.scenario.mcp.log.clear();
    const warm = await dagent(s, ["mcp", "call", s.config, "slack", "whoami"]);
    assert.equal(warm.code, 0, warm.stderr);
    assert.match(warm.stdout, /123\.456/);
    assert.equal(authTraffic(s.scenario), 0, "a valid stored token means no auth traffic");
    assert.doesNotMatch(warm.stderr, /Open this address/);

    const status = await dagent(s, ["auth", "status", s.config]);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /slack {2}signed in/);
    assert.match(
      status.stdout,
      new RegExp(`issuer: +${s.scenario.as.issuer.replace(/\./g, "\\.")}`),
    );
    assertNoSecrets(status, [token, s.scenario.clientSecret!]);

    const logout = await dagent(s, ["auth", "logout", s.config]);
    assert.equal(logout.code, 0, logout.stderr);
    assert.match(logout.stdout, /slack: signed out/);
    const after = await dagent(s, ["auth", "status", s.config, "--json"]);
    assert.equal(JSON.parse(after.stdout).servers[0].state, "not signed in");
  } finally {
    await s.close();
  }
});

Deno.test("without a terminal or --yes, a needed sign-in is an error that says what to run", async () => {
  const s = await setup();
  try {
    const outcome = await dagent(s, ["mcp", "tools", s.config]);
    assert.equal(outcome.code, 1);
    assert.match(outcome.stderr, /slack needs you to sign in/);
    assert.match(outcome.stderr, /dagent auth login .*agent\.yaml slack/);
    assert.doesNotMatch(outcome.stderr, /\n\s+at /, "no stack trace");
    assert.equal(s.scenario.as.log.countKind("authorize"), 0);
  } finally {
    await s.close();
  }
});

Deno.test("auth login --no-browser reads the pasted final address", async () => {
  const s = await setup();
  try {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", MAIN, "auth", "login", s.config, "--yes", "--no-browser"],
      env: { ...s.env, BROWSER: "/nonexistent-browser-must-not-run" },
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const stdout = new Response(child.stdout).text();
    const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
    let stderr = "";
    let url: string | undefined;
    while (!url) {
      const { value, done } = await reader.read();
      if (done) break;
      stderr += value;
      url = /(https?:\/\/127\.0\.0\.1:\d+\/t\/authorize\?\S+)/.exec(stderr)?.[1];
    }
    assert.ok(url, `no authorization URL printed:\n${stderr}`);
    // The user signs in elsewhere; their browser ends on the (unreachable) redirect URI.
    const finalUrl = await captureRedirect(url);
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(finalUrl + "\n"));
    await writer.close();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      stderr += value;
    }
    const status = await child.status;
    assert.equal(status.code, 0, stderr);
    assert.match(await stdout, /slack: signed in \(issuer /);
    assert.match(stderr, /Paste the address your browser ended on/);
    assert.equal(s.scenario.as.log.countKind("token", "authorization_code"), 1);
  } finally {
    await s.close();
  }
});

Deno.test("two dagent processes signing in at once: one flow, both get the token", async () => {
  const s = await setup();
  try {
    const [first, second] = await Promise.all([
      dagent(s, ["auth", "login", s.config, "--yes"]),
      dagent(s, ["auth", "login", s.config, "--yes"]),
    ]);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(s.scenario.as.log.countKind("authorize"), 1);
    assert.equal(s.scenario.as.log.countKind("token", "authorization_code"), 1);
    const token = await storedAccessToken(s);
    assertNoSecrets(first, [token]);
    assertNoSecrets(second, [token]);
  } finally {
    await s.close();
  }
});
