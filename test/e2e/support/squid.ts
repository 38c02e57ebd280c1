import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run, type NetworkNamespace } from "./netns";
import { SQUID_SNI_HELPER, SQUID_SNI_HELPER_PATH, SQUID_TLS_FILES } from "../../../src/render/squid-tls";
import { throwawayCertificate } from "../../support/squid";

const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 10_000;

/** Runs commands in this process's own network namespace, for a Squid on the host's loopback. */
export const HOST_NAMESPACE: Pick<NetworkNamespace, "run" | "execPrefix"> = { run, execPrefix: () => [] };

/** uid/gid of a local user, from the passwd database. */
export function userIds(name: string): { uid: number; gid: number } {
  return { uid: Number(run("id", ["-u", name]).stdout.trim()), gid: Number(run("id", ["-g", name]).stdout.trim()) };
}

/** Paths a test's Squid uses, all in one private directory owned by `proxy`. */
export interface SquidFiles {
  readonly dir: string;
  readonly conf: string;
  readonly hostsFile: string;
  readonly accessLog: string;
  readonly cacheLog: string;
  /** The event log, when the rig asks Squid to write one. */
  readonly eventLog: string;
  /** The throwaway certificate and key of the ssl-bump ports, and the SNI helper, as the container has them. */
  readonly tlsCert: string;
  readonly tlsKey: string;
  readonly sniHelper: string;
}

/** Creates the directory and the hosts file (`address name` lines) Squid resolves test names from. */
export function prepareSquidFiles(label: string, hosts: ReadonlyArray<{ readonly name: string; readonly address: string }>): SquidFiles {
  const dir = mkdtempSync(join(tmpdir(), `rapidclaw-${label}-`));
  const files = {
    dir,
    conf: join(dir, "squid.conf"),
    hostsFile: join(dir, "hosts"),
    accessLog: join(dir, "access.log"),
    cacheLog: join(dir, "cache.log"),
    eventLog: join(dir, "events.log"),
    sniHelper: join(dir, "rapidclaw-sni-present.sh"),
    ...(({ cert, key }) => ({ tlsCert: cert, tlsKey: key }))(throwawayCertificate(dir)),
  };
  writeFileSync(files.hostsFile, hosts.map((h) => `${h.address} ${h.name}`).join("\n") + "\n");
  writeFileSync(files.sniHelper, SQUID_SNI_HELPER);
  // Squid runs as proxy and must read the config, certificate and helper, and write its logs here.
  const proxy = userIds("proxy");
  for (const path of [dir, files.tlsCert, files.tlsKey]) chownSync(path, proxy.uid, proxy.gid);
  chmodSync(dir, 0o755);
  for (const path of [files.hostsFile, files.sniHelper]) chmodSync(path, 0o644);
  return files;
}

/** A Squid process running `-N` as `proxy` inside a namespace. */
export class SquidProcess {
  private readonly outputChunks: Buffer[] = [];

  private constructor(private readonly child: ChildProcess, public readonly files: SquidFiles, private readonly accessLogToStdout: boolean) {
    child.stdout?.on("data", (chunk: Buffer) => this.outputChunks.push(chunk));
  }

  /** What Squid printed, decoded leniently (for messages). */
  private get output(): string {
    return Buffer.concat(this.outputChunks).toString("utf8");
  }

  /**
   * Checks the config with `squid -k parse`, starts Squid in the foreground and waits until every
   * `http_port` accepts connections. Squid runs as `proxy` with its stdout and stderr on a pipe
   * that `proxy` owns (the `| cat`): it reopens /dev/stdout and /dev/stderr for the default
   * `stdio:` logs after dropping privileges, which fails on a pipe owned by root.
   */
  static async start(ns: Pick<NetworkNamespace, "run" | "execPrefix">, files: SquidFiles, rendered: string, startCommand?: (confPath: string) => string[]): Promise<SquidProcess> {
    // The container's paths of the certificate and the helper, moved to this test's directory.
    const moved = (text: string) => text.replaceAll(SQUID_TLS_FILES.cert, files.tlsCert).replaceAll(SQUID_TLS_FILES.key, files.tlsKey).replaceAll(SQUID_SNI_HELPER_PATH, files.sniHelper);
    const conf = moved(rendered);
    writeFileSync(files.conf, conf);
    chmodSync(files.conf, 0o644);
    const asProxy = ["setpriv", "--reuid=proxy", "--regid=proxy", "--clear-groups"];
    const parse = ns.run(asProxy[0], [...asProxy.slice(1), "squid", "-k", "parse", "-f", files.conf], { allowFailure: true });
    if (parse.status !== 0 || /FATAL|ERROR/.test(parse.stderr)) throw new Error(`squid -k parse refused ${files.conf}:\n${parse.stderr}`);

    const expectedPorts = conf.split("\n").filter((line) => line.startsWith("http_port ")).length;
    // A container's command (`sh -c <script>`) runs in a shell of its own, whose `$$` its `exec` makes Squid's.
    const run = startCommand === undefined ? [`squid -N -f '${files.conf}' 2>&1 | cat`] : ['"$0" "$1" "$2" 2>&1 | cat', ...startCommand(files.conf).map(moved)];
    const [command, ...args] = [...ns.execPrefix(), ...asProxy, "sh", "-c", ...run];
    // Its own process group, so that stopping reaches sh, squid and cat together.
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "inherit"], detached: true });
    const squid = new SquidProcess(child, files, /^access_log stdio:\/dev\/stdout /m.test(conf));
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (squid.acceptingPorts() < expectedPorts) {
      if (child.exitCode !== null) throw new Error(`squid exited (${child.exitCode}) while starting:\n${squid.log()}`);
      if (Date.now() > deadline) {
        await squid.stop();
        throw new Error(`squid did not accept connections within ${START_TIMEOUT_MS} ms:\n${squid.log()}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    return squid;
  }

  private acceptingPorts(): number {
    return this.log().split("\n").filter((line) => /Accepting (SSL bumped )?HTTP Socket connections/.test(line)).length;
  }

  /** Cache log (file or stderr) and whatever else Squid printed. */
  log(): string {
    const cacheLog = existsSync(this.files.cacheLog) ? readFileSync(this.files.cacheLog, "utf8") : "";
    return cacheLog + this.output;
  }

  /**
   * Access log lines written so far: from the file, or the JSON lines of stdout. Decoded as
   * strict UTF-8: a byte sequence that is not UTF-8 throws, as it would in a strict log reader.
   */
  accessLogLines(): string[] {
    const strict = new TextDecoder("utf-8", { fatal: true });
    if (this.accessLogToStdout) return strict.decode(Buffer.concat(this.outputChunks)).split("\n").filter((line) => line.startsWith("{"));
    if (!existsSync(this.files.accessLog)) return [];
    return strict.decode(readFileSync(this.files.accessLog)).split("\n").filter((line) => line !== "");
  }

  /** Waits until the access log holds more than `count` lines, and returns the line after `count`. */
  async nextAccessLogLine(count: number, timeoutMs = 5_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const lines = this.accessLogLines();
      if (lines.length > count) return lines[count];
      if (Date.now() > deadline) throw new Error(`no access log line ${count + 1} within ${timeoutMs} ms (have ${lines.length})`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /**
   * Stops Squid with SIGTERM and waits until its whole process group is gone (sh and cat end
   * once Squid does); SIGKILL to the group after a bound.
   */
  async stop(): Promise<void> {
    const group = this.child.pid;
    if (group === undefined) return;
    for (const member of liveGroupMembers(group)) if (member.command === "squid") process.kill(member.pid, "SIGTERM");
    const killAt = Date.now() + STOP_TIMEOUT_MS;
    while (liveGroupMembers(group).length > 0) {
      if (Date.now() > killAt + 5_000) throw new Error(`squid (process group ${group}) survived SIGKILL`);
      if (Date.now() > killAt) {
        try {
          process.kill(-group, "SIGKILL");
        } catch {
          // the group ended meanwhile
        }
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/**
 * Processes of a process group that still run, with their command names. Zombies do not count:
 * an orphan is reaped by whoever adopts it, which may be late.
 */
function liveGroupMembers(group: number): Array<{ pid: number; command: string }> {
  return readdirSync("/proc")
    .filter((entry) => /^\d+$/.test(entry))
    .flatMap((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
        const command = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
        // After "(comm) ": state, ppid, pgrp, ...
        const [state, , pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        return Number(pgrp) === group && state !== "Z" ? [{ pid: Number(pid), command }] : [];
      } catch {
        return []; // exited while we looked
      }
    });
}

/** Removes a test Squid's directory (after it stopped). */
export function removeSquidFiles(files: SquidFiles): void {
  rmSync(files.dir, { recursive: true, force: true });
}
