import { StringDecoder } from "node:string_decoder";

/** One server-sent event as received: its raw text (with the blank line that ended it) and its fields. */
export interface SseEvent {
  /** The event's bytes as they came, so that events nobody changes pass through unchanged. */
  readonly raw: string;
  /** `event:` field, or "message". */
  readonly event: string;
  /** `data:` lines joined with "\n". */
  readonly data: string;
  /** `id:` field, if any. */
  readonly id?: string;
}

/** An event larger than the parser's bound. */
export class SseEventTooLarge extends Error {}

/**
 * Incremental `text/event-stream` parser (the WHATWG grammar: lines end in CRLF, LF or CR, an
 * empty line ends an event, `:` lines are comments). Feed it chunks as they arrive; it returns
 * the events they completed and keeps the rest, at most `maxEventBytes` of it.
 */
export class SseParser {
  private readonly decoder = new StringDecoder("utf8");
  private pending = "";

  constructor(private readonly maxEventBytes: number) {}

  /** The events `chunk` completed. Throws SseEventTooLarge when an unfinished event outgrows the bound. */
  push(chunk: Buffer | string): SseEvent[] {
    this.pending += typeof chunk === "string" ? chunk : this.decoder.write(chunk);
    const events: SseEvent[] = [];
    for (;;) {
      const end = EVENT_END.exec(this.pending);
      if (end === null) break;
      const raw = this.pending.slice(0, end.index + end[0].length);
      this.pending = this.pending.slice(raw.length);
      events.push(parseEvent(raw));
    }
    if (this.pending.length > this.maxEventBytes) throw new SseEventTooLarge(`an event is larger than ${this.maxEventBytes} bytes`);
    return events;
  }

  /** What is left: an event the stream ended inside of (not dispatched, as the standard says). */
  rest(): string {
    return this.pending + this.decoder.end();
  }
}

/** Two line ends in a row; a CR at the end of what arrived may be the first half of a CRLF, so it waits. */
const EVENT_END = /(?:\r\n|\n|\r(?!\n|$))(?:\r\n|\n|\r(?!\n|$))/;

function parseEvent(raw: string): SseEvent {
  let event = "message";
  let id: string | undefined;
  const data: string[] = [];
  for (const line of raw.split(/\r\n|\r|\n/)) {
    if (line === "" || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + (line[colon + 1] === " " ? 2 : 1));
    if (field === "event") event = value;
    else if (field === "data") data.push(value);
    else if (field === "id") id = value;
  }
  return { raw, event, data: data.join("\n"), id };
}

/** Serializes an event whose data was rewritten (data with newlines becomes several `data:` lines). */
export function formatSseEvent(event: string, data: string, id?: string): string {
  return `${id === undefined ? "" : `id: ${id}\n`}event: ${event}\n${data.split("\n").map((line) => `data: ${line}`).join("\n")}\n\n`;
}
