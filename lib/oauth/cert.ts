/**
 * A self-signed end-entity certificate for the HTTPS loopback callback, generated in memory:
 * an ECDSA P-256 key from WebCrypto and an X.509 v3 certificate (RFC 5280 §4.1) written with
 * our own DER encoder. Nothing is written to disk; a fresh key and a random serial every run.
 * @module
 */

import * as der from "./der.ts";

/** Options of {@link generateSelfSignedCertificate}. */
export interface SelfSignedOptions {
  /** Names in the subjectAltName: IPv4 literals become iPAddress, others dNSName. */
  hosts?: string[];
  /** Validity in days from now (default 7: the certificate lives only for one sign-in). */
  validityDays?: number;
}

/** A generated certificate and its private key. */
export interface SelfSignedCertificate {
  /** The certificate, PEM ("CERTIFICATE"), for `Deno.serve({ cert })` and `caCerts`. */
  certPem: string;
  /** The private key, PKCS#8 PEM ("PRIVATE KEY"), for `Deno.serve({ key })`. */
  keyPem: string;
  /** The certificate's DER bytes. */
  der: Uint8Array;
  /** SHA-256 of the DER, upper-case hex pairs joined by ':' (as `openssl x509 -fingerprint`). */
  fingerprintSha256: string;
  /** The serial number's magnitude as lower-case hex (32 digits). */
  serialHex: string;
}

const OID = {
  ecPublicKey: "1.2.840.10045.2.1",
  ecdsaWithSha256: "1.2.840.10045.4.3.2",
  commonName: "2.5.4.3",
  subjectKeyIdentifier: "2.5.29.14",
  keyUsage: "2.5.29.15",
  subjectAltName: "2.5.29.17",
  basicConstraints: "2.5.29.19",
  extKeyUsage: "2.5.29.37",
  serverAuth: "1.3.6.1.5.5.7.3.1",
} as const;

const COMMON_NAME = "dagent loopback callback";
const DEFAULT_HOSTS = ["127.0.0.1", "localhost"];

/**
 * Generates a fresh ECDSA P-256 key pair and a self-signed X.509 v3 end-entity certificate
 * for `127.0.0.1` and `localhost` (by default), valid from 5 minutes ago (clock skew) for
 * `validityDays` days.
 */
export async function generateSelfSignedCertificate(
  opts: SelfSignedOptions = {},
): Promise<SelfSignedCertificate> {
  const hosts = opts.hosts ?? DEFAULT_HOSTS;
  const validityDays = opts.validityDays ?? 7;
  if (!(validityDays > 0)) throw new RangeError("validityDays must be positive");
  if (hosts.length === 0) throw new RangeError("at least one host is needed for the SAN");

  const keys = await crypto.subtle.generateKey(
    { name: "ECDSA", namedCurve: "P-256" },
    true,
    ["sign", "verify"],
  );
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", keys.publicKey));
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", keys.privateKey));
  const rawPublic = new Uint8Array(await crypto.subtle.exportKey("raw", keys.publicKey));

  const serial = randomSerial();
  const now = Date.now();
  const notBefore = new Date(now - 5 * 60_000);
  const notAfter = new Date(now + validityDays * 86_400_000);
  const name = der.sequence(
    der.set(der.sequence(der.oid(OID.commonName), der.utf8String(COMMON_NAME))),
  );
  const signatureAlgorithm = der.sequence(der.oid(OID.ecdsaWithSha256));

  // RFC 5280 §4.2.1.2 method (1): SHA-1 of the subjectPublicKey BIT STRING's value.
  const keyId = new Uint8Array(await crypto.subtle.digest("SHA-1", rawPublic));

  const extensions = der.sequence(
    extension(OID.basicConstraints, true, der.sequence()), // cA FALSE (DEFAULT, omitted)
    extension(OID.keyUsage, true, der.namedBits([0])), // digitalSignature
    extension(OID.extKeyUsage, false, der.sequence(der.oid(OID.serverAuth))),
    extension(OID.subjectAltName, false, der.sequence(...hosts.map(generalName))),
    extension(OID.subjectKeyIdentifier, false, der.octetString(keyId)),
  );

  const tbs = der.sequence(
    der.explicit(0, der.integer(2)), // version v3
    der.integer(serial),
    signatureAlgorithm,
    name,
    der.sequence(der.time(notBefore), der.time(notAfter)),
    name,
    spki, // WebCrypto's SPKI export is already a DER SubjectPublicKeyInfo
    der.explicit(3, extensions),
  );

  const rawSignature = new Uint8Array(
    await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, keys.privateKey, tbs),
  );
  const certificate = der.sequence(
    tbs,
    signatureAlgorithm,
    der.bitString(ecdsaRawToDer(rawSignature)),
  );

  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", certificate));
  return {
    certPem: der.toPem("CERTIFICATE", certificate),
    keyPem: der.toPem("PRIVATE KEY", pkcs8),
    der: certificate,
    fingerprintSha256: [...digest].map((b) => hex(b).toUpperCase()).join(":"),
    serialHex: [...serial].map(hex).join(""),
  };
}

/**
 * Converts a WebCrypto ECDSA signature (raw r || s, RFC 7518 §3.4 / IEEE P1363) to the DER
 * `Ecdsa-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }` that X.509 uses (RFC 3279 §2.2.3).
 */
export function ecdsaRawToDer(raw: Uint8Array): Uint8Array {
  if (raw.length === 0 || raw.length % 2 !== 0) {
    throw new RangeError("ECDSA signature must be r || s of equal length");
  }
  const half = raw.length / 2;
  return der.sequence(der.integer(raw.subarray(0, half)), der.integer(raw.subarray(half)));
}

/**
 * 128 random bits. `der.integer` adds a 0x00 octet when the top bit is set, so the encoded
 * INTEGER is always positive and at most 17 octets (RFC 5280 §4.1.2.2 allows up to 20).
 */
function randomSerial(): Uint8Array {
  const serial = crypto.getRandomValues(new Uint8Array(16));
  // A zero serial is not allowed; with 2^-128 odds, but cheap to rule out.
  if (serial.every((b) => b === 0)) serial[15] = 1;
  return serial;
}

function extension(id: string, critical: boolean, value: Uint8Array): Uint8Array {
  return critical
    ? der.sequence(der.oid(id), der.boolean(true), der.octetString(value))
    : der.sequence(der.oid(id), der.octetString(value));
}

/** GeneralName (RFC 5280 §4.2.1.6): [7] iPAddress for IPv4 literals, else [2] dNSName. */
function generalName(host: string): Uint8Array {
  const ipv4 = host.match(/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/);
  if (ipv4) {
    const octets = ipv4.slice(1).map(Number);
    if (octets.some((o) => o > 255)) throw new RangeError(`invalid IPv4 address: ${host}`);
    return der.implicit(7, Uint8Array.from(octets));
  }
  if (!/^[A-Za-z0-9.-]+$/.test(host)) throw new RangeError(`invalid DNS name: ${host}`);
  return der.implicit(2, new TextEncoder().encode(host));
}

function hex(byte: number): string {
  return byte.toString(16).padStart(2, "0");
}
