import assert from "node:assert/strict";
import { DagentError } from "../lib/errors.ts";
import {
  checkCallbackParams,
  escapeHtml,
  parseRedirectInput,
  startCallbackServer,
} from "../lib/oauth/callback.ts";
import { generateSelfSignedCertificate } from "../lib/oauth/cert.ts";
import { constantTimeEqual } from "../lib/oauth/pkce.ts";
import { browserCommand, openBrowser } from "../lib/oauth/browser.ts";

const STATE = "s-" + crypto.randomUUID();

async function get(url: string, init?: RequestInit & { client?: Deno.HttpClient }) {
  const response = await fetch(url, init);
  return { response, body: await response.text() };
}

function withQuery(base: string, params: Record<string, string>): string {
  return `${base}?${new URLSearchParams(params)}`;
}

function assertSecurityHeaders(response: Response) {
  assert.equal(response.headers.get("content-security-policy"), "default-src 'none'");
  assert.equal(response.headers.get("x-content-type-options"), "nosniff");
  assert.equal(response.headers.get("cache-control"), "no-store");
  assert.equal(response.headers.get("referrer-policy"), "no-referrer");
  assert.match(response.headers.get("content-type") ?? "", /^text\/html; charset=utf-8/);
}

Deno.test("callback: success page is fully delivered even when the flow closes at once", async () => {
  const cb = await startCallbackServer({ expectedState: STATE, server: "slack" });
  assert.match(cb.redirectUri, /^http:\/\/127\.0\.0\.1:\d+\/callback$/);
  assert.equal(new URL(cb.redirectUri).port, String(cb.port));
  // The flow closes the server the moment the result arrives (the seed's shutdown race).
  const closed = cb.result.then(() => cb.close());
  const { response, body } = await get(withQuery(cb.redirectUri, { code: "abc", state: STATE }));
  assert.equal(response.status, 200);
  assertSecurityHeaders(response);
  assert.match(body, /You can close this tab and return to dagent/);
  assert.match(body, /<\/html>\n$/);
  const params = await cb.result;
  assert.equal(params.get("code"), "abc");
  assert.equal(params.get("state"), STATE);
  await closed;
  await assert.rejects(fetch(cb.redirectUri), TypeError);
});

Deno.test("callback: unknown path, wrong/missing state and POST do not consume the wait", async () => {
  const cb = await startCallbackServer({ expectedState: STATE, server: "gh" });
  try {
    let resolved = false;
    cb.result.then(() => resolved = true);
    const base = new URL(cb.redirectUri);
    const other = await get(`${base.origin}/other?code=x&state=${STATE}`);
    assert.equal(other.response.status, 404);
    assertSecurityHeaders(other.response);
    const prefix = await get(`${base.origin}/callback/extra?code=x&state=${STATE}`);
    assert.equal(prefix.response.status, 404);
    const wrong = await get(withQuery(cb.redirectUri, { code: "evil", state: STATE + "x" }));
    assert.equal(wrong.response.status, 400);
    assert.match(wrong.body, /does not match/);
    assert.ok(!wrong.body.includes(STATE), "the expected state is never echoed");
    const missing = await get(withQuery(cb.redirectUri, { code: "evil" }));
    assert.equal(missing.response.status, 400);
    const twice = await get(`${cb.redirectUri}?code=a&state=${STATE}&state=${STATE}`);
    assert.equal(twice.response.status, 400);
    const noCode = await get(withQuery(cb.redirectUri, { state: STATE }));
    assert.equal(noCode.response.status, 400);
    const post = await get(withQuery(cb.redirectUri, { code: "p", state: STATE }), {
      method: "POST",
    });
    assert.equal(post.response.status, 405);
    assert.equal(resolved, false);
    const good = await get(withQuery(cb.redirectUri, { code: "real", state: STATE }));
    assert.equal(good.response.status, 200);
    assert.equal((await cb.result).get("code"), "real");
  } finally {
    await cb.close();
  }
});

Deno.test("callback: script/HTML in every echoed parameter is escaped; error is data", async () => {
  const hostile = `<script>alert(1)</script><img src=x onerror="alert('x')">&amp;`;
  const cb = await startCallbackServer({
    expectedState: STATE,
    server: `<b>srv</b>"'`,
  });
  try {
    const { response, body } = await get(withQuery(cb.redirectUri, {
      error: hostile,
      error_description: hostile,
      error_uri: "javascript:alert(1)",
      state: STATE,
    }));
    assert.equal(response.status, 200);
    assertSecurityHeaders(response);
    assert.match(body, /Sign-in for &lt;b&gt;srv&lt;\/b&gt;&quot;&#39; failed/);
    assert.ok(body.includes("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert.ok(body.includes("onerror=&quot;alert(&#39;x&#39;)&quot;"));
    assert.ok(body.includes("&amp;amp;"));
    assert.ok(!/<script|<img|<b>|javascript:/i.test(body), "nothing hostile survives");
    const params = await cb.result;
    assert.equal(params.get("error"), hostile);
    assert.equal(params.get("error_description"), hostile);
  } finally {
    await cb.close();
  }
});

Deno.test("callback: a long error description is truncated in the page", async () => {
  const cb = await startCallbackServer({ expectedState: STATE, server: "s" });
  try {
    const long = "A".repeat(5000);
    const { body } = await get(withQuery(cb.redirectUri, {
      error: "access_denied",
      error_description: long,
      state: STATE,
    }));
    assert.ok(!body.includes(long));
    assert.ok(body.includes("A".repeat(300) + "…"));
    assert.equal((await cb.result).get("error_description"), long);
  } finally {
    await cb.close();
  }
});

Deno.test("callback: a second hit says already completed and does not re-resolve", async () => {
  const cb = await startCallbackServer({ expectedState: STATE, server: "linear" });
  try {
    const first = await get(withQuery(cb.redirectUri, { code: "first", state: STATE }));
    assert.equal(first.response.status, 200);
    const second = await get(withQuery(cb.redirectUri, { code: "second", state: STATE }));
    assert.equal(second.response.status, 200);
    assertSecurityHeaders(second.response);
    assert.match(second.body, /already completed/);
    assert.equal((await cb.result).get("code"), "first");
  } finally {
    await cb.close();
  }
});

Deno.test("callback: the wait times out with a clear error and the server is closed", async () => {
  const cb = await startCallbackServer({ expectedState: STATE, server: "slack", timeoutMs: 100 });
  try {
    const error = await cb.result.then(
      () => assert.fail("should time out"),
      (e: unknown) => e,
    );
    assert.ok(error instanceof DagentError);
    assert.equal(error.code, "oauth.callback_timeout");
    assert.match(error.message, /sign-in for slack timed out after 0\.1 seconds/);
    assert.match(error.hint ?? "", /dagent auth login/);
    await cb.close();
    // A callback after the timeout reaches nothing.
    await assert.rejects(fetch(withQuery(cb.redirectUri, { code: "late", state: STATE })));
  } finally {
    await cb.close();
  }
});

Deno.test("callback: close() before an answer rejects the wait as cancelled and clears the timer", async () => {
  const cb = await startCallbackServer({ expectedState: STATE, server: "x", timeoutMs: 120_000 });
  await cb.close();
  const error = await cb.result.catch((e) => e);
  assert.equal(error.code, "oauth.callback_closed");
  // The timer was cleared by close(): no leaked timer (the sanitizer would fail this test).
});

Deno.test("callback: a fixed port already in use names remote.oauth.callbackPort", async () => {
  const holder = await startCallbackServer({ expectedState: STATE, server: "a" });
  try {
    const error = await startCallbackServer({
      expectedState: STATE,
      server: "b",
      port: holder.port,
    }).then(() => assert.fail("should not listen twice"), (e: unknown) => e);
    assert.ok(error instanceof DagentError);
    assert.equal(error.code, "oauth.callback_port_in_use");
    assert.match(error.message, /remote\.oauth\.callbackPort/);
    assert.match(error.message, new RegExp(`port ${holder.port}`));
    assert.match(error.hint ?? "", /callbackPort to 0/);
  } finally {
    await holder.close();
  }
});

Deno.test("callback: HTTPS with a generated certificate and a trusting client", async () => {
  const cert = await generateSelfSignedCertificate();
  const cb = await startCallbackServer({
    expectedState: STATE,
    server: "slack",
    tls: { certPem: cert.certPem, keyPem: cert.keyPem },
  });
  const client = Deno.createHttpClient({ caCerts: [cert.certPem] });
  try {
    assert.match(cb.redirectUri, /^https:\/\/127\.0\.0\.1:\d+\/callback$/);
    const { response, body } = await get(withQuery(cb.redirectUri, { code: "c", state: STATE }), {
      client,
    });
    assert.equal(response.status, 200);
    assert.match(body, /You can close this tab/);
    assert.equal((await cb.result).get("code"), "c");
  } finally {
    client.close();
    await cb.close();
  }
});

Deno.test("callback: listens on loopback only", async () => {
  const cb = await startCallbackServer({ expectedState: STATE, server: "s" });
  try {
    const external = Deno.networkInterfaces().find((i) =>
      i.family === "IPv4" && !i.address.startsWith("127.")
    );
    if (external) {
      await assert.rejects(
        Deno.connect({ hostname: external.address, port: cb.port }),
        Deno.errors.ConnectionRefused,
      );
    }
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: cb.port });
    conn.close();
  } finally {
    await cb.close();
  }
});

Deno.test("checkCallbackParams: state rules, repeated parameters, error as data", () => {
  const p = (q: string) => new URLSearchParams(q);
  assert.deepEqual(checkCallbackParams(p(`code=a&state=${STATE}`), STATE, true), {
    kind: "code",
    code: "a",
  });
  assert.deepEqual(checkCallbackParams(p("code=a"), STATE, true), { kind: "bad_state" });
  assert.deepEqual(checkCallbackParams(p("code=a"), STATE, false), { kind: "code", code: "a" });
  assert.deepEqual(checkCallbackParams(p("code=a&state=zz"), STATE, false), {
    kind: "bad_state",
  });
  assert.equal(
    checkCallbackParams(p(`code=a&code=b&state=${STATE}`), STATE, true).kind,
    "malformed",
  );
  assert.deepEqual(
    checkCallbackParams(p(`error=access_denied&state=${STATE}`), STATE, true),
    { kind: "error", error: "access_denied", description: undefined },
  );
});

Deno.test("parseRedirectInput: URL, query string or bare code; garbage rejected", () => {
  const url = parseRedirectInput(
    `  https://127.0.0.1:3118/callback?code=abc&state=${STATE}&iss=https%3A%2F%2Fas  `,
  );
  assert.equal(url.get("code"), "abc");
  assert.equal(url.get("state"), STATE);
  assert.equal(url.get("iss"), "https://as");
  assert.equal(parseRedirectInput("http://localhost/cb?code=z").get("code"), "z");
  assert.equal(
    parseRedirectInput("https://x.example/cb?error=access_denied").get("error"),
    "access_denied",
  );
  assert.equal(parseRedirectInput(`?code=q&state=${STATE}`).get("code"), "q");
  assert.equal(parseRedirectInput(`code=q2&state=${STATE}`).get("code"), "q2");
  const bare = parseRedirectInput("4/0AbCd-EfGh_ij.kl~");
  assert.equal(bare.get("code"), "4/0AbCd-EfGh_ij.kl~");
  assert.equal(bare.has("state"), false);
  for (
    const bad of [
      "",
      "   ",
      "hello world",
      "javascript://alert(1)?code=x",
      "https://127.0.0.1/callback?foo=bar",
      "https://[bad",
      "x".repeat(9000),
    ]
  ) {
    assert.throws(() => parseRedirectInput(bad), (e: unknown) => {
      assert.ok(e instanceof DagentError, `not a DagentError for ${bad.slice(0, 20)}`);
      assert.equal(e.code, "oauth.bad_redirect_input");
      assert.match(e.hint ?? "", /Paste the whole address/);
      return true;
    });
  }
});

Deno.test("escapeHtml and constantTimeEqual", () => {
  assert.equal(
    escapeHtml(`<a href="x">'&'</a>`),
    "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;",
  );
  assert.equal(constantTimeEqual("abc", "abc"), true);
  assert.equal(constantTimeEqual("abc", "abd"), false);
  assert.equal(constantTimeEqual("abc", "abcd"), false);
  assert.equal(constantTimeEqual("", ""), true);
  assert.equal(constantTimeEqual("é", "e"), false);
});

// ---- browser opener (lib/oauth/browser.ts) ----

Deno.test("browserCommand: $BROWSER first entry with %s, platform openers", () => {
  const url = "https://as.example/authorize?a=1&b=2";
  assert.deepEqual(browserCommand(url, { BROWSER: "firefox --new-tab:chromium" }, "linux"), {
    cmd: "firefox",
    args: ["--new-tab", url],
  });
  assert.deepEqual(browserCommand(url, { BROWSER: ":w3m -o x=%s %s" }, "linux"), {
    cmd: "w3m",
    args: ["-o", `x=${url}`, url],
  });
  assert.deepEqual(browserCommand(url, { DISPLAY: ":0" }, "linux"), {
    cmd: "xdg-open",
    args: [url],
  });
  assert.deepEqual(browserCommand(url, { WAYLAND_DISPLAY: "wayland-0" }, "freebsd"), {
    cmd: "xdg-open",
    args: [url],
  });
  assert.deepEqual(browserCommand(url, {}, "darwin"), { cmd: "open", args: [url] });
  assert.deepEqual(browserCommand(url, {}, "windows"), {
    cmd: "cmd",
    args: ["/c", "start", "", "https://as.example/authorize?a=1^&b=2"],
  });
  const headless = browserCommand(url, {}, "linux");
  assert.ok("reason" in headless && /no graphical session/.test(headless.reason));
});

Deno.test("openBrowser: runs $BROWSER detached with the URL and does not wait", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const fifo = `${dir}/opened.fifo`;
    const made = await new Deno.Command("mkfifo", { args: [fifo] }).output();
    assert.equal(made.code, 0);
    const script = `${dir}/browser.sh`;
    await Deno.writeTextFile(script, `#!/bin/sh\nprintf '%s\\n' "$1" > '${fifo}'\n`);
    await Deno.chmod(script, 0o755);
    const url = `https://as.example/authorize?state=${STATE}&x=<y>`;
    const result = await openBrowser(url, { env: { BROWSER: script }, platform: "linux" });
    assert.deepEqual(result, { opened: true, via: script });
    // Wait on the event itself: reading the fifo blocks until the script writes.
    const received = await Deno.readTextFile(fifo);
    assert.equal(received, new URL(url).href + "\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("openBrowser: a missing opener or a non-http URL is reported, not thrown", async () => {
  const missing = await openBrowser("https://as.example/", {
    env: { BROWSER: "/nonexistent/dagent-browser" },
  });
  assert.equal(missing.opened, false);
  assert.match(missing.reason ?? "", /was not found/);
  for (const bad of ["javascript:alert(1)", "file:///etc/passwd", "-flag", ""]) {
    const r = await openBrowser(bad, { env: { BROWSER: "/bin/true" } });
    assert.equal(r.opened, false, bad);
    assert.ok(r.reason);
  }
  const headless = await openBrowser("https://as.example/", { env: {}, platform: "linux" });
  assert.deepEqual(headless.opened, false);
});

Deno.test("openBrowser without --allow-run reports it instead of failing vaguely", async () => {
  const module = new URL("../lib/oauth/browser.ts", import.meta.url).href;
  const script = `import { openBrowser } from "${module}";
console.log(JSON.stringify(await openBrowser("https://example.com/", { env: { BROWSER: "true" } })));`;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", `--allow-read=${new URL("..", import.meta.url).pathname}`, "-"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(script));
  await writer.close();
  const output = await child.output();
  const result = JSON.parse(new TextDecoder().decode(output.stdout));
  assert.equal(result.opened, false);
  assert.equal(result.reason, "not allowed to run true (add it to --allow-run)");
});
