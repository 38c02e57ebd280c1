import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { isIPv6 } from "node:net";
import { join } from "node:path";

const COMMAND_TIMEOUT_MS = 15_000;

export interface CommandResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  /** Text fed to stdin. */
  readonly input?: string;
  /** Return a failed result instead of throwing. */
  readonly allowFailure?: boolean;
  /** Extra environment (merged over this process's). */
  readonly env?: NodeJS.ProcessEnv;
}

/** Runs a program (no shell), bounded by a timeout; throws with its stderr when it fails. */
export function run(command: string, args: ReadonlyArray<string>, options: RunOptions = {}): CommandResult {
  const result: SpawnSyncReturns<string> = spawnSync(command, args, {
    input: options.input,
    encoding: "utf8",
    timeout: COMMAND_TIMEOUT_MS,
    env: options.env ? { ...process.env, ...options.env } : process.env,
  });
  const status = result.status ?? -1;
  const out = { status, stdout: result.stdout ?? "", stderr: result.stderr ?? "" };
  if (status !== 0 && !options.allowFailure) {
    const why = result.error ? result.error.message : result.signal ? `killed by ${result.signal}` : `exit ${status}`;
    throw new Error(`${command} ${args.join(" ")} failed (${why}):\n${out.stderr}${out.stdout}`);
  }
  return out;
}

/** A network namespace this test run created, named `<prefix>-<pid>`, with `lo` up. */
export class NetworkNamespace {
  private constructor(public readonly name: string) {}

  /** Creates the namespace (removing a leftover of the same name from a crashed run of this pid). */
  static create(prefix: string): NetworkNamespace {
    const name = `${prefix}-${process.pid}`;
    if (run("ip", ["netns", "list"]).stdout.split("\n").some((line) => line.split(" ")[0] === name)) new NetworkNamespace(name).destroy();
    run("ip", ["netns", "add", name]);
    const ns = new NetworkNamespace(name);
    ns.ip(["link", "set", "lo", "up"]);
    return ns;
  }

  /** The argv prefix that runs a command inside the namespace. */
  execPrefix(): string[] {
    return ["ip", "netns", "exec", this.name];
  }

  /** Runs a command inside the namespace. */
  run(command: string, args: ReadonlyArray<string>, options?: RunOptions): CommandResult {
    return run("ip", ["netns", "exec", this.name, command, ...args], options);
  }

  ip(args: ReadonlyArray<string>): CommandResult {
    return run("ip", ["-n", this.name, ...args]);
  }

  /** Adds a host address (`/32` or `/128` unless given) to a device, `lo` by default; IPv6 skips duplicate detection. */
  addAddress(address: string, device = "lo"): void {
    const cidr = address.includes("/") ? address : `${address}/${isIPv6(address) ? 128 : 32}`;
    this.ip(["addr", "add", cidr, "dev", device, ...(isIPv6(address.split("/")[0]) ? ["nodad"] : [])]);
  }

  /**
   * Makes `address` the one resolver of programs run inside (`ip netns exec` mounts
   * /etc/netns/<namespace>/resolv.conf over /etc/resolv.conf); removed with the namespace.
   */
  setResolver(address: string): void {
    mkdirSync(this.etc(), { recursive: true });
    writeFileSync(join(this.etc(), "resolv.conf"), `nameserver ${address}\n`);
  }

  private etc(): string {
    return join("/etc/netns", this.name);
  }

  /** Kills what still runs inside (all of it was started by this test run) and deletes the namespace. */
  destroy(): void {
    const pids = run("ip", ["netns", "pids", this.name], { allowFailure: true }).stdout.split(/\s+/).filter(Boolean);
    for (const pid of pids) {
      try {
        process.kill(Number(pid), "SIGKILL");
      } catch {
        // already gone
      }
    }
    run("ip", ["netns", "del", this.name], { allowFailure: true });
    rmSync(this.etc(), { recursive: true, force: true });
  }
}

/** Joins two namespaces with a veth pair and puts the given addresses (CIDR) on each end. */
export function connectNamespaces(
  a: { readonly ns: NetworkNamespace; readonly device: string; readonly addresses: ReadonlyArray<string> },
  b: { readonly ns: NetworkNamespace; readonly device: string; readonly addresses: ReadonlyArray<string> },
): void {
  run("ip", ["link", "add", a.device, "netns", a.ns.name, "type", "veth", "peer", "name", b.device, "netns", b.ns.name]);
  for (const side of [a, b]) {
    for (const address of side.addresses) side.ns.addAddress(address, side.device);
    side.ns.ip(["link", "set", side.device, "up"]);
  }
}
