/**
 * Starting many toolsets: concurrency (proved by events, not timing), one failure never
 * stopping the others, start deadlines, stdio child clean-up and start-up diagnostics, and
 * toolset naming.
 */
import assert from "node:assert/strict";
import { startHttpServer } from "../fixtures/mcp/http_server.ts";
import { startSseServer } from "../fixtures/mcp/sse_server.ts";
import { createToolset, startToolsets, toolsetName, toolsetNames } from "../lib/mcp/toolsets.ts";
import { processAlive } from "../lib/mcp/stdio.ts";
import type { ToolsetConfig } from "../lib/config/types.ts";
import { DagentError } from "../lib/errors.ts";

const CONFIG = new URL("../deno.json", import.meta.url).pathname;
const STDIO_SERVER = new URL("../fixtures/mcp/stdio_server.ts", import.meta.url).pathname;

/** A barrier: `arrive()` resolves once `count` parties have arrived. */
function barrier(count: number) {
  let arrived = 0;
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return {
    arrive(): Promise<void> {
      if (++arrived === count) open();
      return opened;
    },
    get arrived() {
      return arrived;
    },
  };
}

Deno.test("startToolsets connects concurrently: every server sees initialize before any answers", async () => {
  // Each server holds its `initialize` answer until all four have received theirs; a
  // sequential start would never get past the first and fail on the deadline.
  const gate = barrier(4);
  const hooks = {
    onMessage: (method: string) => method === "initialize" ? gate.arrive() : undefined,
  };
  const servers = await Promise.all([
    startHttpServer(hooks),
    startHttpServer(hooks),
    startSseServer(hooks),
    startSseServer(hooks),
  ]);
  const toolsets = servers.map((server, i) =>
    createToolset({
      type: "mcp",
      remote: { url: server.url, transport_type: i < 2 ? "streamable" : "sse" },
    }, { name: `s${i}` })
  );
  try {
    const results = await startToolsets(toolsets, { timeoutMs: 10_000 });
    assert.deepEqual(results.map((r) => [r.toolset.name, r.ok]), [
      ["s0", true],
      ["s1", true],
      ["s2", true],
      ["s3", true],
    ]);
    assert.equal(gate.arrived, 4);
  } finally {
    await Promise.all(toolsets.map((toolset) => toolset.stop()));
    await Promise.all(servers.map((server) => server.close()));
  }
});

Deno.test("startToolsets: failing toolsets are reported by name and reason; the others work", async () => {
  const http = await startHttpServer();
  // A port that was just free: nothing listens there any more.
  const closed = await startHttpServer();
  const deadUrl = closed.url;
  await closed.close();
  const toolsets = [
    createToolset({ type: "mcp", remote: { url: http.url } }, { name: "good" }),
    createToolset({ type: "mcp", remote: { url: deadUrl } }, { name: "dead" }),
    createToolset(
      { type: "mcp", command: "dagent-no-such-command-xyz" },
      { name: "missing" },
    ),
    createToolset(
      { type: "mcp", command: Deno.execPath(), args: ["run", STDIO_SERVER, "--fail-start"] },
      { name: "crashy" },
    ),
  ];
  try {
    const results = await startToolsets(toolsets, { timeoutMs: 10_000 });
    assert.deepEqual(results.map((r) => r.ok), [true, false, false, false]);
    const errors = results.map((r) => (r.ok ? undefined : r.error));
    assert.match(
      errors[1]!.message,
      /^toolset "dead": cannot reach http:\/\/127\.0\.0\.1:\d+\/mcp: connection refused$/,
    );
    assert.equal(errors[1]!.code, "mcp.unreachable");
    assert.match(
      errors[2]!.message,
      /^toolset "missing": command not found: dagent-no-such-command-xyz/,
    );
    assert.match(
      errors[3]!.message,
      /^toolset "crashy": the server exited before it finished starting/,
    );
    assert.match(errors[3]!.message, /refusing to start \(--fail-start given\)/);
    for (const error of errors.slice(1)) assert.ok(error instanceof DagentError);
    // The healthy toolset is usable.
    const result = await toolsets[0].callTool("echo", { text: "still here" });
    assert.deepEqual(result.content, [{ type: "text", text: "still here" }]);
  } finally {
    await Promise.all(toolsets.map((toolset) => toolset.stop()));
    await http.close();
  }
});

Deno.test("startToolsets: a server that never answers hits the per-toolset deadline", async () => {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let sawInitialize!: () => void;
  const initializeSeen = new Promise<void>((resolve) => (sawInitialize = resolve));
  const stuck = await startHttpServer({
    onMessage: (method) => {
      if (method !== "initialize") return;
      sawInitialize();
      return released;
    },
  });
  const http = await startHttpServer();
  const toolsets = [
    createToolset({ type: "mcp", remote: { url: stuck.url } }, { name: "stuck" }),
    createToolset({ type: "mcp", remote: { url: http.url } }, { name: "fine" }),
  ];
  try {
    const results = await startToolsets(toolsets, { timeoutMs: 400 });
    await initializeSeen;
    assert.equal(results[1].ok, true);
    assert.equal(results[0].ok, false);
    if (!results[0].ok) {
      assert.equal(results[0].error.code, "mcp.start_timeout");
      assert.equal(results[0].error.message, 'toolset "stuck" did not start within 0.4 s');
    }
  } finally {
    release();
    await Promise.all(toolsets.map((toolset) => toolset.stop()));
    await Promise.all([stuck.close(), http.close()]);
  }
});

Deno.test("stdio: stop() leaves no child process behind, and start is idempotent", async () => {
  const toolset = createToolset(
    { type: "mcp", command: Deno.execPath(), args: ["run", STDIO_SERVER] },
    { name: "local" },
  );
  await Promise.all([toolset.start(), toolset.start()]);
  const result = await toolset.callTool("whoami", { headers: ["x"] });
  assert.deepEqual(result.content, [{ type: "text", text: '{"x":null}' }]);
  // The fixture announces its pid on stderr; find the child through /proc instead of
  // trusting the transport: the process whose parent is us and that runs the fixture.
  const pids = childPidsRunning("stdio_server.ts");
  assert.equal(pids.length, 1, `expected one fixture child, found ${pids}`);
  assert.ok(processAlive(pids[0]));
  await toolset.stop();
  assert.equal(processAlive(pids[0]), false, `child ${pids[0]} still running after stop()`);
  await toolset.stop(); // idempotent
});

Deno.test("stdio: a toolset stopped while it starts gives up and spawns nothing", async () => {
  const toolset = createToolset(
    { type: "mcp", command: Deno.execPath(), args: ["run", STDIO_SERVER, "stopped-early"] },
    { name: "local" },
  );
  // The stdio module is loaded on first use: stop() lands while start() waits for it.
  const starting = toolset.start();
  await toolset.stop();
  await assert.rejects(
    starting,
    (error: unknown) => error instanceof DagentError && error.code === "mcp.stopped",
  );
  assert.deepEqual(childPidsRunning("stopped-early"), []);
  // A later start is a fresh one, and works.
  await toolset.start();
  assert.equal(childPidsRunning("stopped-early").length, 1);
  await toolset.stop();
  assert.deepEqual(childPidsRunning("stopped-early"), []);
});

Deno.test("stdio: relative cwd resolves against the base directory; env reaches the child", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      `${dir}/server.ts`,
      `import { serveStdio } from ${
        JSON.stringify(new URL("../fixtures/mcp/stdio_server.ts", import.meta.url).href)
      };\n` +
        `if (Deno.env.get("FIXTURE_TOKEN") !== "t0k") { console.error("no FIXTURE_TOKEN"); Deno.exit(4); }\n` +
        `await serveStdio();\nDeno.exit(0);\n`,
    );
    const config: ToolsetConfig = {
      type: "mcp",
      command: Deno.execPath(),
      args: ["run", "--config", CONFIG, "--allow-env", "server.ts"],
      cwd: ".",
      env: { FIXTURE_TOKEN: "t0k" },
    };
    const toolset = createToolset(config, { name: "rel", cwd: dir });
    try {
      await toolset.start();
      assert.equal((await toolset.listTools()).length, 6);
    } finally {
      await toolset.stop();
    }
    const noEnv = createToolset({ ...config, env: {} }, { name: "noenv", cwd: dir });
    await assert.rejects(noEnv.start(), /no FIXTURE_TOKEN/);
    await noEnv.stop();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("createToolset refuses toolsets that are not MCP servers", () => {
  assert.throws(() => createToolset({ type: "think" }, { name: "think" }), (error: unknown) => {
    assert.ok(error instanceof DagentError);
    assert.equal(error.exitCode, 2);
    return true;
  });
});

Deno.test("toolsetName: explicit name, remote host, runner target, command base name", () => {
  assert.equal(
    toolsetName({ type: "mcp", name: "slack", remote: { url: "https://x.io" } }, 0),
    "slack",
  );
  assert.equal(
    toolsetName({ type: "mcp", remote: { url: "https://mcp.slack.com/mcp" } }, 0),
    "mcp.slack.com",
  );
  assert.equal(
    toolsetName({
      type: "mcp",
      command: "npx",
      args: ["-y", "@modelcontextprotocol/server-filesystem@1.2", "."],
    }, 0),
    "server-filesystem",
  );
  assert.equal(
    toolsetName({
      type: "mcp",
      command: "deno",
      args: ["run", "-A", "fixtures/mcp/stdio_server.ts"],
    }, 0),
    "stdio_server",
  );
  assert.equal(toolsetName({ type: "mcp", command: "/usr/local/bin/github-mcp" }, 0), "github-mcp");
  assert.equal(toolsetName({ type: "mcp" }, 2), "mcp-3");
  assert.deepEqual(
    toolsetNames([
      { type: "mcp", command: "uvx", args: ["mcp-server-git"] },
      { type: "mcp", command: "uvx", args: ["mcp-server-git"] },
      { type: "mcp", name: "other", command: "x" },
    ]),
    ["mcp-server-git", "mcp-server-git-2", "other"],
  );
});

/** Pids of our child processes whose command line mentions `needle` (Linux /proc). */
function childPidsRunning(needle: string): number[] {
  const pids: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const cmdline = Deno.readTextFileSync(`/proc/${entry.name}/cmdline`);
      if (ppid === Deno.pid && cmdline.includes(needle)) pids.push(Number(entry.name));
    } catch { /* the process went away meanwhile */ }
  }
  return pids;
}
