import assert from "node:assert/strict";
import { createClientAssertion, importPrivateKeyPem } from "../lib/oauth/jwt.ts";
import { OAuthError } from "../lib/oauth/errors.ts";

function pem(label: string, der: Uint8Array): string {
  let bin = "";
  for (const b of der) bin += String.fromCharCode(b);
  const b64 = btoa(bin).replace(/(.{64})/g, "$1\n");
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

function b64urlDecode(s: string): Uint8Array {
  const b64 = s.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((s.length + 3) % 4);
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

async function keyPair() {
  const pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
    "sign",
    "verify",
  ]);
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", pair.privateKey));
  return { pair, pkcs8 };
}

async function verifyJwt(jwt: string, publicKey: CryptoKey) {
  const [h, p, s] = jwt.split(".");
  const ok = await crypto.subtle.verify(
    { name: "ECDSA", hash: "SHA-256" },
    publicKey,
    b64urlDecode(s) as Uint8Array<ArrayBuffer>,
    new TextEncoder().encode(`${h}.${p}`),
  );
  const dec = (x: string) => JSON.parse(new TextDecoder().decode(b64urlDecode(x)));
  return { ok, header: dec(h), payload: dec(p), sigLen: b64urlDecode(s).length };
}

Deno.test("jwt: a client assertion from a PKCS#8 PEM verifies with the public key", async () => {
  const { pair, pkcs8 } = await keyPair();
  const key = await importPrivateKeyPem(pem("PRIVATE KEY", pkcs8));
  const now = Date.UTC(2026, 0, 1);
  const jwt = await createClientAssertion({
    clientId: "cid",
    audience: "https://as.example/token",
    key,
    now,
  });
  const v = await verifyJwt(jwt, pair.publicKey);
  assert.equal(v.ok, true);
  assert.equal(v.sigLen, 64);
  assert.deepEqual(v.header, { alg: "ES256", typ: "JWT" });
  assert.equal(v.payload.iss, "cid");
  assert.equal(v.payload.sub, "cid");
  assert.equal(v.payload.aud, "https://as.example/token");
  assert.equal(v.payload.iat, now / 1000);
  assert.ok(v.payload.exp - v.payload.iat <= 300 && v.payload.exp > v.payload.iat);
  assert.match(v.payload.jti, /^[A-Za-z0-9_-]{16,}$/);
  const other = await createClientAssertion({ clientId: "cid", audience: "a", key, now });
  assert.notEqual((await verifyJwt(other, pair.publicKey)).payload.jti, v.payload.jti);
  // Tampering breaks the signature.
  const [h, , s] = jwt.split(".");
  const forged = `${h}.${btoa('{"iss":"x"}').replace(/=+$/, "")}.${s}`;
  assert.equal((await verifyJwt(forged, pair.publicKey)).ok, false);
});

Deno.test("jwt: lifetime is capped at 5 minutes", async () => {
  const { pair, pkcs8 } = await keyPair();
  const key = await importPrivateKeyPem(pem("PRIVATE KEY", pkcs8));
  const jwt = await createClientAssertion({
    clientId: "c",
    audience: "a",
    key,
    lifetimeSeconds: 3600,
  });
  const { payload } = await verifyJwt(jwt, pair.publicKey);
  assert.equal(payload.exp - payload.iat, 300);
});

Deno.test("jwt: a SEC1 'EC PRIVATE KEY' from openssl is accepted", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const ecPath = `${dir}/ec.pem`;
    const gen = await new Deno.Command("openssl", {
      args: ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", ecPath],
      stdout: "null",
      stderr: "null",
    }).output();
    assert.equal(gen.success, true);
    const pubOut = await new Deno.Command("openssl", {
      args: ["ec", "-in", ecPath, "-pubout", "-outform", "DER"],
      stdout: "piped",
      stderr: "null",
    }).output();
    const spki = pubOut.stdout;
    const publicKey = await crypto.subtle.importKey(
      "spki",
      spki,
      { name: "ECDSA", namedCurve: "P-256" },
      false,
      ["verify"],
    );
    const sec1Pem = await Deno.readTextFile(ecPath);
    assert.match(sec1Pem, /BEGIN EC PRIVATE KEY/);
    const key = await importPrivateKeyPem(sec1Pem);
    const jwt = await createClientAssertion({ clientId: "c", audience: "a", key });
    assert.equal((await verifyJwt(jwt, publicKey)).ok, true);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("jwt: unusable keys give oauth.invalid_key with the conversion hint", async () => {
  const rsa = await crypto.subtle.generateKey(
    {
      name: "RSASSA-PKCS1-v1_5",
      modulusLength: 2048,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: "SHA-256",
    },
    true,
    ["sign"],
  );
  const rsaPem = pem(
    "PRIVATE KEY",
    new Uint8Array(await crypto.subtle.exportKey("pkcs8", rsa.privateKey)),
  );
  const bad = [
    "not a pem",
    rsaPem,
    pem("ENCRYPTED PRIVATE KEY", new Uint8Array([1, 2, 3])),
    pem("RSA PRIVATE KEY", new Uint8Array([1, 2, 3])),
    pem("EC PRIVATE KEY", new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01])),
    "-----BEGIN PRIVATE KEY-----\n!!!\n-----END PRIVATE KEY-----",
  ];
  for (const input of bad) {
    await assert.rejects(importPrivateKeyPem(input), (e: unknown) => {
      assert.ok(e instanceof OAuthError);
      assert.equal(e.code, "oauth.invalid_key");
      assert.match(e.hint!, /openssl pkcs8 -topk8 -nocrypt/);
      assert.ok(!e.message.includes("MII"), "no key material in the message");
      return true;
    });
  }
});
