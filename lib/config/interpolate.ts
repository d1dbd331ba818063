/**
 * Environment interpolation in config strings: `${env.NAME}`, `${NAME}`,
 * `${NAME:-default}` (the default also replaces an empty value, as in POSIX sh), and
 * `$${` for a literal `${`. Only string values are touched, never keys.
 * @module
 */

/** Looks up one environment variable; undefined when it is not set. */
export type EnvLookup = (name: string) => string | undefined;

/** A path into the config: map keys and sequence indexes. */
export type ValuePath = (string | number)[];

/** A reference that could not be resolved. Names the variable, never a value. */
export interface InterpolationProblem {
  /** Path of the string value that holds the reference. */
  path: ValuePath;
  /** The reference as written, e.g. `${env.TOKEN}`, to find it in the source. */
  token: string;
  message: string;
  hint?: string;
}

/** Options of {@link interpolate}. */
export interface InterpolateOptions {
  /** Where variables come from. */
  lookup: EnvLookup;
  /**
   * References kept as written, e.g. `${callbackPort}` in `callbackRedirectURL`,
   * which is filled in later. Called with the value's path and the variable name.
   */
  preserve?: (path: ValuePath, name: string) => boolean;
}

/** The result of interpolating a value. */
export interface InterpolateResult<T> {
  value: T;
  problems: InterpolationProblem[];
}

const REFERENCE = /^(env\.)?([A-Za-z_][A-Za-z0-9_]*)(?::-([^]*))?$/;
const SYNTAX_HINT = "write ${env.NAME}, ${NAME} or ${NAME:-default}; write $${ for a literal ${";

/**
 * Interpolates one string. Unresolvable references are left as written and
 * reported, so that every problem in a file is found in one pass.
 */
export function interpolateString(
  input: string,
  options: InterpolateOptions,
  path: ValuePath = [],
): InterpolateResult<string> {
  if (!input.includes("${")) return { value: input, problems: [] };
  const problems: InterpolationProblem[] = [];
  let out = "";
  let i = 0;
  while (i < input.length) {
    if (input.startsWith("$${", i)) {
      out += "${";
      i += 3;
      continue;
    }
    if (!input.startsWith("${", i)) {
      out += input[i++];
      continue;
    }
    const close = input.indexOf("}", i + 2);
    if (close < 0) {
      const token = input.slice(i, i + 20);
      problems.push({
        path,
        token,
        message: "unterminated '${' (no closing '}')",
        hint: SYNTAX_HINT,
      });
      out += input.slice(i);
      break;
    }
    const token = input.slice(i, close + 1);
    const inner = input.slice(i + 2, close);
    i = close + 1;
    const match = REFERENCE.exec(inner);
    if (!match || match[3]?.includes("${")) {
      problems.push({
        path,
        token,
        message: match
          ? `a default cannot contain another reference ('${token}…')`
          : `invalid variable reference '${token}'`,
        hint: SYNTAX_HINT,
      });
      out += token;
      continue;
    }
    const [, envPrefix, name, fallback] = match;
    if (!envPrefix && fallback === undefined && options.preserve?.(path, name)) {
      out += token;
      continue;
    }
    const value = options.lookup(name);
    if (fallback !== undefined && (value === undefined || value === "")) {
      out += fallback;
    } else if (value !== undefined) {
      out += value;
    } else {
      problems.push({
        path,
        token,
        message: `environment variable ${name} is not set (used as ${token})`,
        hint: `set ${name} in the environment, or give a default: \${${name}:-value}`,
      });
      out += token;
    }
  }
  return { value: out, problems };
}

/** Interpolates every string inside `data` (objects and arrays are copied, not changed). */
export function interpolate<T>(data: T, options: InterpolateOptions): InterpolateResult<T> {
  const problems: InterpolationProblem[] = [];
  const walk = (value: unknown, path: ValuePath): unknown => {
    if (typeof value === "string") {
      const result = interpolateString(value, options, path);
      problems.push(...result.problems);
      return result.value;
    }
    if (Array.isArray(value)) return value.map((item, index) => walk(item, [...path, index]));
    if (typeof value === "object" && value !== null) {
      // fromEntries defines own properties, so a `__proto__` key stays a plain key.
      return Object.fromEntries(
        Object.entries(value).map(([key, item]) => [key, walk(item, [...path, key])]),
      );
    }
    return value;
  };
  return { value: walk(data, []) as T, problems };
}
