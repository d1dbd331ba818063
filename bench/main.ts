/**
 * `deno task bench`: runs every benchmark against its baseline in the same run, prints
 * each figure on one line as it finishes, then the machine and a markdown summary table.
 * A benchmark that throws is reported as MISSED with its error; the others still run.
 *
 * Run: `deno task bench` (= `deno run --allow-all bench/main.ts`). Exit code 0 even when a
 * target is missed: the table is the result.
 * @module
 */
import { cpus, totalmem } from "node:os";
import { formatLine, summaryTable } from "./report.ts";
import type { BenchResult } from "./report.ts";
import { runWarmStartBench } from "./warm_start.ts";
import { runColdSignInBench } from "./cold_signin.ts";
import { runRefreshLoadBench } from "./refresh_load.ts";
import { runParallelStartBench } from "./parallel_start.ts";
import { runCallOverheadBench } from "./call_overhead.ts";
import { runStartupBench } from "./startup.ts";
import { runAuditBench } from "./audit_bench.ts";

/** One benchmark: its name (for errors) and how to run it. */
interface Bench {
  name: string;
  run: () => Promise<BenchResult | BenchResult[]>;
}

const BENCHES: Bench[] = [
  { name: "warm start: auth requests", run: runWarmStartBench },
  { name: "cold sign-in requests", run: runColdSignInBench },
  { name: "refresh under load", run: () => runRefreshLoadBench(100) },
  { name: "parallel start", run: runParallelStartBench },
  { name: "per-call overhead", run: () => runCallOverheadBench() },
  { name: "start-up", run: () => runStartupBench(25) },
  { name: "audit append", run: runAuditBench },
];

/** The machine the figures were measured on, in one line. */
export function machine(): string {
  const cpu = cpus();
  const model = cpu[0]?.model?.trim() || "unknown CPU";
  const memory = Math.round(totalmem() / 1024 ** 3);
  return `${model}, ${cpu.length} cores, ${memory} GiB, ${Deno.build.os}/${Deno.build.arch}, ` +
    `deno ${Deno.version.deno}`;
}

/** Runs every benchmark in order and returns the results (also printed line by line). */
export async function runAll(): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  for (const bench of BENCHES) {
    let outcome: BenchResult[];
    try {
      const value = await bench.run();
      outcome = Array.isArray(value) ? value : [value];
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      outcome = [{
        name: bench.name,
        figure: "error",
        target: "runs",
        ok: false,
        note: message.split("\n")[0].slice(0, 200),
      }];
    }
    for (const result of outcome) console.log(formatLine(result));
    results.push(...outcome);
  }
  return results;
}

if (import.meta.main) {
  const started = performance.now();
  console.log(`dagent benchmarks — ${machine()}\n`);
  const results = await runAll();
  const seconds = ((performance.now() - started) / 1000).toFixed(0);
  console.log(`\n## Summary (${seconds} s)\n\n${summaryTable(results)}`);
  const missed = results.filter((r) => !r.ok).length;
  console.log(missed ? `\n${missed} target(s) missed; see the lines above for why.` : "\nAll met.");
}
