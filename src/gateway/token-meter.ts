import type { IncomingHttpHeaders } from "node:http";
import { Transform } from "node:stream";
import { TokenUsageMeter, type TokenUsage } from "./token-usage";

/**
 * Passes a model API's answer through unchanged while reading the usage it reports, and hands
 * that usage to `onUsage` once: when the answer ends, or when it is cut short (either side
 * closing), with what had been reported by then.
 */
export function tokenMeter(maxBytes: number, onUsage: (usage: TokenUsage) => void): (status: number, headers: IncomingHttpHeaders) => Transform {
  return (_status, headers) => {
    const meter = new TokenUsageMeter(headers["content-type"], maxBytes);
    let reported = false;
    const report = () => {
      if (reported) return;
      reported = true;
      const usage = meter.usage();
      if (usage.input + usage.output > 0) onUsage(usage);
    };
    const observer = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        meter.push(chunk);
        callback(null, chunk);
      },
      flush(callback) {
        report();
        callback();
      },
    });
    observer.on("close", report);
    return observer;
  };
}
