import assert from "node:assert/strict";
import {
  assertS256Supported,
  base64urlEncode,
  constantTimeEqual,
  createPkce,
  randomState,
  s256Challenge,
} from "../lib/oauth/pkce.ts";
import { OAuthError } from "../lib/oauth/errors.ts";

Deno.test("pkce: RFC 7636 Appendix B vector", async () => {
  // The challenge as printed in RFC 7636 Appendix B (also `openssl dgst -sha256 | base64url`).
  assert.equal(
    await s256Challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
    "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
  );
  const octets = [
    116,
    24,
    223,
    180,
    151,
    153,
    224,
    37,
    79,
    250,
    96,
    125,
    216,
    173,
    187,
    186,
    22,
    212,
    37,
    77,
    105,
    214,
    191,
    240,
    91,
    88,
    5,
    88,
    83,
    132,
    141,
    121,
  ];
  assert.equal(
    base64urlEncode(new Uint8Array(octets)),
    "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
  );
});

Deno.test("pkce: createPkce gives a fresh 43-char verifier and its S256 challenge", async () => {
  const a = await createPkce();
  const b = await createPkce();
  assert.match(a.verifier, /^[A-Za-z0-9_-]{43}$/);
  assert.notEqual(a.verifier, b.verifier);
  assert.equal(a.method, "S256");
  assert.equal(a.challenge, await s256Challenge(a.verifier));
});

Deno.test("pkce: randomState is 32 random bytes in base64url", () => {
  const seen = new Set(Array.from({ length: 50 }, () => randomState()));
  assert.equal(seen.size, 50);
  for (const s of seen) assert.match(s, /^[A-Za-z0-9_-]{43}$/);
});

Deno.test("pkce: constantTimeEqual", () => {
  assert.equal(constantTimeEqual("abc", "abc"), true);
  assert.equal(constantTimeEqual("abc", "abd"), false);
  assert.equal(constantTimeEqual("abc", "abcd"), false);
  assert.equal(constantTimeEqual("", ""), true);
  assert.equal(constantTimeEqual("", "a"), false);
  assert.equal(constantTimeEqual("é", "e\u0301"), false);
});

Deno.test("pkce: assertS256Supported refuses unless S256 is listed or forced", () => {
  assertS256Supported({ code_challenge_methods_supported: ["plain", "S256"] }, { force: false });
  assertS256Supported({}, { force: true });
  assertS256Supported({ code_challenge_methods_supported: ["plain"] }, { force: true });
  for (const meta of [{}, { code_challenge_methods_supported: ["plain"] }]) {
    assert.throws(
      () => assertS256Supported(meta, { force: false, server: "slack" }),
      (e: unknown) =>
        e instanceof OAuthError && e.code === "oauth.pkce_unsupported" &&
        e.message.includes("slack") && e.hint!.includes("remote.oauth.pkce"),
    );
  }
});
