/** `rapidclaw replay`'s text report: one row per layer, role and tool or host whose outcome changes, then what was not replayed. */
import type { ReplayReport } from "./replay";

const pad = (text: string, width: number) => text + " ".repeat(Math.max(0, width - text.length));

/** The report as text for a terminal; `candidate` names the candidate description. */
export function renderReplayReport(report: ReplayReport, candidate: string): string {
  const lines = [`rapidclaw replay: ${report.replayed} of ${report.calls} recorded calls replayed against ${candidate}`, ""];
  if (report.changes.length > 0) {
    const rows = [
      ["layer", "role", "tool or host", "would refuse", "would allow", "first"],
      ...report.changes.map((c) => [c.layer.split("_").join(" ") + (c.approximate ? " ~" : ""), c.role, c.subject, String(c.wouldRefuse), String(c.wouldAllow), c.first]),
    ];
    const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
    lines.push(...rows.map((row) => `  ${row.map((cell, i) => (i === row.length - 1 ? cell : pad(cell, widths[i]))).join("  ")}`), "");
    lines.push("  would refuse: allowed then (shadowed calls included), refused by the candidate; would allow: refused then, allowed by the candidate.");
    if (report.changes.some((c) => c.approximate)) lines.push("  ~ decided by a sliding window over the recorded calls alone: calls let through without an event are not in the logs.");
    lines.push("");
  }
  if (report.notReplayed.length > 0) lines.push("Not replayed:", ...report.notReplayed.map((n) => `  - ${n.count} × ${n.reason}`), "");
  lines.push(report.changed === 0 ? "Nothing would change." : `${report.changed} recorded call${report.changed === 1 ? "" : "s"} would change.`);
  return `${lines.join("\n")}\n`;
}
