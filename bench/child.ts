/**
 * Server processes for benchmarks: a benchmark's client must not share its CPU with the
 * server it measures. The child prints one JSON line (its URLs) and serves until its stdin
 * closes.
 * @module
 */

/** A running child server process. */
export interface ChildServer {
  /** The JSON value the child printed on its first line. */
  report: unknown;
  /** Stops the child (closing its stdin) and waits for it to exit. */
  close(): Promise<void>;
}

/** Runs `deno run --allow-net MODULE ARGS…` and waits for the first line it prints. */
export async function spawnChildServer(module: string, args: string[]): Promise<ChildServer> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", module, ...args],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { done, value } = await reader.read();
    if (done) break;
    text += value;
  }
  await reader.cancel();
  const close = async () => {
    await child.stdin.close();
    await child.status;
  };
  try {
    return { report: JSON.parse(text.split("\n")[0]), close };
  } catch {
    await close();
    return { report: undefined, close: () => Promise.resolve() };
  }
}
