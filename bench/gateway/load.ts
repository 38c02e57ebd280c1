import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";

/** One saturation run: the answers per second and latency percentiles in ms, calls counted, and the proxy's CPU over the run. */
export interface LoadResult {
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly calls: number;
  readonly other: number;
  /** CPU time (user + system) of the measured process per call, in µs; absent for the upstream directly. */
  readonly cpuUsPerCall?: number;
}

/** One open-loop run at a fixed rate: latencies (ms) from when each request was due. */
export interface OpenLoopResult {
  readonly due: number;
  readonly ok: number;
  readonly other: number;
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
  /** Latencies from when each request was handed to the generator's pool. */
  readonly servedP50: number;
  readonly servedP99: number;
  /** How late the generator handed requests over, p99 (its own CPU starvation). */
  readonly lagP99: number;
}

/** CPU seconds (user + system, all threads) a process has used, from /proc/<pid>/stat. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** `getconf CLK_TCK` on Linux. */
const CLOCK_TICKS = 100;

/** Peak resident set of a process in MiB (`VmHWM`). */
export function peakRssMiB(pid: number): number {
  return Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) / 1024;
}

function run(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.once("error", reject);
    child.once("exit", (code) => (code === 0 ? resolve(out) : reject(new Error(`${command} ${args.join(" ")} exited ${code}: ${out}`))));
  });
}

/** A wrk duration (`812.00us`, `1.23ms`, `2.01s`) in ms. */
function wrkMs(text: string): number {
  const [, value, unit] = /^([\d.]+)(us|ms|s|m)$/.exec(text)!;
  return Number(value) * { us: 0.001, ms: 1, s: 1_000, m: 60_000 }[unit as "us" | "ms" | "s" | "m"];
}

/**
 * Closed-loop saturation with wrk (one thread, C, so the load generator takes little of the
 * shared CPU), `connections` connections for `seconds`; with `pid`, that process's CPU per call.
 * `script` is a wrk Lua file (the check's POST).
 */
export async function saturate(url: string, seconds: number, connections: number, pid?: number, script?: string): Promise<LoadResult> {
  const before = pid === undefined ? 0 : cpuSeconds(pid);
  const out = await run("wrk", ["-t", "1", "-c", String(connections), "-d", `${seconds}s`, "--latency", ...(script === undefined ? [] : ["-s", script]), url]);
  const cpu = pid === undefined ? undefined : cpuSeconds(pid) - before;
  const calls = Number(/(\d+) requests in/.exec(out)![1]);
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const other = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0) + (errors === null ? 0 : errors.slice(1).reduce((sum, n) => sum + Number(n), 0));
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)![1]),
    p50: wrkMs(/ 50%\s+(\S+)/.exec(out)![1]),
    p99: wrkMs(/ 99%\s+(\S+)/.exec(out)![1]),
    calls,
    other,
    ...(cpu === undefined ? {} : { cpuUsPerCall: (cpu * 1e6) / calls }),
  };
}

/** An open-loop run at `rate` per second (bench/gateway/open-loop.ts in its own process). */
export async function openLoop(url: string, rate: number, seconds: number, connections: number): Promise<OpenLoopResult> {
  const out = await run(process.execPath, ["--import", "tsx", join(__dirname, "open-loop.ts"), url, String(rate), String(seconds), String(connections)]);
  return JSON.parse(out) as OpenLoopResult;
}
