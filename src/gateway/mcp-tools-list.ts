import type { AnswerStage } from "./answer-stage";
import { formatSseEvent, SseParser } from "./sse";

/** An answer the filter cannot read, so it is not passed on. */
export class UnreadableToolsList extends Error {
  override readonly name = "UnreadableToolsList";
}

const EMPTY = Buffer.alloc(0);

/**
 * Filters the answer to one `tools/list` request, JSON or SSE, so it lists only `visible` tools.
 * JSON is held whole (at most `maxBytes`) and rewritten; in SSE, the event that answers
 * `requestId` is rewritten and every other event passes unchanged. It reads the answer decoded
 * (the forwarding path decodes a compressed one). Anything it cannot read (an unknown type, an
 * oversize answer or event, JSON that does not parse) throws
 * UnreadableToolsList, which cuts the answer off instead of passing tools through unfiltered.
 */
export function toolsListFilter(contentType: string | undefined, requestId: string | number, visible: ReadonlySet<string>, maxBytes: number): AnswerStage {
  const type = (contentType ?? "").split(";")[0].trim().toLowerCase();
  if (type === "application/json") return jsonFilter(requestId, visible, maxBytes);
  if (type === "text/event-stream") return sseFilter(requestId, visible, maxBytes);
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

function jsonFilter(requestId: string | number, visible: ReadonlySet<string>, maxBytes: number): AnswerStage {
  const chunks: Buffer[] = [];
  let size = 0;
  return {
    push(chunk) {
      size += chunk.length;
      if (size > maxBytes) throw new UnreadableToolsList(`a tools/list answer larger than ${maxBytes} bytes`);
      chunks.push(chunk);
      return EMPTY;
    },
    end() {
      let message: unknown;
      try {
        message = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch {
        throw new UnreadableToolsList("a tools/list answer that is not JSON");
      }
      // An error answer (or anything without a list) passes as it came.
      return Buffer.from(JSON.stringify(filterToolsListMessage(message, requestId, visible) ?? message));
    },
    close: () => undefined,
  };
}

function sseFilter(requestId: string | number, visible: ReadonlySet<string>, maxBytes: number): AnswerStage {
  const parser = new SseParser(maxBytes);
  return {
    push(chunk) {
      let out = "";
      let events;
      try {
        events = parser.push(chunk);
      } catch (error) {
        throw new UnreadableToolsList(String(error));
      }
      for (const event of events) {
        let message: unknown;
        try {
          message = event.event === "message" && event.data !== "" ? JSON.parse(event.data) : undefined;
        } catch {
          message = undefined;
        }
        const rewritten = filterToolsListMessage(message, requestId, visible);
        out += rewritten === undefined ? event.raw : formatSseEvent(event.event, JSON.stringify(rewritten), event.id);
      }
      return Buffer.from(out);
    },
    // An event the stream ended inside of is never dispatched by a client; dropping it keeps it unread.
    end: () => EMPTY,
    close: () => undefined,
  };
}

function failing(reason: string): AnswerStage {
  return {
    push() { throw new UnreadableToolsList(reason); },
    end() { throw new UnreadableToolsList(reason); },
    close: () => undefined,
  };
}
