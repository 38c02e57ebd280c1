import { spawnSync } from "node:child_process";
import { onPath } from "../e2e/support/prerequisites";

/** Why promtool cannot run here (for `skipLoudly`), or undefined when it can. */
export const PROMTOOL_MISSING = onPath("promtool") ? undefined : "promtool is not installed (apt-get install prometheus)";

/** Runs the real promtool; its exit status and everything it printed. */
export function promtool(args: string[]): { status: number; output: string } {
  const result = spawnSync("promtool", args, { encoding: "utf8", timeout: 60_000 });
  return { status: result.status ?? -1, output: `${result.stdout}${result.stderr}` };
}
