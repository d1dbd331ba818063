import assert from "node:assert/strict";
import { join } from "node:path";
import {
  auditDataDir,
  importPublicKey,
  keyFilePath,
  loadKeyPair,
  loadOrCreateKeyPair,
  normalizePublicKey,
} from "../lib/audit/keys.ts";
import { DagentError } from "../lib/errors.ts";

const POSIX = Deno.build.os !== "windows";

Deno.test("keys: created on first use, file 0600 in a 0700 dir, same key on reload", async () => {
  const root = await Deno.makeTempDir();
  try {
    const dir = join(root, "data", "dagent");
    assert.equal(await loadKeyPair(dir), undefined);
    const created = await loadOrCreateKeyPair(dir);
    assert.match(created.publicKey, /^[A-Za-z0-9_-]{43}$/);
    if (POSIX) {
      assert.equal((await Deno.stat(keyFilePath(dir))).mode! & 0o777, 0o600);
      assert.equal((await Deno.stat(dir)).mode! & 0o777, 0o700);
    }
    const again = await loadOrCreateKeyPair(dir);
    assert.equal(again.publicKey, created.publicKey);
    // The private key signs what the public key verifies.
    const data = new TextEncoder().encode("audit");
    const sig = await crypto.subtle.sign("Ed25519", again.privateKey, data);
    const pub = await importPublicKey(created.publicKey);
    assert.equal(await crypto.subtle.verify("Ed25519", pub, sig, data), true);
    // No temp files left behind.
    const names = [];
    for await (const entry of Deno.readDir(dir)) names.push(entry.name);
    assert.deepEqual(names, ["audit-key.json"]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("keys: concurrent first use in one dir agrees on one key", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const pairs = await Promise.all(Array.from({ length: 8 }, () => loadOrCreateKeyPair(dir)));
    assert.equal(new Set(pairs.map((p) => p.publicKey)).size, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "keys: a key file other users can read is refused with a chmod hint",
  ignore: !POSIX,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      await loadOrCreateKeyPair(dir);
      await Deno.chmod(keyFilePath(dir), 0o644);
      await assert.rejects(loadOrCreateKeyPair(dir), (error: unknown) => {
        assert.ok(error instanceof DagentError);
        assert.equal(error.code, "audit.key_permissions");
        assert.match(error.hint ?? "", /chmod 600/);
        return true;
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("keys: a damaged or mismatched key file is reported, never silently replaced", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = keyFilePath(dir);
    await Deno.writeTextFile(path, "{not json", { mode: 0o600 });
    await assert.rejects(loadOrCreateKeyPair(dir), /damaged/);
    assert.equal(await Deno.readTextFile(path), "{not json");
    // A public key that is not the private key's.
    const other = await Deno.makeTempDir();
    await loadOrCreateKeyPair(other);
    const content = JSON.parse(await Deno.readTextFile(keyFilePath(other)));
    content.publicKey = "A".repeat(43);
    await Deno.writeTextFile(path, JSON.stringify(content), { mode: 0o600 });
    await assert.rejects(loadOrCreateKeyPair(dir), /damaged/);
    await Deno.remove(other, { recursive: true });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("keys: data dir from DAGENT_HOME, XDG_DATA_HOME (absolute only), then HOME", () => {
  assert.equal(auditDataDir({ env: { DAGENT_HOME: "/d", HOME: "/h" }, platform: "linux" }), "/d");
  assert.equal(
    auditDataDir({ env: { XDG_DATA_HOME: "/x", HOME: "/h" }, platform: "linux" }),
    "/x/dagent",
  );
  assert.equal(
    auditDataDir({ env: { XDG_DATA_HOME: "rel", HOME: "/h" }, platform: "linux" }),
    "/h/.local/share/dagent",
  );
  assert.equal(
    auditDataDir({ env: { HOME: "/h" }, platform: "darwin" }),
    "/h/Library/Application Support/dagent",
  );
  assert.throws(() => auditDataDir({ env: {}, platform: "linux" }), DagentError);
});

Deno.test("keys: public keys normalize from base64 or base64url; junk is a usage error", async () => {
  const raw = new Uint8Array(32).map((_, i) => 250 - i);
  const b64 = btoa(String.fromCharCode(...raw));
  const url = normalizePublicKey(b64)!;
  assert.ok(!url.includes("=") && !url.includes("+") && !url.includes("/"));
  assert.equal(normalizePublicKey(url), url);
  assert.equal(normalizePublicKey("short"), undefined);
  await assert.rejects(importPublicKey("not a key"), (error: unknown) => {
    assert.ok(error instanceof DagentError);
    assert.equal(error.exitCode, 2);
    return true;
  });
});
