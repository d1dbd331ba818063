/**
 * The documentation agrees with the code. The rules:
 *
 * - CLI: every command and subcommand has `--help` with a usage line and a description; every
 *   flag it accepts is listed there with a description of at least two words; every flag its usage
 *   lines mention is one it accepts; and every `dagent …` command line in README.md uses only
 *   flags that command accepts.
 * - Config: every schema property (walking schema/agent-schema.json, `$ref`s included) has a
 *   description, its own or its definition's, which editors and `dagent schema` show;
 *   `dagent schema` prints exactly that file; README's `remote.oauth` table lists every OAuth
 *   key and no other; and every YAML config in README.md loads without a problem.
 */
import assert from "node:assert/strict";
import { runCli } from "../lib/cli/main.ts";
import { parseConfigText } from "../lib/config/mod.ts";
import { referencedEnvNames } from "../lib/config/permissions.ts";

const REPO = new URL("../", import.meta.url);
const README = await Deno.readTextFile(new URL("README.md", REPO));
const SCHEMA = JSON.parse(await Deno.readTextFile(new URL("schema/agent-schema.json", REPO)));

/** Runs the CLI in-process and returns what it printed on stdout. */
async function cli(args: string[]): Promise<{ code: number; out: string }> {
  const out: string[] = [];
  const log = console.log;
  console.log = (...parts: unknown[]) => out.push(parts.join(" "));
  try {
    const code = await runCli(args);
    return { code, out: out.join("\n") };
  } finally {
    console.log = log;
  }
}

interface Help {
  /** "mcp tools", "validate", … */
  command: string;
  text: string;
  flags: Map<string, string>;
}

const FLAG_ROW = /^\s+(?:-\w, )?--([\w-]+)(?: \S+)?\s{2,}(\S.*)$/;

function parseHelp(command: string, text: string): Help {
  const flags = new Map<string, string>();
  const at = text.indexOf("\nFlags:\n");
  if (at >= 0) {
    for (const line of text.slice(at + 8).split("\n")) {
      const row = FLAG_ROW.exec(line);
      if (row) flags.set(row[1], row[2].trim());
    }
  }
  return { command, text, flags };
}

/** Every command's and subcommand's help, discovered from the top-level help. */
async function allHelps(): Promise<Help[]> {
  const top = await cli(["--help"]);
  assert.equal(top.code, 0);
  const section = top.out.slice(top.out.indexOf("Commands:\n") + 10).split("\n\n")[0];
  const commands = section.split("\n").map((line) => line.trim().split(/\s+/)[0])
    .filter((name) => name && name !== "version" && name !== "help");
  assert.ok(commands.includes("permissions") && commands.includes("mcp"), commands.join(" "));
  const helps: Help[] = [];
  for (const command of commands) {
    const { code, out } = await cli([command, "--help"]);
    assert.equal(code, 0, `dagent ${command} --help exits ${code}`);
    if (out.includes("\nFlags:\n")) {
      helps.push(parseHelp(command, out));
      continue;
    }
    // A command with subcommands: `Usage: dagent mcp tools|call ...`.
    const subs = new RegExp(`^Usage: dagent ${command} ([\\w|-]+)`).exec(out);
    assert.ok(subs, `dagent ${command} --help names neither flags nor subcommands`);
    for (const sub of subs[1].split("|")) {
      const help = await cli([command, sub, "--help"]);
      assert.equal(help.code, 0, `dagent ${command} ${sub} --help exits ${help.code}`);
      helps.push(parseHelp(`${command} ${sub}`, help.out));
    }
  }
  return helps;
}

const helps = await allHelps();

Deno.test("docs: every command has a usage line, a description and described flags", () => {
  assert.ok(helps.length >= 10, helps.map((h) => h.command).join(", "));
  for (const help of helps) {
    assert.match(help.text, new RegExp(`^Usage: dagent ${help.command}\\b`), help.command);
    const description = help.text.split("\n\n")[1] ?? "";
    assert.ok(description.trim().split(/\s+/).length >= 5, `${help.command}: no description`);
    assert.ok(help.flags.has("help"), `${help.command}: --help is not listed`);
    for (const [flag, text] of help.flags) {
      assert.ok(
        text.split(/\s+/).length >= 2,
        `dagent ${help.command} --${flag}: describe it in a few words, not "${text}"`,
      );
    }
  }
});

Deno.test("docs: flags named in a usage line are flags the command accepts", () => {
  for (const help of helps) {
    const usage = help.text.split("\n\n")[0];
    for (const [, flag] of usage.matchAll(/--([\w-]+)/g)) {
      assert.ok(help.flags.has(flag), `dagent ${help.command}: usage names --${flag}`);
    }
  }
});

Deno.test("docs: dagent command lines in README use only flags their command accepts", () => {
  const byCommand = new Map(helps.map((help) => [help.command, help]));
  let checked = 0;
  for (const block of codeBlocks(README, ["sh", "bash", ""])) {
    for (const raw of block.split("\n")) {
      const line = raw.replace(/#.*$/, "").trim();
      const words = /^(?:\S+\s+)?dagent\s+(\S+)(?:\s+(\S+))?/.exec(line);
      if (!words) continue;
      const help = byCommand.get(`${words[1]} ${words[2]}`) ?? byCommand.get(words[1]);
      assert.ok(help, `README: unknown command in '${line}'`);
      for (const [, flag] of line.matchAll(/\s--([\w-]+)/g)) {
        assert.ok(help.flags.has(flag), `README: 'dagent ${help.command}' has no --${flag}`);
      }
      checked++;
    }
  }
  assert.ok(checked >= 5, `only ${checked} dagent command lines found in README`);
});

/** The fenced code blocks of a Markdown text whose info string is one of `languages`. */
function codeBlocks(markdown: string, languages: string[]): string[] {
  const blocks: string[] = [];
  let open: { fence: string; language: string; lines: string[] } | undefined;
  for (const line of markdown.split("\n")) {
    const fence = /^(`{3,}|~{3,})\s*(\S*)/.exec(line);
    if (!open && fence) {
      open = { fence: fence[1], language: fence[2], lines: [] };
    } else if (
      open && line.trim().startsWith(open.fence) &&
      line.trim() === line.trim()[0].repeat(line.trim().length)
    ) {
      if (languages.includes(open.language)) blocks.push(open.lines.join("\n"));
      open = undefined;
    } else if (open) {
      open.lines.push(line);
    }
  }
  return blocks;
}

/** Every property of the schema, with its JSON path and whether it is described. */
function schemaProperties(): { path: string; described: boolean }[] {
  const definitions: Record<string, Record<string, unknown>> = SCHEMA.definitions ?? {};
  const found: { path: string; described: boolean }[] = [];
  const described = (node: Record<string, unknown>): boolean => {
    if (typeof node.description === "string" && node.description.trim().length >= 10) return true;
    const ref = typeof node.$ref === "string" ? node.$ref : undefined;
    const target = ref ? definitions[ref.replace("#/definitions/", "")] : undefined;
    return target !== undefined && described(target);
  };
  const walk = (node: unknown, path: string) => {
    if (Array.isArray(node)) return node.forEach((item) => walk(item, path));
    if (typeof node !== "object" || node === null) return;
    const record = node as Record<string, unknown>;
    const properties = record.properties as Record<string, Record<string, unknown>> | undefined;
    for (const [key, value] of Object.entries(properties ?? {})) {
      found.push({ path: `${path}.${key}`, described: described(value) });
      walk(value, `${path}.${key}`);
    }
    for (const [key, value] of Object.entries(record)) {
      if (key !== "properties") walk(value, key === "definitions" ? "" : path);
    }
  };
  walk(SCHEMA, "");
  return found;
}

Deno.test("docs: every schema property has a description (own or its definition's)", () => {
  const properties = schemaProperties();
  assert.ok(properties.length >= 50, `only ${properties.length} properties found`);
  const bare = properties.filter((p) => !p.described).map((p) => p.path);
  assert.deepEqual(bare, [], `describe these in schema/agent-schema.json: ${bare.join(", ")}`);
});

Deno.test("docs: dagent schema prints schema/agent-schema.json", async () => {
  const { code, out } = await cli(["schema"]);
  assert.equal(code, 0);
  assert.deepEqual(JSON.parse(out), SCHEMA);
});

Deno.test("docs: README's remote.oauth table lists exactly the schema's OAuth keys", () => {
  const start = README.indexOf("### OAuth settings (`remote.oauth`)");
  assert.ok(start >= 0, "README has no OAuth settings table");
  const table = README.slice(start).split("\n\n").find((part) => part.startsWith("|"));
  assert.ok(table, "README's OAuth section has no table");
  const keys = [...table.matchAll(/^\| `(\w+)/gm)].map((m) => m[1]).sort();
  const schemaKeys = Object.keys(SCHEMA.definitions.RemoteOAuth.properties);
  const missing = schemaKeys.filter((key) => !keys.includes(key) && !table.includes(`\`${key}\``));
  assert.deepEqual(missing, [], `README's OAuth table misses ${missing.join(", ")}`);
  const unknown = keys.filter((key) => !schemaKeys.includes(key));
  assert.deepEqual(unknown, [], `README's OAuth table names keys the schema rejects`);
});

Deno.test("docs: every YAML config in README loads without a problem", async () => {
  let loaded = 0;
  for (const text of codeBlocks(README, ["yaml", "yml"])) {
    if (!/^agents:/m.test(text)) continue;
    const referenced = await referencedEnvNames(text);
    const env = Object.fromEntries(referenced.map((n) => [n, `placeholder-${n}`]));
    const { config } = await parseConfigText(text, "README.md", { env });
    assert.ok(Object.keys(config.agents).length > 0);
    loaded++;
  }
  assert.ok(loaded >= 1, "README shows no config");
});
