/**
 * What every benchmark returns and how bench/main.ts prints it: one line per figure
 * (name, figure, target, ok/MISSED) and a closing markdown table. Also the small
 * statistics the benchmarks share (median, percentiles).
 * @module
 */

/** One benchmark's outcome (the same shape as bench/audit_bench.ts's). */
export interface BenchResult {
  /** What was measured, e.g. `warm start requests`. */
  name: string;
  /** The measured figure, e.g. `dagent 0 / SDK 0` or `1.02x`. */
  figure: string;
  /** What it should be, e.g. `0` or `≤ 1.3x`. */
  target: string;
  ok: boolean;
  /** Extra context for the reader (the baseline's figure, a cause when missed). */
  note?: string;
}

/** The one line a benchmark prints: `name: figure (target …) ok|MISSED [— note]`. */
export function formatLine(result: BenchResult): string {
  const verdict = result.ok ? "ok" : "MISSED";
  const note = result.note ? ` — ${result.note}` : "";
  return `${result.name}: ${result.figure} (target ${result.target}) ${verdict}${note}`;
}

/** The summary as a markdown table, one row per result. */
export function summaryTable(results: readonly BenchResult[]): string {
  const rows = results.map((r) =>
    `| ${cell(r.name)} | ${cell(r.figure)} | ${cell(r.target)} | ${r.ok ? "ok" : "**MISSED**"} |`
  );
  return ["| benchmark | figure | target | result |", "|---|---|---|---|", ...rows].join("\n");
}

function cell(text: string): string {
  return text.replaceAll("|", "\\|").replaceAll("\n", " ");
}

/** Median of `values` (mean of the middle two for an even count); NaN when empty. */
export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/**
 * The `p`-th percentile of `values` by linear interpolation between closest ranks
 * (p in 0..100); NaN when empty.
 */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  return sorted[low] + (sorted[high] - sorted[low]) * (rank - low);
}

/** A ratio with two decimals and an `x`, e.g. `1.04x`. */
export function ratio(value: number): string {
  return `${value.toFixed(2)}x`;
}
