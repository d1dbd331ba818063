/**
 * Where dagent keeps per-user state (the token store, lock files): the config directory.
 * @module
 */

import { join } from "node:path";
import { DagentError } from "../errors.ts";
import { readEnv } from "../env.ts";

/** Inputs of {@link configDir}; each defaults to the running process's. */
export interface ConfigDirOptions {
  env?: Record<string, string | undefined>;
  /** A `Deno.build.os` value. */
  platform?: string;
}

/**
 * The dagent config directory: `$DAGENT_HOME` when set; else `$XDG_CONFIG_HOME/dagent`
 * (XDG Base Directory spec: only an absolute value counts); else `~/Library/Application
 * Support/dagent` on macOS, `%APPDATA%\dagent` on Windows, `~/.config/dagent` elsewhere.
 * Nothing is created here.
 */
export function configDir(opts: ConfigDirOptions = {}): string {
  const platform = opts.platform ?? Deno.build.os;
  const env = opts.env ??
    readEnv([
      "DAGENT_HOME",
      "XDG_CONFIG_HOME",
      "HOME",
      ...(platform === "windows" ? ["APPDATA", "USERPROFILE"] : []),
    ]);
  if (env.DAGENT_HOME) return env.DAGENT_HOME;
  const xdg = env.XDG_CONFIG_HOME;
  if (xdg && isAbsolute(xdg, platform)) return join(xdg, "dagent");
  if (platform === "windows" && env.APPDATA) return join(env.APPDATA, "dagent");
  const home = platform === "windows" ? env.USERPROFILE ?? env.HOME : env.HOME;
  if (!home) {
    throw new DagentError("Cannot find a directory to keep dagent's tokens in: HOME is not set.", {
      code: "store.no_home",
      hint: "Set DAGENT_HOME to a directory only you can read (e.g. DAGENT_HOME=~/.dagent).",
    });
  }
  if (platform === "darwin") return join(home, "Library", "Application Support", "dagent");
  return join(home, ".config", "dagent");
}

/** The token store file inside a config directory. */
export function tokenFilePath(dir: string): string {
  return join(dir, "tokens.json");
}

/** The directory of per-server lock files inside a config directory. */
export function locksDir(dir: string): string {
  return join(dir, "locks");
}

function isAbsolute(path: string, platform: string): boolean {
  return platform === "windows" ? /^([A-Za-z]:[\\/]|\\\\)/.test(path) : path.startsWith("/");
}
