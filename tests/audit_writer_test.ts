import assert from "node:assert/strict";
import { join } from "node:path";
import { openAuditLog } from "../lib/audit/writer.ts";
import { verifyFile, verifyLog } from "../lib/audit/verify.ts";
import { GENESIS, recordHash, sha256Hex } from "../lib/audit/records.ts";
import { canonicalBytes } from "../lib/audit/canonical.ts";
import { DagentError } from "../lib/errors.ts";
import { toolCall, writeLog } from "./audit_helpers.ts";

const POSIX = Deno.build.os !== "windows";

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "dagent-audit-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function records(text: string): Array<Record<string, unknown>> {
  return text.trimEnd().split("\n").map((line) => JSON.parse(line));
}

Deno.test("writer: 500 concurrent appends give 500 whole lines in call order, one chain", async () => {
  await withDir(async (dir) => {
    const log = (await openAuditLog({ config: {}, dataDir: dir, sessionId: "burst" }))!;
    await Promise.all(
      Array.from({ length: 500 }, (_, i) => log.append(toolCall(`t${i}`, { i }))),
    );
    await log.close();
    const text = await Deno.readTextFile(log.path);
    const all = records(text);
    assert.equal(all.length, 502);
    assert.deepEqual(all.map((r) => r.seq), all.map((_, i) => i));
    assert.deepEqual(all.slice(1, -1).map((r) => r.tool), all.slice(1, -1).map((_, i) => `t${i}`));
    assert.equal(new Set(all.map((r) => r.prev)).size, all.length, "no two records share prev");
    assert.equal(new Set(all.map((r) => r.id)).size, all.length, "ids are unique");
    assert.equal(all[0].prev, GENESIS);
    for (let i = 1; i < all.length; i++) assert.equal(all[i].prev, recordHash(all[i - 1]));
    assert.equal(all.at(-1)!.type, "session_end");
    assert.equal(all.at(-1)!.records, 502);
    const report = await verifyLog(text);
    assert.equal(report.ok, true, JSON.stringify(report.finding));
    assert.equal(report.records, 502);
  });
});

Deno.test("writer: session_start carries the public key; files 0600 in a 0700 dir", async () => {
  await withDir(async (dir) => {
    const written = await writeLog(1, dir);
    const [start] = records(written.text);
    assert.equal(start.type, "session_start");
    assert.equal(start.publicKey, written.publicKey);
    assert.equal(start.session, "s1");
    assert.equal(written.path, join(dir, "audit", "s1.jsonl"));
    if (POSIX) {
      assert.equal((await Deno.stat(written.path)).mode! & 0o777, 0o600);
      assert.equal((await Deno.stat(join(dir, "audit"))).mode! & 0o777, 0o700);
    }
  });
});

Deno.test("writer: arguments hashed by default; kept and redacted only when configured", async () => {
  await withDir(async (dir) => {
    const args = {
      path: "notes.txt",
      access_token: "tok-SECRET-1",
      nested: { Authorization: "Bearer abcdefghijk", note: "uses Bearer abcdefghijklmnop" },
      password: "hunter2",
    };
    const hashed = (await openAuditLog({ config: {}, dataDir: dir, sessionId: "hashed" }))!;
    await hashed.append(toolCall("write_file", args));
    await hashed.append({
      type: "tool_result",
      agent: "root",
      toolset: "fs",
      tool: "write_file",
      status: "ok",
      result: "wrote 12 bytes",
    });
    await hashed.close();
    const plain = await Deno.readTextFile(hashed.path);
    const [, call, result] = records(plain);
    assert.equal(call.arguments, undefined);
    assert.equal(call.argumentsSha256, sha256Hex(canonicalBytes(args)));
    assert.equal(result.result, undefined);
    assert.equal(result.size, 14);
    assert.equal(result.sha256, sha256Hex(new TextEncoder().encode("wrote 12 bytes")));
    assert.doesNotMatch(plain, /notes\.txt|SECRET|hunter2|abcdefghijk/);

    const kept = (await openAuditLog({
      config: { include_arguments: true, include_results: true },
      dataDir: dir,
      sessionId: "kept",
    }))!;
    await kept.append(toolCall("write_file", args));
    await kept.close();
    const text = await Deno.readTextFile(kept.path);
    const [start, keptCall] = records(text);
    assert.equal(start.include_arguments, true);
    assert.deepEqual(keptCall.arguments, {
      path: "notes.txt",
      access_token: "[redacted]",
      nested: { Authorization: "[redacted]", note: "uses Bearer [redacted]" },
      password: "[redacted]",
    });
    assert.doesNotMatch(text, /SECRET|hunter2|abcdefghijk/);
    assert.equal((await verifyLog(text)).ok, true);
  });
});

Deno.test("writer: auth and model_call events; malformed events rejected, nothing written", async () => {
  await withDir(async (dir) => {
    const log = (await openAuditLog({ config: {}, dataDir: dir, sessionId: "events" }))!;
    await log.append({
      type: "auth",
      server: "https://mcp.example/mcp",
      issuer: "https://as.example",
      scopes: ["chat:write"],
      outcome: "signed_in",
    });
    await log.append({
      type: "model_call",
      agent: "root",
      provider: "anthropic",
      model: "claude",
      usage: { input_tokens: 10, output_tokens: 2 },
    });
    // deno-lint-ignore no-explicit-any
    await assert.rejects(log.append({ ...toolCall("x"), approval: "maybe" } as any), TypeError);
    // deno-lint-ignore no-explicit-any
    await assert.rejects(log.append({ type: "session_end" } as any), TypeError);
    await log.close();
    const all = records(await Deno.readTextFile(log.path));
    assert.deepEqual(all.map((r) => r.type), [
      "session_start",
      "auth",
      "model_call",
      "session_end",
    ]);
    assert.deepEqual(all[1].scopes, ["chat:write"]);
    assert.deepEqual(all[2].usage, { input_tokens: 10, output_tokens: 2 });
  });
});

Deno.test("writer: a failing crypto RNG rejects the append; no record, no fallback", async () => {
  await withDir(async (dir) => {
    const log = (await openAuditLog({ config: {}, dataDir: dir, sessionId: "rng" }))!;
    const original = crypto.getRandomValues;
    crypto.getRandomValues = () => {
      throw new Error("entropy unavailable");
    };
    try {
      await assert.rejects(log.append(toolCall("a")), /entropy unavailable/);
    } finally {
      crypto.getRandomValues = original;
    }
    // The chain did not advance: the next record follows session_start and verifies.
    await log.append(toolCall("b"));
    await log.close();
    const text = await Deno.readTextFile(log.path);
    assert.deepEqual(records(text).map((r) => r.tool ?? r.type), [
      "session_start",
      "b",
      "session_end",
    ]);
    assert.equal((await verifyLog(text)).ok, true);
  });
});

Deno.test("writer: close is idempotent and appends after close are refused", async () => {
  await withDir(async (dir) => {
    const log = (await openAuditLog({ config: {}, dataDir: dir, sessionId: "closed" }))!;
    const pending = log.append(toolCall("last"));
    const closing = log.close("interrupted");
    assert.equal(log.close(), closing);
    await pending;
    await closing;
    await assert.rejects(log.append(toolCall("late")), (error: unknown) => {
      assert.ok(error instanceof DagentError);
      assert.equal(error.code, "audit.closed");
      return true;
    });
    const all = records(await Deno.readTextFile(log.path));
    assert.deepEqual(all.map((r) => r.type), ["session_start", "tool_call", "session_end"]);
    assert.equal(all[2].status, "interrupted");
  });
});

Deno.test("writer: disabled config opens nothing", async () => {
  assert.equal(await openAuditLog({}), undefined);
  assert.equal(
    await openAuditLog({ config: { enabled: false, path: "/nonexistent/x" } }),
    undefined,
  );
});

Deno.test("writer: audit.path with {session}, a directory path, and a shared file continued", async () => {
  await withDir(async (dir) => {
    const templated = (await openAuditLog({
      config: { path: join(dir, "logs", "run-{session}.jsonl") },
      dataDir: dir,
      sessionId: "abc",
    }))!;
    await templated.close();
    assert.equal(templated.path, join(dir, "logs", "run-abc.jsonl"));

    const inDir = (await openAuditLog({
      config: { path: join(dir, "logs") },
      dataDir: dir,
      sessionId: "def",
    }))!;
    await inDir.close();
    assert.equal(inDir.path, join(dir, "logs", "def.jsonl"));

    const shared = join(dir, "shared.jsonl");
    for (const sessionId of ["one", "two"]) {
      const log = (await openAuditLog({ config: { path: shared }, dataDir: dir, sessionId }))!;
      await log.append(toolCall(sessionId));
      await log.close();
    }
    const report = await verifyFile(shared);
    assert.equal(report.ok, true, JSON.stringify(report.finding));
    assert.equal(report.sessions, 2);
    assert.equal(report.records, 6);
    const all = records(await Deno.readTextFile(shared));
    assert.equal(all[3].prev, recordHash(all[2]), "the second session chains onto the first");
  });
});

Deno.test("writer: a shared file ending in a partial record is not appended to", async () => {
  await withDir(async (dir) => {
    const shared = join(dir, "shared.jsonl");
    const log = (await openAuditLog({ config: { path: shared }, dataDir: dir, sessionId: "one" }))!;
    await log.close();
    const before = await Deno.readTextFile(shared);
    await Deno.writeTextFile(shared, before + `{"v":1,"seq":2,"ty`);
    await assert.rejects(
      openAuditLog({ config: { path: shared }, dataDir: dir, sessionId: "two" }),
      (error: unknown) => {
        assert.ok(error instanceof DagentError);
        assert.equal(error.code, "audit.partial_tail");
        return true;
      },
    );
    assert.equal(await Deno.readTextFile(shared), before + `{"v":1,"seq":2,"ty`);
  });
});

Deno.test("writer: an unsafe session id is refused", async () => {
  await withDir(async (dir) => {
    await assert.rejects(
      openAuditLog({ config: {}, dataDir: dir, sessionId: "../escape" }),
      TypeError,
    );
  });
});
