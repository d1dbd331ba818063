/**
 * Shared helpers of the audit tests: a session log written through the real writer into a
 * temporary data directory, and a record signer for forgeries.
 * @module
 */

import { openAuditLog } from "../lib/audit/writer.ts";
import type { AuditEvent } from "../lib/audit/records.ts";
import { GENESIS, recordHash, signedBytes } from "../lib/audit/records.ts";
import { canonicalize } from "../lib/audit/canonical.ts";
import { encodeBase64Url } from "../lib/audit/keys.ts";

/** A written log: its directory, file, text, lines and public key. */
export interface WrittenLog {
  dir: string;
  path: string;
  text: string;
  lines: string[];
  publicKey: string;
}

/** A tool call event for `tool` with `args`. */
export function toolCall(tool: string, args: unknown = { path: "README.md" }): AuditEvent {
  return {
    type: "tool_call",
    agent: "root",
    toolset: "fs",
    tool,
    arguments: args,
    approval: "auto",
  };
}

/** Writes a closed session with `count` tool calls (one at a time) in a fresh temp dir. */
export async function writeLog(count = 4, dir?: string, sessionId = "s1"): Promise<WrittenLog> {
  dir ??= await Deno.makeTempDir({ prefix: "dagent-audit-" });
  const log = await openAuditLog({ config: { enabled: true }, dataDir: dir, sessionId });
  if (!log) throw new Error("audit log not opened");
  for (let i = 0; i < count; i++) await log.append(toolCall(`tool_${i}`));
  await log.close();
  const text = await Deno.readTextFile(log.path);
  return { dir, path: log.path, text, lines: text.trimEnd().split("\n"), publicKey: log.publicKey };
}

/** Joins lines back into a log's text (newline-terminated). */
export function joinLines(lines: string[]): string {
  return lines.map((line) => line + "\n").join("");
}

/** A fresh Ed25519 key pair that is not the audit key. */
export async function otherKey(): Promise<{ privateKey: CryptoKey; publicKey: string }> {
  const pair = await crypto.subtle.generateKey({ name: "Ed25519" }, true, [
    "sign",
    "verify",
  ]) as CryptoKeyPair;
  const raw = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
  return { privateKey: pair.privateKey, publicKey: encodeBase64Url(raw) };
}

/**
 * A record following `previousLine` (right seq and prev; the genesis record when undefined),
 * signed with `privateKey`.
 */
export async function forgeAfter(
  previousLine: string | undefined,
  fields: Record<string, unknown>,
  privateKey: CryptoKey,
): Promise<string> {
  const previous = previousLine === undefined ? undefined : JSON.parse(previousLine);
  const unsigned = {
    ...fields,
    v: 1,
    seq: previous ? previous.seq + 1 : 0,
    ts: new Date().toISOString(),
    id: "ab".repeat(16),
    prev: previous ? recordHash(previous) : GENESIS,
  };
  const sig = new Uint8Array(
    await crypto.subtle.sign("Ed25519", privateKey, signedBytes(unsigned)),
  );
  return canonicalize({ ...unsigned, sig: encodeBase64Url(sig) });
}
