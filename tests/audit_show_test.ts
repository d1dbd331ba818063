import assert from "node:assert/strict";
import { parseLog, renderTimeline } from "../lib/audit/show.ts";
import { openAuditLog } from "../lib/audit/writer.ts";

Deno.test("show: every event type on one line, times in UTC when asked", async () => {
  const dir = await Deno.makeTempDir();
  try {
    let clock = Date.UTC(2025, 0, 2, 3, 4, 5);
    const log = (await openAuditLog({
      config: { include_arguments: true },
      dataDir: dir,
      sessionId: "s",
      now: () => clock++,
    }))!;
    await log.append({
      type: "tool_call",
      agent: "root",
      toolset: "fs",
      tool: "read_file",
      arguments: { path: "a.txt" },
      approval: "user",
      approvedBy: "user",
    });
    await log.append({
      type: "tool_result",
      agent: "root",
      toolset: "fs",
      tool: "read_file",
      status: "error",
      result: { error: "ENOENT" },
    });
    await log.append({
      type: "auth",
      server: "slack",
      issuer: "https://slack.com",
      scopes: ["a", "b"],
      outcome: "declined",
    });
    await log.append({
      type: "model_call",
      provider: "openai",
      model: "gpt",
      usage: { input_tokens: 7 },
    });
    await log.close();
    const text = renderTimeline(parseLog(await Deno.readTextFile(log.path)), { utc: true });
    assert.equal(
      text,
      [
        `03:04:05  session_start  session s key ${log.publicKey.slice(0, 12)}… +arguments`,
        `03:04:05  tool_call      root → fs.read_file {"path":"a.txt"} user by user`,
        `03:04:05  tool_result    root ← fs.read_file error 18 B {sha256:${
          JSON.parse((await Deno.readTextFile(log.path)).split("\n")[2]).sha256.slice(0, 8)
        }…}`,
        `03:04:05  auth           slack (https://slack.com) declined [a b]`,
        `03:04:05  model_call     openai/gpt input_tokens=7`,
        `03:04:05  session_end    ok, 6 records`,
        "",
      ].join("\n"),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("show: control and bidi characters from the log never reach the terminal raw", () => {
  const line = JSON.stringify({
    type: "tool_call",
    ts: "2025-01-01T00:00:00Z",
    agent: "root\u001b[2J",
    toolset: "fs",
    tool: "x\u202eevil",
    argumentsSha256: "0".repeat(64),
    approval: "auto",
  });
  const text = renderTimeline(parseLog(`${line}\nnot json\n`), { utc: true });
  assert.ok(!text.includes("\u001b") && !text.includes("\u202e"));
  assert.match(text, /root\\u001b\[2J → fs\.x\\u202eevil/);
  assert.match(text, /line 2: not a record/);
});
