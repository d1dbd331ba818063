/**
 * A minimal DER (Distinguished Encoding Rules) encoder, just enough to write an X.509
 * certificate by hand (ITU-T X.690 §8 and §10). Every function returns the complete
 * TLV (tag, length, value) bytes of one element.
 * @module
 */

/** DER output: bytes backed by a plain ArrayBuffer (usable as a WebCrypto BufferSource). */
export type DerBytes = Uint8Array<ArrayBuffer>;

/** Universal tag numbers used here (X.680 §8.4). */
const Tag = {
  Boolean: 0x01,
  Integer: 0x02,
  BitString: 0x03,
  OctetString: 0x04,
  Null: 0x05,
  Oid: 0x06,
  Utf8String: 0x0c,
  PrintableString: 0x13,
  UtcTime: 0x17,
  GeneralizedTime: 0x18,
  Sequence: 0x30,
  Set: 0x31,
} as const;

/** Encodes a length in definite form: short for < 128, else long form (X.690 §8.1.3). */
function encodeLength(length: number): DerBytes {
  if (length < 0x80) return Uint8Array.of(length);
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
  return Uint8Array.of(0x80 | bytes.length, ...bytes);
}

function concat(parts: Uint8Array[]): DerBytes {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Encodes one element: `tag` byte, DER length, then `value`. */
export function tlv(tag: number, value: Uint8Array): DerBytes {
  return concat([Uint8Array.of(tag), encodeLength(value.length), value]);
}

/** BOOLEAN: DER requires 0xFF for true (X.690 §11.1). */
export function boolean(value: boolean): DerBytes {
  return tlv(Tag.Boolean, Uint8Array.of(value ? 0xff : 0x00));
}

/**
 * INTEGER from a non-negative number or big-endian unsigned magnitude bytes. Leading zero
 * octets are stripped and one 0x00 is prepended when the top bit is set, so the value is
 * always read as positive and minimally encoded (X.690 §8.3.2).
 */
export function integer(value: number | bigint | Uint8Array): DerBytes {
  let bytes: Uint8Array;
  if (value instanceof Uint8Array) {
    bytes = value;
  } else {
    let n = BigInt(value);
    if (n < 0n) throw new RangeError("der.integer: negative values are not supported");
    const out: number[] = [];
    do {
      out.unshift(Number(n & 0xffn));
      n >>= 8n;
    } while (n > 0n);
    bytes = Uint8Array.from(out);
  }
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  let body = bytes.subarray(start);
  if (body.length === 0) body = Uint8Array.of(0);
  if (body[0] & 0x80) body = concat([Uint8Array.of(0), body]);
  return tlv(Tag.Integer, body);
}

/** BIT STRING with the given number of unused trailing bits (0 for byte-aligned data). */
export function bitString(bytes: Uint8Array, unusedBits = 0): DerBytes {
  if (unusedBits < 0 || unusedBits > 7) throw new RangeError("der.bitString: unusedBits 0..7");
  return tlv(Tag.BitString, concat([Uint8Array.of(unusedBits), bytes]));
}

/**
 * A BIT STRING holding named bits (e.g. KeyUsage), bit 0 being the most significant bit of
 * the first octet; trailing zero bits are dropped as DER requires (X.690 §11.2.2).
 */
export function namedBits(bits: number[]): DerBytes {
  if (bits.length === 0) return bitString(new Uint8Array(0));
  const highest = Math.max(...bits);
  const bytes = new Uint8Array(Math.floor(highest / 8) + 1);
  for (const bit of bits) bytes[Math.floor(bit / 8)] |= 0x80 >> (bit % 8);
  return bitString(bytes, 7 - (highest % 8));
}

/** OCTET STRING. */
export function octetString(bytes: Uint8Array): DerBytes {
  return tlv(Tag.OctetString, bytes);
}

/** NULL. */
export function nullValue(): DerBytes {
  return tlv(Tag.Null, new Uint8Array(0));
}

/** OBJECT IDENTIFIER from dotted form, e.g. "1.2.840.10045.2.1" (X.690 §8.19). */
export function oid(dotted: string): DerBytes {
  const arcs = dotted.split(".").map((arc) => {
    if (!/^\d+$/.test(arc)) throw new RangeError(`der.oid: bad arc in ${dotted}`);
    return BigInt(arc);
  });
  if (arcs.length < 2 || arcs[0] > 2n || (arcs[0] < 2n && arcs[1] > 39n)) {
    throw new RangeError(`der.oid: invalid identifier ${dotted}`);
  }
  const out: number[] = [];
  const subIds = [arcs[0] * 40n + arcs[1], ...arcs.slice(2)];
  for (const id of subIds) {
    const chunk: number[] = [Number(id & 0x7fn)];
    for (let n = id >> 7n; n > 0n; n >>= 7n) chunk.unshift(Number(n & 0x7fn) | 0x80);
    out.push(...chunk);
  }
  return tlv(Tag.Oid, Uint8Array.from(out));
}

/** UTF8String. */
export function utf8String(text: string): DerBytes {
  return tlv(Tag.Utf8String, new TextEncoder().encode(text));
}

/** PrintableString; throws on characters outside its set (X.680 §41.4). */
export function printableString(text: string): DerBytes {
  if (!/^[A-Za-z0-9 '()+,\-./:=?]*$/.test(text)) {
    throw new RangeError("der.printableString: character outside the PrintableString set");
  }
  return tlv(Tag.PrintableString, new TextEncoder().encode(text));
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, "0");
}

/** UTCTime `YYMMDDHHMMSSZ` (years 1950–2049, RFC 5280 §4.1.2.5.1). */
export function utcTime(date: Date): DerBytes {
  const year = date.getUTCFullYear();
  if (year < 1950 || year > 2049) throw new RangeError("der.utcTime: year outside 1950..2049");
  const text = pad(year % 100) + pad(date.getUTCMonth() + 1) + pad(date.getUTCDate()) +
    pad(date.getUTCHours()) + pad(date.getUTCMinutes()) + pad(date.getUTCSeconds()) + "Z";
  return tlv(Tag.UtcTime, new TextEncoder().encode(text));
}

/** GeneralizedTime `YYYYMMDDHHMMSSZ` (no fractional seconds, RFC 5280 §4.1.2.5.2). */
export function generalizedTime(date: Date): DerBytes {
  const text = pad(date.getUTCFullYear(), 4) + pad(date.getUTCMonth() + 1) +
    pad(date.getUTCDate()) + pad(date.getUTCHours()) + pad(date.getUTCMinutes()) +
    pad(date.getUTCSeconds()) + "Z";
  return tlv(Tag.GeneralizedTime, new TextEncoder().encode(text));
}

/** The X.509 `Time` choice: UTCTime through 2049, GeneralizedTime after (RFC 5280 §4.1.2.5). */
export function time(date: Date): DerBytes {
  return date.getUTCFullYear() < 2050 ? utcTime(date) : generalizedTime(date);
}

/** SEQUENCE of already-encoded elements. */
export function sequence(...elements: Uint8Array[]): DerBytes {
  return tlv(Tag.Sequence, concat(elements));
}

/** SET OF already-encoded elements, sorted by their encodings as DER requires (X.690 §11.6). */
export function set(...elements: Uint8Array[]): DerBytes {
  const sorted = [...elements].sort(compareBytes);
  return tlv(Tag.Set, concat(sorted));
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] !== b[i]) return a[i] - b[i];
  }
  return a.length - b.length;
}

/** EXPLICIT context-specific tag `[n]` wrapping a complete element (constructed). */
export function explicit(tagNumber: number, element: Uint8Array): DerBytes {
  return tlv(contextTag(tagNumber, true), element);
}

/**
 * IMPLICIT context-specific tag `[n]`: the element's own tag is replaced. `constructed`
 * must match the underlying type (true for SEQUENCE/SET, false for strings and the like).
 */
export function implicit(tagNumber: number, value: Uint8Array, constructed = false): DerBytes {
  return tlv(contextTag(tagNumber, constructed), value);
}

function contextTag(tagNumber: number, constructed: boolean): number {
  if (tagNumber < 0 || tagNumber > 30) throw new RangeError("der: context tag 0..30 only");
  return 0x80 | (constructed ? 0x20 : 0) | tagNumber;
}

/** Joins already-encoded elements without a wrapper (for building contents piecewise). */
export function raw(...elements: Uint8Array[]): DerBytes {
  return concat(elements);
}

/** Wraps DER bytes as PEM with the given label (RFC 7468 §2), 64 characters per line. */
export function toPem(label: string, der: Uint8Array): string {
  let binary = "";
  for (const byte of der) binary += String.fromCharCode(byte);
  const b64 = btoa(binary);
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}
