/**
 * The fetch toolset against a real local server: formats, errors, the deadline, a 10 MB
 * body cut at the cap (the server sees the client hang up), redirects followed by hand
 * (relative, chains, the limit, and `file:` / `data:` targets refused), and non-http URLs.
 */
import assert from "node:assert/strict";
import { createBuiltinToolset } from "../lib/tools/mod.ts";
import { htmlToMarkdown, htmlToText, MAX_BODY_BYTES } from "../lib/tools/fetch.ts";
import type { ToolResult, Toolset } from "../lib/mcp/types.ts";

function text(result: ToolResult): string {
  const first = result.content[0] as { type: string; text: string };
  assert.equal(first.type, "text");
  return first.text;
}

const PAGE = `<!doctype html><html><head><title>T</title><style>p{color:red}</style>
<script>alert("x")</script></head><body><h1>Hello &amp; welcome</h1>
<p>Read <a href="/docs">the <b>docs</b></a> &lt;now&gt;.</p><ul><li>one</li><li>two</li></ul>
</body></html>`;

interface Server {
  url: string;
  /** Resolves when the 10 MB stream was cancelled by the client, with bytes sent. */
  bigCancelled: Promise<number>;
  /** True if the 10 MB stream reached its end. */
  bigCompleted(): boolean;
  close(): Promise<void>;
}

function startServer(): Server {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let cancelled!: (sent: number) => void;
  const bigCancelled = new Promise<number>((resolve) => (cancelled = resolve));
  let completed = false;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const url = new URL(request.url);
    switch (url.pathname) {
      case "/page":
        return new Response(PAGE, { headers: { "content-type": "text/html; charset=utf-8" } });
      case "/plain":
        return new Response("just <b>text</b>", { headers: { "content-type": "text/plain" } });
      case "/missing":
        return new Response("no such page", {
          status: 404,
          headers: { "content-type": "text/plain" },
        });
      case "/binary":
        return new Response(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 0, 1]), {
          headers: { "content-type": "image/png" },
        });
      case "/hang":
        return released.then(() => new Response("too late"));
      case "/big": {
        const total = 10 * 1024 * 1024;
        let sent = 0;
        return new Response(
          new ReadableStream<Uint8Array>({
            pull(controller) {
              if (sent >= total) {
                completed = true;
                controller.close();
                return;
              }
              const chunk = new Uint8Array(64 * 1024).fill(0x61);
              sent += chunk.length;
              controller.enqueue(chunk);
            },
            cancel() {
              cancelled(sent);
            },
          }, { highWaterMark: 0 }),
          { headers: { "content-type": "text/plain" } },
        );
      }
      case "/hop": {
        // /hop?n=3 → /hop?n=2 → … → /plain, via a relative Location.
        const n = Number(url.searchParams.get("n"));
        const next = n > 1 ? `hop?n=${n - 1}` : "/plain";
        return new Response(null, { status: 302, headers: { location: next } });
      }
      case "/to-file":
        return new Response(null, { status: 301, headers: { location: "file:///etc/passwd" } });
      case "/to-data":
        return new Response(null, { status: 307, headers: { location: "data:text/plain,hi" } });
      default:
        return new Response("?", { status: 500 });
    }
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    bigCancelled,
    bigCompleted: () => completed,
    async close() {
      release();
      await server.shutdown();
    },
  };
}

async function withFetch(
  fn: (fetchTool: Toolset, server: Server) => Promise<void>,
  timeout?: number,
): Promise<void> {
  const server = startServer();
  const toolset = createBuiltinToolset({ type: "fetch", timeout }, { name: "web", cwd: "." });
  try {
    await toolset.start();
    await fn(toolset, server);
  } finally {
    await toolset.stop();
    await server.close();
  }
}

Deno.test("fetch turns HTML into markdown by default, text or raw html on request", async () => {
  await withFetch(async (web, { url }) => {
    const markdown = await web.callTool("fetch", { url: `${url}/page` });
    assert.equal(markdown.isError, undefined);
    assert.equal(
      text(markdown),
      `${url}/page (HTTP 200, text/html)\n\n# Hello & welcome\n\n` +
        "Read [the docs](/docs) <now>.\n\n- one\n- two",
    );
    assert.deepEqual(markdown.structuredContent, { status: 200, url: `${url}/page` });

    const plain = text(await web.callTool("fetch", { url: `${url}/page`, format: "text" }));
    assert.equal(
      plain,
      `${url}/page (HTTP 200, text/html)\n\nHello & welcome\n\nRead the docs <now>.\n\none\ntwo`,
    );
    assert.doesNotMatch(plain, /alert|color:red/);

    const html = text(await web.callTool("fetch", { url: `${url}/page`, format: "html" }));
    assert.ok(html.endsWith(PAGE));

    const notHtml = text(await web.callTool("fetch", { url: `${url}/plain` }));
    assert.equal(notHtml, `${url}/plain (HTTP 200, text/plain)\n\njust <b>text</b>`);
  });
});

Deno.test("fetch errors: HTTP status, binary bodies, bad arguments", async () => {
  await withFetch(async (web, { url }) => {
    const missing = await web.callTool("fetch", { url: `${url}/missing` });
    assert.equal(missing.isError, true);
    assert.match(text(missing), /\(HTTP 404, text\/plain\): request failed\n\nno such page/);
    assert.equal(missing.structuredContent?.status, 404);

    const binary = await web.callTool("fetch", { url: `${url}/binary` });
    assert.equal(binary.isError, true);
    assert.match(text(binary), /binary content \(7 bytes read\) is not shown/);

    assert.match(text(await web.callTool("fetch", {})), /missing required argument "url"/);
    const format = await web.callTool("fetch", { url: `${url}/page`, format: "pdf" });
    assert.match(text(format), /"format" must be one of: markdown, text, html/);
    assert.match(text(await web.callTool("fetch", { url: "not a url" })), /is not a valid URL/);
  });
});

Deno.test("fetch refuses non-http URLs before any request", async () => {
  await withFetch(async (web) => {
    for (const url of ["file:///etc/passwd", "data:text/plain,hi", "ftp://example.com/x"]) {
      const result = await web.callTool("fetch", { url });
      assert.equal(result.isError, true);
      assert.match(text(result), /only http and https URLs can be fetched/);
    }
  });
});

Deno.test("fetch gives up at the config timeout on a server that never answers", async () => {
  await withFetch(async (web, { url }) => {
    const result = await web.callTool("fetch", { url: `${url}/hang` });
    assert.equal(result.isError, true);
    assert.match(text(result), /timed out after 0.3 s/);
  }, 0.3);
});

Deno.test("fetch reads at most 1 MiB of a 10 MB body and hangs up on the rest", async () => {
  await withFetch(async (web, server) => {
    const result = await web.callTool("fetch", { url: `${server.url}/big` });
    assert.equal(result.isError, undefined);
    const [head, body] = text(result).split("\n\n");
    assert.equal(head, `${server.url}/big (HTTP 200, text/plain)`);
    const [content, note] = body.split("\n");
    assert.equal(content.length, MAX_BODY_BYTES);
    assert.equal(note, "[truncated: only the first 1 MiB of the body was read]");
    const sent = await server.bigCancelled;
    assert.ok(sent < 10 * 1024 * 1024);
    assert.equal(server.bigCompleted(), false);
  });
});

Deno.test("fetch follows relative redirects up to 5, and no further", async () => {
  await withFetch(async (web, { url }) => {
    const five = await web.callTool("fetch", { url: `${url}/hop?n=5` });
    assert.equal(five.isError, undefined, text(five));
    assert.equal(text(five), `${url}/plain (HTTP 200, text/plain)\n\njust <b>text</b>`);
    const six = await web.callTool("fetch", { url: `${url}/hop?n=6` });
    assert.equal(six.isError, true);
    assert.match(text(six), /too many redirects \(more than 5\)/);
  });
});

Deno.test("fetch refuses redirects to file: and data: URLs", async () => {
  await withFetch(async (web, { url }) => {
    const file = await web.callTool("fetch", { url: `${url}/to-file` });
    assert.equal(file.isError, true);
    assert.equal(
      text(file),
      "redirect refused: only http and https URLs can be fetched, not file:",
    );
    const data = await web.callTool("fetch", { url: `${url}/to-data` });
    assert.equal(data.isError, true);
    assert.match(text(data), /redirect refused: .* not data:/);
  });
});

Deno.test("fetch is cancelled by the caller's signal", async () => {
  await withFetch(async (web, { url }) => {
    const controller = new AbortController();
    const pending = web.callTool("fetch", { url: `${url}/hang` }, { signal: controller.signal });
    controller.abort();
    const result = await pending;
    assert.equal(result.isError, true);
    assert.match(text(result), /was cancelled/);
  });
});

Deno.test("htmlToText and htmlToMarkdown decode entities and drop scripts and comments", () => {
  const html =
    "<p>a&nbsp;&#65;&#x42;&copy;<!-- hidden --><script>x()</script></p><pre>let x = 1;</pre>";
  assert.equal(htmlToText(html), "a AB&copy;\n\nlet x = 1;");
  assert.equal(htmlToMarkdown(html), "a AB&copy;\n\n```\nlet x = 1;\n```");
});
