import type { AnswerStage } from "./answer-stage";
import { TokenUsageMeter, type TokenUsage } from "./token-usage";

const EMPTY = Buffer.alloc(0);

/**
 * Passes a model API's answer on unchanged while reading the usage it reports, and hands that
 * usage to `onUsage` once: when the answer closes, whole or cut short (either side closing),
 * with what had been reported by then.
 */
export function tokenMeter(contentType: string | undefined, maxBytes: number, onUsage: (usage: TokenUsage) => void): AnswerStage {
  const meter = new TokenUsageMeter(contentType, maxBytes);
  let reported = false;
  return {
    push(chunk) {
      meter.push(chunk);
      return chunk;
    },
    end: () => EMPTY,
    close() {
      if (reported) return;
      reported = true;
      const usage = meter.usage();
      if (usage.input + usage.output > 0) onUsage(usage);
    },
  };
}
