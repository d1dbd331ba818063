/**
 * Helpers for tests of model providers: drain a stream of events, read its text.
 * @module
 */
import type { StreamEvent } from "../../lib/models/types.ts";

/** Collects every event of a provider's stream, in order. */
export async function collect(events: AsyncIterable<StreamEvent>): Promise<StreamEvent[]> {
  const out: StreamEvent[] = [];
  for await (const event of events) out.push(event);
  return out;
}

/** The text the events stream, joined. */
export function text(events: StreamEvent[]): string {
  return events.map((event) => event.type === "text" ? event.delta : "").join("");
}
