/**
 * `deno task demo` must work on a fresh clone: run it as a user would and check that every
 * step worked and that it showed what it claims to (tools, a sign-in, a warm run with no
 * sign-in traffic, and an agent turn replayed from the committed recording).
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

Deno.test("deno task demo runs every step", async () => {
  const demo = fileURLToPath(new URL("../fixtures/demo.ts", import.meta.url));
  const env: Record<string, string> = { ...Deno.env.toObject(), NO_COLOR: "1" };
  // The demo must not depend on a real model key being present.
  delete env.OPENAI_API_KEY;
  delete env.ANTHROPIC_API_KEY;
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", demo],
    env,
    clearEnv: true,
    stdin: "null",
  }).output();
  const text = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
  assert.equal(output.code, 0, text);
  assert.match(text, /Demo finished: every step worked\./);
  assert.match(text, /http \(6 tools\)/);
  assert.match(text, /Open this address to sign in to chat/);
  assert.match(text, /the second run sent 0 requests to the authorization server/);
  assert.match(text, /→ chat\.whoami \{\}/);
  assert.match(text, /You are signed in to the chat server as client 123\.456/);
});
