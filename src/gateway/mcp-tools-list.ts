import { Transform, type TransformCallback } from "node:stream";
import { formatSseEvent, SseParser } from "./sse";

/** An answer the filter cannot read, so it is not passed on. */
export class UnreadableToolsList extends Error {}

/**
 * Filters the answer to one `tools/list` request, JSON or SSE, so it lists only `visible` tools.
 * JSON is held whole (at most `maxBytes`) and rewritten; in SSE, the event that answers
 * `requestId` is rewritten and every other event passes unchanged. Anything it cannot read
 * (an encoded or unknown body, an oversize one, JSON that does not parse) ends the answer with an
 * error instead of passing tools through unfiltered.
 */
export function toolsListFilter(contentType: string | undefined, contentEncoding: string | undefined, requestId: string | number, visible: ReadonlySet<string>, maxBytes: number): Transform {
  const type = (contentType ?? "").split(";")[0].trim().toLowerCase();
  if (contentEncoding !== undefined && contentEncoding !== "identity") return failing(`a tools/list answer in content-encoding ${contentEncoding}`);
  if (type === "application/json") return new JsonToolsListFilter(requestId, visible, maxBytes);
  if (type === "text/event-stream") return new SseToolsListFilter(requestId, visible, maxBytes);
  return failing(`a tools/list answer of type ${type || "none"}`);
}

/** The message rewritten when it answers `requestId` with a list of tools; undefined when it does not. */
export function filterToolsListMessage(message: unknown, requestId: string | number, visible: ReadonlySet<string>): unknown {
  if (typeof message !== "object" || message === null || (message as { id?: unknown }).id !== requestId) return undefined;
  const result = (message as { result?: unknown }).result;
  if (typeof result !== "object" || result === null || !Array.isArray((result as { tools?: unknown }).tools)) return undefined;
  const tools = ((result as { tools: unknown[] }).tools).filter((tool) => typeof tool === "object" && tool !== null && visible.has(String((tool as { name?: unknown }).name)));
  return { ...message, result: { ...result, tools } };
}

class JsonToolsListFilter extends Transform {
  private readonly chunks: Buffer[] = [];
  private size = 0;

  constructor(private readonly requestId: string | number, private readonly visible: ReadonlySet<string>, private readonly maxBytes: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.size += chunk.length;
    if (this.size > this.maxBytes) { callback(new UnreadableToolsList(`a tools/list answer larger than ${this.maxBytes} bytes`)); return; }
    this.chunks.push(chunk);
    callback();
  }

  override _flush(callback: TransformCallback): void {
    let message: unknown;
    try {
      message = JSON.parse(Buffer.concat(this.chunks).toString("utf8"));
    } catch {
      callback(new UnreadableToolsList("a tools/list answer that is not JSON"));
      return;
    }
    // An error answer (or anything without a list) passes as it came.
    const rewritten = filterToolsListMessage(message, this.requestId, this.visible) ?? message;
    callback(null, JSON.stringify(rewritten));
  }
}

class SseToolsListFilter extends Transform {
  private readonly parser: SseParser;

  constructor(private readonly requestId: string | number, private readonly visible: ReadonlySet<string>, maxBytes: number) {
    super();
    this.parser = new SseParser(maxBytes);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    let out = "";
    try {
      for (const event of this.parser.push(chunk)) {
        let message: unknown;
        try {
          message = event.event === "message" && event.data !== "" ? JSON.parse(event.data) : undefined;
        } catch {
          message = undefined;
        }
        const rewritten = filterToolsListMessage(message, this.requestId, this.visible);
        out += rewritten === undefined ? event.raw : formatSseEvent(event.event, JSON.stringify(rewritten), event.id);
      }
    } catch (error) {
      callback(new UnreadableToolsList(String(error)));
      return;
    }
    callback(null, out);
  }

  override _flush(callback: TransformCallback): void {
    // An event the stream ended inside of is never dispatched by a client; dropping it keeps it unread.
    callback();
  }
}

function failing(reason: string): Transform {
  return new Transform({ transform: (_chunk, _encoding, callback) => callback(new UnreadableToolsList(reason)), flush: (callback) => callback(new UnreadableToolsList(reason)) });
}
