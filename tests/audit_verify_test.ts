import assert from "node:assert/strict";
import { verifyLog } from "../lib/audit/verify.ts";
import { loadKeyPair } from "../lib/audit/keys.ts";
import { forgeAfter, joinLines, otherKey, writeLog, type WrittenLog } from "./audit_helpers.ts";

/** A closed session of 6 lines: session_start, tool_0..tool_3, session_end. */
async function withLog(fn: (log: WrittenLog) => Promise<void>): Promise<void> {
  const log = await writeLog(4);
  try {
    await fn(log);
  } finally {
    await Deno.remove(log.dir, { recursive: true });
  }
}

async function finding(text: string, opts = {}) {
  const report = await verifyLog(text, opts);
  assert.equal(report.ok, false, "a tampered log must not verify");
  return report.finding!;
}

Deno.test("verify: an intact log verifies, also when its lines are reformatted", async () => {
  await withLog(async (log) => {
    const report = await verifyLog(log.text);
    assert.deepEqual(report, {
      ok: true,
      records: 6,
      sessions: 1,
      publicKeys: [log.publicKey],
      open: false,
    });
    // Canonical bytes, not line bytes, are signed: pretty spacing keeps meaning.
    const spaced = joinLines(log.lines.map((line) => JSON.stringify(JSON.parse(line), null, 0)));
    assert.equal((await verifyLog(spaced)).ok, true);
    assert.equal((await verifyLog(log.text, { publicKey: log.publicKey })).ok, true);
  });
});

Deno.test("verify: an edited field fails that record's signature", async () => {
  await withLog(async (log) => {
    const lines = [...log.lines];
    const record = JSON.parse(lines[2]);
    record.tool = "delete_everything";
    lines[2] = JSON.stringify(record);
    const f = await finding(joinLines(lines));
    assert.deepEqual([f.line, f.kind], [3, "signature"]);
    assert.match(f.message, /edited/);
  });
});

Deno.test("verify: an edited seq or prev is caught on that line, not later", async () => {
  await withLog(async (log) => {
    for (const field of ["seq", "prev", "ts"]) {
      const lines = [...log.lines];
      const record = JSON.parse(lines[3]);
      record[field] = field === "seq"
        ? 9
        : field === "prev"
        ? "f".repeat(64)
        : "2000-01-01T00:00:00Z";
      lines[3] = JSON.stringify(record);
      const f = await finding(joinLines(lines));
      assert.deepEqual([f.line, f.kind], [4, "signature"], field);
    }
  });
});

Deno.test("verify: a deleted record is a seq gap at the line after it", async () => {
  await withLog(async (log) => {
    const lines = log.lines.filter((_, i) => i !== 2);
    const f = await finding(joinLines(lines));
    assert.deepEqual([f.line, f.kind], [3, "deleted"]);
    assert.match(f.message, /1 record\(s\) deleted .*seq jumps from 1 to 3/);
  });
});

Deno.test("verify: a deleted beginning is reported at line 1", async () => {
  await withLog(async (log) => {
    const f = await finding(joinLines(log.lines.slice(2)));
    assert.deepEqual([f.line, f.kind], [1, "deleted"]);
    assert.match(f.message, /beginning was removed/);
  });
});

Deno.test("verify: swapped records are reported as reordered", async () => {
  await withLog(async (log) => {
    const lines = [...log.lines];
    [lines[2], lines[3]] = [lines[3], lines[2]];
    const f = await finding(joinLines(lines));
    assert.deepEqual([f.line, f.kind], [3, "reordered"]);
    assert.match(f.message, /seq 3 comes before seq 2 \(line 4\)/);
  });
});

Deno.test("verify: a duplicated record is reported as reordered or duplicated", async () => {
  await withLog(async (log) => {
    const lines = [...log.lines];
    lines.splice(3, 0, lines[2]);
    const f = await finding(joinLines(lines));
    assert.deepEqual([f.line, f.kind], [4, "reordered"]);
  });
});

Deno.test("verify: a partial last line is 'truncated'", async () => {
  await withLog(async (log) => {
    const text = joinLines(log.lines.slice(0, 4)) + log.lines[4].slice(0, 40);
    const f = await finding(text);
    assert.deepEqual([f.line, f.kind], [5, "truncated"]);
  });
});

Deno.test("verify: no session_end is 'truncated: no session_end'; --allow-open accepts it", async () => {
  await withLog(async (log) => {
    const text = joinLines(log.lines.slice(0, 5));
    const f = await finding(text);
    assert.deepEqual([f.line, f.kind], [5, "no_session_end"]);
    assert.match(f.message, /^truncated: no session_end/);
    const open = await verifyLog(text, { allowOpen: true });
    assert.equal(open.ok, true);
    assert.equal(open.open, true);
    // --allow-open does not excuse a partial line.
    const partial = text + log.lines[5].slice(0, 10);
    assert.equal((await verifyLog(partial, { allowOpen: true })).finding?.kind, "truncated");
  });
});

Deno.test("verify: an appended forgery signed with another key fails its signature", async () => {
  await withLog(async (log) => {
    const { privateKey } = await otherKey();
    const fields = {
      type: "tool_call",
      agent: "root",
      toolset: "fs",
      tool: "exfiltrate",
      argumentsSha256: "0".repeat(64),
      approval: "user",
    };
    // After session_end, and in place of session_end (the end cut and re-forged).
    const after = [...log.lines, await forgeAfter(log.lines[5], fields, privateKey)];
    const f1 = await finding(joinLines(after));
    assert.deepEqual([f1.line, f1.kind], [7, "signature"]);
    const inside = [...log.lines.slice(0, 5), await forgeAfter(log.lines[4], fields, privateKey)];
    const f2 = await finding(joinLines(inside));
    assert.deepEqual([f2.line, f2.kind], [6, "signature"]);
  });
});

Deno.test("verify: a record after session_end, even validly signed, is 'appended'", async () => {
  await withLog(async (log) => {
    const pair = (await loadKeyPair(log.dir))!;
    const extra = await forgeAfter(log.lines[5], {
      type: "model_call",
      provider: "x",
      model: "y",
      usage: {},
    }, pair.privateKey);
    const f = await finding(joinLines([...log.lines, extra]));
    assert.deepEqual([f.line, f.kind], [7, "appended"]);
  });
});

Deno.test("verify: a whole log re-signed with another key fails only --key", async () => {
  await withLog(async (log) => {
    const other = await otherKey();
    const lines: string[] = [];
    for (const line of log.lines) {
      const { sig: _s, v: _v, seq: _q, ts: _t, id: _i, prev: _p, ...fields } = JSON.parse(line);
      if (fields.type === "session_start") fields.publicKey = other.publicKey;
      lines.push(await forgeAfter(lines.at(-1), fields, other.privateKey));
    }
    const forged = joinLines(lines);
    assert.equal((await verifyLog(forged)).ok, true, "self-consistent without --key");
    const f = await finding(forged, { publicKey: log.publicKey });
    assert.deepEqual([f.line, f.kind], [1, "key"]);
    assert.match(f.message, /^wrong key/);
  });
});

Deno.test("verify: records spliced in from another session of the same key break the chain", async () => {
  const a = await writeLog(4);
  const b = await writeLog(4, a.dir, "s2");
  try {
    // Same key, same seq, valid signature, but a different chain.
    const lines = [...a.lines.slice(0, 3), b.lines[3], ...a.lines.slice(4)];
    const f = await finding(joinLines(lines));
    assert.deepEqual([f.line, f.kind], [4, "chain"]);
  } finally {
    await Deno.remove(a.dir, { recursive: true });
  }
});

Deno.test("verify: junk lines, empty logs and blank lines are malformed", async () => {
  await withLog(async (log) => {
    const junk = [...log.lines];
    junk[1] = "hello";
    assert.deepEqual(
      [(await finding(joinLines(junk))).line, (await finding(joinLines(junk))).kind],
      [2, "malformed"],
    );
    const blank = [...log.lines];
    blank.splice(2, 0, "");
    assert.equal((await finding(joinLines(blank))).kind, "malformed");
    assert.equal((await finding("")).kind, "malformed");
  });
});

Deno.test("verify: in a shared file, a session cut off before the next one began is reported", async () => {
  await withLog(async (log) => {
    const pair = (await loadKeyPair(log.dir))!;
    const start = JSON.parse(log.lines[0]);
    const { sig: _s, v: _v, seq: _q, ts: _t, id: _i, prev: _p, ...fields } = start;
    // Session one crashed after line 5 (no session_end); session two starts on line 6.
    const crashed = [...log.lines.slice(0, 5)];
    crashed.push(await forgeAfter(crashed[4], { ...fields, session: "s2" }, pair.privateKey));
    const f = await finding(joinLines(crashed));
    assert.deepEqual([f.line, f.kind], [6, "no_session_end"]);
    assert.match(f.message, /began at line 1/);
    // Removing session one's session_end (line 6) shows as a deletion instead.
    const next = await forgeAfter(log.lines[5], { ...fields, session: "s2" }, pair.privateKey);
    const deleted = [...log.lines.slice(0, 5), next];
    const g = await finding(joinLines(deleted));
    assert.deepEqual([g.line, g.kind], [6, "deleted"]);
  });
});

Deno.test("verify: a whole session appended under another key is caught even without --key", async () => {
  await withLog(async (log) => {
    const other = await otherKey();
    const start = JSON.parse(log.lines[0]);
    const { sig: _s, v: _v, seq: _q, ts: _t, id: _i, prev: _p, ...fields } = start;
    const lines = [...log.lines];
    lines.push(
      await forgeAfter(lines.at(-1), {
        ...fields,
        session: "forged",
        publicKey: other.publicKey,
      }, other.privateKey),
    );
    lines.push(
      await forgeAfter(lines.at(-1), {
        type: "session_end",
        session: "forged",
        status: "ok",
        records: 2,
      }, other.privateKey),
    );
    const f = await finding(joinLines(lines));
    assert.deepEqual([f.line, f.kind], [7, "key"]);
    assert.match(f.message, /another key .* pass --key/);
  });
});
