/**
 * The filesystem toolset on a real temporary tree: every tool's happy path and errors, the
 * read cap, and confinement — `..`, absolute paths, symlinked files and directories, a
 * sibling directory sharing the root's prefix, and writes through dangling links — refused
 * as tool errors that name the roots, with nothing created outside.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { createBuiltinToolset } from "../lib/tools/mod.ts";
import { MAX_READ_BYTES } from "../lib/tools/filesystem.ts";
import { DagentError } from "../lib/errors.ts";
import type { ToolResult, Toolset } from "../lib/mcp/types.ts";

interface Tree {
  base: string;
  root: string;
  outside: string;
  toolset: Toolset;
  call(tool: string, args: Record<string, unknown>): Promise<ToolResult>;
}

/** base/root (the toolset's root) and base/outside (with secret.txt), removed afterwards. */
async function withTree(fn: (tree: Tree) => Promise<void>): Promise<void> {
  const base = await Deno.realPath(await Deno.makeTempDir({ prefix: "dagent-fs-" }));
  const root = join(base, "root");
  const outside = join(base, "outside");
  await Deno.mkdir(root);
  await Deno.mkdir(outside);
  await Deno.writeTextFile(join(outside, "secret.txt"), "TOP SECRET");
  const toolset = createBuiltinToolset({ type: "filesystem" }, { name: "fs", cwd: root });
  try {
    await toolset.start();
    await fn({ base, root, outside, toolset, call: (tool, args) => toolset.callTool(tool, args) });
  } finally {
    await toolset.stop();
    await Deno.remove(base, { recursive: true });
  }
}

function text(result: ToolResult): string {
  const first = result.content[0] as { type: string; text: string };
  assert.equal(first.type, "text");
  return first.text;
}

function assertRefused(result: ToolResult, root: string): void {
  assert.equal(result.isError, true, `expected a refusal, got: ${text(result)}`);
  assert.match(text(result), /outside the allowed directories/);
  assert.ok(text(result).includes(root), "the refusal names the allowed root");
  assert.doesNotMatch(text(result), /TOP SECRET/);
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

Deno.test("write_file creates parents, read_file reads it back, relative to the root", async () => {
  await withTree(async ({ root, call }) => {
    const written = await call("write_file", { path: "a/b/note.txt", content: "héllo\n" });
    assert.equal(written.isError, undefined, text(written));
    assert.match(text(written), /Wrote 7 bytes to a\/b\/note.txt/);
    assert.equal(await Deno.readTextFile(join(root, "a/b/note.txt")), "héllo\n");
    assert.equal(text(await call("read_file", { path: "a/b/note.txt" })), "héllo\n");
    assert.equal(text(await call("read_file", { path: join(root, "a/b/note.txt") })), "héllo\n");
  });
});

Deno.test("read_file errors: missing file, directory, binary, bad arguments", async () => {
  await withTree(async ({ root, call }) => {
    const missing = await call("read_file", { path: "nope.txt" });
    assert.equal(missing.isError, true);
    assert.match(text(missing), /"nope.txt": no such file/);
    await Deno.mkdir(join(root, "dir"));
    assert.match(text(await call("read_file", { path: "dir" })), /is a directory/);
    await Deno.writeFile(join(root, "bin"), new Uint8Array([1, 0, 2, 3]));
    const binary = await call("read_file", { path: "bin" });
    assert.equal(binary.isError, true);
    assert.match(text(binary), /binary file/);
    const noPath = await call("read_file", {});
    assert.equal(noPath.isError, true);
    assert.match(text(noPath), /missing required argument "path"/);
    assert.match(text(await call("read_file", { path: 42 })), /must be a string/);
  });
});

Deno.test("read_file returns at most 1 MiB and says it truncated", async () => {
  await withTree(async ({ root, call }) => {
    const big = "x".repeat(MAX_READ_BYTES) + "TAIL-NOT-SHOWN";
    await Deno.writeTextFile(join(root, "big.txt"), big);
    const result = text(await call("read_file", { path: "big.txt" }));
    assert.ok(result.startsWith("x".repeat(MAX_READ_BYTES)));
    assert.doesNotMatch(result, /TAIL-NOT-SHOWN/);
    assert.match(
      result,
      new RegExp(`\\[truncated: showing the first 1 MiB of ${big.length} bytes\\]`),
    );
  });
});

Deno.test("read_multiple_files reports per-file failures and fails only when all fail", async () => {
  await withTree(async ({ root, call }) => {
    await Deno.writeTextFile(join(root, "one.txt"), "first");
    await Deno.writeTextFile(join(root, "two.txt"), "second");
    const mixed = await call("read_multiple_files", {
      paths: ["one.txt", "missing.txt", "../outside/secret.txt", "two.txt"],
    });
    assert.equal(mixed.isError, undefined);
    const parts = text(mixed).split("\n---\n");
    assert.equal(parts.length, 4);
    assert.equal(parts[0], "one.txt:\nfirst");
    assert.match(parts[1], /^missing.txt: Error - .*no such file/);
    assert.match(parts[2], /^\.\.\/outside\/secret.txt: Error - access denied/);
    assert.equal(parts[3], "two.txt:\nsecond");
    assert.doesNotMatch(text(mixed), /TOP SECRET/);
    const allBad = await call("read_multiple_files", { paths: ["x", "y"] });
    assert.equal(allBad.isError, true);
    assert.equal((await call("read_multiple_files", { paths: [] })).isError, true);
  });
});

Deno.test("edit_file replaces unique text in order, all or nothing", async () => {
  await withTree(async ({ root, call }) => {
    const file = join(root, "code.ts");
    await Deno.writeTextFile(file, "const a = 1;\nconst b = 2;\nconst c = 1;\n");
    const ok = await call("edit_file", {
      path: "code.ts",
      edits: [
        { oldText: "const a = 1;", newText: "const a = 10;" },
        { oldText: "b = 2", newText: "b = 20" },
      ],
    });
    assert.equal(ok.isError, undefined, text(ok));
    assert.match(text(ok), /Applied 2 edits to code.ts/);
    assert.equal(await Deno.readTextFile(file), "const a = 10;\nconst b = 20;\nconst c = 1;\n");

    // The second edit is ambiguous (" = 1" occurs in "10" and in c): nothing is written.
    const ambiguous = await call("edit_file", {
      path: "code.ts",
      edits: [{ oldText: "const b", newText: "let b" }, { oldText: " = 1", newText: " = 0" }],
    });
    assert.equal(ambiguous.isError, true);
    assert.match(text(ambiguous), /edit 2: oldText occurs 2 times/);
    assert.equal(await Deno.readTextFile(file), "const a = 10;\nconst b = 20;\nconst c = 1;\n");

    const missing = await call("edit_file", {
      path: "code.ts",
      edits: [{ oldText: "nowhere", newText: "x" }],
    });
    assert.match(text(missing), /oldText not found/);
    const bad = await call("edit_file", { path: "code.ts", edits: [{ oldText: "a" }] });
    assert.match(text(bad), /non-empty array of \{oldText, newText\}/);
    assert.match(
      text(await call("edit_file", { path: "none.ts", edits: [{ oldText: "a", newText: "b" }] })),
      /no such file/,
    );
  });
});

Deno.test("list_directory, directory_tree, create_directory and get_file_info", async () => {
  await withTree(async ({ root, call }) => {
    const created = await call("create_directory", { path: "src/deep/er" });
    assert.equal(created.isError, undefined);
    assert.match(text(created), /Created directory src\/deep\/er/);
    assert.match(text(await call("create_directory", { path: "src" })), /already exists/);
    await Deno.writeTextFile(join(root, "src/main.ts"), "x");
    await Deno.writeTextFile(join(root, "README.md"), "readme");
    assert.match(
      text(await call("create_directory", { path: "README.md" })),
      /exists and is not a directory/,
    );

    assert.equal(text(await call("list_directory", { path: "." })), "[FILE] README.md\n[DIR] src");
    assert.equal(
      text(await call("list_directory", { path: "src/deep/er" })),
      "src/deep/er is empty",
    );
    assert.match(text(await call("list_directory", { path: "README.md" })), /is not a directory/);

    const tree = JSON.parse(text(await call("directory_tree", { path: ".", max_depth: 2 })));
    assert.deepEqual(tree, [
      { name: "README.md", type: "file" },
      {
        name: "src",
        type: "directory",
        children: [{ name: "deep", type: "directory", children: [] }, {
          name: "main.ts",
          type: "file",
        }],
      },
    ]);
    const badDepth = await call("directory_tree", { path: ".", max_depth: 0 });
    assert.equal(badDepth.isError, true);

    const info = await call("get_file_info", { path: "README.md" });
    assert.match(text(info), /type: file\nsize: 6\n/);
    assert.equal(info.structuredContent?.type, "file");
    assert.equal(info.structuredContent?.size, 6);
    assert.match(String(info.structuredContent?.permissions), /^[0-7]{3}$/);
    assert.match(text(await call("get_file_info", { path: "gone" })), /no such file/);
  });
});

Deno.test("search_files: substring, globs, ** across directories, exclude_patterns", async () => {
  await withTree(async ({ root, call }) => {
    for (
      const file of ["a/Report.md", "a/b/report-2.md", "a/b/data.json", "node_modules/x/report.md"]
    ) {
      await Deno.mkdir(join(root, file, ".."), { recursive: true });
      await Deno.writeTextFile(join(root, file), "");
    }
    const lines = async (args: Record<string, unknown>) =>
      text(await call("search_files", { path: ".", ...args })).split("\n");
    assert.deepEqual(await lines({ pattern: "REPORT", exclude_patterns: ["node_modules"] }), [
      "a/Report.md",
      "a/b/report-2.md",
    ]);
    assert.deepEqual(await lines({ pattern: "*.json" }), ["a/b/data.json"]);
    assert.deepEqual(await lines({ pattern: "a/**/*.md" }), ["a/Report.md", "a/b/report-2.md"]);
    assert.deepEqual(await lines({ pattern: "report*", exclude_patterns: ["**/b", "node_*"] }), [
      "a/Report.md",
    ]);
    assert.deepEqual(
      text(await call("search_files", { path: "a/b", pattern: "*.json" })).split("\n"),
      ["a/b/data.json"],
    );
    assert.equal(
      text(await call("search_files", { path: ".", pattern: "zzz" })),
      "No matches found",
    );
    assert.equal((await call("search_files", { path: ".", pattern: "" })).isError, true);
  });
});

Deno.test("confinement: .. and absolute paths outside the root are refused", async () => {
  await withTree(async ({ root, outside, call }) => {
    assertRefused(await call("read_file", { path: "../outside/secret.txt" }), root);
    assertRefused(await call("read_file", { path: "a/../../outside/secret.txt" }), root);
    assertRefused(await call("read_file", { path: join(outside, "secret.txt") }), root);
    assertRefused(await call("read_file", { path: "/etc/passwd" }), root);
    assertRefused(await call("list_directory", { path: ".." }), root);
    assertRefused(await call("get_file_info", { path: "/" }), root);
    assertRefused(await call("search_files", { path: "..", pattern: "secret" }), root);
    assertRefused(await call("directory_tree", { path: outside }), root);
    assertRefused(await call("write_file", { path: "../outside/new.txt", content: "x" }), root);
    assertRefused(await call("create_directory", { path: "../outside/newdir" }), root);
    assertRefused(
      await call("edit_file", {
        path: "../outside/secret.txt",
        edits: [{ oldText: "TOP", newText: "NO" }],
      }),
      root,
    );
    assert.equal(await exists(join(outside, "new.txt")), false);
    assert.equal(await exists(join(outside, "newdir")), false);
    assert.equal(await Deno.readTextFile(join(outside, "secret.txt")), "TOP SECRET");
    const nul = await call("read_file", { path: "a\0b" });
    assert.equal(nul.isError, true);
  });
});

Deno.test("confinement: a sibling directory sharing the root's name prefix is outside", async () => {
  await withTree(async ({ base, root, call }) => {
    await Deno.mkdir(`${root}2`);
    await Deno.writeTextFile(`${root}2/f.txt`, "TOP SECRET");
    assertRefused(await call("read_file", { path: `${root}2/f.txt` }), root);
    assertRefused(await call("read_file", { path: "../root2/f.txt" }), root);
    assert.ok(base);
  });
});

Deno.test("confinement: a symlinked file pointing outside is refused; inside is fine", async () => {
  await withTree(async ({ root, outside, call }) => {
    await Deno.symlink(join(outside, "secret.txt"), join(root, "link.txt"));
    assertRefused(await call("read_file", { path: "link.txt" }), root);
    assertRefused(await call("get_file_info", { path: "link.txt" }), root);
    assertRefused(await call("write_file", { path: "link.txt", content: "pwned" }), root);
    assertRefused(
      await call("edit_file", { path: "link.txt", edits: [{ oldText: "TOP", newText: "NO" }] }),
      root,
    );
    assert.equal(await Deno.readTextFile(join(outside, "secret.txt")), "TOP SECRET");

    await Deno.writeTextFile(join(root, "real.txt"), "inside");
    await Deno.symlink("real.txt", join(root, "alias.txt"));
    assert.equal(text(await call("read_file", { path: "alias.txt" })), "inside");
    assert.equal(
      (await call("write_file", { path: "alias.txt", content: "new" })).isError,
      undefined,
    );
    assert.equal(await Deno.readTextFile(join(root, "real.txt")), "new");
  });
});

Deno.test("confinement: a symlinked directory pointing outside is refused at any depth", async () => {
  await withTree(async ({ root, outside, call }) => {
    await Deno.mkdir(join(root, "sub"));
    await Deno.symlink(outside, join(root, "sub/door"));
    assertRefused(await call("read_file", { path: "sub/door/secret.txt" }), root);
    assertRefused(await call("list_directory", { path: "sub/door" }), root);
    assertRefused(await call("write_file", { path: "sub/door/new.txt", content: "x" }), root);
    assertRefused(
      await call("write_file", { path: "sub/door/deeper/new.txt", content: "x" }),
      root,
    );
    assertRefused(await call("create_directory", { path: "sub/door/made" }), root);
    assert.equal(await exists(join(outside, "new.txt")), false);
    assert.equal(await exists(join(outside, "deeper")), false);
    assert.equal(await exists(join(outside, "made")), false);

    // Walking tools list the link but never descend through it.
    assert.equal(text(await call("list_directory", { path: "sub" })), "[LINK] door");
    assert.equal(
      text(await call("search_files", { path: ".", pattern: "secret" })),
      "No matches found",
    );
    const tree = JSON.parse(text(await call("directory_tree", { path: "." })));
    assert.deepEqual(tree, [{
      name: "sub",
      type: "directory",
      children: [{ name: "door", type: "symlink" }],
    }]);
  });
});

Deno.test("confinement: no file is created through a dangling symlink (or a chain of them)", async () => {
  await withTree(async ({ root, outside, call }) => {
    await Deno.symlink(join(outside, "created.txt"), join(root, "trap.txt"));
    assertRefused(await call("write_file", { path: "trap.txt", content: "x" }), root);
    assert.equal(await exists(join(outside, "created.txt")), false);

    // A chain: inside → inside dangling link → outside.
    await Deno.symlink(join(outside, "chain.txt"), join(root, "hop2"));
    await Deno.symlink("hop2", join(root, "hop1"));
    assertRefused(await call("write_file", { path: "hop1", content: "x" }), root);
    assert.equal(await exists(join(outside, "chain.txt")), false);

    // A dangling directory link: writing below it would create the directory outside.
    await Deno.symlink(join(outside, "newdir"), join(root, "dirtrap"));
    assertRefused(await call("write_file", { path: "dirtrap/f.txt", content: "x" }), root);
    assertRefused(await call("create_directory", { path: "dirtrap" }), root);
    assert.equal(await exists(join(outside, "newdir")), false);

    // A dangling link that points inside the root is followed, and the write lands there.
    await Deno.symlink(join(root, "later.txt"), join(root, "ok-link"));
    const ok = await call("write_file", { path: "ok-link", content: "fine" });
    assert.equal(ok.isError, undefined, text(ok));
    assert.equal(await Deno.readTextFile(join(root, "later.txt")), "fine");

    // A link loop is refused, not followed forever.
    await Deno.symlink("loop-b", join(root, "loop-a"));
    await Deno.symlink("loop-a", join(root, "loop-b"));
    const loop = await call("write_file", { path: "loop-a", content: "x" });
    assert.equal(loop.isError, true);
  });
});

Deno.test("allowed_directories: resolved against configDir, several roots, relative paths use the first", async () => {
  const base = await Deno.realPath(await Deno.makeTempDir({ prefix: "dagent-fs-" }));
  try {
    await Deno.mkdir(join(base, "one"));
    await Deno.mkdir(join(base, "two"));
    await Deno.mkdir(join(base, "cwd"));
    await Deno.writeTextFile(join(base, "two/t.txt"), "in two");
    await Deno.writeTextFile(join(base, "cwd/c.txt"), "in cwd");
    const toolset = createBuiltinToolset(
      { type: "filesystem", allowed_directories: ["one", join(base, "two")] },
      { name: "fs", cwd: join(base, "cwd"), configDir: base },
    );
    await toolset.start();
    const written = await toolset.callTool("write_file", { path: "n.txt", content: "1" });
    assert.equal(written.isError, undefined);
    assert.equal(await Deno.readTextFile(join(base, "one/n.txt")), "1");
    assert.equal(
      text(await toolset.callTool("read_file", { path: join(base, "two/t.txt") })),
      "in two",
    );
    const cwdFile = await toolset.callTool("read_file", { path: join(base, "cwd/c.txt") });
    assert.equal(cwdFile.isError, true);
    assert.ok(text(cwdFile).includes(`${join(base, "one")}, ${join(base, "two")}`));
    await toolset.stop();
  } finally {
    await Deno.remove(base, { recursive: true });
  }
});

Deno.test("a missing allowed directory fails start() with a DagentError naming the toolset", async () => {
  const base = await Deno.makeTempDir({ prefix: "dagent-fs-" });
  try {
    const toolset = createBuiltinToolset(
      { type: "filesystem", allowed_directories: ["does-not-exist"] },
      { name: "files", cwd: base, configDir: base },
    );
    await assert.rejects(toolset.start(), (error: unknown) => {
      assert.ok(error instanceof DagentError);
      assert.match(error.message, /toolset "files": allowed directory .*does-not-exist/);
      assert.equal(error.code, "tools.filesystem_root");
      return true;
    });
    // Calls before a successful start report the same problem as a tool error.
    const result = await toolset.callTool("read_file", { path: "x" });
    assert.equal(result.isError, true);
    assert.match(text(result), /does-not-exist/);
    // Once the directory exists, start succeeds (a failed start is not remembered).
    await Deno.mkdir(join(base, "does-not-exist"));
    await toolset.start();
    await toolset.stop();
  } finally {
    await Deno.remove(base, { recursive: true });
  }
});
