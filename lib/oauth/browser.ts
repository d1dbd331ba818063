/**
 * Opening the authorization URL in the user's browser: `$BROWSER` when set, else the
 * platform opener. The browser process is spawned detached and never waited on; the caller
 * always prints the URL as well, so a failure here only costs a click.
 * @module
 */
import { readEnv } from "../env.ts";

/** Options of {@link openBrowser}. */
export interface OpenBrowserOptions {
  /** Environment to read `BROWSER`, `DISPLAY`, `WAYLAND_DISPLAY` from (default: the process's). */
  env?: Record<string, string | undefined>;
  /** `Deno.build.os` value to choose the opener for (default: the running platform). */
  platform?: string;
}

/** What {@link openBrowser} did. */
export interface OpenBrowserResult {
  /** True when an opener process was started (not a guarantee a window appeared). */
  opened: boolean;
  /** The program started, e.g. "xdg-open" or the `$BROWSER` command. */
  via?: string;
  /** Why nothing was opened, for a one-line note next to the printed URL. */
  reason?: string;
}

/** A program and its arguments. */
export interface OpenerCommand {
  cmd: string;
  args: string[];
}

/**
 * Chooses the command that opens `url`: the first entry of `$BROWSER` (entries separated by
 * ':' as in the xdg convention; `%s` replaced by the URL, else the URL appended), else
 * `open` on macOS, `cmd /c start ""` on Windows, `xdg-open` elsewhere. Returns an object
 * with `reason` instead when nothing can be opened (e.g. no graphical session on Linux).
 */
export function browserCommand(
  url: string,
  env: Record<string, string | undefined>,
  platform: string,
): OpenerCommand | { reason: string } {
  const browser = env.BROWSER?.split(platform === "windows" ? ";" : ":")
    .map((entry) => entry.trim())
    .find((entry) => entry !== "");
  if (browser) {
    const [cmd, ...rest] = browser.split(/\s+/);
    const hasPlaceholder = rest.some((arg) => arg.includes("%s"));
    const args = rest.map((arg) => arg.replaceAll("%s", url).replaceAll("%%", "%"));
    return { cmd, args: hasPlaceholder ? args : [...args, url] };
  }
  switch (platform) {
    case "darwin":
      return { cmd: "open", args: [url] };
    case "windows":
      // `start ""`: the empty argument (quoted as "" on the command line) is the window
      // title. cmd.exe treats & | < > ^ ( ) as syntax; escape them so the URL stays whole.
      return { cmd: "cmd", args: ["/c", "start", "", url.replace(/[&|<>^()]/g, "^$&")] };
    default:
      if (!env.DISPLAY && !env.WAYLAND_DISPLAY) {
        return { reason: "no graphical session (DISPLAY and WAYLAND_DISPLAY are not set)" };
      }
      return { cmd: "xdg-open", args: [url] };
  }
}

/**
 * Opens `url` (http or https only) in a browser without waiting for it: the opener is spawned
 * with null stdio and unref'd. A missing opener is reported as `{ opened: false, reason }`,
 * never thrown.
 */
export function openBrowser(
  url: string,
  opts: OpenBrowserOptions = {},
): Promise<OpenBrowserResult> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return Promise.resolve({ opened: false, reason: "not a valid URL" });
  }
  // Never hand an opener a file:, javascript: or option-like argument.
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    return Promise.resolve({ opened: false, reason: "only http(s) addresses are opened" });
  }
  const env = opts.env ?? readEnv(["BROWSER", "DISPLAY", "WAYLAND_DISPLAY"]);
  const choice = browserCommand(parsed.href, env, opts.platform ?? Deno.build.os);
  if ("reason" in choice) return Promise.resolve({ opened: false, reason: choice.reason });
  try {
    const child = new Deno.Command(choice.cmd, {
      args: choice.args,
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    child.unref();
    return Promise.resolve({ opened: true, via: choice.cmd });
  } catch (error) {
    const reason = error instanceof Deno.errors.NotFound
      ? `${choice.cmd} was not found`
      : error instanceof Deno.errors.PermissionDenied || error instanceof Deno.errors.NotCapable
      ? `not allowed to run ${choice.cmd} (add it to --allow-run)`
      : `${choice.cmd} could not be started`;
    return Promise.resolve({ opened: false, via: choice.cmd, reason });
  }
}
