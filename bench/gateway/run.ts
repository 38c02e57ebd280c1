// Gateway benchmark (`npm run bench:gateway`): side by side in interleaved rounds, (a) the HTTPS
// upstream directly, (b) bare reverse proxies doing no checks on node:http and on undici, (c) the
// gateway (identity, permission, one Redis limiter decision, key injection), (d) optionally the
// gateway of earlier commits (BENCH_GATEWAY_AB="label=commit,…": an A/B of each change) and a peer
// proxy (BENCH_AGENTGATEWAY=path of an agentgateway binary; BENCH_PEER_NOTE says how it was built, or why not). Saturation by wrk, CPU per call from
// /proc, latency at half the gateway's maximum by an open-loop generator, `/v1/check` next to
// redis-benchmark on the same script and connections, Redis round trips per decision, peak RSS, a
// CPU profile. Writes its section of bench/RESULTS.md and bench/gateway/results.json.
// BENCH_ROUNDS and BENCH_SECONDS shorten or lengthen the run.
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { Agent, get as httpGet } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RedisLimiter, SLIDING_WINDOW_SCRIPT } from "../../src/gateway/redis-limiter";
import { ToolAccess, AgentPlatform, type FirewallSpecProps } from "../../src/model/types";
import { resultsWithSections } from "../lib/gateway-section";
import { describeMachine } from "../lib/machine";
import { summarize } from "../lib/stats";
import { CliProcess } from "../../test/gateway/support/cli";
import { freePort } from "../../test/gateway/support/net";
import { TestRedis } from "../../test/gateway/support/redis";
import { selfSignedCertificate } from "../../test/gateway/support/upstream";
import { writeKeys } from "../../test/gateway/support/harness";
import { gatewayAt } from "./builds";
import { openLoop, peakRssMiB, saturate, type LoadResult, type OpenLoopResult } from "./load";
import { summarizeProfile } from "./profile";
import { render, type Results } from "./render";

const ROOT = join(__dirname, "..", "..");
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = 32;
const SINGLE_CALLS = Number(process.env.BENCH_SINGLE_CALLS ?? 1_000);
const HOST = "search.bench.test";
const log = (text: string) => process.stderr.write(`${text}\n`);
/** Stops every process this run started, so a failed run leaves none behind. */
const stoppers: Array<() => void> = [];
const stopAll = () => stoppers.splice(0).forEach((stop) => { try { stop(); } catch { /* already gone */ } });

/** A process under load: its URL and, for CPU and RSS, its pid. */
interface Target {
  readonly name: string;
  readonly url: string;
  readonly pid?: number;
  readonly checkUrl?: string;
}

function lineOf(child: ReturnType<typeof spawn>): Promise<string> {
  return new Promise((resolve) => { let out = ""; child.stdout!.on("data", (d) => { out += d; if (out.includes("\n")) resolve(out.trim()); }); });
}

async function main(): Promise<void> {
  const machineAtStart = describeMachine();
  const started = Date.now();
  const ab = (process.env.BENCH_GATEWAY_AB ?? "").split(",").filter((s) => s !== "").map((pair) => {
    const [label, commit] = pair.split("=");
    return { label, commit, main: gatewayAt(commit) };
  });
  // What came after each build, up to the next one (the last one: up to the worktree's HEAD).
  const changesAfter = (i: number) => execFileSync("git", ["log", "--reverse", "--format=%s", `${ab[i].commit}..${i + 1 < ab.length ? ab[i + 1].commit : "HEAD"}`, "--", "src/gateway"], { cwd: ROOT, encoding: "utf8" }).split("\n").filter((l) => l !== "");
  const redis = await TestRedis.start();
  stoppers.push(() => void redis.kill());
  const certificate = selfSignedCertificate([HOST]);
  const node = (script: string, args: string[] = []) => {
    const child = spawn(process.execPath, ["--import", "tsx", join(__dirname, script), ...args], {
      cwd: ROOT, stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, BENCH_CERT: certificate.cert, BENCH_KEY: certificate.key },
    });
    stoppers.push(() => child.kill());
    return child;
  };
  const upstream = node("upstream.ts");
  const upstreamPort = Number(await lineOf(upstream));
  const bareNode = node("bare-proxy.ts", ["node", String(upstreamPort), HOST, certificate.certFile]);
  const bareUndici = node("bare-proxy.ts", ["undici", String(upstreamPort), HOST, certificate.certFile]);
  const [bareNodePort, bareUndiciPort] = [Number(await lineOf(bareNode)), Number(await lineOf(bareUndici))];

  /** One gateway process on its own listener; `main` is the compiled CLI of another commit, if given. */
  const startGateway = async (label: string, main?: string) => {
    const port = await freePort();
    const spec: FirewallSpecProps = {
      platform: AgentPlatform.KUBERNETES,
      modelHosts: ["api.anthropic.com"],
      tools: { web_search: { upstream: `https://${HOST}`, key: {}, keyHeader: { name: "x-api-key" }, rateLimit: { maxCalls: 1_000_000, windowSec: 1 } } },
      roles: { research_agent: { tools: { web_search: ToolAccess.READ } } },
      gateway: { listeners: [{ port, address: "127.0.0.1", role: "research_agent" }] },
    };
    const { dir } = writeKeys(spec);
    const configFile = join(dir, "..", `h3-bench-firewall-${process.pid}-${label}.json`);
    writeFileSync(configFile, JSON.stringify(spec));
    const args = [
      "gateway", "--config", configFile, "--key-dir", dir, "--redis", redis.url, "--admin-port", "0", "--admin-host", "127.0.0.1",
      "--upstream-address", `web_search=127.0.0.1:${upstreamPort}`, "--upstream-ca", certificate.certFile,
    ];
    const spawnIt = (nodeArgs: string[] = []) => {
      const cli = new CliProcess(args, main === undefined ? { built: true, nodeArgs } : { bundle: main, nodeArgs });
      stoppers.push(() => void cli.stop());
      return cli;
    };
    const process_ = spawnIt();
    await process_.waitFor("listening");
    return { label, port, process: process_, spawnIt, adminPort: () => Number(/admin on [^\s]+:(\d+)/.exec(process_.stderr)![1]) };
  };
  const gateway = await startGateway("gateway");
  const earlier = [];
  for (const build of ab) earlier.push({ ...(await startGateway(build.label, build.main)), commit: build.commit });
  const peer = process.env.BENCH_AGENTGATEWAY === undefined ? undefined : await startAgentgateway(process.env.BENCH_AGENTGATEWAY, upstreamPort, certificate.certFile);

  const path = "/search?q=x";
  const targets: Target[] = [
    { name: "direct", url: `https://127.0.0.1:${upstreamPort}${path}` },
    { name: "bare node:http", url: `http://127.0.0.1:${bareNodePort}${path}`, pid: bareNode.pid },
    { name: "bare undici", url: `http://127.0.0.1:${bareUndiciPort}${path}`, pid: bareUndici.pid },
    ...[gateway, ...earlier].map((g) => ({ name: g.label, url: `http://127.0.0.1:${g.port}/tools/web_search${path}`, pid: g.process.pid, checkUrl: `http://127.0.0.1:${g.port}/v1/check` })),
    ...(peer === undefined ? [] : [{ name: "agentgateway", url: `http://127.0.0.1:${peer.port}${path}`, pid: peer.child.pid }]),
  ];
  const proxies = targets.filter((t) => t.name !== "direct");

  log("warm-up");
  for (const t of targets) await saturate(t.url, 2, CONNECTIONS);

  log("Redis round trips per decision");
  // Decisions counted by the gateway itself: calls still in flight when the load generator stops are decided too.
  const allowedSoFar = async () => {
    const text = await new Promise<string>((resolve, reject) => httpGet(`http://127.0.0.1:${gateway.adminPort()}/metrics`, (res) => { let body = ""; res.on("data", (d) => (body += d)); res.on("end", () => resolve(body)); }).on("error", reject));
    return [...text.matchAll(/^rapidclaw_gateway_decisions_total\{outcome="allowed"[^}]*\} (\d+)$/gm)].reduce((sum, [, n]) => sum + Number(n), 0);
  };
  await redis.cli("CONFIG", "RESETSTAT");
  const decidedBefore = await allowedSoFar();
  const counted = await saturate(targets.find((t) => t.name === "gateway")!.url, 3, CONNECTIONS);
  if (counted.other > 0) throw new Error(`gateway: ${counted.other} answers that were not 2xx while counting round trips`);
  await new Promise((r) => setTimeout(r, 500));
  const decisions = (await allowedSoFar()) - decidedBefore;
  const stats = await redis.cli("INFO", "commandstats");
  const commands = [...stats.matchAll(/^cmdstat_([a-z|]+):calls=(\d+)/gm)].map(([, name, calls]) => ({ name, calls: Number(calls) })).filter((c) => !["info", "config|resetstat"].includes(c.name));

  const max: Record<string, LoadResult[]> = Object.fromEntries(targets.map((t) => [t.name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (let i = 0; i < targets.length; i++) {
      const t = targets[(i + round) % targets.length];
      const result = await saturate(t.url, SECONDS, CONNECTIONS, t.pid);
      if (result.other > 0) throw new Error(`${t.name}: ${result.other} answers that were not 2xx`);
      max[t.name].push(result);
      log(`round ${round + 1} ${t.name}: ${result.rps.toFixed(0)} req/s, p50 ${result.p50} ms, p99 ${result.p99} ms${result.cpuUsPerCall === undefined ? "" : `, ${result.cpuUsPerCall.toFixed(1)} µs CPU per call`}`);
    }
  }

  const halfRate = Math.round(summarize(max.gateway.map((g) => g.rps)).median / 2);
  const half: Record<string, OpenLoopResult[]> = Object.fromEntries(proxies.map((t) => [t.name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (let i = 0; i < proxies.length; i++) {
      const t = proxies[(i + round) % proxies.length];
      const result = await openLoop(t.url, halfRate, SECONDS, CONNECTIONS);
      if (result.other > 0) throw new Error(`${t.name} at ${halfRate}/s: ${result.other} answers that were not 2xx`);
      half[t.name].push(result);
      log(`round ${round + 1} ${t.name} at ${halfRate}/s: p50 ${result.p50.toFixed(2)} ms, p99 ${result.p99.toFixed(2)} ms`);
    }
  }

  log("/v1/check and redis-benchmark on the same script, both with 32 connections");
  const checkScript = join(mkdtempSync(join(tmpdir(), "h3-gateway-check-")), "check.lua");
  writeFileSync(checkScript, `wrk.method = "POST"\nwrk.headers["content-type"] = "application/json"\nwrk.body = '{"tool":"web_search","access":"READ"}'\n`);
  const sha = (await redis.cli("SCRIPT", "LOAD", SLIDING_WINDOW_SCRIPT)).trim();
  const checkers = targets.filter((t) => t.checkUrl !== undefined);
  const checks: Record<string, LoadResult[]> = Object.fromEntries(checkers.map((t) => [t.name, []]));
  const redisBenchmark: number[] = [];
  const limiterAlone: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    for (const t of checkers) {
      const result = await saturate(t.checkUrl!, SECONDS, CONNECTIONS, t.pid, checkScript);
      if (result.other > 0) throw new Error(`${t.name} /v1/check: ${result.other} answers that were not 200`);
      checks[t.name].push(result);
    }
    const out = execFileSync("redis-benchmark", ["-p", String(redis.port), "-c", String(CONNECTIONS), "-n", "200000", "-r", "1000000000", "-q",
      "EVALSHA", sha, "1", "rl:{bench:redis-benchmark}", "1000000", "1000", "m:__rand_int__"], { encoding: "utf8" });
    redisBenchmark.push(Number(/([\d.]+) requests per second/.exec(out)![1]));
    limiterAlone.push(await limiterDecisionsPerSecond(redis.url));
    log(`round ${round + 1}: /v1/check ${checkers.map((t) => `${t.name} ${checks[t.name].at(-1)!.rps.toFixed(0)}/s`).join(", ")}; redis-benchmark ${redisBenchmark.at(-1)!.toFixed(0)}/s; limiter alone ${limiterAlone.at(-1)!.toFixed(0)}/s`);
  }
  const rss = Object.fromEntries(proxies.map((t) => [t.name, peakRssMiB(t.pid!)]));

  log("one call at a time");
  const single: Record<"bare undici" | "gateway", number[]> = { "bare undici": [], gateway: [] };
  const singleUrl = (name: keyof typeof single) => targets.find((t) => t.name === name)!.url;
  const keepAlive = { "bare undici": new Agent({ keepAlive: true, maxSockets: 1 }), gateway: new Agent({ keepAlive: true, maxSockets: 1 }) };
  for (let i = 0; i < SINGLE_CALLS; i++) {
    for (const v of i % 2 === 0 ? (["bare undici", "gateway"] as const) : (["gateway", "bare undici"] as const)) single[v].push(await timedGet(singleUrl(v), keepAlive[v]));
  }
  Object.values(keepAlive).forEach((a) => a.destroy());
  for (const g of earlier) await g.process.stop();
  await gateway.process.stop();

  log("CPU profile of the gateway at full load");
  const profileDir = mkdtempSync(join(tmpdir(), "h3-gateway-profile-"));
  const profiled = gateway.spawnIt(["--cpu-prof", "--cpu-prof-dir", profileDir]);
  await profiled.waitFor("listening");
  const profiledLoad = await saturate(targets.find((t) => t.name === "gateway")!.url, SECONDS, CONNECTIONS);
  await profiled.stop();
  const profile = summarizeProfile(profileDir);

  upstream.kill();
  bareNode.kill();
  bareUndici.kill();
  peer?.child.kill();
  await redis.kill();

  const results: Results = {
    machine: machineAtStart,
    loadAverageAtEnd: describeMachine().loadAverage,
    minutes: (Date.now() - started) / 60_000,
    rounds: ROUNDS,
    seconds: SECONDS,
    connections: CONNECTIONS,
    ab: earlier.map((g, i) => ({ label: g.label, commit: g.commit, changes: changesAfter(i) })),
    peer: peer === undefined ? undefined : { binary: process.env.BENCH_AGENTGATEWAY!, version: peer.version },
    peerNote: process.env.BENCH_PEER_NOTE,
    max,
    half: { rate: halfRate, ...half },
    checks,
    redisBenchmarkPerSecond: redisBenchmark,
    limiterAlonePerSecond: limiterAlone,
    redisCommands: commands,
    decisions,
    peakRssMiB: rss,
    singleCallMs: single,
    profile: { ...profile, rps: profiledLoad.rps },
  };
  writeFileSync(join(__dirname, "results.json"), `${JSON.stringify(results, null, 2)}\n`);
  writeSection(render(results));
  log("wrote the gateway section of bench/RESULTS.md and bench/gateway/results.json");
}

/** Decisions per second of `RedisLimiter.take` from this process, 32 in flight on its one connection, for 3 s. */
async function limiterDecisionsPerSecond(url: string): Promise<number> {
  const limiter = new RedisLimiter({ firewall: "rapidclaw", url, timeoutMs: 1_000 });
  while (!(await limiter.ready())) await new Promise((r) => setTimeout(r, 20));
  let decisions = 0;
  const until = Date.now() + 3_000;
  await Promise.all(Array.from({ length: CONNECTIONS }, async () => {
    while (Date.now() < until) { await limiter.take("bench", "alone", { maxCalls: 1_000_000, windowSec: 1 }); decisions++; }
  }));
  await limiter.close();
  return decisions / 3;
}

/** agentgateway as a plain HTTP reverse proxy to the same upstream (TLS to it with the bench CA), on its own ports. */
async function startAgentgateway(binary: string, upstreamPort: number, caFile: string): Promise<{ port: number; child: ReturnType<typeof spawn>; version: string }> {
  const [port, admin, stats, readiness] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const config = join(mkdtempSync(join(tmpdir(), "h3-agentgateway-")), "config.yaml");
  writeFileSync(config, [
    "config:",
    `  adminAddr: 127.0.0.1:${admin}`,
    `  statsAddr: 127.0.0.1:${stats}`,
    `  readinessAddr: 127.0.0.1:${readiness}`,
    "binds:",
    `- port: ${port}`,
    "  listeners:",
    "  - protocol: HTTP",
    "    routes:",
    "    - policies:",
    "        backendTLS:",
    `          root: ${caFile}`,
    `          hostname: ${HOST}`,
    "      backends:",
    `      - host: 127.0.0.1:${upstreamPort}`,
    "",
  ].join("\n"));
  const version = execFileSync(binary, ["--version"], { encoding: "utf8" }).trim();
  const child = spawn(binary, ["-f", config], { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, RUST_LOG: "error" } });
  stoppers.push(() => child.kill());
  const deadline = Date.now() + 20_000;
  for (;;) {
    const ready = await new Promise<boolean>((resolve) => httpGet(`http://127.0.0.1:${readiness}/healthz/ready`, (res) => { res.resume(); resolve(res.statusCode === 200); }).on("error", () => resolve(false)));
    if (ready) break;
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`agentgateway did not get ready on 127.0.0.1:${readiness}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { port, child, version };
}

function writeSection(section: string): void {
  const file = join(ROOT, "bench", "RESULTS.md");
  writeFileSync(file, resultsWithSections(file, { gateway: section }));
}

/** One GET, timed from the request to the last byte of the answer. */
function timedGet(url: string, agent: Agent): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = httpGet(url, { agent }, (res) => { res.resume(); res.on("end", () => resolve(performance.now() - started)); });
    req.on("error", reject);
  });
}

if (process.argv.includes("--render")) {
  // No measurement: the section written again from bench/gateway/results.json.
  writeSection(render(JSON.parse(readFileSync(join(__dirname, "results.json"), "utf8")) as Results));
} else {
  main().catch((error) => { console.error(error); stopAll(); process.exit(1); });
}
