/**
 * `private_key_jwt` client authentication (RFC 7523 §2.2 and §3, OpenID Connect Core §9):
 * an ES256 client assertion signed with an EC P-256 key through WebCrypto.
 * @module
 */
import { oauthError } from "./errors.ts";
import { base64urlEncode } from "./pkce.ts";

/** Longest lifetime of a client assertion, in seconds. */
const MAX_LIFETIME_S = 300;

/** DER of AlgorithmIdentifier { id-ecPublicKey, prime256v1 } (RFC 5480 §2.1.1). */
const EC_P256_ALGORITHM = [
  0x30,
  0x13,
  0x06,
  0x07,
  0x2a,
  0x86,
  0x48,
  0xce,
  0x3d,
  0x02,
  0x01,
  0x06,
  0x08,
  0x2a,
  0x86,
  0x48,
  0xce,
  0x3d,
  0x03,
  0x01,
  0x07,
];

const CONVERT_HINT = "Convert the key with `openssl pkcs8 -topk8 -nocrypt -in key.pem -out " +
  "key-pkcs8.pem`, or create one with `openssl genpkey -algorithm EC -pkeyopt " +
  "ec_paramgen_curve:P-256`.";

/**
 * Imports an EC P-256 private key from PEM, for signing: PKCS#8 (`PRIVATE KEY`), or SEC1
 * (`EC PRIVATE KEY`, RFC 5915), which is wrapped into PKCS#8 (RFC 5208 §5) first.
 * Throws OAuthError `oauth.invalid_key` (never echoing key material) for anything else.
 */
export async function importPrivateKeyPem(pem: string): Promise<CryptoKey> {
  const match = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/.exec(pem);
  if (!match) throw keyError("it is not a PEM private key");
  const label = match[1];
  if (label === "ENCRYPTED PRIVATE KEY") {
    throw keyError("encrypted private keys are not supported");
  }
  if (label !== "PRIVATE KEY" && label !== "EC PRIVATE KEY") {
    throw keyError(`a "${label}" block is not an EC P-256 private key`);
  }
  let der: Uint8Array;
  try {
    der = Uint8Array.from(atob(match[2].replace(/\s+/g, "")), (c) => c.charCodeAt(0));
  } catch {
    throw keyError("its base64 content is damaged");
  }
  if (label === "EC PRIVATE KEY") der = sec1ToPkcs8(der);
  try {
    return await crypto.subtle.importKey(
      "pkcs8",
      der as Uint8Array<ArrayBuffer>,
      { name: "ECDSA", namedCurve: "P-256" },
      false,
      ["sign"],
    );
  } catch (err) {
    throw keyError("it is not an EC P-256 key (only ES256 is supported)", err);
  }
}

/** Inputs of {@link createClientAssertion}. */
export interface ClientAssertionInput {
  clientId: string;
  /** The authorization server: its token endpoint or its issuer (RFC 7523 §3 `aud`). */
  audience: string;
  key: CryptoKey;
  /** Lifetime in seconds, at most 300 (default 300). */
  lifetimeSeconds?: number;
  /** Clock, epoch ms (tests). */
  now?: number;
}

/**
 * A signed client assertion JWT (RFC 7523 §3): `iss` = `sub` = client id, `aud`, random
 * `jti`, `iat`, `exp` ≤ 5 minutes later; ES256 over base64url(header).base64url(payload),
 * signature as raw r‖s (RFC 7518 §3.4), which is what WebCrypto produces.
 */
export async function createClientAssertion(input: ClientAssertionInput): Promise<string> {
  const iat = Math.floor((input.now ?? Date.now()) / 1000);
  const lifetime = Math.min(Math.max(1, input.lifetimeSeconds ?? MAX_LIFETIME_S), MAX_LIFETIME_S);
  const header = { alg: "ES256", typ: "JWT" };
  const payload = {
    iss: input.clientId,
    sub: input.clientId,
    aud: input.audience,
    jti: base64urlEncode(crypto.getRandomValues(new Uint8Array(16))),
    iat,
    exp: iat + lifetime,
  };
  const enc = new TextEncoder();
  const signingInput = `${base64urlEncode(enc.encode(JSON.stringify(header)))}.${
    base64urlEncode(enc.encode(JSON.stringify(payload)))
  }`;
  const signature = await crypto.subtle.sign(
    { name: "ECDSA", hash: "SHA-256" },
    input.key,
    enc.encode(signingInput),
  );
  return `${signingInput}.${base64urlEncode(new Uint8Array(signature))}`;
}

/**
 * Wraps a SEC1 ECPrivateKey in a PKCS#8 PrivateKeyInfo for P-256. Only a key whose private
 * scalar is 32 bytes (P-256) is accepted; others get the conversion hint.
 */
function sec1ToPkcs8(sec1: Uint8Array): Uint8Array {
  // ECPrivateKey ::= SEQUENCE { version INTEGER (1), privateKey OCTET STRING, ... }
  let i = 0;
  if (sec1[i++] !== 0x30) throw keyError("its EC PRIVATE KEY block is malformed");
  i += sec1[i] & 0x80 ? 1 + (sec1[i] & 0x7f) : 1;
  const versionOk = sec1[i] === 0x02 && sec1[i + 1] === 0x01 && sec1[i + 2] === 0x01;
  if (!versionOk || sec1[i + 3] !== 0x04 || sec1[i + 4] !== 32) {
    throw keyError("its EC PRIVATE KEY block is not a P-256 key");
  }
  const body = [0x02, 0x01, 0x00, ...EC_P256_ALGORITHM, 0x04, ...derLength(sec1.length), ...sec1];
  return new Uint8Array([0x30, ...derLength(body.length), ...body]);
}

/** DER definite length octets (X.690 §8.1.3). */
function derLength(n: number): number[] {
  if (n < 0x80) return [n];
  if (n < 0x100) return [0x81, n];
  return [0x82, n >> 8, n & 0xff];
}

function keyError(why: string, cause?: unknown) {
  return oauthError("oauth.invalid_key", `cannot use the private_key_jwt key: ${why}`, {
    hint: CONVERT_HINT + " Set it with remote.oauth.privateKeyFile or remote.oauth.privateKeyEnv.",
    cause,
  });
}
