/**
 * A {@link TokenStore} in the OS keychain: libsecret's `secret-tool` on Linux, `security` on
 * macOS. Each token and client is one item holding its JSON, found by the attributes
 * service=dagent, kind=token|client, key=<server URL or issuer>.
 *
 * Secrets reach `secret-tool` on stdin, never on the command line. macOS `security
 * add-generic-password` only takes the secret as the `-w` argument, so it is briefly visible
 * to other processes of the same user in the process list; that is the tool's limit.
 * @module
 */

import { DagentError } from "../errors.ts";
import type { StoredClient, StoredToken, TokenStore } from "./store.ts";

/** The result of running one command. */
export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `cmd` with `args`, feeding `stdin` when given, and kills it after `timeoutMs`.
 * Throws Deno.errors.NotFound when the program does not exist.
 */
export type CommandRunner = (
  cmd: string,
  args: string[],
  opts: { stdin?: string; timeoutMs: number },
) => Promise<CommandResult>;

/** Options of {@link KeychainTokenStore} and {@link KeychainTokenStore.probe}. */
export interface KeychainOptions {
  /** `Deno.build.os` value (default: the running platform). Only linux and darwin work. */
  platform?: string;
  /** Runs the keychain tool (default: {@link runCommand}); tests inject their own. */
  runner?: CommandRunner;
  /** Per-command timeout (default 10 s; probe: 2 s). */
  timeoutMs?: number;
  /** Told when an item could not be parsed and was ignored. Default: a stderr line. */
  onWarning?: (warning: DagentError) => void;
}

/** What a keychain item holds. */
export type KeychainKind = "token" | "client";

const SERVICE = "dagent";
/** `security` exit status for "item not found". */
const MAC_NOT_FOUND = 44;

/** Runs a command with piped stdio and a kill timeout (the default {@link CommandRunner}). */
export async function runCommand(
  cmd: string,
  args: string[],
  opts: { stdin?: string; timeoutMs: number },
): Promise<CommandResult> {
  const child = new Deno.Command(cmd, {
    args,
    stdin: opts.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* already exited */ }
  }, opts.timeoutMs);
  try {
    if (opts.stdin !== undefined) {
      const writer = child.stdin.getWriter();
      await writer.write(new TextEncoder().encode(opts.stdin));
      await writer.close();
    }
    const out = await child.output();
    const decoder = new TextDecoder();
    return {
      code: out.signal ? -1 : out.code,
      stdout: decoder.decode(out.stdout),
      stderr: decoder.decode(out.stderr),
    };
  } finally {
    clearTimeout(timer);
  }
}

/** The keychain-backed token store. */
export class KeychainTokenStore implements TokenStore {
  /** "OS keychain (secret-tool)" or "OS keychain (security)". */
  readonly location: string;
  readonly #platform: string;
  readonly #run: CommandRunner;
  readonly #timeoutMs: number;
  readonly #onWarning: (warning: DagentError) => void;

  /** A store using the platform's keychain tool; see {@link KeychainTokenStore.probe}. */
  constructor(opts: KeychainOptions = {}) {
    this.#platform = opts.platform ?? Deno.build.os;
    if (this.#platform !== "linux" && this.#platform !== "darwin") {
      throw new DagentError(`No supported OS keychain on ${this.#platform}.`, {
        code: "store.no_keychain",
      });
    }
    this.#run = opts.runner ?? runCommand;
    this.#timeoutMs = opts.timeoutMs ?? 10_000;
    this.#onWarning = opts.onWarning ?? ((w) => console.error(`warning: ${w.message}`));
    this.location = `OS keychain (${this.#platform === "linux" ? "secret-tool" : "security"})`;
  }

  /**
   * True when the keychain answers: the tool exists and looking up a dummy item completes
   * (found or not found) within ~2 s. A locked or absent keyring, a missing D-Bus session or
   * a missing tool all answer false.
   */
  static async probe(opts: KeychainOptions = {}): Promise<boolean> {
    const platform = opts.platform ?? Deno.build.os;
    if (platform !== "linux" && platform !== "darwin") return false;
    const run = opts.runner ?? runCommand;
    const timeoutMs = opts.timeoutMs ?? 2_000;
    try {
      const result = await run(
        ...lookupCommand(platform, "token", "dagent-probe"),
        { timeoutMs },
      );
      return platform === "linux"
        // secret-tool exits 1 with empty stderr for "not found", 1 with a message on errors.
        ? result.code === 0 || (result.code === 1 && result.stderr.trim() === "")
        : result.code === 0 || result.code === MAC_NOT_FOUND;
    } catch {
      return false;
    }
  }

  /** The token stored for an MCP server URL, if any. */
  loadToken(serverUrl: string): Promise<StoredToken | undefined> {
    return this.#load<StoredToken>("token", serverUrl);
  }
  /** Stores (replaces) the token for an MCP server URL. */
  saveToken(serverUrl: string, token: StoredToken): Promise<void> {
    return this.#save("token", serverUrl, token);
  }
  /** Forgets the token for an MCP server URL. */
  deleteToken(serverUrl: string): Promise<void> {
    return this.#delete("token", serverUrl);
  }
  /** The client registration remembered for an issuer, if any. */
  loadClient(issuer: string): Promise<StoredClient | undefined> {
    return this.#load<StoredClient>("client", issuer);
  }
  /** Remembers (replaces) the client registration for an issuer. */
  saveClient(issuer: string, client: StoredClient): Promise<void> {
    return this.#save("client", issuer, client);
  }
  /** Forgets the client registration for an issuer. */
  deleteClient(issuer: string): Promise<void> {
    return this.#delete("client", issuer);
  }

  async #load<T>(kind: KeychainKind, key: string): Promise<T | undefined> {
    const result = await this.#exec(lookupCommand(this.#platform, kind, key), undefined);
    if (this.#isNotFound(result)) return undefined;
    this.#check(result, `read the ${kind} for ${key}`);
    try {
      return JSON.parse(result.stdout.trim()) as T;
    } catch {
      this.#onWarning(
        new DagentError(`The keychain item for ${key} is unreadable and was ignored.`, {
          code: "store.corrupt",
        }),
      );
      return undefined;
    }
  }

  async #save(kind: KeychainKind, key: string, value: unknown): Promise<void> {
    const secret = JSON.stringify(value);
    const [cmd, args, stdin] = storeCommand(this.#platform, kind, key, secret);
    this.#check(await this.#exec([cmd, args], stdin), `save the ${kind} for ${key}`);
  }

  async #delete(kind: KeychainKind, key: string): Promise<void> {
    const result = await this.#exec(deleteCommand(this.#platform, kind, key), undefined);
    if (this.#isNotFound(result)) return;
    this.#check(result, `delete the ${kind} for ${key}`);
  }

  async #exec(command: [string, string[]], stdin: string | undefined): Promise<CommandResult> {
    try {
      return await this.#run(command[0], command[1], { stdin, timeoutMs: this.#timeoutMs });
    } catch (error) {
      throw new DagentError(`Cannot run ${command[0]} to reach the OS keychain.`, {
        code: "store.keychain",
        hint: "Unlock the keychain, or set DAGENT_KEYCHAIN=off to use the file store.",
        cause: error,
      });
    }
  }

  #isNotFound(result: CommandResult): boolean {
    return this.#platform === "linux"
      ? result.code === 1 && result.stderr.trim() === ""
      : result.code === MAC_NOT_FOUND;
  }

  #check(result: CommandResult, what: string): void {
    if (result.code === 0) return;
    // stderr of these tools names the keyring problem, never the secret; keep it short.
    const detail = result.stderr.trim().split("\n")[0].slice(0, 200);
    throw new DagentError(`The OS keychain could not ${what}${detail ? `: ${detail}` : "."}`, {
      code: "store.keychain",
      hint: "Unlock the keychain, or set DAGENT_KEYCHAIN=off to use the file store.",
    });
  }
}

function account(kind: KeychainKind, key: string): string {
  return `${kind}:${key}`;
}

/** The lookup command: prints the secret on stdout. */
export function lookupCommand(
  platform: string,
  kind: KeychainKind,
  key: string,
): [string, string[]] {
  return platform === "linux"
    ? ["secret-tool", ["lookup", "service", SERVICE, "kind", kind, "key", key]]
    : ["security", ["find-generic-password", "-s", SERVICE, "-a", account(kind, key), "-w"]];
}

/** The store command, with what goes on stdin (secret-tool) or undefined (security, argv). */
export function storeCommand(
  platform: string,
  kind: KeychainKind,
  key: string,
  secret: string,
): [string, string[], string | undefined] {
  if (platform === "linux") {
    return [
      "secret-tool",
      ["store", `--label=dagent ${kind} for ${key}`, "service", SERVICE, "kind", kind, "key", key],
      secret,
    ];
  }
  // -U updates an existing item. `security` has no stdin mode for -w (see module doc).
  return [
    "security",
    ["add-generic-password", "-U", "-s", SERVICE, "-a", account(kind, key), "-w", secret],
    undefined,
  ];
}

/** The delete command. */
export function deleteCommand(
  platform: string,
  kind: KeychainKind,
  key: string,
): [string, string[]] {
  return platform === "linux"
    ? ["secret-tool", ["clear", "service", SERVICE, "kind", kind, "key", key]]
    : ["security", ["delete-generic-password", "-s", SERVICE, "-a", account(kind, key)]];
}
