/**
 * `dagent mcp tools|call` as a user runs them: `deno run main.ts` in a subprocess, against
 * fixture servers started by the test, with fixtures/examples/local.yaml as the config.
 */
import assert from "node:assert/strict";
import { type RunningServer, startHttpServer } from "../fixtures/mcp/http_server.ts";
import { startSseServer } from "../fixtures/mcp/sse_server.ts";
import { type CliRun, runDagent } from "./helpers/cli.ts";

const LOCAL = new URL("../fixtures/examples/local.yaml", import.meta.url).pathname;

function dagent(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  return runDagent(args, { env });
}

/** Starts the HTTP and SSE fixtures and hands `body` the env that points local.yaml at them. */
async function withServers(body: (env: Record<string, string>) => Promise<void>) {
  const servers: RunningServer[] = [];
  try {
    servers.push(await startHttpServer(), await startSseServer());
    await body({ DAGENT_HTTP_URL: servers[0].url, DAGENT_SSE_URL: servers[1].url });
  } finally {
    await Promise.all(servers.map((server) => server.close()));
  }
}

Deno.test("cli mcp tools: lists every toolset of the config, grouped, with schema summaries", async () => {
  await withServers(async (env) => {
    const run = await dagent(["mcp", "tools", LOCAL], env);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^local \(6 tools\)$/m);
    assert.match(run.stdout, /^http \(6 tools\)$/m);
    assert.match(run.stdout, /^sse \(3 tools\)$/m);
    assert.match(
      run.stdout,
      /^ {2}echo\(text: string\) {2}\[read-only\]\n {6}Echo the text back$/m,
    );
    assert.match(run.stdout, /^ {2}add\(a: number, b\?: number\) {2}\[read-only\]$/m);
    assert.match(run.stdout, /^ {2}whoami\(headers: string\[\]\)/m);
    // The sse toolset's allow-list hides the other tools.
    const sse = run.stdout.slice(run.stdout.indexOf("sse ("));
    assert.doesNotMatch(sse, /fail|slow|ask/);
    assert.equal(run.stderr, "");
  });
});

Deno.test("cli mcp tools: a failing toolset is reported with its place; the others are listed", async () => {
  const gone = await startSseServer();
  const deadUrl = gone.url;
  await gone.close();
  await withServers(async (env) => {
    const run = await dagent(["mcp", "tools", LOCAL], { ...env, DAGENT_SSE_URL: deadUrl });
    assert.equal(run.code, 1);
    assert.match(run.stdout, /^local \(6 tools\)$/m);
    assert.match(run.stdout, /^http \(6 tools\)$/m);
    assert.doesNotMatch(run.stdout, /^sse/m);
    assert.match(
      run.stderr,
      /^dagent: .*local\.yaml:\d+:\d+: toolset "sse": cannot reach http:\/\/127\.0\.0\.1:\d+\/sse: connection refused$/m,
    );
    assert.match(run.stderr, /^hint: check that the server is running/m);

    const json = await dagent(["mcp", "tools", LOCAL, "--json"], {
      ...env,
      DAGENT_SSE_URL: deadUrl,
    });
    assert.equal(json.code, 1);
    const parsed = JSON.parse(json.stdout);
    assert.equal(parsed.ok, false);
    assert.deepEqual(
      parsed.toolsets.map((t: { name: string; ok: boolean }) => [t.name, t.ok]),
      [["local", true], ["http", true], ["sse", false]],
    );
    assert.equal(parsed.toolsets[2].error.code, "mcp.unreachable");
    assert.equal(
      parsed.toolsets[1].tools.find((t: { name: string }) => t.name === "echo")
        .annotations.readOnlyHint,
      true,
    );
  });
});

Deno.test("cli mcp tools: --agent and --toolset select; unknown names list the valid ones", async () => {
  await withServers(async (env) => {
    const helper = await dagent(["mcp", "tools", LOCAL, "--agent", "helper"], env);
    assert.equal(helper.code, 0, helper.stderr);
    assert.match(helper.stdout, /^local \(2 tools\)$/m);

    const only = await dagent(["mcp", "tools", LOCAL, "--toolset", "http"], env);
    assert.equal(only.code, 0, only.stderr);
    assert.doesNotMatch(only.stdout, /^(local|sse) /m);

    const badAgent = await dagent(["mcp", "tools", LOCAL, "--agent", "rot"], env);
    assert.equal(badAgent.code, 2);
    assert.match(badAgent.stderr, /unknown agent "rot"/);
    assert.match(badAgent.stderr, /did you mean "root"\? agents: root, helper/);

    const badToolset = await dagent(["mcp", "tools", LOCAL, "--toolset", "nope"], env);
    assert.equal(badToolset.code, 2);
    assert.match(badToolset.stderr, /toolsets: local, http, sse/);
  });
});

Deno.test("cli mcp call: prints the result; header interpolation reaches the server", async () => {
  await withServers(async (env) => {
    const echo = await dagent(["mcp", "call", LOCAL, "local", "echo", '{"text":"via stdio"}'], env);
    assert.equal(echo.code, 0, echo.stderr);
    assert.equal(echo.stdout, "via stdio\n");

    for (const toolset of ["http", "sse"]) {
      const args = ["mcp", "call", LOCAL, toolset, "whoami", '{"headers":["X-Team"]}'];
      const who = await dagent(args, { ...env, TEAM: "red" });
      assert.equal(who.code, 0, who.stderr);
      assert.deepEqual(JSON.parse(who.stdout), { "X-Team": "red" });
    }

    const json = await dagent(
      ["mcp", "call", LOCAL, "http", "add", '{"a":2,"b":3}', "--json"],
      env,
    );
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual(JSON.parse(json.stdout).result.structuredContent, { sum: 5 });
  });
});

Deno.test("cli mcp call: tool errors exit 1, usage errors exit 2", async () => {
  await withServers(async (env) => {
    const fail = await dagent(["mcp", "call", LOCAL, "http", "fail"], env);
    assert.equal(fail.code, 1);
    assert.equal(fail.stdout, "failed: as asked\n");
    assert.match(fail.stderr, /tool "fail" reported an error/);

    const badJson = await dagent(["mcp", "call", LOCAL, "http", "echo", '{"text": hi}'], env);
    assert.equal(badJson.code, 2);
    assert.match(badJson.stderr, /JSON_ARGS is not valid JSON at position 9/);

    const notAllowed = await dagent(["mcp", "call", LOCAL, "sse", "fail"], env);
    assert.equal(notAllowed.code, 2);
    assert.match(notAllowed.stderr, /toolset "sse" does not allow tool "fail"/);

    const noTool = await dagent(["mcp", "call", LOCAL, "http", "ech"], env);
    assert.equal(noTool.code, 2);
    assert.match(noTool.stderr, /toolset "http" has no tool "ech"\nhint: did you mean "echo"\?/);
  });
});

Deno.test("cli mcp --url: tools and call without a config, with headers and sse", async () => {
  await withServers(async (env) => {
    const tools = await dagent([
      "mcp",
      "tools",
      "--url",
      env.DAGENT_SSE_URL,
      "--transport",
      "sse",
      "--json",
    ]);
    assert.equal(tools.code, 0, tools.stderr);
    const parsed = JSON.parse(tools.stdout);
    assert.equal(parsed.toolsets[0].name, "127.0.0.1");
    assert.equal(parsed.toolsets[0].tools.length, 6);

    const call = await dagent([
      "mcp",
      "call",
      "--url",
      env.DAGENT_HTTP_URL,
      "--header",
      "X-Team=green",
      "whoami",
      '{"headers":["x-team"]}',
    ]);
    assert.equal(call.code, 0, call.stderr);
    assert.deepEqual(JSON.parse(call.stdout), { "x-team": "green" });

    const mixed = await dagent(["mcp", "tools", LOCAL, "--header", "A=B"]);
    assert.equal(mixed.code, 2);
    assert.match(mixed.stderr, /--header only applies with --url/);
  });
});
