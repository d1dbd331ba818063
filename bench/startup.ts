/**
 * Benchmark 6, start-up: `deno run main.ts --help` and `deno run main.ts validate
 * fixtures/examples/basic.yaml` as whole processes against `deno run` of an empty file,
 * interleaved run by run; the figure is the ratio of medians. Target ≤ 1.5.
 *
 * When a target is missed it measures why, in the same run: what an import of a command
 * module costs that is never executed (Deno loads the module graph of statically
 * analyzable dynamic imports at start-up), and, in-process, the import of the config
 * modules and the first and second `loadConfig`, and whether the example took the fast
 * YAML subset parser (lib/config/yaml_subset.js) or fell back to the `yaml` package. The
 * gap between the first and second load is V8 compiling functions lazily, on first call,
 * which Deno's code cache does not keep (it holds what was compiled with the module).
 * @module
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { median, ratio } from "./report.ts";
import type { BenchResult } from "./report.ts";

/** Target ratio of medians. */
const TARGET = 1.5;

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const CONFIG = join(ROOT, "deno.json");
const EXAMPLE = "fixtures/examples/basic.yaml";

/** Median wall times (ms) of each command. */
export interface StartupTimes {
  emptyMs: number;
  helpMs: number;
  validateMs: number;
  /** `mcp tools --help`: loads the MCP client (reported, no target). */
  mcpMs: number;
  runs: number;
}

/** Runs each command `runs` times, interleaved (after one warm-up run each). */
export async function measureStartup(runs = 25): Promise<StartupTimes> {
  const dir = await Deno.makeTempDir({ prefix: "dagent-bench-startup-" });
  try {
    const empty = join(dir, "empty.ts");
    await Deno.writeTextFile(empty, "");
    const commands = {
      empty: ["run", "--allow-all", "--config", CONFIG, empty],
      help: ["run", "--allow-all", "main.ts", "--help"],
      validate: ["run", "--allow-all", "main.ts", "validate", EXAMPLE],
      mcp: ["run", "--allow-all", "main.ts", "mcp", "tools", "--help"],
    };
    const times = await timeInterleaved(commands, runs);
    return {
      emptyMs: median(times.empty),
      helpMs: median(times.help),
      validateMs: median(times.validate),
      mcpMs: median(times.mcp),
      runs,
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function timeInterleaved<K extends string>(
  commands: Record<K, string[]>,
  runs: number,
): Promise<Record<K, number[]>> {
  const names = Object.keys(commands) as K[];
  const times = Object.fromEntries(names.map((name) => [name, [] as number[]])) as Record<
    K,
    number[]
  >;
  for (let run = -1; run < runs; run++) {
    for (const name of names) {
      const elapsed = await timeProcess(commands[name]);
      if (run >= 0) times[name].push(elapsed);
    }
  }
  return times;
}

/** Wall time of one `deno` process, from spawn to exit; throws when it fails. */
async function timeProcess(args: string[]): Promise<number> {
  const started = performance.now();
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    stdout: "null",
    stderr: "piped",
    stdin: "null",
    env: { NO_COLOR: "1" },
  }).output();
  const elapsed = performance.now() - started;
  if (code !== 0) {
    const text = new TextDecoder().decode(stderr).split("\n")[0].slice(0, 200);
    throw new Error(`start-up: 'deno ${args.join(" ")}' exited with ${code}: ${text}`);
  }
  return elapsed;
}

/**
 * What an unexecuted `import("lib/cli/mcp.ts")` adds to a process that never takes that
 * branch (ms, median of `runs`, interleaved with an empty file).
 */
export async function measureUnexecutedImport(runs = 10): Promise<number> {
  const dir = await Deno.makeTempDir({ prefix: "dagent-bench-startup-" });
  try {
    const empty = join(dir, "empty.ts");
    const lazy = join(dir, "lazy.ts");
    await Deno.writeTextFile(empty, "");
    const target = JSON.stringify(join(ROOT, "lib/cli/mcp.ts"));
    await Deno.writeTextFile(lazy, `if (Deno.args[0] === "never") await import(${target});\n`);
    const times = await timeInterleaved({
      empty: ["run", "--allow-all", "--config", CONFIG, empty],
      lazy: ["run", "--allow-all", "--config", CONFIG, lazy],
    }, runs);
    return median(times.lazy) - median(times.empty);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * `--help` through a copy of lib/cli/main.ts whose lazy `import("./x.ts")` are made
 * non-analyzable (`import(variable)`), against the real one and an empty file: the
 * medians in ms, or undefined when the dispatcher has no such imports to rewrite.
 */
export async function measureLazyDispatcher(
  runs = 10,
): Promise<{ realMs: number; rewrittenMs: number; emptyMs: number } | undefined> {
  const cliDir = join(ROOT, "lib/cli");
  const source = await Deno.readTextFile(join(cliDir, "main.ts"));
  const dirUrl = new URL(`file://${cliDir}/`).href;
  let rewrites = 0;
  const rewritten = source
    .replace(/from "(\.\.?\/[^"]+)"/g, (_, spec: string) => `from "${new URL(spec, dirUrl).href}"`)
    .replace(/import\("\.\/([\w-]+)\.ts"\)/g, (_, name: string) => {
      rewrites++;
      return `import(lazyModule("${name}"))`;
    });
  if (rewrites === 0) return undefined;
  const dir = await Deno.makeTempDir({ prefix: "dagent-bench-startup-" });
  try {
    const empty = join(dir, "empty.ts");
    const lazy = join(dir, "cli_main_lazy.ts");
    await Deno.writeTextFile(empty, "");
    await Deno.writeTextFile(
      lazy,
      `${rewritten}
function lazyModule(name: string): string {
  return ${JSON.stringify(dirUrl)} + name + ".ts";
}
if (import.meta.main) Deno.exit(await runCli(Deno.args));
`,
    );
    const times = await timeInterleaved({
      empty: ["run", "--allow-all", "--config", CONFIG, empty],
      real: ["run", "--allow-all", "main.ts", "--help"],
      rewritten: ["run", "--allow-all", "--config", CONFIG, lazy, "--help"],
    }, runs);
    return {
      realMs: median(times.real),
      rewrittenMs: median(times.rewritten),
      emptyMs: median(times.empty),
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** In-process costs on the `validate` path, in ms (one fresh process). */
export interface ValidateCosts {
  /** Importing lib/config/mod.ts (the loader, the subset parser, the validator). */
  configImport: number;
  /** 1 when the example is in the YAML subset (no `yaml` package loaded), else 0. */
  subset: number;
  /** First `loadConfig` of the example (read, parse, validate, first-call warm-up). */
  firstLoad: number;
  /** Second `loadConfig`: the same work, warm. */
  secondLoad: number;
}

/**
 * Times the config modules' import and the first and second config loads of `validate`
 * in fresh processes (median of `runs` per figure).
 */
export async function measureValidateCosts(runs = 3): Promise<ValidateCosts> {
  const dir = await Deno.makeTempDir({ prefix: "dagent-bench-startup-" });
  try {
    const probe = join(dir, "probe.ts");
    const subset = JSON.stringify(join(ROOT, "lib/config/yaml_subset.js"));
    const load = JSON.stringify(join(ROOT, "lib/config/mod.ts"));
    const example = JSON.stringify(join(ROOT, EXAMPLE));
    await Deno.writeTextFile(
      probe,
      `const t0 = performance.now();
const { loadConfig } = await import(${load});
const t1 = performance.now();
await loadConfig(${example});
const t2 = performance.now();
await loadConfig(${example});
const t3 = performance.now();
const { parseYamlSubset } = await import(${subset});
const subset = parseYamlSubset(await Deno.readTextFile(${example})) ? 1 : 0;
console.log(JSON.stringify({ configImport: t1 - t0, subset, firstLoad: t2 - t1, secondLoad: t3 - t2 }));
`,
    );
    const samples: ValidateCosts[] = [];
    for (let run = 0; run < runs; run++) {
      const { code, stdout } = await new Deno.Command(Deno.execPath(), {
        args: ["run", "--allow-all", "--config", CONFIG, probe],
        cwd: ROOT,
        stdout: "piped",
        stderr: "null",
      }).output();
      if (code !== 0) throw new Error("start-up: the validate cost probe failed");
      samples.push(JSON.parse(new TextDecoder().decode(stdout)));
    }
    const mid = (key: keyof ValidateCosts) => median(samples.map((sample) => sample[key]));
    return {
      configImport: mid("configImport"),
      subset: mid("subset"),
      firstLoad: mid("firstLoad"),
      secondLoad: mid("secondLoad"),
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Runs the start-up benchmark; one result for `--help`, one for `validate`. */
export async function runStartupBench(runs = 25): Promise<BenchResult[]> {
  const times = await measureStartup(runs);
  const help = times.helpMs / times.emptyMs;
  const validate = times.validateMs / times.emptyMs;
  const ms = (value: number) => `${Math.round(value)} ms`;
  let helpNote = `${ms(times.helpMs)} vs empty ${ms(times.emptyMs)}; for reference, ` +
    `mcp tools --help (which loads the MCP client) ${ms(times.mcpMs)} (${
      ratio(times.mcpMs / times.emptyMs)
    })`;
  let validateNote = `${ms(times.validateMs)} vs empty ${ms(times.emptyMs)}`;
  if (help > TARGET) {
    const lazy = await measureUnexecutedImport();
    helpNote += `; an import("./mcp.ts") that never runs costs +${ms(lazy)}: Deno loads ` +
      "the graph (MCP SDK included) of lib/cli/main.ts's statically analyzable lazy imports";
    const fix = await measureLazyDispatcher();
    if (fix) {
      helpNote += `; with import(variable) in the dispatcher --help takes ${ms(fix.rewrittenMs)} (${
        ratio(fix.rewrittenMs / fix.emptyMs)
      }) vs ${ms(fix.realMs)} (${ratio(fix.realMs / fix.emptyMs)}) now`;
    }
  }
  if (validate > TARGET) {
    const costs = await measureValidateCosts();
    validateNote += `; in-process: import of the config modules ${ms(costs.configImport)}, ` +
      `first loadConfig ${ms(costs.firstLoad)}, second ${ms(costs.secondLoad)} (the gap: V8 ` +
      `compiling functions lazily, on first call); the example ${
        costs.subset ? "took the YAML subset parser" : "fell back to the yaml package"
      }`;
  }
  return [
    {
      name: `start-up: main.ts --help (${times.runs} runs)`,
      figure: ratio(help),
      target: `≤ ${TARGET}x`,
      ok: help <= TARGET,
      note: helpNote,
    },
    {
      name: `start-up: main.ts validate (${times.runs} runs)`,
      figure: ratio(validate),
      target: `≤ ${TARGET}x`,
      ok: validate <= TARGET,
      note: validateNote,
    },
  ];
}
