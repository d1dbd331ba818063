import assert from "node:assert/strict";
import { DagentError } from "../lib/errors.ts";
import { withServerLock } from "../lib/oauth/lock.ts";

const HELPER = new URL("./oauth_lock_helper.ts", import.meta.url).pathname;
const KEY = "https://mcp.example/mcp";

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "dagent-lock-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function lockFiles(dir: string): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(`${dir}/locks`)) names.push(entry.name);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return names;
}

async function lockPath(dir: string, key: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(key));
  const hex = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${dir}/locks/${hex}.lock`;
}

/** A spawned helper with a line reader on its stdout. */
function spawnHelper(dir: string, name: string, log: string, mode: "hold" | "quick") {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", HELPER, dir, KEY, name, log, mode],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  /** Resolves with the next stdout line (waits on the process's output, no timers). */
  async function nextLine(): Promise<string> {
    while (!buffer.includes("\n")) {
      const { value, done } = await lines.read();
      if (done) throw new Error(`${name} exited before printing a line`);
      buffer += value;
    }
    const at = buffer.indexOf("\n");
    const line = buffer.slice(0, at);
    buffer = buffer.slice(at + 1);
    return line;
  }
  async function finish(): Promise<Deno.CommandStatus> {
    await child.stdin.close().catch(() => {});
    while (!(await lines.read()).done) { /* drain */ }
    return await child.status;
  }
  return { child, nextLine, finish };
}

Deno.test("lock: a second process waits for the first and proceeds after it releases", async () => {
  await withTempDir(async (dir) => {
    const log = `${dir}/order.log`;
    const a = spawnHelper(dir, "A", log, "hold");
    let b: ReturnType<typeof spawnHelper> | undefined;
    try {
      assert.equal(await a.nextLine(), "locked");
      b = spawnHelper(dir, "B", log, "quick"); // started only once A holds the lock
      // B must report waiting (A holds the lock) and must not get in before A lets go.
      assert.equal(await b.nextLine(), "waiting");
      assert.equal(await Deno.readTextFile(log), "A in\n");
      await a.child.stdin.close(); // A finishes its work and releases
      assert.equal(await a.nextLine(), "released");
      assert.equal(await b.nextLine(), "locked");
      assert.equal(await b.nextLine(), "released");
      assert.equal(await Deno.readTextFile(log), "A in\nA out\nB in\nB out\n");
    } finally {
      assert.equal((await a.finish()).code, 0);
      if (b) assert.equal((await b.finish()).code, 0);
    }
    assert.deepEqual(await lockFiles(dir), [], "no lock or temp file left behind");
  });
});

Deno.test("lock: a lock left by a dead process is taken over at once", async () => {
  await withTempDir(async (dir) => {
    const dead = new Deno.Command(Deno.execPath(), { args: ["--version"], stdout: "null" })
      .spawn();
    await dead.status;
    const file = await lockPath(dir, KEY);
    await Deno.mkdir(`${dir}/locks`, { recursive: true });
    await Deno.writeTextFile(
      file,
      JSON.stringify({
        pid: dead.pid,
        hostname: Deno.hostname(),
        createdAt: Date.now(),
        nonce: "dead",
      }),
    );
    let waited = false;
    const result = await withServerLock(dir, KEY, async () => {
      const content = JSON.parse(await Deno.readTextFile(file));
      assert.equal(content.pid, Deno.pid, "the lock is now ours");
      assert.equal(typeof content.createdAt, "number");
      assert.equal(content.hostname, Deno.hostname());
      return "ran";
    }, { onWait: () => waited = true, timeoutMs: 5_000 });
    assert.equal(result, "ran");
    assert.equal(waited, false);
    assert.deepEqual(await lockFiles(dir), []);
  });
});

Deno.test("lock: a lock older than staleMs is taken over even if its owner lives", async () => {
  await withTempDir(async (dir) => {
    const file = await lockPath(dir, KEY);
    await Deno.mkdir(`${dir}/locks`, { recursive: true });
    await Deno.writeTextFile(
      file,
      JSON.stringify({
        pid: Deno.pid,
        hostname: Deno.hostname(),
        createdAt: Date.now() - 60_000,
        nonce: "old",
      }),
    );
    assert.equal(await withServerLock(dir, KEY, () => Promise.resolve(1), { staleMs: 30_000 }), 1);
    // A garbled lock file is broken as well.
    await Deno.writeTextFile(file, "garbage");
    assert.equal(await withServerLock(dir, KEY, () => Promise.resolve(2)), 2);
  });
});

Deno.test("lock: gives up after timeoutMs with a clear error naming the holder and the file", async () => {
  await withTempDir(async (dir) => {
    await withServerLock(dir, KEY, async () => {
      let waitedFor: number | undefined;
      const error = await withServerLock(dir, KEY, () => Promise.resolve("no"), {
        timeoutMs: 300,
        onWait: (holder) => waitedFor = holder.pid,
      }).catch((e) => e);
      assert.equal(waitedFor, Deno.pid);
      assert.ok(error instanceof DagentError);
      assert.equal(error.code, "oauth.lock_timeout");
      assert.match(error.message, new RegExp(`pid ${Deno.pid}`));
      assert.match(error.message, /0\.3 seconds/);
      assert.ok(error.hint?.includes(await lockPath(dir, KEY)));
    });
  });
});

Deno.test("lock: in one process, callers are serialized; released when fn throws", async () => {
  await withTempDir(async (dir) => {
    const events: string[] = [];
    let releaseFirst!: () => void;
    const gate = new Promise<void>((resolve) => releaseFirst = resolve);
    let firstIn!: () => void;
    const firstEntered = new Promise<void>((resolve) => firstIn = resolve);
    const first = withServerLock(dir, KEY, async () => {
      events.push("first in");
      firstIn();
      await gate;
      events.push("first out");
      throw new Error("boom");
    });
    await firstEntered;
    let secondWaiting!: () => void;
    const waiting = new Promise<void>((resolve) => secondWaiting = resolve);
    const second = withServerLock(dir, KEY, () => {
      events.push("second in");
      return Promise.resolve("ok");
    }, { onWait: () => secondWaiting() });
    await waiting;
    // Another key is independent.
    assert.equal(await withServerLock(dir, "https://other.example/", () => Promise.resolve(3)), 3);
    releaseFirst();
    await assert.rejects(first, /boom/);
    assert.equal(await second, "ok");
    assert.deepEqual(events, ["first in", "first out", "second in"]);
    assert.deepEqual(await lockFiles(dir), []);
  });
});
