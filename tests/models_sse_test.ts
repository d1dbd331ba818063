/**
 * SSE parsing (WHATWG HTML §9.2.6): the same events whatever the chunking — every split
 * offset of a fixed stream with multi-byte UTF-8, CRLF, CR and LF line endings is tried.
 */
import assert from "node:assert/strict";
import { parseSse, SseDecoder, type SseEvent } from "../lib/models/sse.ts";
import { DagentError } from "../lib/errors.ts";

const encoder = new TextEncoder();

/** A stream exercising every rule: BOM, comments, CRLF/CR/LF, multi-byte text, id, retry. */
const STREAM = "\uFEFF: a comment\r\n" +
  "event: message_start\r\n" +
  'data: {"t":"Grüße ✓ 🌍"}\r\n' +
  "\r\n" +
  "data:no space\n" +
  "data:  two spaces\n" +
  "id: 7\n" +
  "\n" +
  "event: ping\r" +
  "data\r" +
  "\r" +
  "retry: 1500\r\n" +
  "unknown: field\r\n" +
  "data: 東京 — end\r\n" +
  "\r\n" +
  "event: empty-no-data\n\n" +
  "data: trailing without blank line";

const EXPECTED: SseEvent[] = [
  { event: "message_start", data: '{"t":"Grüße ✓ 🌍"}' },
  { event: "message", data: "no space\n two spaces", id: "7" },
  { event: "ping", data: "", id: "7" },
  { event: "message", data: "東京 — end", id: "7", retry: 1500 },
];

function decodeChunks(chunks: Uint8Array[]): SseEvent[] {
  const decoder = new SseDecoder();
  const out: SseEvent[] = [];
  for (const c of chunks) out.push(...decoder.feed(c));
  out.push(...decoder.end());
  return out;
}

Deno.test("sse: the whole stream at once", () => {
  assert.deepEqual(decodeChunks([encoder.encode(STREAM)]), EXPECTED);
});

Deno.test("sse: split at every byte offset (one split)", () => {
  const bytes = encoder.encode(STREAM);
  for (let i = 0; i <= bytes.length; i++) {
    assert.deepEqual(
      decodeChunks([bytes.slice(0, i), bytes.slice(i)]),
      EXPECTED,
      `split at byte ${i}`,
    );
  }
});

Deno.test("sse: split at every pair of byte offsets (three chunks)", () => {
  const bytes = encoder.encode(STREAM);
  for (let i = 0; i <= bytes.length; i += 1) {
    for (let j = i; j <= bytes.length; j += 3) {
      assert.deepEqual(
        decodeChunks([bytes.slice(0, i), bytes.slice(i, j), bytes.slice(j)]),
        EXPECTED,
        `split at bytes ${i} and ${j}`,
      );
    }
  }
});

Deno.test("sse: one byte at a time", () => {
  const bytes = encoder.encode(STREAM);
  assert.deepEqual(decodeChunks([...bytes].map((b) => Uint8Array.of(b))), EXPECTED);
});

Deno.test("sse: a CR at a chunk's end followed by LF is one line ending, not two", () => {
  const decoder = new SseDecoder();
  assert.deepEqual(decoder.feed(encoder.encode("data: a\r")), []);
  // Were this LF a second line ending, the blank line would dispatch the event here.
  assert.deepEqual(decoder.feed(encoder.encode("\n")), []);
  assert.deepEqual(decoder.feed(encoder.encode("\r")), [{ event: "message", data: "a" }]);
  assert.deepEqual(decoder.feed(encoder.encode("\ndata: b\r\r")), [{
    event: "message",
    data: "b",
  }]);
});

Deno.test("sse: a line longer than the cap is refused", () => {
  const decoder = new SseDecoder(100);
  assert.throws(() => decoder.feed(encoder.encode("data: " + "x".repeat(200))), (err: unknown) => {
    assert.ok(err instanceof DagentError);
    assert.equal(err.code, "model.sse_too_large");
    return true;
  });
  const lines = new SseDecoder(100);
  assert.throws(
    () => lines.feed(encoder.encode("data: 0123456789\n".repeat(20))),
    /larger than 100/,
  );
});

function streamOf(chunks: Uint8Array[], onCancel?: () => void): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({
    pull(controller) {
      if (i < chunks.length) controller.enqueue(chunks[i++]);
      else controller.close();
    },
    cancel() {
      onCancel?.();
    },
  });
}

Deno.test("sse: parseSse over a ReadableStream in awkward chunks", async () => {
  const bytes = encoder.encode(STREAM);
  const chunks: Uint8Array[] = [];
  for (let i = 0, size = 1; i < bytes.length; i += size, size = (size % 5) + 1) {
    chunks.push(bytes.slice(i, i + size));
  }
  const out: SseEvent[] = [];
  for await (const e of parseSse(streamOf(chunks))) out.push(e);
  assert.deepEqual(out, EXPECTED);
});

Deno.test("sse: stopping early cancels the underlying stream", async () => {
  let cancelled = false;
  const chunks = [encoder.encode("data: 1\n\n"), encoder.encode("data: 2\n\n")];
  for await (const e of parseSse(streamOf(chunks, () => (cancelled = true)))) {
    assert.equal(e.data, "1");
    break;
  }
  assert.equal(cancelled, true);
});

Deno.test("sse: the whole-stream byte cap stops reading", async () => {
  const chunks = Array.from({ length: 10 }, () => encoder.encode("data: 0123456789\n\n"));
  await assert.rejects(
    (async () => {
      for await (const _ of parseSse(streamOf(chunks), { maxBytes: 50 })) { /* drain */ }
    })(),
    (err: unknown) => err instanceof DagentError && err.code === "model.too_large",
  );
});

Deno.test("sse: an idle stream times out and is cancelled", async () => {
  let cancelled = false;
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode("data: first\n\n"));
    },
    cancel() {
      cancelled = true;
    },
  });
  const seen: string[] = [];
  await assert.rejects(
    (async () => {
      for await (const e of parseSse(stream, { idleTimeoutMs: 50 })) seen.push(e.data);
    })(),
    (err: unknown) => err instanceof DagentError && err.code === "model.timeout",
  );
  assert.deepEqual(seen, ["first"]);
  assert.equal(cancelled, true);
});

Deno.test("sse: an abort while waiting for data rejects with the signal's reason", async () => {
  const controller = new AbortController();
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(encoder.encode("data: x\n\n"));
    },
  });
  const reason = new Error("user stop");
  await assert.rejects(
    (async () => {
      for await (const _ of parseSse(stream, { signal: controller.signal })) {
        controller.abort(reason);
      }
    })(),
    (err: unknown) => err === reason,
  );
});
