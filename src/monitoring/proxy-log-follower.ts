import type { AlertEvaluator } from "./alert-evaluator";
import { parseEventLine } from "./events";
import { FileTailer } from "./file-tailer";

/**
 * Follows the proxy's access log file (Squid `access_log stdio:<file>`) into an evaluator: each
 * line is observed before the next is read, so none is lost or counted twice while it runs.
 * Starts at the file's end: lines written while no reader ran stay in the file for
 * `rapidclaw alerts`. A line that is not an event is passed to `onMalformed`. While the store
 * is unreachable (Redis down) the same line is retried every `retryMs` and reading waits: the
 * file keeps what Squid writes meanwhile.
 */
export function followProxyLog(
  path: string,
  evaluator: AlertEvaluator,
  report: { onMalformed: (line: string, reason: string) => void; onStoreError: (error: Error) => void },
  options: { intervalMs?: number; retryMs?: number } = {},
): FileTailer {
  const tailer = new FileTailer(
    path,
    async (line) => {
      if (line.trim() === "") return;
      const parsed = parseEventLine(line);
      if (!parsed.ok) return report.onMalformed(line, parsed.reason);
      for (let attempt = 0; ; attempt++) {
        try {
          await (attempt === 0 ? evaluator.observe(parsed.event) : evaluator.evaluate(parsed.event));
          return;
        } catch (error) {
          report.onStoreError(error as Error);
          await new Promise((r) => setTimeout(r, options.retryMs ?? 1000));
        }
      }
    },
    { from: "end", intervalMs: options.intervalMs },
  );
  tailer.start();
  return tailer;
}
