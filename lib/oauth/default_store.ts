/**
 * Picks the persistent token store: the OS keychain when one answers, else the 0600 file
 * store in the dagent config directory.
 * @module
 */

import type { DagentError } from "../errors.ts";
import { FileTokenStore } from "./file_store.ts";
import { type KeychainOptions, KeychainTokenStore } from "./keychain_store.ts";
import { configDir } from "./paths.ts";
import type { TokenStore } from "./store.ts";

/** Options of {@link openTokenStore}. */
export interface OpenTokenStoreOptions {
  /** Config directory for the file store (default: {@link configDir}). */
  dir?: string;
  /**
   * "auto" uses the keychain when {@link KeychainTokenStore.probe} answers; "off" never does.
   * Default: "off" when the environment has DAGENT_KEYCHAIN=off, else "auto".
   */
  keychain?: "auto" | "off";
  /** Told about repairs (a corrupt store moved aside). */
  onWarning?: (warning: DagentError) => void;
  /** Passed to the keychain probe and store (platform, runner); for tests. */
  keychainOptions?: KeychainOptions;
}

/** Opens the default persistent {@link TokenStore}; its `location` says which one it is. */
export async function openTokenStore(opts: OpenTokenStoreOptions = {}): Promise<TokenStore> {
  const mode = opts.keychain ??
    (Deno.env.get("DAGENT_KEYCHAIN")?.toLowerCase() === "off" ? "off" : "auto");
  if (mode === "auto" && await KeychainTokenStore.probe(opts.keychainOptions)) {
    return new KeychainTokenStore({ ...opts.keychainOptions, onWarning: opts.onWarning });
  }
  return new FileTokenStore(opts.dir ?? configDir(), { onWarning: opts.onWarning });
}
