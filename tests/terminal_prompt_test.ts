/** The terminal prompts, driven by scripted input lines. */
import assert from "node:assert/strict";
import { TerminalApprovalPrompt, TerminalElicitation } from "../lib/cli/terminal_prompt.ts";

function scripted(lines: Array<string | null>) {
  const output: string[] = [];
  return {
    output,
    write: (text: string) => void output.push(text),
    readLine: () => Promise.resolve(lines.length ? lines.shift()! : null),
  };
}

const PROMPT = {
  server: "slack",
  serverUrl: "https://mcp.slack.com/mcp",
  issuer: "https://slack.com",
  scopes: ["chat:write"],
  authorizationUrl: "https://slack.com/oauth?x=1",
};

Deno.test("sign-in prompt: shows server, issuer and scopes; Enter accepts, n declines, EOF declines", async () => {
  for (
    const [answers, expected] of [[[""], "accept"], [["maybe", "n"], "decline"], [
      [null],
      "decline",
    ]] as const
  ) {
    const io = scripted([...answers]);
    const answer = await new TerminalElicitation(io).confirmSignIn(PROMPT);
    assert.equal(answer, expected);
    const text = io.output.join("");
    assert.match(text, /slack wants you to sign in/);
    assert.match(text, /issuer: +https:\/\/slack\.com/);
    assert.match(text, /scopes: +chat:write/);
  }
});

Deno.test("--yes accepts without reading input", async () => {
  const io = scripted([]);
  assert.equal(await new TerminalElicitation({ ...io, yes: true }).confirmSignIn(PROMPT), "accept");
  assert.match(io.output.join(""), /accepted by --yes/);
});

Deno.test("form: defaults are pre-filled, types are checked, required fields insisted on", async () => {
  const io = scripted(["", "many", "3", "", "yes", ""]);
  const result = await new TerminalElicitation(io).elicitForm({
    server: "deploy",
    message: "Deploy settings",
    requestedSchema: {
      type: "object",
      properties: {
        env: { type: "string", enum: ["staging", "prod"], default: "staging" },
        replicas: { type: "integer" },
        name: { type: "string" },
        confirm: { type: "boolean" },
      },
      required: ["replicas", "confirm"],
    },
  });
  assert.deepEqual(result, {
    action: "accept",
    content: { env: "staging", replicas: 3, confirm: true },
  });
  assert.match(io.output.join(""), /expected integer/);
});

Deno.test("tool approval: once, always, and no with a reason", async () => {
  const request = {
    agent: "root",
    toolset: "fs",
    tool: "write_file",
    arguments: {},
    readOnly: false,
  };
  assert.deepEqual(await new TerminalApprovalPrompt(scripted(["y"])).ask(request), {
    answer: "once",
  });
  assert.deepEqual(await new TerminalApprovalPrompt(scripted(["a"])).ask(request), {
    answer: "session",
  });
  assert.deepEqual(
    await new TerminalApprovalPrompt(scripted(["n", "not that file"])).ask(request),
    {
      answer: "reject",
      reason: "not that file",
    },
  );
});
