/**
 * Reading environment variables under a narrowed `--allow-env`: by name, one at a time.
 * (`Deno.env.toObject()` needs access to every variable, which the permission-scoped runs
 * of `dagent permissions` do not grant.)
 * @module
 */

/** The values of `names`; a variable that is unset, or that may not be read, is undefined. */
export function readEnv(names: readonly string[]): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  for (const name of names) {
    try {
      env[name] = Deno.env.get(name);
    } catch {
      env[name] = undefined;
    }
  }
  return env;
}
