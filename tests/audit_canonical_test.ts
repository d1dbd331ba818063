import assert from "node:assert/strict";
import { canonicalBytes, canonicalize } from "../lib/audit/canonical.ts";

Deno.test("canonical: RFC 8785 §3.2.2 example (literals, numbers, string escapes)", () => {
  const input = JSON.parse(String.raw`{
    "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
    "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
    "literals": [null, true, false]
  }`);
  assert.equal(
    canonicalize(input),
    String.raw`{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],` +
      String.raw`"string":"€$\u000f\nA'B\"\\\\\"/"}`,
  );
});

Deno.test("canonical: RFC 8785 §3.2.3 member order by UTF-16 code units", () => {
  const input = JSON.parse(String.raw`{
    "\u20ac": "Euro Sign",
    "\r": "Carriage Return",
    "\ufb33": "Hebrew Letter Dalet With Dagesh",
    "1": "One",
    "\ud83d\ude00": "Emoji: Grinning Face",
    "\u0080": "Control",
    "\u00f6": "Latin Small Letter O With Diaeresis"
  }`);
  assert.equal(
    canonicalize(input),
    `{"\\r":"Carriage Return","1":"One","\u0080":"Control",` +
      `"\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign",` +
      `"\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}`,
  );
  // The emoji (U+D83D U+DE00) sorts before U+FB33 by code unit, though after it by code point.
  const text = canonicalize(input);
  assert.ok(text.indexOf("\ud83d\ude00") < text.indexOf("\ufb33"));
});

Deno.test("canonical: RFC 8785 Appendix B number serialization", () => {
  const vectors: Array<[string, string]> = [
    ["0000000000000000", "0"],
    ["8000000000000000", "0"],
    ["0000000000000001", "5e-324"],
    ["8000000000000001", "-5e-324"],
    ["7fefffffffffffff", "1.7976931348623157e+308"],
    ["ffefffffffffffff", "-1.7976931348623157e+308"],
    ["4340000000000000", "9007199254740992"],
    ["c340000000000000", "-9007199254740992"],
    ["4430000000000000", "295147905179352830000"],
    ["44b52d02c7e14af5", "9.999999999999997e+22"],
    ["44b52d02c7e14af6", "1e+23"],
    ["44b52d02c7e14af7", "1.0000000000000001e+23"],
    ["444b1ae4d6e2ef4e", "999999999999999700000"],
    ["444b1ae4d6e2ef4f", "999999999999999900000"],
    ["444b1ae4d6e2ef50", "1e+21"],
    ["3eb0c6f7a0b5ed8c", "9.999999999999997e-7"],
    ["3eb0c6f7a0b5ed8d", "0.000001"],
    ["41b3de4355555553", "333333333.3333332"],
    ["41b3de4355555554", "333333333.33333325"],
    ["41b3de4355555555", "333333333.3333333"],
    ["41b3de4355555556", "333333333.3333334"],
    ["41b3de4355555557", "333333333.33333343"],
    ["becbf647612f3696", "-0.0000033333333333333333"],
    ["43143ff3c1cb0959", "1424953923781206.2"],
  ];
  for (const [hex, expected] of vectors) {
    const view = new DataView(new ArrayBuffer(8));
    view.setBigUint64(0, BigInt(`0x${hex}`));
    assert.equal(canonicalize(view.getFloat64(0)), expected, hex);
  }
  // Integers as audit records hold them.
  assert.equal(canonicalize([0, 1, -1, 42, 1e21, 2 ** 53]), "[0,1,-1,42,1e+21,9007199254740992]");
});

Deno.test("canonical: NaN, Infinity, lone surrogates and non-JSON values are rejected", () => {
  for (
    const bad of [NaN, Infinity, -Infinity, "\ud800", { "\udc00": 1 }, [undefined], 1n, () => 1]
  ) {
    assert.throws(() => canonicalize(bad), TypeError, String(bad));
  }
});

Deno.test("canonical: no whitespace, undefined members dropped, nested objects sorted", () => {
  assert.equal(
    canonicalize({ b: [1, { z: true, a: null }], a: "x", u: undefined }),
    `{"a":"x","b":[1,{"a":null,"z":true}]}`,
  );
  assert.deepEqual(
    canonicalBytes({ "é": 1 }),
    new Uint8Array([0x7b, 0x22, 0xc3, 0xa9, 0x22, 0x3a, 0x31, 0x7d]),
  );
});
