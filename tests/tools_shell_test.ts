/**
 * The shell toolset with real processes: output and exit codes, cwd, argument errors, the
 * tail-keeping output cap, and that a timeout, a stop() or the end of the command leaves
 * no process behind — checked in /proc for the very pids the command started.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { createBuiltinToolset } from "../lib/tools/mod.ts";
import { MAX_OUTPUT_BYTES } from "../lib/tools/shell.ts";
import type { ToolResult, Toolset } from "../lib/mcp/types.ts";

const posix = Deno.build.os !== "windows";
const linux = Deno.build.os === "linux";

function text(result: ToolResult): string {
  const first = result.content[0] as { type: string; text: string };
  assert.equal(first.type, "text");
  return first.text;
}

async function withShell(
  fn: (shell: Toolset, dir: string) => Promise<void>,
  timeout?: number,
): Promise<void> {
  const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "dagent-shell-" }));
  const shell = createBuiltinToolset({ type: "shell", timeout }, { name: "sh", cwd: dir });
  try {
    await shell.start();
    await fn(shell, dir);
  } finally {
    await shell.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

/** True while `pid` is a live process (a zombie waiting for its reaper counts as gone). */
async function alive(pid: number): Promise<boolean> {
  try {
    const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
    const state = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
    return state !== "Z" && state !== "X";
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

Deno.test({
  name: "shell returns combined output and exit code 0",
  ignore: !posix,
  fn: () =>
    withShell(async (shell) => {
      const result = await shell.callTool("shell", { cmd: "echo out; echo err >&2" });
      assert.equal(result.isError, undefined);
      assert.equal(text(result), "out\nerr\n[exit code 0]");
      assert.deepEqual(result.structuredContent, { exit_code: 0, signal: null });
    }),
});

Deno.test({
  name: "a non-zero exit is a tool error that carries the output and the code",
  ignore: !posix,
  fn: () =>
    withShell(async (shell) => {
      const result = await shell.callTool("shell", { cmd: "echo 'no such thing' >&2; exit 3" });
      assert.equal(result.isError, true);
      assert.equal(text(result), "no such thing\n[exit code 3]");
      assert.equal(result.structuredContent?.exit_code, 3);
    }),
});

Deno.test({
  name: "cwd: the toolset's directory by default, a relative cwd below it, a missing one refused",
  ignore: !posix,
  fn: () =>
    withShell(async (shell, dir) => {
      await Deno.mkdir(join(dir, "sub"));
      assert.equal(text(await shell.callTool("shell", { cmd: "pwd" })), `${dir}\n[exit code 0]`);
      assert.equal(
        text(await shell.callTool("shell", { cmd: "pwd", cwd: "sub" })),
        `${join(dir, "sub")}\n[exit code 0]`,
      );
      const missing = await shell.callTool("shell", { cmd: "pwd", cwd: "nope" });
      assert.equal(missing.isError, true);
      assert.match(text(missing), /working directory "nope" does not exist/);
    }),
});

Deno.test({
  name: "stdin is closed, so a command reading it ends instead of hanging",
  ignore: !posix,
  fn: () =>
    withShell(async (shell) => {
      const result = await shell.callTool("shell", { cmd: "cat; echo done" });
      assert.equal(text(result), "done\n[exit code 0]");
    }),
});

Deno.test("shell argument errors are tool errors", async () => {
  await withShell(async (shell) => {
    assert.match(text(await shell.callTool("shell", {})), /missing required argument "cmd"/);
    assert.match(text(await shell.callTool("shell", { cmd: "  " })), /must not be empty/);
    const badTimeout = await shell.callTool("shell", { cmd: "true", timeout: -1 });
    assert.equal(badTimeout.isError, true);
    assert.match(text(badTimeout), /"timeout" must be between 0 and 600 seconds/);
  });
});

Deno.test({
  name: "output beyond 64 KiB keeps the tail and says how much there was",
  ignore: !posix,
  fn: () =>
    withShell(async (shell) => {
      // 1..40000, one per line: 228,894 bytes.
      const result = await shell.callTool("shell", { cmd: "seq 1 40000" });
      const output = text(result);
      assert.equal(result.isError, undefined);
      const lines = output.split("\n");
      assert.equal(lines[0], "[output truncated: showing the last 64 KiB of 228894 bytes]");
      assert.equal(lines.at(-1), "[exit code 0]");
      assert.equal(lines.at(-2), "40000");
      const body = lines.slice(1, -1).join("\n") + "\n";
      assert.equal(new TextEncoder().encode(body).length, MAX_OUTPUT_BYTES);
      // What is kept is exactly the end of the real output.
      const expected = Array.from({ length: 40000 }, (_, i) => `${i + 1}\n`).join("");
      assert.ok(expected.endsWith(body));
    }),
});

Deno.test({
  name: "a timeout kills the command and everything it started",
  ignore: !linux,
  fn: () =>
    withShell(async (shell, dir) => {
      const pidFile = join(dir, "pids");
      const result = await shell.callTool("shell", {
        cmd: `sleep 60 & echo "$$ $!" > ${pidFile}; echo started; wait`,
        timeout: 0.5,
      });
      assert.equal(result.isError, true);
      assert.equal(text(result), "started\n[timed out after 0.5 s; the command was killed]");
      assert.equal(result.structuredContent?.timed_out, true);
      const pids = (await Deno.readTextFile(pidFile)).trim().split(" ").map(Number);
      assert.equal(pids.length, 2);
      for (const pid of pids) assert.equal(await alive(pid), false, `pid ${pid} still runs`);
    }),
});

Deno.test({
  name: "the config's timeout (seconds) is the default for every call",
  ignore: !posix,
  fn: () =>
    withShell(async (shell) => {
      const result = await shell.callTool("shell", { cmd: "sleep 30" });
      assert.equal(result.isError, true);
      assert.match(text(result), /timed out after 0.3 s/);
    }, 0.3),
});

Deno.test({
  name: "background processes left when the command ends are stopped with it",
  ignore: !linux,
  fn: () =>
    withShell(async (shell, dir) => {
      const pidFile = join(dir, "pid");
      const result = await shell.callTool("shell", { cmd: `sleep 60 & echo $! > ${pidFile}` });
      assert.equal(text(result), "[exit code 0]");
      const pid = Number(await Deno.readTextFile(pidFile));
      assert.ok(pid > 0);
      assert.equal(await alive(pid), false);
    }),
});

Deno.test({
  name: "stop() cancels a running command and kills it",
  ignore: !linux,
  fn: () =>
    withShell(async (shell, dir) => {
      const fifo = join(dir, "ready");
      await new Deno.Command("mkfifo", { args: [fifo] }).output();
      const running = shell.callTool("shell", {
        cmd: `echo $$ > ${fifo}; sleep 60`,
        timeout: 30,
      });
      // Reading the fifo waits until the shell is really running.
      const pid = Number((await Deno.readTextFile(fifo)).trim());
      assert.equal(await alive(pid), true);
      await shell.stop();
      const result = await running;
      assert.equal(result.isError, true);
      assert.match(text(result), /\[cancelled; the command was killed\]/);
      assert.equal(await alive(pid), false);
      // The toolset runs commands again after a stop.
      assert.equal(
        text(await shell.callTool("shell", { cmd: "echo again" })),
        "again\n[exit code 0]",
      );
    }),
});

Deno.test({
  name: "a caller's abort signal cancels the command",
  ignore: !posix,
  fn: () =>
    withShell(async (shell) => {
      const controller = new AbortController();
      const running = shell.callTool("shell", { cmd: "echo going; sleep 60" }, {
        signal: controller.signal,
      });
      controller.abort();
      const result = await running;
      assert.equal(result.isError, true);
      assert.match(text(result), /cancelled/);
    }),
});
