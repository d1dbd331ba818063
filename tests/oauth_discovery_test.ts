import assert from "node:assert/strict";
import { OAuthError } from "../lib/oauth/errors.ts";
import {
  authorizationServerMetadataUrls,
  canonicalResourceUri,
  discover,
  MetadataCache,
  processAuthorizationServerMetadata,
  processProtectedResourceMetadata,
  protectedResourceMetadataUrls,
} from "../lib/oauth/discovery.ts";

function isCode(code: string) {
  return (e: unknown) => {
    assert.ok(e instanceof OAuthError, `expected OAuthError, got ${e}`);
    assert.equal(e.code, code);
    return true;
  };
}

type Route = (base: string) => Response | Promise<Response>;

/** A loopback server answering `routes` (by path) and 404 elsewhere; logs every path. */
function serve(routes: Record<string, Route>) {
  const log: string[] = [];
  const server: Deno.HttpServer<Deno.NetAddr> = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen() {},
  }, (req): Response | Promise<Response> => {
    const path = new URL(req.url).pathname;
    log.push(path);
    const route = routes[path];
    return route ? route(base) : new Response("not found", { status: 404 });
  });
  const base: string = `http://127.0.0.1:${server.addr.port}`;
  return { base, log, close: () => server.shutdown() };
}

function asMeta(issuer: string, extra: Record<string, unknown> = {}) {
  return {
    issuer,
    authorization_endpoint: `${issuer}/authorize`,
    token_endpoint: `${issuer}/token`,
    code_challenge_methods_supported: ["S256"],
    ...extra,
  };
}

Deno.test("discovery: canonicalResourceUri", () => {
  const cases: [string, string][] = [
    ["https://MCP.Example.COM/", "https://mcp.example.com"],
    ["https://mcp.example.com", "https://mcp.example.com"],
    ["HTTPS://mcp.example.com/mcp", "https://mcp.example.com/mcp"],
    ["https://mcp.example.com/mcp/", "https://mcp.example.com/mcp"],
    ["https://mcp.example.com:443/mcp#frag", "https://mcp.example.com/mcp"],
    ["https://mcp.example.com:8443/Server/MCP", "https://mcp.example.com:8443/Server/MCP"],
    ["https://mcp.example.com/mcp?tenant=a", "https://mcp.example.com/mcp?tenant=a"],
    ["http://127.0.0.1:8080/", "http://127.0.0.1:8080"],
  ];
  for (const [input, want] of cases) assert.equal(canonicalResourceUri(input), want, input);
});

Deno.test("discovery: protected resource metadata URL order", () => {
  assert.deepEqual(protectedResourceMetadataUrls("https://x.example/public/mcp?q=1"), [
    "https://x.example/.well-known/oauth-protected-resource/public/mcp",
    "https://x.example/.well-known/oauth-protected-resource",
  ]);
  assert.deepEqual(protectedResourceMetadataUrls("https://x.example/"), [
    "https://x.example/.well-known/oauth-protected-resource",
  ]);
  assert.deepEqual(
    protectedResourceMetadataUrls("https://x.example/mcp/", "https://meta.example/prm"),
    [
      "https://meta.example/prm",
      "https://x.example/.well-known/oauth-protected-resource/mcp",
      "https://x.example/.well-known/oauth-protected-resource",
    ],
  );
});

Deno.test("discovery: a challenge resource_metadata that is not a URL is invalid_metadata", async () => {
  for (const bad of ["http://[", "http://127.0.0.1:notaport/x"]) {
    assert.throws(
      () => protectedResourceMetadataUrls("https://x.example/mcp", bad, "docs"),
      (e: unknown) => {
        isCode("oauth.invalid_metadata")(e);
        const err = e as OAuthError;
        assert.equal(err.server, "docs");
        assert.match(err.message, /"docs"/);
        assert.match(err.hint ?? "", /operator/);
        return true;
      },
    );
    let requests = 0;
    await assert.rejects(
      discover("https://x.example/mcp", { resourceMetadata: bad }, {
        server: "docs",
        onRequest: () => requests++,
      }),
      isCode("oauth.invalid_metadata"),
    );
    assert.equal(requests, 0, "nothing was fetched");
  }
});

Deno.test("discovery: authorization server metadata URL order", () => {
  assert.deepEqual(authorizationServerMetadataUrls("https://as.example/t"), [
    "https://as.example/.well-known/oauth-authorization-server/t",
    "https://as.example/.well-known/openid-configuration/t",
    "https://as.example/t/.well-known/openid-configuration",
  ]);
  assert.deepEqual(authorizationServerMetadataUrls("https://as.example/t/"), [
    "https://as.example/.well-known/oauth-authorization-server/t",
    "https://as.example/.well-known/openid-configuration/t",
    "https://as.example/t/.well-known/openid-configuration",
  ]);
  assert.deepEqual(authorizationServerMetadataUrls("https://as.example"), [
    "https://as.example/.well-known/oauth-authorization-server",
    "https://as.example/.well-known/openid-configuration",
  ]);
});

Deno.test("discovery: protected resource metadata validation", () => {
  const ok = processProtectedResourceMetadata(
    {
      resource: "https://mcp.example/mcp",
      authorization_servers: ["https://as.example"],
      scopes_supported: ["a"],
    },
    "https://MCP.example/mcp/",
  );
  assert.deepEqual(ok, {
    resource: "https://mcp.example/mcp",
    authorization_servers: ["https://as.example"],
    scopes_supported: ["a"],
  });
  // A parent resource on the same origin identifies the server (documented rule).
  for (const resource of ["https://mcp.example", "https://mcp.example/", "https://mcp.example/a"]) {
    processProtectedResourceMetadata(
      { resource, authorization_servers: ["https://as.example"] },
      "https://mcp.example/a/mcp",
    );
  }
  const mismatches = [
    "https://evil.example/mcp",
    "https://mcp.example/other",
    "https://mcp.example/mcp/deeper",
    "https://mcp.example/m",
    "http://mcp.example/mcp",
    "https://mcp.example:444/mcp",
    "https://mcp.example/mcp#f",
    "not a url",
  ];
  for (const resource of mismatches) {
    assert.throws(
      () =>
        processProtectedResourceMetadata(
          { resource, authorization_servers: ["https://as.example"] },
          "https://mcp.example/mcp",
          "gh",
        ),
      isCode("oauth.resource_mismatch"),
      resource,
    );
  }
  const invalid: unknown[] = [
    null,
    [],
    "x",
    { authorization_servers: ["https://as.example"] },
    { resource: "https://mcp.example/mcp" },
    { resource: "https://mcp.example/mcp", authorization_servers: [] },
    { resource: "https://mcp.example/mcp", authorization_servers: [1] },
    {
      resource: "https://mcp.example/mcp",
      authorization_servers: ["https://a"],
      scopes_supported: "a",
    },
  ];
  for (const doc of invalid) {
    assert.throws(
      () => processProtectedResourceMetadata(doc, "https://mcp.example/mcp"),
      isCode("oauth.invalid_metadata"),
      JSON.stringify(doc),
    );
  }
  for (const as of ["http://as.example", "javascript:alert(1)", "/relative"]) {
    assert.throws(
      () =>
        processProtectedResourceMetadata(
          { resource: "https://mcp.example/mcp", authorization_servers: [as] },
          "https://mcp.example/mcp",
        ),
      isCode("oauth.insecure_endpoint"),
      as,
    );
  }
});

Deno.test("discovery: authorization server metadata validation", () => {
  const meta = processAuthorizationServerMetadata(
    asMeta("https://as.example/t", {
      registration_endpoint: "https://as.example/t/register",
      client_id_metadata_document_supported: true,
      authorization_response_iss_parameter_supported: "yes",
      token_endpoint_auth_methods_supported: ["client_secret_post"],
      jwks_uri: "https://as.example/jwks",
    }),
    "https://as.example/t",
  );
  assert.deepEqual(meta, {
    issuer: "https://as.example/t",
    authorization_endpoint: "https://as.example/t/authorize",
    token_endpoint: "https://as.example/t/token",
    registration_endpoint: "https://as.example/t/register",
    code_challenge_methods_supported: ["S256"],
    token_endpoint_auth_methods_supported: ["client_secret_post"],
    client_id_metadata_document_supported: true,
  });
  // No registration_endpoint: none is invented.
  const noReg = processAuthorizationServerMetadata(
    asMeta("https://as.example"),
    "https://as.example",
  );
  assert.equal("registration_endpoint" in noReg, false);

  for (const issuer of ["https://as.example/", "https://evil.example", undefined]) {
    assert.throws(
      () =>
        processAuthorizationServerMetadata(
          { ...asMeta("https://as.example"), issuer },
          "https://as.example",
        ),
      isCode("oauth.issuer_mismatch"),
      String(issuer),
    );
  }
  const base = asMeta("https://as.example");
  const insecure: Record<string, unknown>[] = [
    { authorization_endpoint: "javascript:alert(1)" },
    { token_endpoint: "http://as.example/token" },
    { registration_endpoint: "/register" },
    { revocation_endpoint: "data:text/plain,x" },
  ];
  for (const patch of insecure) {
    assert.throws(
      () => processAuthorizationServerMetadata({ ...base, ...patch }, "https://as.example"),
      isCode("oauth.insecure_endpoint"),
      JSON.stringify(patch),
    );
  }
  const invalid: Record<string, unknown>[] = [
    { authorization_endpoint: undefined },
    { token_endpoint: 5 },
    { code_challenge_methods_supported: "S256" },
    { scopes_supported: [1] },
  ];
  for (const patch of invalid) {
    assert.throws(
      () => processAuthorizationServerMetadata({ ...base, ...patch }, "https://as.example"),
      isCode("oauth.invalid_metadata"),
      JSON.stringify(patch),
    );
  }
});

Deno.test("discover: path PRM, issuer with a path found via OIDC at the second URL", async () => {
  const srv = serve({
    "/.well-known/oauth-protected-resource/mcp": (b) =>
      Response.json({
        resource: `${b}/mcp`,
        authorization_servers: [`${b}/t`],
        scopes_supported: ["s"],
      }),
    "/.well-known/openid-configuration/t": (b) => Response.json(asMeta(`${b}/t`)),
  });
  try {
    const counted: string[] = [];
    const d = await discover(`${srv.base}/mcp`, undefined, { onRequest: (u) => counted.push(u) });
    assert.equal(d.resource, `${srv.base}/mcp`);
    assert.equal(d.legacy, false);
    assert.equal(d.assumedEndpoints, false);
    assert.equal(d.authorizationServer.issuer, `${srv.base}/t`);
    assert.deepEqual(d.protectedResource?.scopes_supported, ["s"]);
    assert.equal(d.authorizationServer.registration_endpoint, undefined);
    assert.deepEqual(srv.log, [
      "/.well-known/oauth-protected-resource/mcp",
      "/.well-known/oauth-authorization-server/t",
      "/.well-known/openid-configuration/t",
    ]);
    assert.equal(counted.length, 3);
  } finally {
    await srv.close();
  }
});

Deno.test("discover: challenge URL first; a 404 there falls back to the well-known URLs", async () => {
  const srv = serve({
    "/custom/prm": (b) => Response.json({ resource: `${b}/mcp`, authorization_servers: [b] }),
    "/.well-known/oauth-protected-resource": (b) =>
      Response.json({ resource: b, authorization_servers: [b] }),
    "/.well-known/oauth-authorization-server": (b) => Response.json(asMeta(b)),
  });
  try {
    const d = await discover(`${srv.base}/mcp`, { resourceMetadata: `${srv.base}/custom/prm` });
    assert.equal(d.resource, `${srv.base}/mcp`);
    assert.deepEqual(srv.log, ["/custom/prm", "/.well-known/oauth-authorization-server"]);

    srv.log.length = 0;
    const root = await discover(`${srv.base}/mcp`, { resourceMetadata: `${srv.base}/gone` });
    assert.equal(root.resource, srv.base, "the root document names the origin");
    assert.deepEqual(srv.log, [
      "/gone",
      "/.well-known/oauth-protected-resource/mcp",
      "/.well-known/oauth-protected-resource",
      "/.well-known/oauth-authorization-server",
    ]);
  } finally {
    await srv.close();
  }
});

Deno.test("discover: resource mismatch stops before any authorization server request", async () => {
  const srv = serve({
    "/.well-known/oauth-protected-resource/mcp": () =>
      Response.json({
        resource: "https://evil.example/mcp",
        authorization_servers: ["https://evil.example"],
      }),
  });
  try {
    await assert.rejects(
      discover(`${srv.base}/mcp`, undefined, { server: "x" }),
      isCode("oauth.resource_mismatch"),
    );
    assert.deepEqual(srv.log, ["/.well-known/oauth-protected-resource/mcp"]);
  } finally {
    await srv.close();
  }
});

Deno.test("discover: issuer mismatch in authorization server metadata", async () => {
  const srv = serve({
    "/.well-known/oauth-protected-resource": (b) =>
      Response.json({ resource: b, authorization_servers: [b] }),
    "/.well-known/oauth-authorization-server": () => Response.json(asMeta("https://evil.example")),
  });
  try {
    await assert.rejects(discover(`${srv.base}/`, undefined), isCode("oauth.issuer_mismatch"));
  } finally {
    await srv.close();
  }
});

Deno.test("discover: PRM present but no AS metadata is an error, never assumed endpoints", async () => {
  const srv = serve({
    "/.well-known/oauth-protected-resource": (b) =>
      Response.json({ resource: b, authorization_servers: [`${b}/t`] }),
  });
  try {
    await assert.rejects(discover(srv.base, undefined), (e: unknown) => {
      isCode("oauth.discovery_failed")(e);
      assert.match((e as Error).message, /openid-configuration/);
      return true;
    });
  } finally {
    await srv.close();
  }
});

Deno.test("discover: 2025-03-26 server with metadata at its origin", async () => {
  const srv = serve({
    "/.well-known/oauth-authorization-server": (b) =>
      Response.json(asMeta(b, { registration_endpoint: `${b}/reg` })),
  });
  try {
    const d = await discover(`${srv.base}/mcp/`, undefined);
    assert.equal(d.legacy, true);
    assert.equal(d.assumedEndpoints, false);
    assert.equal(d.protectedResource, undefined);
    assert.equal(d.resource, `${srv.base}/mcp`);
    assert.equal(d.authorizationServer.registration_endpoint, `${srv.base}/reg`);
  } finally {
    await srv.close();
  }
});

Deno.test("discover: 2025-03-26 server without metadata gets the default endpoints", async () => {
  const srv = serve({});
  try {
    const d = await discover(`${srv.base}/mcp`, undefined);
    assert.equal(d.legacy, true);
    assert.equal(d.assumedEndpoints, true);
    assert.deepEqual(d.authorizationServer, {
      issuer: srv.base,
      authorization_endpoint: `${srv.base}/authorize`,
      token_endpoint: `${srv.base}/token`,
      registration_endpoint: `${srv.base}/register`,
      code_challenge_methods_supported: ["S256"],
    });
    assert.deepEqual(srv.log, [
      "/.well-known/oauth-protected-resource/mcp",
      "/.well-known/oauth-protected-resource",
      "/.well-known/oauth-authorization-server",
      "/.well-known/openid-configuration",
    ]);
  } finally {
    await srv.close();
  }
});

Deno.test("discover: an HTML page or redirect at a well-known URL is skipped", async () => {
  const srv = serve({
    "/.well-known/oauth-protected-resource/mcp": () =>
      new Response("<html>app</html>", { headers: { "content-type": "text/html" } }),
    "/.well-known/oauth-protected-resource": () =>
      new Response(null, { status: 302, headers: { location: "/login" } }),
    "/.well-known/oauth-authorization-server": (b) => Response.json(asMeta(b)),
  });
  try {
    const d = await discover(`${srv.base}/mcp`, undefined);
    assert.equal(d.legacy, true);
    assert.ok(!srv.log.includes("/login"));
  } finally {
    await srv.close();
  }
});

Deno.test("discover: bad JSON, a hang or a 10 MB body at the challenge URL are errors naming it", async () => {
  const release = Promise.withResolvers<Response>();
  const big = new Uint8Array(10 * 1024 * 1024);
  const srv = serve({
    "/prm-html": () => new Response("<html>"),
    "/prm-hang": () => release.promise,
    "/prm-big": () => new Response(big),
    "/prm-500": () => new Response("boom", { status: 500 }),
  });
  try {
    await assert.rejects(
      discover(`${srv.base}/mcp`, { resourceMetadata: `${srv.base}/prm-html` }),
      (e: unknown) => isCode("oauth.invalid_json")(e) && /prm-html/.test((e as Error).message),
    );
    await assert.rejects(
      discover(`${srv.base}/mcp`, { resourceMetadata: `${srv.base}/prm-hang` }, { timeoutMs: 150 }),
      (e: unknown) => isCode("oauth.timeout")(e) && /prm-hang/.test((e as Error).message),
    );
    await assert.rejects(
      discover(`${srv.base}/mcp`, { resourceMetadata: `${srv.base}/prm-big` }),
      (e: unknown) => isCode("oauth.too_large")(e) && /prm-big/.test((e as Error).message),
    );
    await assert.rejects(
      discover(`${srv.base}/mcp`, { resourceMetadata: `${srv.base}/prm-500` }),
      (e: unknown) =>
        isCode("oauth.discovery_failed")(e) && /prm-500.*500/.test((e as Error).message),
    );
  } finally {
    release.resolve(new Response("{}"));
    await srv.close();
  }
});

Deno.test("discover: the metadata cache makes a second discovery free", async () => {
  const srv = serve({
    "/.well-known/oauth-protected-resource": (b) =>
      Response.json({ resource: b, authorization_servers: [b] }),
    "/.well-known/oauth-authorization-server": (b) => Response.json(asMeta(b)),
  });
  try {
    const cache = new MetadataCache();
    const [a, b] = await Promise.all([
      discover(srv.base, undefined, { cache }),
      discover(srv.base, undefined, { cache }),
    ]);
    assert.deepEqual(a, b);
    const first = srv.log.length;
    assert.equal(first, 2, "concurrent discoveries share requests");
    await discover(srv.base, undefined, { cache });
    assert.equal(srv.log.length, first);
    await discover(srv.base, undefined);
    assert.equal(srv.log.length, first + 2, "no cache, new requests");
  } finally {
    await srv.close();
  }
});

Deno.test("discover: a non-https server URL is refused", async () => {
  await assert.rejects(
    discover("http://mcp.example/mcp", undefined),
    isCode("oauth.insecure_endpoint"),
  );
});
