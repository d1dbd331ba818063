/**
 * createBuiltinToolset: the Toolset contract for every built-in type, the `tools`
 * allow-list, read-only annotations (what the loop may run without approval), config
 * errors, and the think and todo tools.
 */
import assert from "node:assert/strict";
import { createBuiltinToolset, isBuiltinToolsetType } from "../lib/tools/mod.ts";
import { DagentError, ExitCode } from "../lib/errors.ts";
import type { ToolsetConfig } from "../lib/config/types.ts";
import type { ToolResult } from "../lib/mcp/types.ts";

function text(result: ToolResult): string {
  const first = result.content[0] as { type: string; text: string };
  assert.equal(first.type, "text");
  return first.text;
}

const OPTIONS = { name: "builtin", cwd: Deno.cwd() };

Deno.test("each built-in type lists its tools with schemas, and the read-only ones are marked", async () => {
  const expected: Record<string, [string, boolean][]> = {
    think: [["think", true]],
    todo: [["create_todo", true], ["create_todos", true], ["update_todo", true], [
      "list_todos",
      true,
    ]],
    filesystem: [
      ["read_file", true],
      ["read_multiple_files", true],
      ["write_file", false],
      ["edit_file", false],
      ["list_directory", true],
      ["directory_tree", true],
      ["search_files", true],
      ["create_directory", false],
      ["get_file_info", true],
    ],
    shell: [["shell", false]],
    fetch: [["fetch", false]],
  };
  for (const [type, tools] of Object.entries(expected)) {
    const toolset = createBuiltinToolset({ type } as ToolsetConfig, OPTIONS);
    assert.equal(toolset.requiresAuth, false);
    assert.equal(toolset.name, "builtin");
    const listed = await toolset.listTools();
    assert.deepEqual(
      listed.map((tool) => [tool.name, tool.annotations?.readOnlyHint === true]),
      tools,
      type,
    );
    for (const tool of listed) {
      assert.equal(tool.inputSchema.type, "object", tool.name);
      assert.ok(tool.description && tool.description.length > 10, tool.name);
    }
  }
});

Deno.test("the tools allow-list filters listing and refuses other calls with a DagentError", async () => {
  const toolset = createBuiltinToolset(
    { type: "filesystem", tools: ["read_file", "list_directory"] },
    OPTIONS,
  );
  await toolset.start();
  assert.deepEqual((await toolset.listTools()).map((tool) => tool.name), [
    "read_file",
    "list_directory",
  ]);
  await assert.rejects(
    toolset.callTool("write_file", { path: "x", content: "y" }),
    (error: unknown) => {
      assert.ok(error instanceof DagentError);
      assert.equal(error.code, "mcp.tool_not_allowed");
      assert.match(error.message, /toolset "builtin" does not allow tool "write_file"/);
      return true;
    },
  );
  const listed = await toolset.callTool("list_directory", { path: "." });
  assert.equal(listed.isError, undefined);
  assert.match(text(listed), /\[FILE\] deno.json/);
  await toolset.stop();
});

Deno.test("a tool the toolset does not have is a tool error naming the ones it has", async () => {
  const toolset = createBuiltinToolset({ type: "think" }, OPTIONS);
  const result = await toolset.callTool("ponder", { thought: "x" });
  assert.equal(result.isError, true);
  assert.equal(text(result), 'toolset "builtin" has no tool "ponder"; its tools: think');
});

Deno.test("config errors are usage errors: mcp is not built in, timeout must be positive", () => {
  assert.throws(() => createBuiltinToolset({ type: "mcp", command: "x" }, OPTIONS), (error) => {
    assert.ok(error instanceof DagentError);
    assert.equal(error.exitCode, ExitCode.Usage);
    assert.equal(error.code, "tools.not_builtin");
    return true;
  });
  for (const timeout of [0, -5]) {
    assert.throws(() => createBuiltinToolset({ type: "shell", timeout }, OPTIONS), /timeout/);
  }
  assert.equal(isBuiltinToolsetType("fetch"), true);
  assert.equal(isBuiltinToolsetType("mcp"), false);
});

Deno.test("think echoes the thought and reports a missing one as a tool error", async () => {
  const toolset = createBuiltinToolset({ type: "think" }, OPTIONS);
  await toolset.start();
  const result = await toolset.callTool("think", { thought: "first A, then B" });
  assert.deepEqual(result, { content: [{ type: "text", text: "first A, then B" }] });
  const missing = await toolset.callTool("think", {});
  assert.equal(missing.isError, true);
  assert.equal(text(missing), 'think: missing required argument "thought" (a string)');
  await toolset.stop();
});

Deno.test("todo: create, create many, update, list — one list per toolset", async () => {
  const todo = createBuiltinToolset({ type: "todo" }, OPTIONS);
  assert.equal(text(await todo.callTool("list_todos", {})), "No todos yet.");
  assert.equal(
    text(await todo.callTool("create_todo", { description: "write tests" })),
    "Created todo todo_1: write tests",
  );
  const many = await todo.callTool("create_todos", { descriptions: ["fix bug", "ship"] });
  assert.equal(text(many), "Created 2 todos:\n- todo_2: fix bug\n- todo_3: ship");
  // cagent's shape, todos: [{description}], is accepted too.
  await todo.callTool("create_todos", { todos: [{ description: "celebrate" }] });
  assert.equal(
    text(await todo.callTool("update_todo", { id: "todo_2", status: "in-progress" })),
    "Updated todo todo_2 status to: in-progress",
  );
  await todo.callTool("update_todo", { id: "todo_1", status: "completed" });
  const listed = await todo.callTool("list_todos", {});
  assert.equal(
    text(listed),
    "Current todos:\n- [todo_1] write tests (completed)\n- [todo_2] fix bug (in-progress)\n" +
      "- [todo_3] ship (pending)\n- [todo_4] celebrate (pending)",
  );
  assert.equal((listed.structuredContent?.todos as unknown[]).length, 4);

  const badStatus = await todo.callTool("update_todo", { id: "todo_1", status: "done" });
  assert.equal(badStatus.isError, true);
  assert.match(
    text(badStatus),
    /unknown status "done"; use one of: pending, in-progress, completed/,
  );
  const unknown = await todo.callTool("update_todo", { id: "todo_9", status: "completed" });
  assert.equal(unknown.isError, true);
  assert.match(text(unknown), /todo "todo_9" not found; existing ids: todo_1, todo_2/);
  assert.equal((await todo.callTool("create_todos", { descriptions: [] })).isError, true);
  assert.equal((await todo.callTool("create_todo", { description: "  " })).isError, true);

  const other = createBuiltinToolset({ type: "todo" }, OPTIONS);
  assert.equal(text(await other.callTool("list_todos", {})), "No todos yet.");
});

Deno.test("listTools returns copies: a caller mutating them changes nothing", async () => {
  const toolset = createBuiltinToolset({ type: "think" }, OPTIONS);
  const [first] = await toolset.listTools();
  first.name = "changed";
  (first.inputSchema.properties as Record<string, unknown>).thought = null;
  const [again] = await toolset.listTools();
  assert.equal(again.name, "think");
  assert.deepEqual(again.inputSchema.properties, {
    thought: { type: "string", description: "A thought to think about." },
  });
});
