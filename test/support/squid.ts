import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Path of Debian's squid binary, or undefined when it is not installed. */
export const squidBinary: string | undefined = ["/usr/sbin/squid", "/usr/bin/squid"].find(
  (path) => spawnSync(path, ["-v"], { encoding: "utf8" }).status === 0,
);

if (squidBinary === undefined) {
  console.warn("SKIPPED: squid is not installed (apt-get install -y squid); squid.conf parse checks do not run");
}

/** Runs `squid -k parse` on a config; returns Squid's exit status and its complaints. */
export function squidParse(conf: string): { status: number | null; problems: string[] } {
  const dir = mkdtempSync(join(tmpdir(), "rapidclaw-squid-"));
  try {
    const path = join(dir, "squid.conf");
    writeFileSync(path, conf);
    const result = spawnSync(squidBinary as string, ["-k", "parse", "-f", path], { encoding: "utf8" });
    const output = `${result.stdout}\n${result.stderr}`;
    const problems = output.split("\n").filter((line) => /FATAL|ERROR|WARNING|Bungled|unrecognized/i.test(line));
    return { status: result.status, problems };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
