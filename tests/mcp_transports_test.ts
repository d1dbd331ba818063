/**
 * The three MCP transports end to end against the fixture servers: list, call, a tool
 * error, a slow tool hitting the request timeout (and the server seeing the cancellation),
 * header injection, the allow-list and server-initiated elicitation.
 */
import assert from "node:assert/strict";
import { type RunningServer, startHttpServer } from "../fixtures/mcp/http_server.ts";
import { startSseServer } from "../fixtures/mcp/sse_server.ts";
import type { FixtureHooks } from "../fixtures/mcp/tools.ts";
import { createToolset, type ToolsetOptions } from "../lib/mcp/toolsets.ts";
import type { ToolsetConfig } from "../lib/config/types.ts";
import type { Toolset } from "../lib/mcp/types.ts";
import { DagentError } from "../lib/errors.ts";

const STDIO_SERVER = new URL("../fixtures/mcp/stdio_server.ts", import.meta.url).pathname;

interface Kind {
  name: string;
  /** Starts what the toolset needs and returns its config plus a cleanup. */
  setup(hooks: FixtureHooks): Promise<{ config: ToolsetConfig; close(): Promise<void> }>;
}

function remoteKind(name: string, start: (o: FixtureHooks) => Promise<RunningServer>): Kind {
  return {
    name,
    async setup(hooks) {
      const server = await start(hooks);
      const config: ToolsetConfig = {
        type: "mcp",
        remote: {
          url: server.url,
          transport_type: name === "sse" ? "sse" : "streamable",
          headers: { "X-Team": "blue" },
        },
      };
      return { config, close: () => server.close() };
    },
  };
}

const KINDS: Kind[] = [
  remoteKind("streamable", startHttpServer),
  remoteKind("sse", startSseServer),
  {
    name: "stdio",
    setup: () =>
      Promise.resolve({
        config: { type: "mcp", command: Deno.execPath(), args: ["run", STDIO_SERVER] },
        close: () => Promise.resolve(),
      }),
  },
];

async function withToolset(
  kind: Kind,
  configure: (config: ToolsetConfig) => ToolsetConfig,
  options: Partial<ToolsetOptions>,
  hooks: FixtureHooks,
  body: (toolset: Toolset) => Promise<void>,
) {
  const { config, close } = await kind.setup(hooks);
  const toolset = createToolset(configure(config), { name: kind.name, ...options });
  try {
    await toolset.start();
    await body(toolset);
  } finally {
    await toolset.stop();
    await close();
  }
}

function text(result: { content: Array<{ type: string; text?: unknown }> }): string {
  return result.content.map((part) => String(part.text ?? "")).join("");
}

for (const kind of KINDS) {
  Deno.test(`mcp ${kind.name}: lists tools with schemas and annotations, calls them`, async () => {
    await withToolset(kind, (c) => c, {}, {}, async (toolset) => {
      const tools = await toolset.listTools();
      assert.deepEqual(
        tools.map((tool) => tool.name).sort(),
        ["add", "ask", "echo", "fail", "slow", "whoami"],
      );
      const echo = tools.find((tool) => tool.name === "echo")!;
      assert.equal(echo.description, "Echo the text back");
      assert.equal(echo.annotations?.readOnlyHint, true);
      assert.deepEqual((echo.inputSchema as { required?: string[] }).required, ["text"]);

      assert.equal(text(await toolset.callTool("echo", { text: "hello" })), "hello");
      const sum = await toolset.callTool("add", { a: 2, b: 40 });
      assert.equal(text(sum), "42");
      assert.deepEqual(sum.structuredContent, { sum: 42 });
      assert.equal(sum.isError, undefined);
    });
  });

  Deno.test(`mcp ${kind.name}: a tool error is a result with isError`, async () => {
    await withToolset(kind, (c) => c, {}, {}, async (toolset) => {
      const result = await toolset.callTool("fail", { reason: "on purpose" });
      assert.equal(result.isError, true);
      assert.equal(text(result), "failed: on purpose");
    });
  });

  Deno.test(`mcp ${kind.name}: a slow tool times out and the server sees the cancel`, async () => {
    let cancelled!: (ms: number) => void;
    const sawCancel = new Promise<number>((resolve) => (cancelled = resolve));
    const hooks = { onCancelled: (ms: number) => cancelled(ms) };
    // stdio runs in another process: only the in-process servers can report the cancel.
    await withToolset(kind, (c) => c, { requestTimeoutMs: 300 }, hooks, async (toolset) => {
      await assert.rejects(
        toolset.callTool("slow", { ms: 30_000 }),
        (error: unknown) => {
          assert.ok(error instanceof DagentError);
          assert.equal(error.code, "mcp.timeout");
          assert.match(error.message, new RegExp(`toolset "${kind.name}": tool "slow" timed out`));
          return true;
        },
      );
      if (kind.name !== "stdio") assert.equal(await sawCancel, 30_000);
      assert.equal(text(await toolset.callTool("slow", { ms: 1 })), "waited 1 ms");
    });
  });

  Deno.test(`mcp ${kind.name}: the allow-list filters listing and refuses calls`, async () => {
    const allow = (c: ToolsetConfig): ToolsetConfig => ({ ...c, tools: ["echo", "add"] });
    await withToolset(kind, allow, {}, {}, async (toolset) => {
      assert.deepEqual((await toolset.listTools()).map((t) => t.name).sort(), ["add", "echo"]);
      await assert.rejects(toolset.callTool("fail", {}), (error: unknown) => {
        assert.ok(error instanceof DagentError);
        assert.equal(error.code, "mcp.tool_not_allowed");
        assert.match(error.message, /does not allow tool "fail"/);
        assert.match(error.hint ?? "", /echo, add/);
        return true;
      });
      assert.equal(text(await toolset.callTool("echo", { text: "ok" })), "ok");
    });
  });

  Deno.test(`mcp ${kind.name}: elicitation goes to the handler, declined without one`, async () => {
    const asked: string[] = [];
    const onElicitation: ToolsetOptions["onElicitation"] = (request) => {
      asked.push(`${request.server}: ${request.message}`);
      return Promise.resolve({ action: "accept", content: { answer: "forty-two" } });
    };
    await withToolset(kind, (c) => c, { onElicitation }, {}, async (toolset) => {
      const result = await toolset.callTool("ask", { question: "meaning?" });
      assert.equal(text(result), "answer: forty-two");
      assert.deepEqual(asked, [`${kind.name}: meaning?`]);
    });
    await withToolset(kind, (c) => c, {}, {}, async (toolset) => {
      assert.equal(text(await toolset.callTool("ask", { question: "?" })), "no answer (decline)");
    });
  });
}

for (const kind of KINDS.slice(0, 2)) {
  Deno.test(`mcp ${kind.name}: config headers reach the server`, async () => {
    await withToolset(kind, (c) => c, {}, {}, async (toolset) => {
      const result = await toolset.callTool("whoami", { headers: ["X-Team", "X-Absent"] });
      assert.deepEqual(JSON.parse(text(result)), { "X-Team": "blue", "X-Absent": null });
    });
  });

  Deno.test(`mcp ${kind.name}: an error thrown by the injected fetch surfaces unchanged`, async () => {
    const refusal = new DagentError("sign-in to example was declined for this session", {
      code: "oauth.declined",
    });
    const fetch = () => Promise.reject(refusal);
    const { config, close } = await kind.setup({});
    const toolset = createToolset(config, { name: kind.name, fetch });
    try {
      await assert.rejects(toolset.start(), (error: unknown) => {
        assert.equal(error, refusal);
        return true;
      });
    } finally {
      await toolset.stop();
      await close();
    }
  });
}
