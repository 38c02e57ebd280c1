import { existsSync, readFileSync } from "node:fs";

/** Start of the gateway benchmark's section at the end of bench/RESULTS.md (`npm run bench:gateway`). */
export const GATEWAY_SECTION_MARKER = "<!-- gateway benchmark: written by npm run bench:gateway -->";

/**
 * The results file at `path` with the synth benchmark's part and the gateway section each replaced
 * when given and kept otherwise: each benchmark rewrites only its own part.
 */
export function resultsWithSections(path: string, parts: { synth?: string; gateway?: string }): string {
  const text = existsSync(path) ? readFileSync(path, "utf8") : "";
  const at = text.indexOf(GATEWAY_SECTION_MARKER);
  const synth = parts.synth ?? (at < 0 ? text : text.slice(0, at));
  const gateway = parts.gateway ?? (at < 0 ? "" : text.slice(at));
  return gateway === "" ? synth : `${synth.trimEnd()}\n\n${gateway}`;
}
