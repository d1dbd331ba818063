import assert from "node:assert/strict";
import { bearerChallenge, parseWwwAuthenticate } from "../lib/oauth/www_authenticate.ts";

Deno.test("www-authenticate: one Bearer challenge with quoted and token params", () => {
  const got = parseWwwAuthenticate(
    'Bearer realm="mcp", error=invalid_token, resource_metadata="https://x.example/.well-known/oauth-protected-resource"',
  );
  assert.deepEqual(got, [{
    scheme: "bearer",
    params: {
      realm: "mcp",
      error: "invalid_token",
      resource_metadata: "https://x.example/.well-known/oauth-protected-resource",
    },
  }]);
});

Deno.test("www-authenticate: several challenges in one header, commas inside quotes", () => {
  const got = parseWwwAuthenticate(
    'Basic realm="a, b", Bearer scope="read write", error_description="x, y=z", DPoP algs="ES256"',
  );
  assert.deepEqual(got.map((c) => c.scheme), ["basic", "bearer", "dpop"]);
  assert.deepEqual(got[0].params, { realm: "a, b" });
  assert.deepEqual(got[1].params, { scope: "read write", error_description: "x, y=z" });
  assert.deepEqual(got[2].params, { algs: "ES256" });
});

Deno.test("www-authenticate: several header values and a Headers object", () => {
  const list = parseWwwAuthenticate(['Basic realm="r"', "Bearer error=insufficient_scope"]);
  assert.deepEqual(list.map((c) => c.scheme), ["basic", "bearer"]);
  const h = new Headers();
  h.append("WWW-Authenticate", 'Basic realm="r"');
  h.append("WWW-Authenticate", 'Bearer scope="a"');
  const fromHeaders = parseWwwAuthenticate(h);
  assert.deepEqual(fromHeaders.map((c) => c.scheme), ["basic", "bearer"]);
  assert.equal(fromHeaders[1].params.scope, "a");
});

Deno.test("www-authenticate: backslash escapes in quoted strings", () => {
  const [c] = parseWwwAuthenticate('Bearer error_description="say \\"hi\\" \\\\ bye"');
  assert.equal(c.params.error_description, 'say "hi" \\ bye');
});

Deno.test("www-authenticate: token68 challenges, with and without padding", () => {
  const got = parseWwwAuthenticate("Negotiate YIIB+w==, Basic dXNlcjpw/Y, Bearer realm=x");
  assert.deepEqual(got[0], { scheme: "negotiate", params: {}, token68: "YIIB+w==" });
  assert.deepEqual(got[1], { scheme: "basic", params: {}, token68: "dXNlcjpw/Y" });
  assert.deepEqual(got[2], { scheme: "bearer", params: { realm: "x" } });
});

Deno.test("www-authenticate: scheme and parameter names are case-insensitive", () => {
  const [c] = parseWwwAuthenticate('BEARER Resource_Metadata="u", SCOPE=a, Scope=b');
  assert.equal(c.scheme, "bearer");
  assert.deepEqual(c.params, { resource_metadata: "u", scope: "a" });
});

Deno.test("www-authenticate: bare schemes, empty elements, BWS around '='", () => {
  const got = parseWwwAuthenticate(', ,Basic, Bearer realm = "r" ,, error =x,');
  assert.deepEqual(got, [
    { scheme: "basic", params: {} },
    { scheme: "bearer", params: { realm: "r", error: "x" } },
  ]);
});

Deno.test("www-authenticate: garbage never throws and keeps what parses", () => {
  const inputs = [
    "",
    "   ",
    '"',
    "=====",
    'Bearer realm="unterminated',
    "Bearer @@@, Basic realm=ok",
    "Bearer a=b c d, Basic",
    "\u0000\u0001 Bearer x=\u00ff",
    '(((), Bearer scope="s"',
    "Bearer ,=,=,=",
  ];
  for (const input of inputs) {
    const got = parseWwwAuthenticate(input);
    assert.ok(Array.isArray(got), input);
  }
  assert.deepEqual(parseWwwAuthenticate('Bearer realm="unterminated')[0].params, {
    realm: "unterminated",
  });
  const mixed = parseWwwAuthenticate("Bearer @@@, Basic realm=ok");
  assert.equal(mixed.at(-1)?.scheme, "basic");
  assert.equal(mixed.at(-1)?.params.realm, "ok");
  const paren = parseWwwAuthenticate('(((), Bearer scope="s"');
  assert.equal(paren.find((c) => c.scheme === "bearer")?.params.scope, "s");
});

Deno.test("bearerChallenge: takes resource_metadata, scope list, error from a 401/403", () => {
  const response = new Response(null, {
    status: 403,
    headers: [
      ["www-authenticate", 'Basic realm="x"'],
      [
        "www-authenticate",
        'Bearer error="insufficient_scope", scope="files:read  files:write", ' +
        'resource_metadata="https://mcp.example/.well-known/oauth-protected-resource/mcp", ' +
        'error_description="need more"',
      ],
    ],
  });
  assert.deepEqual(bearerChallenge(response), {
    resourceMetadata: "https://mcp.example/.well-known/oauth-protected-resource/mcp",
    scope: ["files:read", "files:write"],
    error: "insufficient_scope",
    errorDescription: "need more",
  });
});

Deno.test("bearerChallenge: undefined without a Bearer challenge", () => {
  assert.equal(bearerChallenge(new Response(null, { status: 401 })), undefined);
  const basic = new Response(null, { status: 401, headers: { "www-authenticate": "Basic" } });
  assert.equal(bearerChallenge(basic), undefined);
  const bare = new Response(null, { status: 401, headers: { "www-authenticate": "Bearer" } });
  assert.deepEqual(bearerChallenge(bare), {});
});
