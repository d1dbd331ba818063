/**
 * Line-at-a-time reading of standard input, shared by every prompt of a process so that
 * bytes read past one line are kept for the next prompt rather than lost.
 * @module
 */

let buffered = "";
let ended = false;
let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
const decoder = new TextDecoder();

/** Reads the next line from stdin without its line ending; null at end of input. */
export async function readStdinLine(): Promise<string | null> {
  for (;;) {
    const newline = buffered.indexOf("\n");
    if (newline >= 0) {
      const line = buffered.slice(0, newline).replace(/\r$/, "");
      buffered = buffered.slice(newline + 1);
      return line;
    }
    if (ended) {
      if (!buffered.length) return null;
      const rest = buffered;
      buffered = "";
      return rest;
    }
    reader ??= Deno.stdin.readable.getReader();
    const { value, done } = await reader.read();
    if (done) {
      ended = true;
      buffered += decoder.decode();
    } else {
      buffered += decoder.decode(value, { stream: true });
    }
  }
}
