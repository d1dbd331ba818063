/**
 * A helper process for tests/oauth_lock_test.ts (not a test itself): takes the server lock
 * for `key` in `dir`, appends "<name> in" / "<name> out" to `log` while holding it, and
 * reports on stdout: "waiting" when it has to wait, "locked" once it holds the lock. With
 * `hold`, it keeps the lock until its stdin closes.
 *
 * Usage: deno run -A tests/oauth_lock_helper.ts DIR KEY NAME LOG hold|quick
 */
import { withServerLock } from "../lib/oauth/lock.ts";

const [dir, key, name, log, mode] = Deno.args;
const say = (line: string) => Deno.stdout.writeSync(new TextEncoder().encode(line + "\n"));

await withServerLock(dir, key, async () => {
  await Deno.writeTextFile(log, `${name} in\n`, { append: true });
  say("locked");
  if (mode === "hold") {
    // Wait for the test to close our stdin: the event, not a timer.
    for await (const _ of Deno.stdin.readable) { /* drain until EOF */ }
  }
  await Deno.writeTextFile(log, `${name} out\n`, { append: true });
}, { onWait: () => say("waiting") });
say("released");
