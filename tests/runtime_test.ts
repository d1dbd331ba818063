/**
 * The agent loop in-process: cancellation mid-stream (what Ctrl-C does) ends the turn
 * promptly, releases the model connection, and rolls the session back so the next turn
 * starts from a valid history.
 */
import assert from "node:assert/strict";
import { parseConfigText } from "../lib/config/mod.ts";
import { createProvider } from "../lib/models/mod.ts";
import { ToolApprover } from "../lib/runtime/approval.ts";
import { ScriptedElicitation } from "../lib/runtime/elicitation.ts";
import type { RuntimeEvent } from "../lib/runtime/events.ts";
import { Runtime, Session } from "../lib/runtime/runtime.ts";
import { AgentToolsets } from "../lib/runtime/toolsets.ts";
import { createBuiltinToolset } from "../lib/tools/mod.ts";
import { startScriptedModelServer } from "../fixtures/models/scripted_server.ts";

Deno.test("an interrupted turn stops at once and the next turn of the session works", async () => {
  const model = startScriptedModelServer({
    script: [{ text: "partial answer", hang: true }, { text: "second answer" }],
  });
  const loaded = await parseConfigText(
    `version: "2"
models:
  m: { provider: openai, model: scripted, base_url: "${model.openaiBaseUrl}" }
agents:
  root:
    model: m
    toolsets:
      - type: think
`,
    "/tmp/runtime_test.yaml",
  );
  const events: RuntimeEvent[] = [];
  const controller = new AbortController();
  const toolsets = new AgentToolsets({
    loaded,
    elicitation: new ScriptedElicitation(),
    onEvent: (event) => events.push(event),
    builtin: createBuiltinToolset,
  });
  const runtime = new Runtime({
    loaded,
    toolsets,
    providerFor: () => createProvider("m", loaded.config, { env: { OPENAI_API_KEY: "test-key" } }),
    approver: new ToolApprover({}),
    onEvent: (event) => {
      events.push(event);
      // The user presses Ctrl-C as soon as the answer starts streaming.
      if (event.type === "text") controller.abort(new Error("interrupted"));
    },
  });
  const session = new Session("root");
  try {
    await assert.rejects(runtime.runTurn(session, "first", controller.signal), /interrupted/);
    await model.disconnected();
    // The conversation goes on from where it was before the interrupted turn.
    const answer = await runtime.runTurn(session, "second");
    assert.equal(answer, "second answer");
    const sent = model.requests[1].body!.messages as Array<{ role: string; content: string }>;
    assert.deepEqual(sent.filter((m) => m.role === "user").map((m) => m.content), ["second"]);
    // The think toolset was started on the first turn and offered to the model.
    const tools = (model.requests[0].body!.tools as Array<{ function: { name: string } }>)
      .map((tool) => tool.function.name);
    assert.ok(tools.includes("think"), tools.join(","));
  } finally {
    await toolsets.stopAll();
    await model.close();
  }
});
