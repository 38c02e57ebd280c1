/** `rapidclaw verify`'s text report: a table per role and layer, then what widens, what is narrower, and what a layer cannot express. */
import { LayerStatus, type LayerCheck } from "./findings";
import { type VerifyReport, widerCount } from "./verify-artifacts";

const pad = (text: string, width: number) => text + " ".repeat(Math.max(0, width - text.length));

function table(checks: ReadonlyArray<LayerCheck>): string[] {
  const widths = [Math.max(5, ...checks.map((c) => c.layer.length)), Math.max(6, ...checks.map((c) => c.aspect.length))];
  return [
    `  ${pad("layer", widths[0])}  ${pad("aspect", widths[1])}  status`,
    ...checks.map((c) => `  ${pad(c.layer, widths[0])}  ${pad(c.aspect, widths[1])}  ${c.status === LayerStatus.WIDER ? "WIDER" : c.status}`),
  ];
}

/** The report as text for a terminal. */
export function renderVerifyReport(report: VerifyReport): string {
  const lines = [`rapidclaw verify: ${report.platform} stack against ${report.description}`, ""];
  const principals = [...new Set(report.checks.map((c) => c.principal))];
  for (const principal of principals) {
    lines.push(principal.startsWith("(") ? principal : `role ${principal}`, ...table(report.checks.filter((c) => c.principal === principal)), "");
  }
  const wider = report.checks.filter((c) => c.status === LayerStatus.WIDER);
  if (wider.length > 0) {
    lines.push("Wider than the description:");
    for (const check of wider) {
      for (const grant of check.wider) lines.push(`  - ${check.principal} ${check.layer} ${check.aspect}: ${grant.item}`, `      by ${grant.artifact}: ${grant.rule}`);
    }
    lines.push("");
  }
  const narrower = report.checks.filter((c) => c.narrower.length > 0);
  if (narrower.length > 0) {
    lines.push("Narrower than the description (fine):");
    for (const check of narrower) lines.push(`  - ${check.principal} ${check.layer} ${check.aspect}: ${check.narrower.join(", ")}`);
    lines.push("");
  }
  if (report.cannotExpress.length > 0) lines.push("What a layer cannot express:", ...report.cannotExpress.map((text) => `  - ${text}`), "");
  if (report.notes.length > 0) lines.push("Not checked:", ...report.notes.map((text) => `  - ${text}`), "");
  const count = widerCount(report);
  lines.push(count === 0 ? "No layer is wider than the description." : `${count} check${count === 1 ? "" : "s"} wider than the description.`);
  return `${lines.join("\n")}\n`;
}
