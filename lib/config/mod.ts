/**
 * Loading a dagent config: read (size and encoding checks), parse YAML with positions,
 * interpolate environment variables, validate against the schema, run the semantic
 * checks. Every problem found is reported, each as `FILE:LINE:COL`, in one
 * {@link ConfigError}.
 *
 * @example
 * ```ts
 * const { config, locate } = await loadConfig("agent.yaml");
 * const root = config.agents.root;
 * ```
 * @module
 */
import type { Config } from "./types.ts";
import { interpolate, type ValuePath } from "./interpolate.ts";
import {
  ConfigError,
  type ConfigProblem,
  parseYaml,
  type Pointer,
  type Position,
  readConfigFile,
  type YamlSource,
} from "./load.ts";
import { checkSemantics, describePath, type PathProblem, validateSchema } from "./validate.ts";

export {
  ConfigError,
  type ConfigProblem,
  formatProblem,
  MAX_CONFIG_BYTES,
  type Position,
} from "./load.ts";
export { BUILTIN_PROVIDERS } from "./validate.ts";
export type * from "./types.ts";

/** Options of {@link loadConfig} and {@link parseConfigText}. */
export interface LoadOptions {
  /**
   * The environment for `${NAME}` references; defaults to the process environment.
   * Tests pass a fake one.
   */
  env?: Record<string, string | undefined>;
}

/** A loaded, valid config. */
export interface LoadedConfig {
  /** The file as the caller named it. */
  path: string;
  /** The config, interpolated and validated. */
  config: Config;
  /**
   * 1-based position of the value at `pointer` (keys and indexes) in the file, for
   * messages about a config element found later (e.g. a toolset that fails to start);
   * undefined when there is no such element.
   */
  locate(pointer: Pointer): Position | undefined;
}

/**
 * Reads, parses and validates the config at `path`. Throws {@link ConfigError} (exit
 * code 2) carrying every problem found.
 */
export async function loadConfig(path: string, options: LoadOptions = {}): Promise<LoadedConfig> {
  const text = await readConfigFile(path);
  return await parseConfigText(text, path, options);
}

/**
 * Like {@link loadConfig} for text already in memory; `path` is used in messages
 * only. Throws {@link ConfigError} carrying every problem found.
 */
export async function parseConfigText(
  text: string,
  path: string,
  options: LoadOptions = {},
): Promise<LoadedConfig> {
  const source = await parseYaml(text, path);
  if (source.fatal) throw new ConfigError(path, source.problems);
  const problems: ConfigProblem[] = [...source.problems];
  const at = (problem: PathProblem): ConfigProblem => {
    const { line, col } = source.locate(problem.path, problem.target);
    return {
      file: path,
      line,
      col,
      message: problem.message,
      ...(problem.hint ? { hint: problem.hint } : {}),
      path: describePath(problem.path),
    };
  };

  const env = options.env;
  const interpolated = interpolate(source.data, {
    lookup: env ? (name) => env[name] : (name) => Deno.env.get(name),
    preserve: (valuePath, name) =>
      name === "callbackPort" && valuePath[valuePath.length - 1] === "callbackRedirectURL",
  });
  const unresolved = new Set<string>();
  for (const problem of interpolated.problems) {
    unresolved.add(pathKey(problem.path));
    problems.push({
      file: path,
      ...positionOfToken(source, problem.path, problem.token),
      message: `${describePath(problem.path)}: ${problem.message}`,
      ...(problem.hint ? { hint: problem.hint } : {}),
      path: describePath(problem.path),
    });
  }

  const data = interpolated.value;
  const checks = [
    ...validateSchema(data, { sourceOf: (p) => source.source(p)?.text }),
    ...checkSemantics(data),
  ];
  for (const problem of checks) {
    // A value with an unresolved ${…} was reported once already; checks of that value
    // (its type, its format) are noise. Checks about its key still count.
    if (problem.target === "value" && unresolved.has(pathKey(problem.path))) continue;
    problems.push(at(problem));
  }
  if (problems.length > 0) throw new ConfigError(path, problems);

  return {
    path,
    config: data as Config,
    locate(pointer: Pointer): Position | undefined {
      const found = source.locate(pointer);
      return found.exact ? { line: found.line, col: found.col } : undefined;
    },
  };
}

/** Position of `token` inside the source of the value at `path`, or of the value itself. */
function positionOfToken(source: YamlSource, path: ValuePath, token: string): Position {
  const value = source.source(path);
  if (value) {
    const index = value.text.indexOf(token);
    if (index >= 0) return source.position(value.offset + index);
  }
  const { line, col } = source.locate(path);
  return { line, col };
}

/** A path as a comparable string; indexes may come as numbers or digit strings. */
function pathKey(path: readonly (string | number)[]): string {
  return path.map(String).join("\u0000");
}
