/**
 * `dagent audit verify|show|key`: checks a tamper-evident audit log (exit 0 only when intact,
 * 1 when broken, 2 for usage errors), prints it as a timeline, or prints this machine's audit
 * public key (the value to pass to `verify --key`).
 * @module
 */
import { DagentError, ExitCode, UsageError } from "../errors.ts";
import { nearest } from "../suggest.ts";
import { auditDataDir, keyFilePath, loadKeyPair, normalizePublicKey } from "../audit/keys.ts";
import { parseLog, renderTimeline } from "../audit/show.ts";
import { readLog, verifyLog, type VerifyReport } from "../audit/verify.ts";
import { expectPositionals, type FlagSpecs, parseFlags, renderHelp } from "./args.ts";

const SUBCOMMANDS = ["verify", "show", "key"];

const VERIFY_USAGE = "dagent audit verify FILE [--key PUBKEY] [--allow-open] [--json]";
const VERIFY_FLAGS: FlagSpecs = {
  key: {
    type: "string",
    placeholder: "PUBKEY",
    description: "Expected public key (base64url), or a file holding it: every session must " +
      "be signed with it",
  },
  "allow-open": {
    type: "boolean",
    description: "Accept a last session without session_end (a session still running)",
  },
  json: { type: "boolean", description: "Print the result as JSON" },
};

const SHOW_USAGE = "dagent audit show FILE [--json] [--utc]";
const SHOW_FLAGS: FlagSpecs = {
  json: { type: "boolean", description: "Print the records as a JSON array" },
  utc: { type: "boolean", description: "Print times in UTC instead of local time" },
};

const KEY_USAGE = "dagent audit key [--json]";
const KEY_FLAGS: FlagSpecs = {
  json: { type: "boolean", description: "Print { publicKey, file } as JSON" },
};

const HELP = `Usage: dagent audit verify|show|key ...

Tamper-evident audit logs: every record is chained to the one before (SHA-256) and
signed (Ed25519).

  dagent audit verify FILE [--key PUBKEY] [--allow-open] [--json]
      Check every link and signature; print FILE: ok, or FILE:LINE: what is wrong
      for the first broken record. Exit 0 only for an intact log; a log without
      session_end is cut off (exit 1) unless --allow-open.
  dagent audit show FILE [--json] [--utc]
      Print the log as a timeline (or its records as a JSON array).
  dagent audit key [--json]
      Print this machine's audit public key, to pass to verify --key.

Exit codes: 0 intact / done, 1 the log is broken, 2 usage error.
`;

/** Runs `dagent audit` with the arguments after the command name. */
export async function run(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === "--help" || sub === "-h" || sub === "help") {
    console.log(HELP);
    return sub === undefined ? ExitCode.Usage : ExitCode.Ok;
  }
  switch (sub) {
    case "verify":
      return await verify(rest);
    case "show":
      return await show(rest);
    case "key":
      return await key(rest);
  }
  const guess = sub.startsWith("-") ? undefined : nearest(sub, SUBCOMMANDS);
  throw new UsageError(
    `audit: unknown subcommand '${sub}'`,
    guess ? `did you mean 'dagent audit ${guess}'?` : "run 'dagent audit --help'",
  );
}

async function verify(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags("audit verify", args, VERIFY_FLAGS);
  if (values.help) {
    console.log(renderHelp(
      VERIFY_USAGE,
      "Check every record's signature, sequence number and link to the record before.\n" +
        "Prints FILE: ok, or FILE:LINE: what is wrong for the first broken record.\n" +
        "Exit 0 only for an intact log, 1 when it is broken, 2 for usage errors.",
      VERIFY_FLAGS,
    ));
    return ExitCode.Ok;
  }
  expectPositionals("audit verify", positionals, 1, 1, VERIFY_USAGE);
  const [file] = positionals;
  const publicKey = typeof values.key === "string" ? await readKeyArgument(values.key) : undefined;
  const report = await verifyLog(await readLog(file), {
    publicKey,
    allowOpen: values["allow-open"] === true,
  });
  if (values.json) {
    console.log(JSON.stringify({ file, ...report }, null, 2));
  } else if (report.finding) {
    console.log(`${file}:${report.finding.line}: ${report.finding.message}`);
  } else {
    console.log(`${file}: ok (${summary(report)})`);
  }
  return report.ok ? ExitCode.Ok : ExitCode.Failed;
}

async function show(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags("audit show", args, SHOW_FLAGS);
  if (values.help) {
    console.log(renderHelp(
      SHOW_USAGE,
      "Print an audit log as a readable timeline, one line per record.\n" +
        "Showing does not verify: run 'dagent audit verify' to trust what you read.",
      SHOW_FLAGS,
    ));
    return ExitCode.Ok;
  }
  expectPositionals("audit show", positionals, 1, 1, SHOW_USAGE);
  const [file] = positionals;
  const text = await readLog(file);
  const entries = parseLog(text);
  if (values.json) {
    console.log(JSON.stringify(entries.flatMap((e) => e.record ? [e.record] : []), null, 2));
  } else {
    await writeOut(renderTimeline(entries, { utc: values.utc === true }));
  }
  // Say so when what was shown cannot be trusted.
  const report = await verifyLog(text, { allowOpen: true });
  if (report.finding) {
    console.error(
      `warning: ${file}:${report.finding.line}: ${report.finding.message} ` +
        `(see 'dagent audit verify ${file}')`,
    );
  } else if (report.open) {
    console.error(`note: ${file}: no session_end yet (running, or cut off)`);
  }
  return ExitCode.Ok;
}

async function key(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags("audit key", args, KEY_FLAGS);
  if (values.help) {
    console.log(renderHelp(
      KEY_USAGE,
      "Print this machine's audit public key (created on the first audited session).\n" +
        "Keep a copy elsewhere: 'dagent audit verify --key' checks a log against it.",
      KEY_FLAGS,
    ));
    return ExitCode.Ok;
  }
  expectPositionals("audit key", positionals, 0, 0, KEY_USAGE);
  const dir = auditDataDir();
  const pair = await loadKeyPair(dir);
  if (!pair) {
    throw new DagentError(`There is no audit key yet (${keyFilePath(dir)}).`, {
      code: "audit.no_key",
      hint: "It is created by the first session run with 'audit: { enabled: true }'.",
    });
  }
  if (values.json) {
    console.log(JSON.stringify({ publicKey: pair.publicKey, file: keyFilePath(dir) }));
  } else console.log(pair.publicKey);
  return ExitCode.Ok;
}

/** `--key` is a key, or a file holding one (plain, or JSON with a `publicKey` member). */
async function readKeyArgument(value: string): Promise<string> {
  if (normalizePublicKey(value)) return value;
  let text: string;
  try {
    text = await Deno.readTextFile(value);
  } catch {
    throw new UsageError(
      "audit verify: --key is neither a public key nor a readable file",
      "pass the base64url key printed by 'dagent audit key', or a file holding it",
    );
  }
  let candidate = text.trim();
  try {
    const parsed = JSON.parse(candidate);
    if (typeof parsed?.publicKey === "string") candidate = parsed.publicKey;
  } catch { /* a plain text file */ }
  if (!normalizePublicKey(candidate)) {
    throw new UsageError(
      `audit verify: ${value} does not hold an Ed25519 public key`,
      "pass the base64url key printed by 'dagent audit key', or a file holding it",
    );
  }
  return candidate;
}

function summary(report: VerifyReport): string {
  const keys = report.publicKeys.map((k) => `${k.slice(0, 12)}…`).join(", ");
  const sessions = `${report.sessions} session${report.sessions === 1 ? "" : "s"}`;
  const open = report.open ? ", last session still open" : "";
  return `${report.records} records, ${sessions}, signed by ${keys}${open}`;
}

/** Writes long output without console.log's per-call formatting. */
async function writeOut(text: string): Promise<void> {
  const bytes = new TextEncoder().encode(text);
  let written = 0;
  while (written < bytes.length) written += await Deno.stdout.write(bytes.subarray(written));
}
