/**
 * Canonical JSON per RFC 8785 (JSON Canonicalization Scheme, JCS): the exact bytes an audit
 * record's hash and signature are computed over, so that any reformatting of a line that keeps
 * its meaning still verifies, and any change of meaning does not.
 * @module
 */

/** A JSON value as JCS accepts it (I-JSON, RFC 7493: finite numbers, well-formed strings). */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | JsonValue[]
  | { [key: string]: JsonValue };

const encoder = new TextEncoder();

/**
 * The RFC 8785 canonical text of `value`: object members sorted by their names' UTF-16 code
 * units (§3.2.3), numbers in ECMAScript `Number.prototype.toString` form (§3.2.2.3), strings
 * escaped as `JSON.stringify` does (§3.2.2.2), no whitespace. Object members whose value is
 * `undefined` are left out (as `JSON.stringify` does); NaN, Infinity, lone surrogates,
 * `undefined` in arrays and non-JSON values (bigint, functions, symbols) throw a TypeError.
 */
export function canonicalize(value: unknown): string {
  const parts: string[] = [];
  write(value, parts, "$");
  return parts.join("");
}

/** The UTF-8 bytes of {@link canonicalize}. */
export function canonicalBytes(value: unknown): Uint8Array<ArrayBuffer> {
  return encoder.encode(canonicalize(value));
}

function write(value: unknown, out: string[], path: string): void {
  if (value === null) {
    out.push("null");
    return;
  }
  switch (typeof value) {
    case "boolean":
      out.push(value ? "true" : "false");
      return;
    case "number":
      // RFC 8785 §3.2.2.3: the ECMAScript Number serialization; -0 becomes "0".
      if (!Number.isFinite(value)) throw new TypeError(`${path}: ${value} is not valid JSON`);
      out.push(Object.is(value, -0) ? "0" : String(value));
      return;
    case "string":
      // RFC 8785 §3.2.2.2 (and RFC 7493 §2.1): strings must be well-formed Unicode.
      if (!value.isWellFormed()) throw new TypeError(`${path}: string has a lone surrogate`);
      out.push(JSON.stringify(value));
      return;
    case "object":
      break;
    default:
      throw new TypeError(`${path}: a ${typeof value} is not valid JSON`);
  }
  if (Array.isArray(value)) {
    out.push("[");
    value.forEach((item, i) => {
      if (i > 0) out.push(",");
      if (item === undefined) throw new TypeError(`${path}[${i}]: undefined is not valid JSON`);
      write(item, out, `${path}[${i}]`);
    });
    out.push("]");
    return;
  }
  const record = value as Record<string, unknown>;
  // RFC 8785 §3.2.3: sort by UTF-16 code units, which is what the default sort compares.
  const keys = Object.keys(record).filter((key) => record[key] !== undefined).sort();
  out.push("{");
  keys.forEach((key, i) => {
    if (i > 0) out.push(",");
    if (!key.isWellFormed()) throw new TypeError(`${path}: member name has a lone surrogate`);
    out.push(JSON.stringify(key), ":");
    write(record[key], out, `${path}.${key}`);
  });
  out.push("}");
}
