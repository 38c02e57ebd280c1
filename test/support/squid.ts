import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SQUID_TLS_FILES, THROWAWAY_CERTIFICATE_COMMAND } from "../../src/render/squid-tls";

/** Path of Debian's squid binary, or undefined when it is not installed. */
export const squidBinary: string | undefined = ["/usr/sbin/squid", "/usr/bin/squid"].find(
  (path) => spawnSync(path, ["-v"], { encoding: "utf8" }).status === 0,
);

if (squidBinary === undefined) {
  console.warn("SKIPPED: squid is not installed (apt-get install -y squid); squid.conf parse checks do not run");
}

/**
 * A throwaway certificate and key in `dir`, made the way the proxy container makes its own
 * (`THROWAWAY_CERTIFICATE_COMMAND`): Squid loads the `ssl-bump` ports' certificate even to parse.
 */
export function throwawayCertificate(dir: string): { cert: string; key: string } {
  const files = { cert: join(dir, "unused-tls-cert.pem"), key: join(dir, "unused-tls-key.pem") };
  const script = THROWAWAY_CERTIFICATE_COMMAND.replace(SQUID_TLS_FILES.key, files.key).replace(SQUID_TLS_FILES.cert, files.cert);
  const made = spawnSync("sh", ["-c", script], { encoding: "utf8" });
  if (made.status !== 0) throw new Error(`could not make a throwaway certificate (is openssl installed?): ${made.stderr}`);
  return files;
}

/** Runs `squid -k parse` on a config; returns Squid's exit status and its complaints. */
export function squidParse(conf: string): { status: number | null; problems: string[] } {
  const dir = mkdtempSync(join(tmpdir(), "rapidclaw-squid-"));
  try {
    const path = join(dir, "squid.conf");
    const certificate = throwawayCertificate(dir);
    writeFileSync(path, conf.replaceAll(SQUID_TLS_FILES.cert, certificate.cert).replaceAll(SQUID_TLS_FILES.key, certificate.key));
    const result = spawnSync(squidBinary as string, ["-k", "parse", "-f", path], { encoding: "utf8" });
    const output = `${result.stdout}\n${result.stderr}`;
    const problems = output.split("\n").filter((line) => /FATAL|ERROR|WARNING|Bungled|unrecognized/i.test(line));
    return { status: result.status, problems };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
