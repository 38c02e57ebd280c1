import { readFileSync } from "node:fs";
import { join } from "node:path";
import { SLIDING_WINDOW_SCRIPT } from "../../src/gateway/redis-limiter";
import type { describeMachine } from "../lib/machine";
import { GATEWAY_SECTION_MARKER } from "../lib/gateway-section";
import { formatMedianIqr, summarize } from "../lib/stats";
import type { LoadResult, OpenLoopResult } from "./load";
import type { summarizeProfile } from "./profile";

/** What bench/gateway/run.ts measured (bench/gateway/results.json). */
export interface Results {
  machine: ReturnType<typeof describeMachine>;
  loadAverageAtEnd: number[];
  minutes: number;
  rounds: number;
  seconds: number;
  connections: number;
  /** Gateways of earlier commits run beside the current one, oldest first, each with the subjects of the commits that came after it up to the next. */
  ab: Array<{ label: string; commit: string; changes: string[] }>;
  peer?: { binary: string; version: string };
  /** How the peer was built, or why it was not (BENCH_PEER_NOTE). */
  peerNote?: string;
  /** Saturation runs by target. */
  max: Record<string, LoadResult[]>;
  half: { rate: number } & Record<string, OpenLoopResult[] | number>;
  /** `/v1/check` saturation runs by gateway. */
  checks: Record<string, LoadResult[]>;
  redisBenchmarkPerSecond: number[];
  limiterAlonePerSecond: number[];
  redisCommands: Array<{ name: string; calls: number }>;
  decisions: number;
  peakRssMiB: Record<string, number>;
  singleCallMs: Record<"bare undici" | "gateway", number[]>;
  profile: ReturnType<typeof summarizeProfile> & { rps: number };
}

const BARE = ["bare node:http", "bare undici"] as const;

/**
 * Commands Redis counts in INFO commandstats that scripts run inside it, no round trips: the
 * limiter's and those of the alert windows, which every gateway on the same Redis sweeps each second.
 */
function commandsInsideScripts(): Set<string> {
  const alertWindows = readFileSync(join(__dirname, "..", "..", "src", "monitoring", "redis-alert-window-store.ts"), "utf8");
  return new Set([...`${SLIDING_WINDOW_SCRIPT}${alertWindows}`.matchAll(/redis\.call\('([A-Z]+)'/g)].map(([, name]) => name.toLowerCase()));
}

export function render(r: Results): string {
  const inside = commandsInsideScripts();
  const sent = r.redisCommands.filter((c) => !inside.has(c.name));
  const roundTrips = sent.reduce((sum, c) => sum + c.calls, 0) / r.decisions;
  const gatewayCount = 1 + r.ab.length;
  const m = r.machine;
  const s = (values: number[], digits?: number) => formatMedianIqr(summarize(values), digits);
  const met = (ok: boolean) => (ok ? "**met**" : "**missed**");
  const rounds = (name: string) => r.max[name];
  const halfOf = (name: string) => r.half[name] as OpenLoopResult[];
  /** Per-round ratio of two targets' figures (rounds interleave, so each round's pair shares the machine's state). */
  const perRound = (a: LoadResult[] | OpenLoopResult[], b: LoadResult[] | OpenLoopResult[], f: (x: never, y: never) => number) => summarize(a.map((x, i) => f(x as never, b[i] as never)));
  const ratio = (a: string, b: string) => perRound(rounds(a), rounds(b), (x: LoadResult, y: LoadResult) => x.rps / y.rps);
  const cpu = (name: string) => rounds(name).map((x) => x.cpuUsPerCall!);
  const cpuAbove = (name: string, base: string) => perRound(rounds(name), rounds(base), (x: LoadResult, y: LoadResult) => x.cpuUsPerCall! - y.cpuUsPerCall!);
  const added = (name: string, base: string, q: "p50" | "p99") => perRound(halfOf(name), halfOf(base), (x: OpenLoopResult, y: OpenLoopResult) => x[q] - y[q]);
  const checkRatio = (name: string) => summarize(r.checks[name].map((x) => x.rps)).median / summarize(r.redisBenchmarkPerSecond).median;
  const gateways = ["gateway", ...r.ab.map((a) => a.label)];
  const proxies = Object.keys(r.peakRssMiB);
  const targets = Object.keys(r.max);
  const bareP99 = BARE.flatMap((b) => halfOf(b).map((x) => x.p99));
  const area = (name: string) => r.profile.areas.find((a) => a.name === name)?.percent ?? 0;
  const single = (v: "bare undici" | "gateway", q: number) => percentile(r.singleCallMs[v], q);
  const checkPerDecision = s(r.checks.gateway.map((x) => x.cpuUsPerCall!), 1);

  return `${GATEWAY_SECTION_MARKER}
# Gateway benchmark

Written by \`npm run bench:gateway\` (bench/gateway/run.ts) on ${m.date}; raw measurements: bench/gateway/results.json. ${m.cores} cores (${m.cpuModel}), ${m.memoryGiB.toFixed(0)} GiB, Node ${m.node}; **load average ${m.loadAverage.map((v) => v.toFixed(2)).join(", ")} at start → ${r.loadAverageAtEnd.map((v) => v.toFixed(2)).join(", ")} at end** (other jobs share the machine); ${r.minutes.toFixed(1)} min. The load generator, the upstream, the proxies and gateways and Redis share these cores: compare figures within this run only. Every figure is the median over ${r.rounds} rounds with its interquartile range; the targets take turns within each round, and ratios are taken per round.

Targets: **direct** the HTTPS upstream (bench/gateway/upstream.ts); **bare node:http** and **bare undici** reverse proxies doing no checks, HTTP in and keep-alive HTTPS out, on Node's client or on an undici Pool driven the way the gateway drives it (bench/gateway/bare-proxy.ts); **gateway** \`rapidclaw gateway\` compiled file by file (\`dist/gateway-bench/\`): identity by listener, permission, one Redis limiter decision (limit never reached), key file injected as \`x-api-key\`, answer scrubbed of the key, HTTPS out on its per-role undici pool${r.ab.length === 0 ? "" : `; ${r.ab.map((a) => `**${a.label}** the gateway at ${a.commit}`).join(", ")}, built the same way from \`git archive\` (bench/gateway/builds.ts), for the A/B of each change`}${r.peer === undefined ? "" : `; **agentgateway** (${r.peer.version}) as a plain HTTP reverse proxy to the same upstream, TLS to it with the bench CA`}.

Saturation: \`wrk -t 1 -c ${r.connections}\` for ${r.seconds} s per run (wrk is C and takes less of the shared CPU than a Node generator would). CPU per call: the process's user + system time (\`/proc/<pid>/stat\`) over the run ÷ the calls wrk counted, which noise moves far less than latency. Half load: bench/gateway/open-loop.ts sends at a constant ${r.half.rate} req/s (half the gateway's median maximum) over ${r.connections} connections whatever the answers do, and times each call from when it was due (as wrk2 does), in µs.

${r.peerNote === undefined ? "" : `**Peer (agentgateway).** ${r.peerNote}\n\n`}## Targets (issue #25)

| figure | target | measured | |
|---|---|---|---|
| gateway ÷ direct, saturation | ≥ 0.30× | ${formatMedianIqr(ratio("gateway", "direct"))}× | ${met(ratio("gateway", "direct").median >= 0.3)} |
| gateway ÷ bare node:http proxy, saturation | ≥ 1.0× | ${formatMedianIqr(ratio("gateway", "bare node:http"))}× | ${met(ratio("gateway", "bare node:http").median >= 1)} |
| gateway ÷ bare undici proxy, saturation | — | ${formatMedianIqr(ratio("gateway", "bare undici"))}× | |
| CPU per proxied call, gateway − bare undici | ≤ 20 µs | ${formatMedianIqr(cpuAbove("gateway", "bare undici"), 1)} µs (${s(cpu("gateway"), 1)} vs ${s(cpu("bare undici"), 1)}) | ${met(cpuAbove("gateway", "bare undici").median <= 20)} |
| \`/v1/check\` ÷ \`redis-benchmark\`, same script, ${r.connections} connections | ≥ 0.6× | ${checkRatio("gateway").toFixed(2)}× (${s(r.checks.gateway.map((x) => x.rps))} vs ${s(r.redisBenchmarkPerSecond)} decisions/s) | ${met(checkRatio("gateway") >= 0.6)} |
| added p50 at ${r.half.rate} req/s, over bare undici | ≤ 0.2 ms | ${formatMedianIqr(added("gateway", "bare undici", "p50"), 3)} ms | ${met(added("gateway", "bare undici", "p50").median <= 0.2)} |
| added p50 at ${r.half.rate} req/s, over bare node:http | ≤ 0.2 ms | ${formatMedianIqr(added("gateway", "bare node:http", "p50"), 3)} ms | ${met(added("gateway", "bare node:http", "p50").median <= 0.2)} |
| added p99 at ${r.half.rate} req/s, over bare undici / node:http | reported | ${formatMedianIqr(added("gateway", "bare undici", "p99"), 2)} / ${formatMedianIqr(added("gateway", "bare node:http", "p99"), 2)} ms; the bare proxies' own p99 spans ${Math.min(...bareP99).toFixed(2)}–${Math.max(...bareP99).toFixed(2)} ms over the rounds | |
| gateway peak RSS (\`VmHWM\`, after every run above) | ≤ 128 MiB | ${r.peakRssMiB.gateway.toFixed(0)} MiB | ${met(r.peakRssMiB.gateway <= 128)} |
| Redis round trips per decision | 1 | ${roundTrips.toFixed(3)} (INFO commandstats while ${r.decisions} decisions were made: ${r.redisCommands.map((c) => `${c.name} ${c.calls}`).join(", ")}; all but ${sent.map((c) => c.name).join(", ")} run inside scripts. The sent commands include the alert-window sweeps of the ${gatewayCount} gateways on this Redis, about one EVALSHA per gateway and second) | ${met(roundTrips < 1.02)} |

${r.ab.length === 0 ? "" : `## What each change bought (A/B in this run)

Each row compares a gateway build with the one before it, in the same rounds (per-round ratios and differences; negative CPU is saved CPU).

| from → to | changes | req/s ratio | CPU µs per call | \`/v1/check\` ratio | CPU µs per decision | added p50 at half load, ms | peak RSS MiB |
|---|---|---|---|---|---|---|---|
${r.ab.map((a, i) => {
    const to = i + 1 < r.ab.length ? r.ab[i + 1].label : "gateway";
    const checkRound = perRound(r.checks[to], r.checks[a.label], (x: LoadResult, y: LoadResult) => x.rps / y.rps);
    const decisionCpu = perRound(r.checks[to], r.checks[a.label], (x: LoadResult, y: LoadResult) => x.cpuUsPerCall! - y.cpuUsPerCall!);
    return `| ${a.label} → ${to} | ${a.changes.join("; ")} | ${formatMedianIqr(ratio(to, a.label))}× | ${formatMedianIqr(cpuAbove(to, a.label), 1)} | ${formatMedianIqr(checkRound)}× | ${formatMedianIqr(decisionCpu, 1)} | ${formatMedianIqr(added(to, a.label, "p50"), 3)} | ${r.peakRssMiB[a.label].toFixed(0)} → ${r.peakRssMiB[to].toFixed(0)} |`;
  }).join("\n")}

`}## Saturation

| target | req/s | ÷ direct | p50 ms | p99 ms | CPU µs per call |
|---|---|---|---|---|---|
${targets.map((t) => `| ${t} | ${s(rounds(t).map((x) => x.rps))} | ${t === "direct" ? "1" : formatMedianIqr(ratio(t, "direct"))} | ${s(rounds(t).map((x) => x.p50))} | ${s(rounds(t).map((x) => x.p99))} | ${t === "direct" ? "—" : s(cpu(t), 1)} |`).join("\n")}

## Open loop at ${r.half.rate} req/s

| target | p50 ms | p99 ms | p99.9 ms | added p50 over bare undici | added p99 over bare undici | p50 / p99 from hand-over, ms | generator lag p99, ms |
|---|---|---|---|---|---|---|---|
${proxies.map((t) => `| ${t} | ${s(halfOf(t).map((x) => x.p50), 3)} | ${s(halfOf(t).map((x) => x.p99), 2)} | ${s(halfOf(t).map((x) => x.p999), 2)} | ${t === "bare undici" ? "—" : formatMedianIqr(added(t, "bare undici", "p50"), 3)} | ${t === "bare undici" ? "—" : formatMedianIqr(added(t, "bare undici", "p99"), 2)} | ${halfOf(t)[0].servedP50 === undefined ? "—" : `${s(halfOf(t).map((x) => x.servedP50), 3)} / ${s(halfOf(t).map((x) => x.servedP99), 2)}`} | ${halfOf(t)[0].lagP99 === undefined ? "—" : s(halfOf(t).map((x) => x.lagP99), 2)} |`).join("\n")}

Figures from the due time hold only while the generator keeps to its schedule (lag near zero) and the target keeps up with the rate; when either falls behind, the queue grows through the run and the latencies measure that backlog, in seconds, not the proxy's cost per call.

## Decisions: \`/v1/check\` and the limiter

| | decisions/s | ÷ redis-benchmark | CPU µs per decision |
|---|---|---|---|
${gateways.map((g) => `| \`POST /v1/check\` on ${g}, wrk ${r.connections} connections | ${s(r.checks[g].map((x) => x.rps))} | ${checkRatio(g).toFixed(2)}× | ${s(r.checks[g].map((x) => x.cpuUsPerCall!), 1)} |`).join("\n")}
| \`RedisLimiter.take\` alone, ${r.connections} in flight on its one connection (3 s) | ${s(r.limiterAlonePerSecond)} | ${(summarize(r.limiterAlonePerSecond).median / summarize(r.redisBenchmarkPerSecond).median).toFixed(2)}× | |
| \`redis-benchmark -c ${r.connections}\` running the same script by EVALSHA (same window, unique members) | ${s(r.redisBenchmarkPerSecond)} | 1 | |

## Peak RSS (\`VmHWM\`)

| ${proxies.join(" | ")} |
|${proxies.map(() => "---|").join("")}
| ${proxies.map((p) => `${r.peakRssMiB[p].toFixed(0)} MiB`).join(" | ")} |

## One call at a time

${r.singleCallMs.gateway.length} calls to each, alternating, one keep-alive connection each, timed by the caller: the gateway adds ${(single("gateway", 0.5) - single("bare undici", 0.5)).toFixed(3)} ms at the median (${single("gateway", 0.5).toFixed(3)} vs ${single("bare undici", 0.5).toFixed(3)} ms over bare undici), ${(single("gateway", 0.99) - single("bare undici", 0.99)).toFixed(2)} ms at p99: one Redis round trip and the checks, without queueing.

## Where the gateway's CPU goes

A separate gateway run with \`node --cpu-prof\` at saturation (${r.profile.rps.toFixed(0)} req/s); busy ${r.profile.busyPercent.toFixed(0)}% of samples. Shares of the busy time: ${r.profile.areas.map((a) => `${a.name} ${a.percent.toFixed(1)}%`).join(", ")}. Top functions by self time:

| function (self time) | share |
|---|---|
${r.profile.functions.map((f) => `| \`${f.name}\` | ${f.percent.toFixed(1)}% |`).join("\n")}

The gateway's own code is ${area("gateway code").toFixed(1)}% of its busy time, ioredis ${area("ioredis").toFixed(1)}%, prom-client ${area("prom-client").toFixed(1)}%; the rest is Node's HTTP server, undici, TLS and socket writes, which the bare undici proxy pays too. CPU per decision on \`/v1/check\`: ${checkPerDecision} µs.
`;
}

function percentile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}
