/**
 * Audit append throughput against its baseline in the same run: the same tool_call events
 * appended (one awaited append at a time, as a turn does) through the signed, hash-chained
 * {@link AuditLog}, and as plain unsigned JSON Lines to a file opened the same way.
 * Prints `audit append: <ratio>x plain JSONL (target: …)`; the ratio is the median of rounds.
 *
 * Run: `deno run --allow-all bench/audit_bench.ts`
 * @module
 */

import { join } from "node:path";
import { openAuditLog } from "../lib/audit/writer.ts";
import type { AuditEvent } from "../lib/audit/records.ts";

/** One benchmark's outcome, as bench/main.ts prints it. */
export interface BenchResult {
  name: string;
  /** The measured figure, e.g. `4.2x`. */
  figure: string;
  /** What it should be, e.g. `≤ 15x`. */
  target: string;
  ok: boolean;
}

/** Options of {@link runAuditBench}. */
export interface AuditBenchOptions {
  /** Appends per round (default 2000). */
  appends?: number;
  /** Rounds; the median ratio is reported (default 7). */
  rounds?: number;
}

/**
 * The slowdown a signed append may cost over a plain JSONL append. Measured here: about 4-8x
 * (an Ed25519 signature is ~0.1 ms, the write itself about as much), so a turn's handful of
 * records costs around a millisecond, invisible next to a model call.
 */
const TARGET_RATIO = 15;
/** Appends timed back to back before switching paths. */
const CHUNK = 50;

/** Measures signed vs plain append throughput; `figure` is how many times slower signed is. */
export async function runAuditBench(opts: AuditBenchOptions = {}): Promise<BenchResult> {
  const appends = opts.appends ?? 2000;
  const rounds = opts.rounds ?? 7;
  const dir = await Deno.makeTempDir({ prefix: "dagent-audit-bench-" });
  try {
    const events = Array.from({ length: appends }, (_, i) => event(i));
    // Warm up both paths (JIT, key creation) before timing.
    await round(dir, "warm", events.slice(0, 200));
    const ratios: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const { signed, plain } = await round(dir, `r${i}`, events);
      ratios.push(signed / plain);
    }
    ratios.sort((a, b) => a - b);
    const ratio = ratios[Math.floor(ratios.length / 2)];
    return {
      name: "audit append",
      figure: `${ratio.toFixed(1)}x`,
      target: `≤ ${TARGET_RATIO}x`,
      ok: ratio <= TARGET_RATIO,
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function event(i: number): AuditEvent {
  return {
    type: "tool_call",
    agent: "root",
    toolset: "fs",
    tool: "read_file",
    arguments: { path: `src/module_${i}.ts`, offset: i, limit: 200 },
    approval: "auto",
  };
}

/**
 * Milliseconds to append `events` through the audit log and as plain JSON lines. The two
 * alternate in chunks, so both see the same machine load (open and close not counted).
 */
async function round(
  dir: string,
  session: string,
  events: AuditEvent[],
): Promise<{ signed: number; plain: number }> {
  const log = await openAuditLog({ config: {}, dataDir: dir, sessionId: session });
  if (!log) throw new Error("audit log not opened");
  const file = await Deno.open(join(dir, `${session}.plain.jsonl`), {
    append: true,
    create: true,
    mode: 0o600,
  });
  const encoder = new TextEncoder();
  let signed = 0;
  let plain = 0;
  try {
    for (let at = 0; at < events.length; at += CHUNK) {
      const chunk = events.slice(at, at + CHUNK);
      let start = performance.now();
      for (const item of chunk) {
        const record = { ts: new Date().toISOString(), ...item };
        await file.write(encoder.encode(JSON.stringify(record) + "\n"));
      }
      plain += performance.now() - start;
      start = performance.now();
      for (const item of chunk) await log.append(item);
      signed += performance.now() - start;
    }
  } finally {
    file.close();
    await log.close();
  }
  return { signed, plain };
}

if (import.meta.main) {
  const result = await runAuditBench();
  console.log(`${result.name}: ${result.figure} plain JSONL (target: ${result.target})`);
  if (!result.ok) Deno.exitCode = 1;
}
