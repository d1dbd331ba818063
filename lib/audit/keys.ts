/**
 * The audit signing key: an Ed25519 key pair (WebCrypto), created on first use and kept in
 * `<dataDir>/audit-key.json` (file 0600 in a 0700 directory). Public keys travel as the
 * base64url (no padding) of their 32 raw bytes (RFC 8032 §5.1.5 encoding).
 * @module
 */

import { join } from "node:path";
import { DagentError, ExitCode } from "../errors.ts";
import { readEnv } from "../env.ts";

/** A loaded key pair. */
export interface AuditKeyPair {
  /** base64url of the raw 32-byte public key; written into every session_start record. */
  publicKey: string;
  /** The signing key (not extractable). */
  privateKey: CryptoKey;
}

/** Inputs of {@link auditDataDir}; each defaults to the running process's. */
export interface DataDirOptions {
  env?: Record<string, string | undefined>;
  /** A `Deno.build.os` value. */
  platform?: string;
}

/** The on-disk shape of the key file. */
interface KeyFile {
  version: 1;
  alg: "Ed25519";
  publicKey: string;
  privateKey: JsonWebKey;
}

const ALG = { name: "Ed25519" } as const;
const KEY_FILE = "audit-key.json";
const MAX_KEY_FILE_BYTES = 64 * 1024;
const IS_POSIX = Deno.build.os !== "windows";

/**
 * Where dagent keeps data it writes (audit logs and their key): `$DAGENT_HOME`; else
 * `$XDG_DATA_HOME/dagent` (XDG Base Directory spec: only an absolute value counts); else
 * `~/Library/Application Support/dagent` on macOS, `%LOCALAPPDATA%\dagent` on Windows,
 * `~/.local/share/dagent` elsewhere. Nothing is created here.
 */
export function auditDataDir(opts: DataDirOptions = {}): string {
  const platform = opts.platform ?? Deno.build.os;
  const env = opts.env ??
    readEnv([
      "DAGENT_HOME",
      "XDG_DATA_HOME",
      "HOME",
      ...(platform === "windows" ? ["LOCALAPPDATA", "USERPROFILE"] : []),
    ]);
  if (env.DAGENT_HOME) return env.DAGENT_HOME;
  const xdg = env.XDG_DATA_HOME;
  if (xdg && (platform === "windows" ? /^([A-Za-z]:[\\/]|\\\\)/.test(xdg) : xdg.startsWith("/"))) {
    return join(xdg, "dagent");
  }
  if (platform === "windows" && env.LOCALAPPDATA) return join(env.LOCALAPPDATA, "dagent");
  const home = platform === "windows" ? env.USERPROFILE ?? env.HOME : env.HOME;
  if (!home) {
    throw new DagentError("Cannot find a directory to keep the audit log in: HOME is not set.", {
      code: "audit.no_home",
      hint: "Set DAGENT_HOME, or set audit.path in the config.",
    });
  }
  if (platform === "darwin") return join(home, "Library", "Application Support", "dagent");
  return join(home, ".local", "share", "dagent");
}

/** The key file inside a data directory. */
export function keyFilePath(dataDir: string): string {
  return join(dataDir, KEY_FILE);
}

/**
 * Loads the key pair from `dataDir`, creating it (and the 0700 directory) when there is none.
 * Two processes creating it at once end up with the same key: the file is linked into place
 * only if absent. A key file other users can read is refused.
 */
export async function loadOrCreateKeyPair(dataDir: string): Promise<AuditKeyPair> {
  const existing = await loadKeyPair(dataDir);
  if (existing) return existing;
  await ensurePrivateDir(dataDir);
  const pair = await crypto.subtle.generateKey(ALG, true, ["sign", "verify"]) as CryptoKeyPair;
  const publicKey = encodeBase64Url(
    new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey)),
  );
  const content: KeyFile = {
    version: 1,
    alg: "Ed25519",
    publicKey,
    privateKey: await crypto.subtle.exportKey("jwk", pair.privateKey),
  };
  const path = keyFilePath(dataDir);
  const temp = `${path}.tmp-${Deno.pid}-${crypto.randomUUID()}`;
  try {
    const file = await Deno.open(temp, { write: true, createNew: true, mode: 0o600 });
    try {
      await file.write(new TextEncoder().encode(JSON.stringify(content, null, 2) + "\n"));
      await file.sync();
    } finally {
      file.close();
    }
    if (IS_POSIX) await Deno.chmod(temp, 0o600);
    try {
      await Deno.link(temp, path);
    } catch (error) {
      if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
      // Another process won the race: use its key.
      const theirs = await loadKeyPair(dataDir);
      if (theirs) return theirs;
      throw error;
    }
  } catch (error) {
    if (error instanceof DagentError) throw error;
    throw new DagentError(`Cannot create the audit key ${path}.`, {
      code: "audit.key_io",
      hint: "Check that the directory is yours and writable, or set DAGENT_HOME elsewhere.",
      cause: error,
    });
  } finally {
    await Deno.remove(temp).catch(() => {});
  }
  return await importPair(content, path);
}

/** Loads the key pair from `dataDir`, or undefined when there is no key file yet. */
export async function loadKeyPair(dataDir: string): Promise<AuditKeyPair | undefined> {
  const path = keyFilePath(dataDir);
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw keyError(`Cannot read the audit key ${path}.`, error);
  }
  if (!info.isFile || info.size > MAX_KEY_FILE_BYTES) {
    throw new DagentError(`The audit key ${path} is not a key file.`, {
      code: "audit.key_invalid",
      hint: "Move it away; a new key is created on the next run.",
    });
  }
  if (IS_POSIX && info.mode !== null && (info.mode & 0o077) !== 0) {
    const mode = (info.mode & 0o777).toString(8).padStart(4, "0");
    throw new DagentError(
      `Refusing to use the audit key ${path}: other users may read it (mode ${mode}).`,
      { code: "audit.key_permissions", hint: `Run: chmod 600 ${path}` },
    );
  }
  let content: unknown;
  try {
    content = JSON.parse(await Deno.readTextFile(path));
  } catch (error) {
    if (error instanceof SyntaxError) throw invalidKey(path);
    throw keyError(`Cannot read the audit key ${path}.`, error);
  }
  return await importPair(content, path);
}

/**
 * Imports a public key given as base64url (or base64) of its 32 raw bytes. Throws a usage
 * DagentError for anything else.
 */
export async function importPublicKey(publicKey: string): Promise<CryptoKey> {
  const raw = decodeBase64(publicKey);
  if (!raw || raw.length !== 32) {
    throw new DagentError("That is not an Ed25519 public key (32 bytes, base64url).", {
      code: "audit.bad_public_key",
      exitCode: ExitCode.Usage,
      hint: "Pass the key printed by 'dagent audit key', or a file holding it.",
    });
  }
  return await crypto.subtle.importKey("raw", raw, ALG, true, ["verify"]);
}

/** Normalizes a public key written as base64 or base64url to unpadded base64url. */
export function normalizePublicKey(publicKey: string): string | undefined {
  const raw = decodeBase64(publicKey.trim());
  return raw && raw.length === 32 ? encodeBase64Url(raw) : undefined;
}

/** base64url without padding (RFC 4648 §5). */
export function encodeBase64Url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function decodeBase64(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) return undefined;
  const standard = text.replaceAll("-", "+").replaceAll("_", "/").replace(/=+$/, "");
  try {
    const binary = atob(standard + "=".repeat((4 - standard.length % 4) % 4));
    return Uint8Array.from(binary, (c) => c.charCodeAt(0));
  } catch {
    return undefined;
  }
}

async function importPair(content: unknown, path: string): Promise<AuditKeyPair> {
  if (
    typeof content !== "object" || content === null ||
    (content as KeyFile).alg !== "Ed25519" || typeof (content as KeyFile).publicKey !== "string" ||
    typeof (content as KeyFile).privateKey !== "object"
  ) throw invalidKey(path);
  const file = content as KeyFile;
  let privateKey: CryptoKey;
  try {
    privateKey = await crypto.subtle.importKey("jwk", file.privateKey, ALG, false, ["sign"]);
  } catch {
    throw invalidKey(path);
  }
  // The JWK's `x` is the public key (RFC 8037 §2): it must be the one we advertise.
  if (normalizePublicKey(file.privateKey.x ?? "") !== normalizePublicKey(file.publicKey)) {
    throw invalidKey(path);
  }
  return { publicKey: normalizePublicKey(file.publicKey)!, privateKey };
}

/** Creates `dir` (and its parents) when missing, the last one 0700; an existing one is kept. */
export async function ensurePrivateDir(dir: string): Promise<void> {
  try {
    await Deno.stat(dir);
    return;
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw keyError(`Cannot use ${dir}.`, error);
  }
  try {
    await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
    if (IS_POSIX) await Deno.chmod(dir, 0o700);
  } catch (error) {
    if (!(error instanceof Deno.errors.AlreadyExists)) {
      throw keyError(`Cannot create ${dir}.`, error);
    }
  }
}

function invalidKey(path: string): DagentError {
  return new DagentError(`The audit key ${path} is damaged.`, {
    code: "audit.key_invalid",
    hint: "Move it away (logs it signed still verify with their recorded key); a new key is " +
      "created on the next run.",
  });
}

function keyError(message: string, cause: unknown): DagentError {
  return new DagentError(message, {
    code: "audit.key_io",
    hint: "Check that the directory is yours and readable, or set DAGENT_HOME elsewhere.",
    cause,
  });
}
