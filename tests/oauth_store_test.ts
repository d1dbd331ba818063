import assert from "node:assert/strict";
import { DagentError } from "../lib/errors.ts";
import { FileTokenStore } from "../lib/oauth/file_store.ts";
import {
  type CommandResult,
  type CommandRunner,
  KeychainTokenStore,
} from "../lib/oauth/keychain_store.ts";
import { openTokenStore } from "../lib/oauth/default_store.ts";
import { configDir, locksDir, tokenFilePath } from "../lib/oauth/paths.ts";
import type { StoredClient, StoredToken } from "../lib/oauth/store.ts";

const POSIX = Deno.build.os !== "windows";
const SECRET = "at-SECRET-" + crypto.randomUUID();

function token(n = 1): StoredToken {
  return {
    accessToken: `${SECRET}-${n}`,
    refreshToken: `rt-${n}`,
    tokenType: "Bearer",
    expiresAt: 1_900_000_000_000 + n,
    scopes: ["read", "write"],
    issuer: "https://as.example",
    tokenEndpoint: "https://as.example/token",
    tokenEndpointAuthMethod: "client_secret_basic",
    clientId: "client-1",
    resource: "https://mcp.example/mcp",
  };
}

const CLIENT: StoredClient = {
  clientId: "dyn-123",
  clientSecret: "cs-" + crypto.randomUUID(),
  issuer: "https://as.example",
  redirectUris: ["http://127.0.0.1:3118/callback"],
  tokenEndpointAuthMethod: "client_secret_post",
};

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "dagent-store-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function mode(info: Deno.FileInfo): number {
  return (info.mode ?? 0) & 0o777;
}

Deno.test("file store: round trip, 0700 dir, 0600 file, versioned JSON, survives a restart", async () => {
  await withTempDir(async (root) => {
    const dir = `${root}/nested/dagent`;
    const store = new FileTokenStore(dir);
    assert.equal(store.location, tokenFilePath(dir));
    assert.equal(await store.loadToken("https://mcp.example/mcp"), undefined);
    await store.saveToken("https://mcp.example/mcp", token(1));
    await store.saveClient("https://as.example", CLIENT);
    if (POSIX) {
      assert.equal(mode(await Deno.stat(dir)), 0o700);
      assert.equal(mode(await Deno.stat(store.location)), 0o600);
    }
    const onDisk = JSON.parse(await Deno.readTextFile(store.location));
    assert.equal(onDisk.version, 1);
    assert.deepEqual(Object.keys(onDisk.tokens), ["https://mcp.example/mcp"]);
    assert.deepEqual(Object.keys(onDisk.clients), ["https://as.example"]);

    // A new process (a new instance) sees the same data.
    const again = new FileTokenStore(dir);
    assert.deepEqual(await again.loadToken("https://mcp.example/mcp"), token(1));
    assert.deepEqual(await again.loadClient("https://as.example"), CLIENT);
    assert.deepEqual(await again.listTokens(), [["https://mcp.example/mcp", token(1)]]);
    assert.deepEqual(await again.listClients(), [["https://as.example", CLIENT]]);

    // Mutating a loaded object does not change the store.
    const loaded = await again.loadToken("https://mcp.example/mcp");
    loaded!.scopes.push("admin");
    assert.deepEqual((await again.loadToken("https://mcp.example/mcp"))!.scopes, ["read", "write"]);

    await again.deleteToken("https://mcp.example/mcp");
    await again.deleteClient("https://as.example");
    await again.deleteToken("https://never.example/"); // no error for a missing key
    assert.equal(await store.loadToken("https://mcp.example/mcp"), undefined);
    assert.equal(await store.loadClient("https://as.example"), undefined);
    // No temp files are left behind by atomic writes.
    const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assert.deepEqual(names, ["locks", "tokens.json"]);
    assert.deepEqual([...Deno.readDirSync(`${dir}/locks`)], [], "store lock released");
  });
});

Deno.test({
  name: "file store: a store file other users can read (0644) is refused with the chmod to run",
  ignore: !POSIX,
  async fn() {
    await withTempDir(async (dir) => {
      const store = new FileTokenStore(dir);
      await store.saveToken("https://mcp.example/mcp", token());
      await Deno.chmod(store.location, 0o644);
      const before = await Deno.readTextFile(store.location);
      for (const attempt of [() => store.loadToken("x"), () => store.saveToken("y", token(2))]) {
        const error = await attempt().then(() => assert.fail("must refuse"), (e: unknown) => e);
        assert.ok(error instanceof DagentError);
        assert.equal(error.code, "store.insecure_permissions");
        assert.match(error.message, /mode 0644/);
        assert.equal(error.hint, `Run: chmod 600 ${store.location}`);
        assert.ok(!error.message.includes(SECRET));
      }
      assert.equal(await Deno.readTextFile(store.location), before, "file left untouched");
      await Deno.chmod(store.location, 0o600);
      assert.deepEqual(await store.loadToken("https://mcp.example/mcp"), token());
    });
  },
});

Deno.test("file store: a corrupt file is moved aside and reported, never silently emptied", async () => {
  for (
    const [label, content] of [
      ["bad JSON", "{ not json"],
      [
        "wrong shape",
        JSON.stringify({ version: 1, tokens: { u: { accessToken: 5 } }, clients: {} }),
      ],
      ["no version", JSON.stringify({ tokens: {}, clients: {} })],
    ]
  ) {
    await withTempDir(async (dir) => {
      const warnings: DagentError[] = [];
      const store = new FileTokenStore(dir, { onWarning: (w) => warnings.push(w) });
      await Deno.writeTextFile(store.location, content, { mode: 0o600 });
      if (POSIX) await Deno.chmod(store.location, 0o600);
      assert.equal(await store.loadToken("u"), undefined, label);
      assert.equal(warnings.length, 1, label);
      assert.equal(warnings[0].code, "store.corrupt");
      const aside = [...Deno.readDirSync(dir)].map((e) => e.name)
        .filter((n) => n.startsWith("tokens.json.corrupt-"));
      assert.equal(aside.length, 1, label);
      assert.equal(await Deno.readTextFile(`${dir}/${aside[0]}`), content, "kept intact");
      assert.ok(warnings[0].message.includes(aside[0]), "the message names where it went");
      // The store works again afterwards.
      await store.saveToken("u", token());
      assert.deepEqual(await store.loadToken("u"), token());
      assert.equal(warnings.length, 1);
    });
  }
});

Deno.test("file store: a file from a newer dagent is refused and left alone", async () => {
  await withTempDir(async (dir) => {
    const store = new FileTokenStore(dir, { onWarning: () => assert.fail("no repair") });
    const content = JSON.stringify({ version: 2, tokens: {}, clients: {} });
    await Deno.writeTextFile(store.location, content, { mode: 0o600 });
    if (POSIX) await Deno.chmod(store.location, 0o600);
    await assert.rejects(store.loadToken("u"), (e: unknown) => {
      assert.ok(e instanceof DagentError);
      assert.equal(e.code, "store.newer_version");
      return true;
    });
    assert.equal(await Deno.readTextFile(store.location), content);
  });
});

Deno.test("file store: concurrent saves in one process lose no update", async () => {
  await withTempDir(async (dir) => {
    const a = new FileTokenStore(dir);
    const b = new FileTokenStore(dir); // a second instance on the same file shares the queue
    const writes = Array.from(
      { length: 40 },
      (_, i) => (i % 2 ? a : b).saveToken(`https://s${i}.example/mcp`, token(i)),
    );
    writes.push(a.saveClient("https://as.example", CLIENT));
    await Promise.all(writes);
    const all = await a.listTokens();
    assert.equal(all.length, 40);
    for (let i = 0; i < 40; i++) {
      assert.deepEqual(await b.loadToken(`https://s${i}.example/mcp`), token(i));
    }
    assert.deepEqual(await b.loadClient("https://as.example"), CLIENT);
  });
});

Deno.test("file store: a directory that cannot hold the store gives a clear error", async () => {
  await withTempDir(async (root) => {
    const notADir = `${root}/file`;
    await Deno.writeTextFile(notADir, "");
    const error = await new FileTokenStore(notADir).saveToken("u", token()).catch((e) => e);
    assert.ok(error instanceof DagentError);
    assert.equal(error.code, "store.io");
    assert.match(error.message, /Cannot (read|write|use)/);
    assert.match(error.hint ?? "", /DAGENT_HOME/);
  });
});

Deno.test({
  name: "file store: a failed write leaves the old file intact and says what to do",
  ignore: !POSIX || Deno.uid() === 0,
  async fn() {
    await withTempDir(async (dir) => {
      const store = new FileTokenStore(dir);
      await store.saveToken("u", token(1));
      await Deno.chmod(dir, 0o500); // no new files (temp) can be created
      try {
        const error = await store.saveToken("u", token(2)).catch((e) => e);
        assert.ok(error instanceof DagentError);
        assert.equal(error.code, "store.io");
        assert.match(error.hint ?? "", /DAGENT_HOME/);
      } finally {
        await Deno.chmod(dir, 0o700);
      }
      assert.deepEqual(await store.loadToken("u"), token(1));
    });
  },
});

Deno.test("paths: DAGENT_HOME, XDG_CONFIG_HOME, platform defaults", () => {
  assert.equal(configDir({ env: { DAGENT_HOME: "/d", HOME: "/h" }, platform: "linux" }), "/d");
  assert.equal(
    configDir({ env: { XDG_CONFIG_HOME: "/x", HOME: "/h" }, platform: "linux" }),
    "/x/dagent",
  );
  // A relative XDG_CONFIG_HOME is ignored, per the XDG spec.
  assert.equal(
    configDir({ env: { XDG_CONFIG_HOME: "rel", HOME: "/h" }, platform: "linux" }),
    "/h/.config/dagent",
  );
  assert.equal(
    configDir({ env: { HOME: "/Users/me" }, platform: "darwin" }),
    "/Users/me/Library/Application Support/dagent",
  );
  assert.throws(() => configDir({ env: {}, platform: "linux" }), (e: unknown) => {
    assert.ok(e instanceof DagentError);
    assert.match(e.hint ?? "", /DAGENT_HOME/);
    return true;
  });
  assert.equal(locksDir("/d"), "/d/locks");
  assert.equal(tokenFilePath("/d"), "/d/tokens.json");
});

/** A fake keychain tool: records calls and keeps items in a map, like secret-tool/security. */
function fakeKeychain(platform: "linux" | "darwin") {
  const calls: Array<{ cmd: string; args: string[]; stdin?: string }> = [];
  const items = new Map<string, string>();
  const notFound: CommandResult = platform === "linux"
    ? { code: 1, stdout: "", stderr: "" }
    : { code: 44, stdout: "", stderr: "security: item not found" };
  const runner: CommandRunner = (cmd, args, opts) => {
    calls.push({ cmd, args, stdin: opts.stdin });
    const op = args[0];
    const key = platform === "linux"
      ? args.slice(args.indexOf("kind") + 1).join("|")
      : args[args.indexOf("-a") + 1];
    if (op === "store" || op === "add-generic-password") {
      items.set(key, opts.stdin ?? args[args.indexOf("-w") + 1]);
      return Promise.resolve({ code: 0, stdout: "", stderr: "" });
    }
    if (op === "lookup" || op === "find-generic-password") {
      const value = items.get(key);
      return Promise.resolve(
        value === undefined ? notFound : { code: 0, stdout: value + "\n", stderr: "" },
      );
    }
    if (op === "clear" || op === "delete-generic-password") {
      const had = items.delete(key);
      return Promise.resolve(
        had || platform === "linux" ? { code: 0, stdout: "", stderr: "" } : notFound,
      );
    }
    return Promise.resolve({ code: 2, stdout: "", stderr: "unknown" });
  };
  return { calls, items, runner };
}

Deno.test("keychain store (linux): secret-tool commands, secret on stdin only", async () => {
  const fake = fakeKeychain("linux");
  const store = new KeychainTokenStore({ platform: "linux", runner: fake.runner });
  assert.equal(store.location, "OS keychain (secret-tool)");
  assert.equal(await store.loadToken("https://mcp.example/mcp"), undefined);
  await store.saveToken("https://mcp.example/mcp", token());
  await store.saveClient("https://as.example", CLIENT);
  assert.deepEqual(await store.loadToken("https://mcp.example/mcp"), token());
  assert.deepEqual(await store.loadClient("https://as.example"), CLIENT);
  const save = fake.calls.find((c) => c.args[0] === "store")!;
  assert.equal(save.cmd, "secret-tool");
  assert.deepEqual(save.args.slice(2), [
    "service",
    "dagent",
    "kind",
    "token",
    "key",
    "https://mcp.example/mcp",
  ]);
  assert.match(save.args[1], /^--label=dagent token for /);
  for (const call of fake.calls) {
    assert.ok(!call.args.join(" ").includes(SECRET), "no secret in argv");
    assert.ok(!call.args.join(" ").includes(CLIENT.clientSecret!), "no client secret in argv");
  }
  assert.ok(save.stdin?.includes(SECRET));
  await store.deleteToken("https://mcp.example/mcp");
  assert.equal(await store.loadToken("https://mcp.example/mcp"), undefined);
  const clear = fake.calls.find((c) => c.args[0] === "clear")!;
  assert.deepEqual(clear.args, [
    "clear",
    "service",
    "dagent",
    "kind",
    "token",
    "key",
    "https://mcp.example/mcp",
  ]);
});

Deno.test("keychain store (darwin): security commands, not-found is not an error", async () => {
  const fake = fakeKeychain("darwin");
  const store = new KeychainTokenStore({ platform: "darwin", runner: fake.runner });
  assert.equal(await store.loadClient("https://as.example"), undefined);
  await store.saveToken("https://mcp.example/mcp", token());
  assert.deepEqual(await store.loadToken("https://mcp.example/mcp"), token());
  const add = fake.calls.find((c) => c.args[0] === "add-generic-password")!;
  assert.equal(add.cmd, "security");
  assert.deepEqual(add.args.slice(0, 6), [
    "add-generic-password",
    "-U",
    "-s",
    "dagent",
    "-a",
    "token:https://mcp.example/mcp",
  ]);
  const find = fake.calls.find((c) => c.args[0] === "find-generic-password")!;
  assert.deepEqual(find.args, [
    "find-generic-password",
    "-s",
    "dagent",
    "-a",
    "client:https://as.example",
    "-w",
  ]);
  await store.deleteClient("https://never.example"); // 44 = not found: fine
  await store.deleteToken("https://mcp.example/mcp");
  assert.equal(fake.items.size, 0);
});

Deno.test("keychain store: failures are DagentErrors that never echo the secret", async () => {
  const failing: CommandRunner = () =>
    Promise.resolve({
      code: 5,
      stdout: "",
      stderr: "Cannot create an item in a locked collection\nmore",
    });
  const store = new KeychainTokenStore({ platform: "linux", runner: failing });
  const error = await store.saveToken("https://mcp.example/mcp", token()).catch((e) => e);
  assert.ok(error instanceof DagentError);
  assert.equal(error.code, "store.keychain");
  assert.match(error.message, /locked collection/);
  assert.ok(!error.message.includes("more"));
  assert.ok(!error.message.includes(SECRET));
  assert.match(error.hint ?? "", /DAGENT_KEYCHAIN=off/);
  const missing = new KeychainTokenStore({
    platform: "linux",
    runner: () => Promise.reject(new Deno.errors.NotFound("secret-tool")),
  });
  await assert.rejects(missing.loadToken("u"), (e: unknown) => e instanceof DagentError);
  // An unparsable item is ignored with a warning, not returned.
  const warnings: DagentError[] = [];
  const garbled = new KeychainTokenStore({
    platform: "linux",
    runner: () => Promise.resolve({ code: 0, stdout: "not json", stderr: "" }),
    onWarning: (w) => warnings.push(w),
  });
  assert.equal(await garbled.loadToken("u"), undefined);
  assert.equal(warnings[0]?.code, "store.corrupt");
});

Deno.test("keychain probe: answers only when a dummy lookup completes", async () => {
  const answer = (r: CommandResult): CommandRunner => () => Promise.resolve(r);
  const linux = (runner: CommandRunner) => KeychainTokenStore.probe({ platform: "linux", runner });
  assert.equal(await linux(answer({ code: 1, stdout: "", stderr: "" })), true);
  assert.equal(await linux(answer({ code: 0, stdout: "x", stderr: "" })), true);
  assert.equal(
    await linux(answer({ code: 1, stdout: "", stderr: "Cannot autolaunch D-Bus without X11" })),
    false,
  );
  assert.equal(await linux(() => Promise.reject(new Deno.errors.NotFound("x"))), false);
  assert.equal(await linux(answer({ code: -1, stdout: "", stderr: "" })), false); // killed
  const darwin = (r: CommandResult) =>
    KeychainTokenStore.probe({ platform: "darwin", runner: answer(r) });
  assert.equal(await darwin({ code: 44, stdout: "", stderr: "not found" }), true);
  assert.equal(await darwin({ code: 51, stdout: "", stderr: "user interaction" }), false);
  assert.equal(await KeychainTokenStore.probe({ platform: "windows" }), false);
  // The probe passes the 2 s budget to the runner.
  let budget = 0;
  await KeychainTokenStore.probe({
    platform: "linux",
    runner: (_c, _a, o) => {
      budget = o.timeoutMs;
      return Promise.resolve({ code: 1, stdout: "", stderr: "" });
    },
  });
  assert.equal(budget, 2_000);
});

Deno.test("keychain probe: the real probe on this machine (no keyring: false) is bounded", async () => {
  let hasSecretTool = true;
  try {
    await new Deno.Command("secret-tool", { args: ["--version"], stdout: "null", stderr: "null" })
      .output();
  } catch {
    hasSecretTool = false;
  }
  const started = performance.now();
  const answered = await KeychainTokenStore.probe();
  assert.ok(performance.now() - started < 5_000);
  if (!hasSecretTool && Deno.build.os === "linux") assert.equal(answered, false);
});

Deno.test("openTokenStore: file store unless a keychain answers; keychain: off wins", async () => {
  await withTempDir(async (dir) => {
    const off = await openTokenStore({ dir, keychain: "off" });
    assert.ok(off instanceof FileTokenStore);
    assert.equal(off.location, `${dir}/tokens.json`);
    const silent = await openTokenStore({
      dir,
      keychain: "auto",
      keychainOptions: {
        platform: "linux",
        runner: () => Promise.reject(new Deno.errors.NotFound("x")),
      },
    });
    assert.ok(silent instanceof FileTokenStore);
    const fake = fakeKeychain("linux");
    const answering = await openTokenStore({
      dir,
      keychain: "auto",
      keychainOptions: { platform: "linux", runner: fake.runner },
    });
    assert.ok(answering instanceof KeychainTokenStore);
    await answering.saveToken("u", token());
    assert.deepEqual(await answering.loadToken("u"), token());
    const forcedOff = await openTokenStore({
      dir,
      keychain: "off",
      keychainOptions: { platform: "linux", runner: fake.runner },
    });
    assert.ok(forcedOff instanceof FileTokenStore);
  });
});

Deno.test("file store: two processes saving at once lose no update", async () => {
  await withTempDir(async (dir) => {
    const module = new URL("../lib/oauth/file_store.ts", import.meta.url).href;
    const writer = (name: string) =>
      new Deno.Command(Deno.execPath(), {
        args: [
          "eval",
          `import { FileTokenStore } from ${JSON.stringify(module)};
          const store = new FileTokenStore(${JSON.stringify(dir)});
          const token = ${JSON.stringify(token())};
          for (let i = 0; i < 15; i++) await store.saveToken("https://${name}" + i + ".example/", token);`,
        ],
        stdout: "null",
        stderr: "piped",
      }).output();
    const results = await Promise.all([writer("a"), writer("b"), writer("c")]);
    for (const r of results) assert.equal(r.code, 0, new TextDecoder().decode(r.stderr));
    const all = await new FileTokenStore(dir).listTokens();
    assert.equal(all.length, 45);
  });
});
