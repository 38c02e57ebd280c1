import { SseParser } from "./sse";

/** Tokens a model API reported for one call. */
export interface TokenUsage {
  /** Input tokens, cache writes and reads included (Anthropic reports those apart). */
  readonly input: number;
  readonly output: number;
}

const count = (value: unknown): number => (typeof value === "number" && Number.isFinite(value) && value > 0 ? Math.floor(value) : 0);
const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * The usage one message reports, in any of the shapes the model APIs use: an Anthropic Messages
 * answer or its `message_start` (`message.usage`) and `message_delta` (`usage`) events, an
 * OpenAI Chat Completions answer or chunk (`usage.prompt_tokens`/`completion_tokens`), a
 * Responses answer or its `response.completed` (also `.incomplete`, `.failed`) event
 * (`response.usage.input_tokens`/`output_tokens`).
 */
export function usageOf(message: unknown): Partial<TokenUsage> | undefined {
  if (!isRecord(message)) return undefined;
  const usage = isRecord(message.usage) ? message.usage
    : isRecord(message.message) && isRecord(message.message.usage) ? message.message.usage
      : isRecord(message.response) && isRecord(message.response.usage) ? message.response.usage
        : undefined;
  if (usage === undefined) return undefined;
  const reported: { input?: number; output?: number } = {};
  if ("prompt_tokens" in usage || "input_tokens" in usage) {
    reported.input = count(usage.prompt_tokens) + count(usage.input_tokens) + count(usage.cache_creation_input_tokens) + count(usage.cache_read_input_tokens);
  }
  if ("completion_tokens" in usage || "output_tokens" in usage) reported.output = count(usage.completion_tokens) + count(usage.output_tokens);
  return reported;
}

/**
 * Reads the usage a model API reports from the chunks of its answer, as they pass. Each figure
 * reported again replaces the earlier one (Anthropic's `message_delta` carries the running
 * output count), so an answer cut short counts what it had reported. A JSON answer is held up
 * to `maxBytes` (usage comes at its end); past that, and for other types, nothing is counted.
 */
export class TokenUsageMeter {
  private input = 0;
  private output = 0;
  private readonly sse?: SseParser;
  private json?: Buffer[] = [];
  private jsonSize = 0;
  private unreadable = false;

  constructor(contentType: string | undefined, private readonly maxBytes: number) {
    const type = (contentType ?? "").split(";")[0].trim().toLowerCase();
    if (type === "text/event-stream") { this.sse = new SseParser(maxBytes); this.json = undefined; }
    else if (type !== "application/json" && !type.endsWith("+json")) { this.json = undefined; this.unreadable = true; }
  }

  /** Reads one chunk of the answer. */
  push(chunk: Buffer): void {
    if (this.unreadable) return;
    if (this.sse !== undefined) {
      try {
        // Most events are text deltas: only those that mention usage are parsed.
        for (const event of this.sse.push(chunk)) if (event.data.includes('"usage"')) this.take(parseJson(event.data));
      } catch {
        this.unreadable = true;
      }
      return;
    }
    this.jsonSize += chunk.length;
    if (this.jsonSize > this.maxBytes) { this.unreadable = true; this.json = undefined; return; }
    this.json?.push(chunk);
  }

  /** The usage read so far; for JSON, once the whole answer was pushed. */
  usage(): TokenUsage {
    if (this.json !== undefined) {
      this.take(parseJson(Buffer.concat(this.json).toString("utf8")));
      this.json = undefined;
    }
    return { input: this.input, output: this.output };
  }

  private take(message: unknown): void {
    const reported = usageOf(message);
    if (reported?.input !== undefined && (reported.input > 0 || this.input === 0)) this.input = reported.input;
    if (reported?.output !== undefined) this.output = Math.max(this.output, reported.output);
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
