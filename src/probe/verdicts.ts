/** The verdict of each channel, the probe's exit code and its report (table or JSON). Pure. */
import type { Expectation, ProbeChannel } from "./channels";

/** What came of an attempt. */
export interface Observation {
  /** The way was open: the data could have left. */
  readonly open: boolean;
  /** What was seen, in words (the status, the error code, the bytes that came back). */
  readonly detail: string;
}

/** pass: as expected; FAIL: open where it must be closed, or closed where it must work; skip: not tried. */
export type Verdict = "pass" | "FAIL" | "skip";

/** One row of the report. */
export interface ChannelResult {
  readonly id: string;
  readonly what: string;
  readonly expect: Expectation;
  /** Undefined when skipped. */
  readonly observed?: Expectation;
  readonly verdict: Verdict;
  readonly detail: string;
}

/** The whole report. */
export interface ProbeReport {
  readonly role: string;
  readonly channels: ReadonlyArray<ChannelResult>;
  readonly failed: number;
}

/** Each channel with what was observed (by channel id); a channel without an observation is skipped. */
export function probeReport(role: string, channels: ReadonlyArray<ProbeChannel>, observations: ReadonlyMap<string, Observation>): ProbeReport {
  const results = channels.map((channel): ChannelResult => {
    const seen = observations.get(channel.id);
    if (channel.skipped !== undefined || seen === undefined) return { id: channel.id, what: channel.what, expect: channel.expect, verdict: "skip", detail: channel.skipped ?? "not tried" };
    const observed: Expectation = seen.open ? "open" : "closed";
    return { id: channel.id, what: channel.what, expect: channel.expect, observed, verdict: observed === channel.expect ? "pass" : "FAIL", detail: seen.detail };
  });
  return { role, channels: results, failed: results.filter((r) => r.verdict === "FAIL").length };
}

const pad = (text: string, width: number) => text + " ".repeat(Math.max(0, width - text.length));

/** The report as a table for a terminal, then a one-line summary. */
export function renderProbeReport(report: ProbeReport): string {
  const rows = report.channels.map((c) => [c.id, c.expect, c.observed ?? "-", c.verdict, c.detail]);
  const head = ["channel", "must be", "is", "verdict", "detail"];
  const widths = head.slice(0, 4).map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => `  ${cells.slice(0, 4).map((c, i) => pad(c, widths[i])).join("  ")}  ${cells[4]}`.trimEnd();
  const summary = report.failed === 0
    ? "Every channel is as it must be."
    : `${report.failed} channel${report.failed === 1 ? "" : "s"} not as ${report.failed === 1 ? "it" : "they"} must be: ${report.channels.filter((c) => c.verdict === "FAIL").map((c) => c.id).join(", ")}.`;
  return `${[`rapidclaw probe: role ${report.role}`, "", line(head), ...rows.map(line), "", summary].join("\n")}\n`;
}
