import assert from "node:assert/strict";
import * as der from "../lib/oauth/der.ts";
import { ecdsaRawToDer, generateSelfSignedCertificate } from "../lib/oauth/cert.ts";

function hexOf(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

Deno.test("der: INTEGER is minimal and always positive", () => {
  assert.equal(hexOf(der.integer(0)), "020100");
  assert.equal(hexOf(der.integer(127)), "02017f");
  assert.equal(hexOf(der.integer(128)), "02020080");
  assert.equal(hexOf(der.integer(256)), "02020100");
  // Magnitude bytes: leading zeros stripped, 0x00 prepended when the top bit is set.
  assert.equal(hexOf(der.integer(Uint8Array.of(0, 0, 0x01))), "020101");
  assert.equal(hexOf(der.integer(Uint8Array.of(0xff, 0x01))), "020300ff01");
  assert.equal(hexOf(der.integer(Uint8Array.of(0, 0))), "020100");
  assert.throws(() => der.integer(-1), RangeError);
});

Deno.test("der: lengths, OIDs, strings, times, tags", () => {
  assert.equal(hexOf(der.oid("1.2.840.10045.4.3.2")), "06082a8648ce3d040302");
  assert.equal(hexOf(der.oid("2.5.29.17")), "0603551d11");
  assert.equal(hexOf(der.boolean(true)), "0101ff");
  assert.equal(hexOf(der.nullValue()), "0500");
  assert.equal(hexOf(der.namedBits([0])), "03020780"); // keyUsage digitalSignature
  assert.equal(hexOf(der.namedBits([0, 5])), "03020284");
  assert.equal(hexOf(der.printableString("AB")), "13024142");
  assert.throws(() => der.printableString("a@b"), RangeError);
  assert.equal(hexOf(der.utf8String("é")), "0c02c3a9");
  const long = der.octetString(new Uint8Array(300));
  assert.equal(hexOf(long.subarray(0, 4)), "0482012c");
  assert.equal(long.length, 304);
  const when = new Date(Date.UTC(2030, 0, 2, 3, 4, 5));
  assert.equal(new TextDecoder().decode(der.utcTime(when).subarray(2)), "300102030405Z");
  const later = new Date(Date.UTC(2051, 0, 2, 3, 4, 5));
  assert.equal(der.time(later)[0], 0x18);
  assert.equal(new TextDecoder().decode(der.time(later).subarray(2)), "20510102030405Z");
  assert.equal(hexOf(der.explicit(0, der.integer(2))), "a003020102");
  assert.equal(hexOf(der.implicit(7, Uint8Array.of(127, 0, 0, 1))), "87047f000001");
  // SET OF is sorted by encoding.
  assert.equal(hexOf(der.set(der.integer(2), der.integer(1))), "3106020101020102");
});

Deno.test("cert: ECDSA raw signature becomes a DER SEQUENCE of positive INTEGERs", () => {
  const raw = new Uint8Array(64);
  raw[0] = 0x80; // r has top bit set -> needs a 0x00 pad
  raw[32] = 0x00;
  raw[33] = 0x05; // s has leading zero -> stripped
  const out = ecdsaRawToDer(raw);
  assert.equal(out[0], 0x30);
  assert.equal(hexOf(out.subarray(2, 5)), "022100"); // INTEGER, 33 octets, 0x00 pad
  const sStart = 2 + 2 + 33;
  assert.equal(hexOf(out.subarray(sStart, sStart + 3)), "021f05");
  assert.throws(() => ecdsaRawToDer(new Uint8Array(63)), RangeError);
});

Deno.test("cert: serials are random, positive and 128-bit", async () => {
  const a = await generateSelfSignedCertificate();
  const b = await generateSelfSignedCertificate();
  assert.notEqual(a.serialHex, b.serialHex);
  assert.notEqual(a.fingerprintSha256, b.fingerprintSha256);
  assert.match(a.serialHex, /^[0-9a-f]{32}$/);
  assert.match(a.fingerprintSha256, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  assert.match(a.certPem, /^-----BEGIN CERTIFICATE-----\n/);
  assert.match(a.keyPem, /^-----BEGIN PRIVATE KEY-----\n/);
  // The private key is not in the certificate.
  assert.ok(!a.certPem.includes(a.keyPem.split("\n")[1]));
});

Deno.test("cert: a real TLS client trusting the certificate reaches 127.0.0.1 and localhost", async () => {
  const cert = await generateSelfSignedCertificate();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, cert: cert.certPem, key: cert.keyPem, onListen() {} },
    () => new Response("over tls"),
  );
  const client = Deno.createHttpClient({ caCerts: [cert.certPem] });
  try {
    const port = server.addr.port;
    const viaIp = await fetch(`https://127.0.0.1:${port}/`, { client });
    assert.equal(await viaIp.text(), "over tls");
    const viaName = await fetch(`https://localhost:${port}/`, { client });
    assert.equal(await viaName.text(), "over tls");
    // A client that does not trust it refuses the connection.
    const other = await generateSelfSignedCertificate();
    const stranger = Deno.createHttpClient({ caCerts: [other.certPem] });
    try {
      await assert.rejects(fetch(`https://127.0.0.1:${port}/`, { client: stranger }));
    } finally {
      stranger.close();
    }
  } finally {
    client.close();
    await server.shutdown();
  }
});

async function openssl(args: string[], stdin: string): Promise<string> {
  const child = new Deno.Command("openssl", {
    args,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(stdin));
  await writer.close();
  const out = await child.output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout);
}

/** True when `openssl` can be run; the openssl assertions are skipped only when it is absent. */
async function hasOpenssl(): Promise<boolean> {
  try {
    await new Deno.Command("openssl", { args: ["version"], stdout: "null", stderr: "null" })
      .output();
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

Deno.test({
  name: "cert: openssl parses the DER and sees an end-entity serverAuth certificate",
  ignore: !(await hasOpenssl()),
  async fn() {
    const cert = await generateSelfSignedCertificate({ validityDays: 3 });
    const text = await openssl(["x509", "-text", "-noout"], cert.certPem);
    assert.match(text, /Version: 3 \(0x2\)/);
    assert.match(text, /Signature Algorithm: ecdsa-with-SHA256/);
    assert.match(text, /Issuer: CN\s?=\s?dagent loopback callback/);
    assert.match(text, /Subject: CN\s?=\s?dagent loopback callback/);
    assert.match(text, /NIST CURVE: P-256|prime256v1/);
    assert.match(text, /X509v3 Basic Constraints: critical\s+CA:FALSE/);
    assert.match(text, /X509v3 Key Usage: critical\s+Digital Signature/);
    assert.match(text, /TLS Web Server Authentication/);
    assert.match(text, /IP Address:127\.0\.0\.1/);
    assert.match(text, /DNS:localhost/);
    assert.match(text, /X509v3 Subject Key Identifier/);
    assert.doesNotMatch(text, /Negative/);
    const serial = text.match(/Serial Number:\s*([0-9a-f:]+)/i);
    assert.ok(serial, "serial number printed");
    assert.equal(BigInt(`0x${serial[1].replaceAll(":", "")}`), BigInt(`0x${cert.serialHex}`));
    // Validity is short: notAfter about 3 days out.
    const notAfter = text.match(/Not After : (.+GMT)/);
    assert.ok(notAfter);
    const days = (Date.parse(notAfter[1]) - Date.now()) / 86_400_000;
    assert.ok(days > 2.9 && days <= 3, `validity ${days} days`);
    // openssl's own fingerprint matches ours, and the self-signature verifies.
    const fp = await openssl(["x509", "-noout", "-fingerprint", "-sha256"], cert.certPem);
    assert.ok(fp.toUpperCase().includes(cert.fingerprintSha256));
    const dir = await Deno.makeTempDir();
    try {
      const file = `${dir}/cert.pem`;
      await Deno.writeTextFile(file, cert.certPem);
      const ok = await openssl(["verify", "-CAfile", file, "-purpose", "sslserver", file], "");
      assert.match(ok, /: OK/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
