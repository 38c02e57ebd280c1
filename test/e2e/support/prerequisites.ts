import { spawnSync } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

/** Full path of an executable on PATH (where spawn will look for it), or undefined. */
export function findOnPath(binary: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    try {
      accessSync(join(dir, binary), constants.X_OK);
      return join(dir, binary);
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

export const onPath = (binary: string): boolean => findOnPath(binary) !== undefined;

const isRoot = () => process.getuid?.() === 0;

/**
 * Why a test that needs root and these programs cannot run here, or undefined when it can.
 * With `namespaces`, also checks that a network namespace can actually be created.
 */
export function missingPrerequisites(binaries: ReadonlyArray<string>, options: { namespaces?: boolean } = {}): string | undefined {
  const reasons: string[] = [];
  if (!isRoot()) reasons.push("not running as root (network namespaces and iptables need CAP_NET_ADMIN)");
  const missing = binaries.filter((b) => !onPath(b));
  if (missing.length > 0) reasons.push(`not installed or not on PATH: ${missing.join(", ")}`);
  if (reasons.length === 0 && options.namespaces) {
    const probe = spawnSync("unshare", ["--net", "true"], { encoding: "utf8", timeout: 5_000 });
    if (probe.status !== 0) reasons.push(`cannot create a network namespace (unshare --net: ${(probe.stderr || probe.error?.message || "").trim()})`);
  }
  return reasons.length > 0 ? reasons.join("; ") : undefined;
}

/**
 * Returns whether to skip, and says so on stderr with the reason: a skipped suite must be
 * visible in the run's output, never a silent pass.
 */
export function skipLoudly(suite: string, reason: string | undefined): boolean {
  if (reason !== undefined) console.warn(`SKIPPED ${suite}: ${reason}`);
  return reason !== undefined;
}

/**
 * As `skipLoudly`, but under `CI=true` a missing prerequisite fails the run instead: CI installs
 * everything (.ci/run), so a suite that would skip there is a broken install, never a pass.
 */
export function skipLoudlyOrFailInCi(suite: string, reason: string | undefined): boolean {
  if (reason !== undefined && process.env.CI === "true") throw new Error(`${suite} cannot run under CI=true: ${reason}`);
  return skipLoudly(suite, reason);
}
