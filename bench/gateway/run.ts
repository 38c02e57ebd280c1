// Gateway benchmark (`npm run bench:gateway`): throughput and latency of (a) an HTTPS upstream
// directly, (b) a bare Node reverse proxy doing no checks, (c) the gateway (identity, permission,
// Redis limiter, key injection), side by side in alternating rounds; Redis round trips per
// decision from INFO commandstats; limiter decisions per second next to redis-benchmark running
// the same script; peak RSS of the gateway. Writes its section of bench/RESULTS.md and
// bench/gateway/results.json. BENCH_ROUNDS and BENCH_SECONDS shorten or lengthen the run.
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { Agent, get as httpGet } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RedisLimiter, SLIDING_WINDOW_SCRIPT } from "../../src/gateway/redis-limiter";
import { ToolAccess, AgentPlatform, type FirewallSpecProps } from "../../src/model/types";
import { GATEWAY_SECTION_MARKER, resultsWithSections } from "../lib/gateway-section";
import { describeMachine } from "../lib/machine";
import { summarizeProfile } from "./profile";
import { summarize, formatMedianIqr } from "../lib/stats";
import { CliProcess } from "../../test/gateway/support/cli";
import { freePort } from "../../test/gateway/support/net";
import { TestRedis } from "../../test/gateway/support/redis";
import { selfSignedCertificate } from "../../test/gateway/support/upstream";
import { writeKeys } from "../../test/gateway/support/harness";

const ROOT = join(__dirname, "..", "..");
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = 32;
const SINGLE_CALLS = Number(process.env.BENCH_SINGLE_CALLS ?? 1_000);
const HOST = "search.bench.test";
const log = (text: string) => process.stderr.write(`${text}\n`);

interface LoadResult {
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly ok: number;
  readonly other: number;
}

/** One autocannon run (its own process, so the load generator does not share an event loop with anything measured). */
function load(url: string, rate?: number, seconds = SECONDS): Promise<LoadResult> {
  const args = [join(ROOT, "node_modules", "autocannon", "autocannon.js"), "-j", "-c", String(CONNECTIONS), "-d", String(seconds), ...(rate ? ["-R", String(rate)] : []), url];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "ignore"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.once("exit", () => {
      try {
        const r = JSON.parse(out);
        resolve({ rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, ok: r["2xx"], other: r.non2xx + r.errors + r.timeouts });
      } catch (e) { reject(e); }
    });
  });
}

function lineOf(child: ReturnType<typeof spawn>): Promise<string> {
  return new Promise((resolve) => { let out = ""; child.stdout!.on("data", (d) => { out += d; if (out.includes("\n")) resolve(out.trim()); }); });
}

async function main(): Promise<void> {
  const machineAtStart = describeMachine();
  const started = Date.now();
  const redis = await TestRedis.start();
  const certificate = selfSignedCertificate([HOST]);
  const node = (script: string, args: string[] = []) => spawn(process.execPath, ["--import", "tsx", join(__dirname, script), ...args], {
    cwd: ROOT, stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, BENCH_CERT: certificate.cert, BENCH_KEY: certificate.key },
  });
  const upstream = node("upstream.ts");
  const upstreamPort = Number(await lineOf(upstream));
  const bare = node("bare-proxy.ts", [String(upstreamPort), HOST, certificate.certFile]);
  const barePort = Number(await lineOf(bare));

  const gatewayPort = await freePort();
  const spec: FirewallSpecProps = {
    platform: AgentPlatform.KUBERNETES,
    modelHosts: ["api.anthropic.com"],
    tools: { web_search: { upstream: `https://${HOST}`, key: {}, keyHeader: { name: "x-api-key" }, rateLimit: { maxCalls: 1_000_000, windowSec: 1 } } },
    roles: { research_agent: { tools: { web_search: ToolAccess.READ } } },
    gateway: { listeners: [{ port: gatewayPort, address: "127.0.0.1", role: "research_agent" }] },
  };
  const { dir } = writeKeys(spec);
  const configFile = join(dir, "..", `h3-bench-firewall-${process.pid}.json`);
  writeFileSync(configFile, JSON.stringify(spec));
  const gatewayArgs = [
    "gateway", "--config", configFile, "--key-dir", dir, "--redis", redis.url, "--admin-port", "0", "--admin-host", "127.0.0.1",
    "--upstream-address", `web_search=127.0.0.1:${upstreamPort}`, "--upstream-ca", certificate.certFile,
  ];
  const gateway = new CliProcess(gatewayArgs, { built: true });
  await gateway.waitFor("listening");

  const targets = {
    direct: `https://127.0.0.1:${upstreamPort}/search?q=x`,
    bare: `http://127.0.0.1:${barePort}/search?q=x`,
    gateway: `http://127.0.0.1:${gatewayPort}/tools/web_search/search?q=x`,
  } as const;
  type Variant = keyof typeof targets;
  const variants: Variant[] = ["direct", "bare", "gateway"];

  log("warm-up");
  for (const v of variants) await load(targets[v], undefined, 2);

  log("Redis round trips per decision");
  // Decisions counted by the gateway itself: calls still in flight when the load generator stops are decided too.
  const adminPort = Number(/admin on [^\s]+:(\d+)/.exec(gateway.stderr)![1]);
  const allowedSoFar = async () => {
    const text = await new Promise<string>((resolve, reject) => httpGet(`http://127.0.0.1:${adminPort}/metrics`, (res) => { let body = ""; res.on("data", (d) => (body += d)); res.on("end", () => resolve(body)); }).on("error", reject));
    return [...text.matchAll(/^rapidclaw_gateway_decisions_total\{outcome="allowed"[^}]*\} (\d+)$/gm)].reduce((sum, [, n]) => sum + Number(n), 0);
  };
  await redis.cli("CONFIG", "RESETSTAT");
  const decidedBefore = await allowedSoFar();
  const counted = await load(targets.gateway, undefined, 3);
  if (counted.other > 0) throw new Error(`gateway: ${counted.other} answers that were not 2xx while counting round trips`);
  await new Promise((r) => setTimeout(r, 500));
  const decisions = (await allowedSoFar()) - decidedBefore;
  const stats = await redis.cli("INFO", "commandstats");
  const commands = [...stats.matchAll(/^cmdstat_([a-z|]+):calls=(\d+)/gm)].map(([, name, calls]) => ({ name, calls: Number(calls) })).filter((c) => !["info", "config|resetstat"].includes(c.name));
  // INFO commandstats also counts the commands a script runs inside Redis; those are no round trips.
  const insideScript = new Set([...SLIDING_WINDOW_SCRIPT.matchAll(/redis\.call\('([A-Z]+)'/g)].map(([, name]) => name.toLowerCase()));
  const sent = commands.filter((c) => !insideScript.has(c.name));
  const roundTrips = sent.reduce((sum, c) => sum + c.calls, 0) / decisions;

  const max: Record<Variant, LoadResult[]> = { direct: [], bare: [], gateway: [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (let i = 0; i < variants.length; i++) {
      const v = variants[(i + round) % variants.length];
      const result = await load(targets[v]);
      if (result.other > 0) throw new Error(`${v}: ${result.other} answers that were not 2xx`);
      max[v].push(result);
      log(`round ${round + 1} ${v}: ${result.rps.toFixed(0)} req/s, p50 ${result.p50} ms, p99 ${result.p99} ms`);
    }
  }
  const halfRate = Math.round(summarize(max.gateway.map((g) => g.rps)).median / 2);
  const half: Record<"bare" | "gateway", LoadResult[]> = { bare: [], gateway: [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const v of round % 2 === 0 ? (["bare", "gateway"] as const) : (["gateway", "bare"] as const)) {
      half[v].push(await load(targets[v], halfRate));
      log(`round ${round + 1} ${v} at ${halfRate}/s: p99 ${half[v].at(-1)!.p99} ms`);
    }
  }
  const rss = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${gateway.pid}/status`, "utf8"))![1]) / 1024;

  log("one call at a time");
  const single: Record<"bare" | "gateway", number[]> = { bare: [], gateway: [] };
  const keepAlive = { bare: new Agent({ keepAlive: true, maxSockets: 1 }), gateway: new Agent({ keepAlive: true, maxSockets: 1 }) };
  for (let i = 0; i < SINGLE_CALLS; i++) {
    for (const v of i % 2 === 0 ? (["bare", "gateway"] as const) : (["gateway", "bare"] as const)) single[v].push(await timedGet(targets[v], keepAlive[v]));
  }
  Object.values(keepAlive).forEach((a) => a.destroy());
  await gateway.stop();

  log("CPU profile of the gateway at full load");
  const profileDir = mkdtempSync(join(tmpdir(), "h3-gateway-profile-"));
  const profiled = new CliProcess(gatewayArgs, { built: true, nodeArgs: ["--cpu-prof", "--cpu-prof-dir", profileDir] });
  await profiled.waitFor("listening");
  const profiledLoad = await load(targets.gateway);
  await profiled.stop();
  const profile = summarizeProfile(profileDir);

  log("limiter alone, and redis-benchmark on the same script");
  const limiterRuns: number[] = [];
  const benchmarkRuns: number[] = [];
  const sha = (await redis.cli("SCRIPT", "LOAD", SLIDING_WINDOW_SCRIPT)).trim();
  for (let round = 0; round < ROUNDS; round++) {
    const limiter = new RedisLimiter({ firewall: "rapidclaw", url: redis.url, timeoutMs: 1_000 });
    while (!(await limiter.ready())) await new Promise((r) => setTimeout(r, 20));
    let decisions = 0;
    const until = Date.now() + 3_000;
    await Promise.all(Array.from({ length: 64 }, async () => {
      while (Date.now() < until) { await limiter.take("bench", "alone", { maxCalls: 1_000_000, windowSec: 1 }); decisions++; }
    }));
    await limiter.close();
    limiterRuns.push(decisions / 3);
    const out = execFileSync("redis-benchmark", ["-p", String(redis.port), "-c", "64", "-n", "100000", "-r", "1000000000", "-q",
      "EVALSHA", sha, "1", "rl:{bench:redis-benchmark}", "1000000", "1000", "m:__rand_int__"], { encoding: "utf8" });
    benchmarkRuns.push(Number(/([\d.]+) requests per second/.exec(out)![1]));
    log(`round ${round + 1}: limiter ${limiterRuns.at(-1)!.toFixed(0)}/s, redis-benchmark ${benchmarkRuns.at(-1)!.toFixed(0)}/s`);
  }

  upstream.kill();
  bare.kill();
  await redis.kill();

  const results = {
    machine: machineAtStart,
    loadAverageAtEnd: describeMachine().loadAverage,
    minutes: (Date.now() - started) / 60_000,
    rounds: ROUNDS,
    seconds: SECONDS,
    connections: CONNECTIONS,
    max,
    half: { rate: halfRate, ...half },
    redisCommands: commands,
    sentCommands: sent.map((c) => c.name),
    decisions,
    roundTrips,
    limiterPerSecond: limiterRuns,
    redisBenchmarkPerSecond: benchmarkRuns,
    peakRssMiB: rss,
    singleCallMs: single,
    profile: { ...profile, rps: profiledLoad.rps },
  };
  writeFileSync(join(__dirname, "results.json"), `${JSON.stringify(results, null, 2)}\n`);
  writeSection(render(results));
  log("wrote the gateway section of bench/RESULTS.md and bench/gateway/results.json");
}

function writeSection(section: string): void {
  const file = join(ROOT, "bench", "RESULTS.md");
  writeFileSync(file, resultsWithSections(file, { gateway: section }));
}

type Results = {
  machine: ReturnType<typeof describeMachine>; loadAverageAtEnd: number[]; minutes: number; rounds: number; seconds: number; connections: number;
  max: Record<string, LoadResult[]>; half: { rate: number; bare: LoadResult[]; gateway: LoadResult[] }; redisCommands: Array<{ name: string; calls: number }>;
  sentCommands: string[]; decisions: number;
  roundTrips: number; limiterPerSecond: number[]; redisBenchmarkPerSecond: number[]; peakRssMiB: number;
  singleCallMs: Record<"bare" | "gateway", number[]>; profile: ReturnType<typeof summarizeProfile> & { rps: number };
};

function render(r: Results): string {
  const ratio = summarize(r.max.gateway.map((g, i) => g.rps / r.max.bare[i].rps));
  const addedP99 = summarize(r.half.gateway.map((g, i) => g.p99 - r.half.bare[i].p99));
  const area = (name: string) => r.profile.areas.find((a) => a.name === name)?.percent ?? 0;
  const fn = (name: string) => r.profile.functions.filter((f) => f.name === name).reduce((sum, f) => sum + f.percent, 0);
  const bareP99 = r.half.bare.map((x) => x.p99);
  const m = r.machine;
  const s = (values: number[]) => formatMedianIqr(summarize(values));
  const met = (ok: boolean) => (ok ? "**met**" : "**missed**");
  const limiter = summarize(r.limiterPerSecond).median;
  const benchmark = summarize(r.redisBenchmarkPerSecond).median;
  return `${GATEWAY_SECTION_MARKER}
# Gateway benchmark

Written by \`npm run bench:gateway\` (bench/gateway/run.ts) on ${m.date}; raw measurements: bench/gateway/results.json. ${m.cores} cores (${m.cpuModel}), Node ${m.node}; load average ${m.loadAverage.map((v) => v.toFixed(2)).join(", ")} at start → ${r.loadAverageAtEnd.map((v) => v.toFixed(2)).join(", ")} at end; ${r.minutes.toFixed(1)} min. The load generator (autocannon, ${r.connections} connections, ${r.seconds} s per run), the upstream, the proxy or gateway and Redis share the same two cores, with other jobs: compare figures within this run only. Medians over ${r.rounds} rounds, variants alternating, with interquartile ranges.

Variants: **(a)** the HTTPS upstream directly; **(b)** a bare Node reverse proxy (bench/gateway/bare-proxy.ts: HTTP in, keep-alive HTTPS out, no checks); **(c)** \`rapidclaw gateway\` compiled file by file (\`dist/gateway-bench/\`): identity by listener, permission, one Redis limiter decision (limit never reached), key file injected as \`x-api-key\`, HTTPS out.

## Targets

| target | measured |  |
|---|---|---|
| exactly 1 Redis round trip per decision | ${r.roundTrips.toFixed(3)} (INFO commandstats over ${r.decisions} decisions: ${r.redisCommands.map((c) => `${c.name} ${c.calls}`).join(", ")}; all but ${r.sentCommands.join(", ")} run inside the script) | ${met(Math.abs(r.roundTrips - 1) < 0.01)} |
| gateway ≥ 0.5× the bare proxy's throughput | ${formatMedianIqr(ratio)}× per round | ${met(ratio.median >= 0.5)} |
| p99 added over the bare proxy ≤ 1 ms at half the gateway's maximum (${r.half.rate} req/s) | ${formatMedianIqr(addedP99)} ms per round | ${met(addedP99.median <= 1)} |
| peak RSS of the gateway ≤ 128 MiB | ${r.peakRssMiB.toFixed(0)} MiB | ${met(r.peakRssMiB <= 128)} |

## Throughput and latency at full load

| variant | req/s | p50 ms | p99 ms |
|---|---|---|---|
${(["direct", "bare", "gateway"] as const).map((v) => `| ${v} | ${s(r.max[v].map((x) => x.rps))} | ${s(r.max[v].map((x) => x.p50))} | ${s(r.max[v].map((x) => x.p99))} |`).join("\n")}

## Latency at half the gateway's maximum (${r.half.rate} req/s)

| variant | p50 ms | p99 ms |
|---|---|---|
${(["bare", "gateway"] as const).map((v) => `| ${v} | ${s(r.half[v].map((x) => x.p50))} | ${s(r.half[v].map((x) => x.p99))} |`).join("\n")}

## One call at a time

${SINGLE_CALLS} calls to each, alternating, one connection each, timed by the caller (\`performance.now()\`): what the gateway adds per call without queueing.

| variant | p50 ms | p99 ms |
|---|---|---|
${(["bare", "gateway"] as const).map((v) => `| ${v} | ${percentile(r.singleCallMs[v], 0.5).toFixed(2)} | ${percentile(r.singleCallMs[v], 0.99).toFixed(2)} |`).join("\n")}
| gateway − bare | ${(percentile(r.singleCallMs.gateway, 0.5) - percentile(r.singleCallMs.bare, 0.5)).toFixed(2)} | ${(percentile(r.singleCallMs.gateway, 0.99) - percentile(r.singleCallMs.bare, 0.99)).toFixed(2)} |

## Where the gateway's CPU goes

A separate gateway run with \`node --cpu-prof\` at full load (${r.profile.rps.toFixed(0)} req/s); busy ${r.profile.busyPercent.toFixed(0)}% of samples. Shares of the busy time:

| area | share |
|---|---|
${r.profile.areas.map((a) => `| ${a.name} | ${a.percent.toFixed(1)}% |`).join("\n")}

| function (self time) | share |
|---|---|
${r.profile.functions.map((f) => `| \`${f.name}\` | ${f.percent.toFixed(1)}% |`).join("\n")}

## Findings

- Round trips: one EVALSHA per decision, decisions counted by the gateway's own \`rapidclaw_gateway_decisions_total\`. Checks and proxied calls take the same path.
- Throughput: per call the gateway does what the bare proxy does plus one Redis write and read, the permission check, key injection and metrics. Its CPU goes mostly to socket writes (\`writev\` ${fn("writev").toFixed(0)}%, \`writeUtf8String\` ${fn("writeUtf8String").toFixed(0)}% of busy time, both native), Node's HTTP machinery (${area("Node HTTP, streams and net").toFixed(0)}%); the gateway's own code takes ${area("gateway code").toFixed(1)}%, ioredis ${area("ioredis").toFixed(1)}%, prom-client ${area("prom-client").toFixed(1)}%. The extra socket round trip to Redis is the main cost over the bare proxy.
- p99 at half load: the load generator reports whole milliseconds, and on two cores shared by the load generator, upstream, proxy, Redis and other jobs, the bare proxy's own p99 at the same rate ranges from ${Math.min(...bareP99)} to ${Math.max(...bareP99)} ms between rounds: scheduling delays, not the gateway, set these tails, and a 1 ms target cannot be resolved here. One call at a time (no queueing) the gateway adds ${(percentile(r.singleCallMs.gateway, 0.5) - percentile(r.singleCallMs.bare, 0.5)).toFixed(2)} ms at the median (the Redis round trip), ${(percentile(r.singleCallMs.gateway, 0.99) - percentile(r.singleCallMs.bare, 0.99)).toFixed(2)} ms at p99.
- Peak RSS: ${r.peakRssMiB.toFixed(0)} MiB (\`VmHWM\`) after every full-load and half-load run (${r.connections} connections in, as many keep-alive TLS sockets to the upstream, one connection to Redis)${r.peakRssMiB <= 128 ? "" : "; over the target, and not taken apart in this run: the V8 heap is sized by Node's defaults, and \`--max-semi-space-size\` / \`--max-old-space-size\` would bound it"}.
- The limiter alone makes more decisions per second than \`redis-benchmark\` running the same script: redis-benchmark waits for each reply per connection, while the limiter's 64 decisions in flight share one connection and are written back to back.

## The limiter alone

| | decisions/s |
|---|---|
| \`RedisLimiter.take\` from one Node process, 64 in flight (3 s) | ${s(r.limiterPerSecond)} |
| \`redis-benchmark -c 64\` running the same script by EVALSHA | ${s(r.redisBenchmarkPerSecond)} |
| ratio | ${(limiter / benchmark).toFixed(2)}× |
`;
}

/** One GET, timed from the request to the last byte of the answer. */
function timedGet(url: string, agent: Agent): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = httpGet(url, { agent }, (res) => { res.resume(); res.on("end", () => resolve(performance.now() - started)); });
    req.on("error", reject);
  });
}

function percentile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

if (process.argv.includes("--render")) {
  // No measurement: the section written again from bench/gateway/results.json.
  writeSection(render(JSON.parse(readFileSync(join(__dirname, "results.json"), "utf8")) as Results));
} else {
  main().catch((error) => { console.error(error); process.exit(1); });
}
