/**
 * A {@link TokenStore} in one JSON file, `tokens.json`, in the dagent config directory.
 * The directory is created 0700 and the file 0600; a file other users can read is refused.
 * Writes go to a 0600 temp file in the same directory and are renamed over the store, so a
 * crash never leaves half a file. A corrupt file is moved aside and reported, never emptied.
 * @module
 */

import { dirname } from "node:path";
import { DagentError } from "../errors.ts";
import { withServerLock } from "./lock.ts";
import { tokenFilePath } from "./paths.ts";
import type { StoredClient, StoredToken, TokenEndpointAuthMethod, TokenStore } from "./store.ts";

/** Options of {@link FileTokenStore}. */
export interface FileTokenStoreOptions {
  /**
   * Told when something was repaired rather than failed (a corrupt file moved aside).
   * Default: one `warning:` line on stderr.
   */
  onWarning?: (warning: DagentError) => void;
}

/** The on-disk shape of `tokens.json`. */
interface StoreFile {
  version: 1;
  /** Keyed by MCP server URL. */
  tokens: Record<string, StoredToken>;
  /** Keyed by authorization server issuer. */
  clients: Record<string, StoredClient>;
}

const VERSION = 1;
const MAX_FILE_BYTES = 4 * 1024 * 1024;
const IS_POSIX = Deno.build.os !== "windows";
/** A store write takes milliseconds; a lock this old was left by a crash. */
const STORE_LOCK_STALE_MS = 60_000;
const STORE_LOCK_TIMEOUT_MS = 15_000;

/** Per-file in-process queues, so concurrent saves in one process never lose an update. */
const queues = new Map<string, Promise<unknown>>();

/** The file-backed token store. `location` is the file's path. */
export class FileTokenStore implements TokenStore {
  /** Path of `tokens.json`. */
  readonly location: string;
  readonly #dir: string;
  readonly #onWarning: (warning: DagentError) => void;

  /** A store in `dir` (created on first write). Nothing is read until asked. */
  constructor(dir: string, opts: FileTokenStoreOptions = {}) {
    this.#dir = dir;
    this.location = tokenFilePath(dir);
    this.#onWarning = opts.onWarning ??
      ((warning) => console.error(`warning: ${warning.message} ${warning.hint ?? ""}`.trim()));
  }

  /** The token stored for an MCP server URL, if any. */
  async loadToken(serverUrl: string): Promise<StoredToken | undefined> {
    return (await this.#serial(() => this.#read())).tokens[serverUrl];
  }

  /** Stores (replaces) the token for an MCP server URL. */
  saveToken(serverUrl: string, token: StoredToken): Promise<void> {
    return this.#update((data) => {
      data.tokens[serverUrl] = token;
    });
  }

  /** Forgets the token for an MCP server URL (no error when there is none). */
  deleteToken(serverUrl: string): Promise<void> {
    return this.#update((data) => {
      delete data.tokens[serverUrl];
    });
  }

  /** The client registration remembered for an issuer, if any. */
  async loadClient(issuer: string): Promise<StoredClient | undefined> {
    return (await this.#serial(() => this.#read())).clients[issuer];
  }

  /** Remembers (replaces) the client registration for an issuer. */
  saveClient(issuer: string, client: StoredClient): Promise<void> {
    return this.#update((data) => {
      data.clients[issuer] = client;
    });
  }

  /** Forgets the client registration for an issuer. */
  deleteClient(issuer: string): Promise<void> {
    return this.#update((data) => {
      delete data.clients[issuer];
    });
  }

  /** Every stored token with its server URL, for `dagent auth status`. */
  async listTokens(): Promise<Array<[serverUrl: string, token: StoredToken]>> {
    return Object.entries((await this.#serial(() => this.#read())).tokens);
  }

  /** Every remembered client registration with its issuer. */
  async listClients(): Promise<Array<[issuer: string, client: StoredClient]>> {
    return Object.entries((await this.#serial(() => this.#read())).clients);
  }

  /** Runs `fn` after every earlier operation on the same file in this process. */
  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const previous = queues.get(this.location) ?? Promise.resolve();
    const next = previous.then(fn, fn);
    const settled = next.then(() => {}, () => {});
    queues.set(this.location, settled);
    settled.then(() => {
      if (queues.get(this.location) === settled) queues.delete(this.location);
    });
    return next;
  }

  /**
   * Read-modify-write under the in-process queue and a short cross-process lock, so two
   * dagent processes saving different servers' tokens at once never drop each other's.
   */
  #update(change: (data: StoreFile) => void): Promise<void> {
    return this.#serial(async () => {
      await ensurePrivateDir(this.#dir);
      await withServerLock(this.#dir, `store:${this.location}`, async () => {
        const data = await this.#read();
        change(data);
        await this.#write(data);
      }, { staleMs: STORE_LOCK_STALE_MS, timeoutMs: STORE_LOCK_TIMEOUT_MS });
    });
  }

  async #read(): Promise<StoreFile> {
    let info: Deno.FileInfo;
    try {
      info = await Deno.stat(this.location);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return emptyStore();
      throw storeError(`Cannot read the token store ${this.location}.`, error);
    }
    if (!info.isFile) {
      throw new DagentError(`The token store ${this.location} is not a regular file.`, {
        code: "store.not_a_file",
        hint: `Move it away or set DAGENT_HOME to another directory.`,
      });
    }
    if (IS_POSIX && info.mode !== null && (info.mode & 0o077) !== 0) {
      const mode = (info.mode & 0o777).toString(8).padStart(4, "0");
      throw new DagentError(
        `Refusing to use the token store ${this.location}: other users may read it ` +
          `(mode ${mode}).`,
        { code: "store.insecure_permissions", hint: `Run: chmod 600 ${this.location}` },
      );
    }
    if (info.size > MAX_FILE_BYTES) return this.#setAside("it is too large");
    let text: string;
    try {
      text = await Deno.readTextFile(this.location);
    } catch (error) {
      throw storeError(`Cannot read the token store ${this.location}.`, error);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return this.#setAside("it is not valid JSON");
    }
    if (isObject(parsed) && typeof parsed.version === "number" && parsed.version > VERSION) {
      throw new DagentError(
        `The token store ${this.location} was written by a newer dagent ` +
          `(format ${parsed.version}).`,
        { code: "store.newer_version", hint: "Upgrade dagent, or set DAGENT_HOME elsewhere." },
      );
    }
    const problem = shapeProblem(parsed);
    if (problem) return this.#setAside(problem);
    return parsed as StoreFile;
  }

  /** Moves a corrupt store aside (never deletes it), reports it, and starts empty. */
  async #setAside(why: string): Promise<StoreFile> {
    const aside = `${this.location}.corrupt-${new Date().toISOString().replace(/[:.]/g, "-")}`;
    try {
      await Deno.rename(this.location, aside);
    } catch (error) {
      throw storeError(
        `The token store ${this.location} is unreadable (${why}) and could not be moved aside.`,
        error,
      );
    }
    this.#onWarning(
      new DagentError(
        `The token store ${this.location} was unreadable (${why}); it was moved to ${aside}.`,
        {
          code: "store.corrupt",
          hint: "Servers will ask you to sign in again. Delete the moved file once you no " +
            "longer need it.",
        },
      ),
    );
    return emptyStore();
  }

  async #write(data: StoreFile): Promise<void> {
    const temp = `${this.location}.tmp-${Deno.pid}-${crypto.randomUUID()}`;
    try {
      const file = await Deno.open(temp, { write: true, createNew: true, mode: 0o600 });
      try {
        await file.write(new TextEncoder().encode(JSON.stringify(data, null, 2) + "\n"));
        await file.sync();
      } finally {
        file.close();
      }
      // The creation mode is filtered by the umask (never widened); make it exact anyway.
      if (IS_POSIX) await Deno.chmod(temp, 0o600);
      await Deno.rename(temp, this.location);
    } catch (error) {
      await Deno.remove(temp).catch(() => {});
      throw storeError(`Cannot write the token store ${this.location}.`, error);
    }
  }
}

/** Creates `dir` (and parents) 0700 when missing; an existing directory is left as it is. */
async function ensurePrivateDir(dir: string): Promise<void> {
  try {
    const info = await Deno.stat(dir);
    if (info.isDirectory) return;
    throw new Deno.errors.NotADirectory(dir);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) {
      throw storeError(`Cannot use ${dir} for the token store.`, error);
    }
  }
  try {
    await Deno.mkdir(dirname(dir), { recursive: true });
    try {
      await Deno.mkdir(dir, { mode: 0o700 });
    } catch (error) {
      if (error instanceof Deno.errors.AlreadyExists) return;
      throw error;
    }
    if (IS_POSIX) await Deno.chmod(dir, 0o700);
  } catch (error) {
    throw storeError(`Cannot create the token store directory ${dir}.`, error);
  }
}

function emptyStore(): StoreFile {
  return { version: VERSION, tokens: {}, clients: {} };
}

function storeError(message: string, cause: unknown): DagentError {
  const detail = cause instanceof Deno.errors.PermissionDenied
    ? "Check that this directory belongs to you, or set DAGENT_HOME to one that does."
    : "Check the directory exists and is writable, or set DAGENT_HOME to another directory.";
  return new DagentError(message, { code: "store.io", hint: detail, cause });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const AUTH_METHODS: readonly TokenEndpointAuthMethod[] = [
  "client_secret_basic",
  "client_secret_post",
  "none",
  "private_key_jwt",
];

/** Why `value` is not a valid store file, or undefined when it is. */
function shapeProblem(value: unknown): string | undefined {
  if (!isObject(value) || value.version !== VERSION) return "it has no valid version field";
  if (!isObject(value.tokens) || !isObject(value.clients)) return "it lacks tokens or clients";
  for (const [key, token] of Object.entries(value.tokens)) {
    if (!isToken(token)) return `the token for ${key} is malformed`;
  }
  for (const [key, client] of Object.entries(value.clients)) {
    if (!isClient(client)) return `the client for ${key} is malformed`;
  }
  return undefined;
}

function isToken(t: unknown): t is StoredToken {
  return isObject(t) && typeof t.accessToken === "string" && t.tokenType === "Bearer" &&
    optional(t.refreshToken, "string") && optional(t.expiresAt, "number") &&
    Array.isArray(t.scopes) && t.scopes.every((s) => typeof s === "string") &&
    typeof t.issuer === "string" && typeof t.tokenEndpoint === "string" &&
    AUTH_METHODS.includes(t.tokenEndpointAuthMethod as TokenEndpointAuthMethod) &&
    typeof t.clientId === "string" && typeof t.resource === "string" &&
    optional(t.revocationEndpoint, "string");
}

function isClient(c: unknown): c is StoredClient {
  return isObject(c) && typeof c.clientId === "string" && optional(c.clientSecret, "string") &&
    optional(c.clientSecretExpiresAt, "number") && typeof c.issuer === "string" &&
    Array.isArray(c.redirectUris) && c.redirectUris.every((u) => typeof u === "string") &&
    AUTH_METHODS.includes(c.tokenEndpointAuthMethod as TokenEndpointAuthMethod);
}

function optional(value: unknown, type: "string" | "number"): boolean {
  return value === undefined || typeof value === type;
}
