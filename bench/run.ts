// `npm run bench`: the synth benchmark (issue 7). Compiled by `tsc -p bench/tsconfig.json` and run
// with node, so that every process measured runs plain JavaScript (no tsx in the timings). Runs
// each measurement in child processes, alternating the variants compared, prints the results and
// writes them to bench/RESULTS.md (the raw measurements to bench/results.json). BENCH_QUICK=1 runs
// a few repetitions only (a smoke test; its figures are not worth keeping); `--render` measures
// nothing and writes RESULTS.md again from bench/results.json.
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { AgentPlatform } from "../src/model/types";
import type { ColdReport } from "./cold/report";
import { runNode } from "./lib/child";
import { resultsWithSections } from "./lib/gateway-section";
import { describeMachine } from "./lib/machine";
import type { ResourceCounts, FleetShape } from "./lib/resources";
import { renderResults, type BenchResults, type ColdVariant, type ScalingPoint } from "./lib/results";
import { STACK_ID } from "./lib/stack-id";
import { temporaryOutdir, type RunTime } from "./lib/synth";

if (!__filename.endsWith(".js")) throw new Error("run the benchmark with `npm run bench` (it compiles bench/ and runs node on the JavaScript)");

const RESULTS_MD = join(__dirname, "..", "..", "..", "bench", "RESULTS.md");
const RESULTS_JSON = join(__dirname, "..", "..", "..", "bench", "results.json");

// `node dist/bench-build/bench/run.js --render`: no measurement, only RESULTS.md written again
// from the raw measurements of the last run (bench/results.json), after a change of the report.
if (process.argv.includes("--render")) {
  writeFileSync(RESULTS_MD, resultsWithSections(RESULTS_MD, { synth: renderResults(JSON.parse(readFileSync(RESULTS_JSON, "utf8")) as BenchResults) }));
  console.error(`rendered ${RESULTS_MD} from ${RESULTS_JSON}`);
  process.exit(0);
}

const QUICK = process.env.BENCH_QUICK === "1";
/** Repetitions; in the quick mode just enough to exercise every path. */
const PLAN = QUICK
  ? { seedWarmup: 3, seedRounds: 5, coldRounds: 2, scaleSizes: [10, 100], scaleRounds: 1, scaleReps: { 10: 2, 100: 1, 1000: 1 } as Record<number, number>, toolCounts: [25], importRounds: 1, attributionRuns: 1, diagnoseWarmup: 3, diagnoseRounds: 5 }
  : // Sized to finish within 20 minutes on this 2-core machine under its usual load (issue 25).
    { seedWarmup: 15, seedRounds: 30, coldRounds: 8, scaleSizes: [10, 100, 1000], scaleRounds: 1, scaleReps: { 10: 5, 100: 2, 1000: 1 } as Record<number, number>, toolCounts: [25, 100], importRounds: 3, attributionRuns: 3, diagnoseWarmup: 10, diagnoseRounds: 20 };

const PLATFORMS = [AgentPlatform.DOCKER, AgentPlatform.KUBERNETES];
const script = (path: string) => join(__dirname, path);
const started = Date.now();
const log = (text: string) => console.error(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${text}`);

/** `items` rotated by `round`, so that no variant always runs first. */
function rotated<T>(items: ReadonlyArray<T>, round: number): T[] {
  const k = round % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

const machineAtStart = describeMachine();

// 1. The seed scenario in-process: library, hand-written floor, generic floor, alternating in one
//    process per platform (each run checked byte for byte against the library's JSON).
log("1/5 seed scenario, in-process");
const seedInProcess: BenchResults["seedInProcess"] = {};
for (const platform of PLATFORMS) {
  const { report } = runNode<{ bytes: number; wallMs: Record<string, number[]>; cpuMs: Record<string, number[]> }>(
    script("workers/seed-in-process.js"),
    [platform, String(PLAN.seedWarmup), String(PLAN.seedRounds)],
  );
  seedInProcess[platform] = { ...report, warmup: PLAN.seedWarmup, rounds: PLAN.seedRounds };
  log(`  ${platform}: library ${median(report.wallMs.library).toFixed(1)} ms, hand-written ${median(report.wallMs.handWritten).toFixed(1)} ms, generic ${median(report.wallMs.generic).toFixed(1)} ms`);
}

// 2. Cold processes: each variant is a fresh node process that loads its modules and synthesizes.
log("2/5 seed scenario, cold processes");
const reference: Record<string, string> = {};
const modules: Record<string, { library: string[]; handWritten: string[] }> = {};
const coldOut = temporaryOutdir("cold");
const coldFile = join(coldOut.path, "stacks", STACK_ID, "cdk.tf.json");
function coldRun(label: string, path: string, args: string[], check: string | undefined, env?: NodeJS.ProcessEnv) {
  if (existsSync(coldFile)) rmSync(coldFile);
  const result = runNode<ColdReport>(script(path), args, env ? { env: { ...process.env, ...env } } : {});
  if (check !== undefined) {
    const written = readFileSync(coldFile, "utf8");
    if (written !== check) throw new Error(`${label}: the cold process wrote JSON that is not byte-identical to the library's in-process output`);
  }
  return result;
}
// The hand-written program's literals, written once per platform outside any timing.
const handWrittenPlan = (platform: AgentPlatform) => join(coldOut.path, `hand-written-${platform}.json`);
for (const platform of PLATFORMS) runNode(script("cold/write-hand-written-plan.js"), [platform, handWrittenPlan(platform)]);
for (const platform of PLATFORMS) {
  // Untimed discovery runs: which provider modules each program loads.
  const library = coldRun(`library (${platform})`, "cold/library.js", [platform, coldOut.path], undefined, { BENCH_LIST_MODULES: "1" });
  reference[platform] = readFileSync(coldFile, "utf8");
  const handWritten = coldRun(`hand-written (${platform})`, "cold/hand-written.js", [handWrittenPlan(platform), coldOut.path], reference[platform], { BENCH_LIST_MODULES: "1" });
  modules[platform] = { library: library.report.providerModules ?? [], handWritten: handWritten.report.providerModules ?? [] };
}
const coldVariants = (platform: AgentPlatform): { name: ColdVariant; path: string; args: string[]; check?: string }[] => [
  { name: "library", path: "cold/library.js", args: [platform, coldOut.path], check: reference[platform] },
  { name: "handWritten", path: "cold/hand-written.js", args: [handWrittenPlan(platform), coldOut.path], check: reference[platform] },
  { name: "emptyLibraryModules", path: "cold/empty-stack.js", args: [coldOut.path, ...modules[platform].library] },
  { name: "emptyPlatformModules", path: "cold/empty-stack.js", args: [coldOut.path, ...modules[platform].handWritten] },
];
const cold: BenchResults["cold"] = { platforms: {}, nodeOnly: [] };
for (const platform of PLATFORMS) cold.platforms[platform] = { library: [], handWritten: [], emptyLibraryModules: [], emptyPlatformModules: [], modules: modules[platform] };
for (let round = 0; round < PLAN.coldRounds; round++) {
  const runs = [
    ...PLATFORMS.flatMap((platform) => coldVariants(platform).map((variant) => ({ platform, ...variant }))),
    { platform: undefined, name: "nodeOnly" as const, path: "cold/node-only.js", args: [] as string[], check: undefined },
  ];
  for (const run of rotated(runs, round)) {
    const { wallMs, report } = coldRun(`${run.name} (${run.platform ?? "-"})`, run.path, run.args, run.check);
    const sample = { wallMs, ...report };
    if (run.platform === undefined) cold.nodeOnly.push(sample);
    else cold.platforms[run.platform][run.name as ColdVariant].push(sample);
  }
  if (round === 0 || round === PLAN.coldRounds - 1) log(`  round ${round + 1}/${PLAN.coldRounds}`);
}
const loadAttribution: BenchResults["loadAttribution"] = {};
for (const platform of PLATFORMS) {
  loadAttribution[platform] = [];
  for (let i = 0; i < PLAN.attributionRuns; i++) {
    loadAttribution[platform].push(runNode<BenchResults["loadAttribution"][string][number]>(script("cold/library-load-attribution.js"), [platform, coldOut.path]).report);
  }
}
coldOut.dispose();

// 3. Scaling: fleets of 10, 100 and 1,000 roles (50 tools, two agents per role). Each timing is a
//    child process of its own; per round and platform the sizes run up and back down again
//    (10, 100, 1,000, 100, 10), so that every ratio between sizes compares runs bracketing each
//    other in time. Peak RSS from separate children that do one synthesis and nothing else.
log("3/5 scaling");
const scaling: ScalingPoint[] = [];
const scalingRss: BenchResults["scalingRss"] = [];
const bracket = [...PLAN.scaleSizes, ...PLAN.scaleSizes.slice(0, -1).reverse()];
for (let round = 0; round < PLAN.scaleRounds; round++) {
  for (const platform of rotated(PLATFORMS, round)) {
    bracket.forEach((roles, position) => {
      const reps = PLAN.scaleReps[roles];
      // The generic floor once per size and round: on the way up.
      const withGeneric = position < PLAN.scaleSizes.length;
      const timed = runNode<{ libraryRuns: RunTime[]; genericRuns: RunTime[]; bytes: number; counts: ResourceCounts; fleet: FleetShape }>(
        script("workers/fleet.js"),
        ["time", platform, String(roles), String(reps), withGeneric ? "generic" : "library-only"],
      ).report;
      scaling.push({ round, position, platform, roles, reps, ...timed });
      log(`  round ${round + 1}, ${platform}, ${roles} roles: library ${median(timed.libraryRuns.map((r) => r.wallMs)).toFixed(0)} ms${withGeneric ? `, generic ${median(timed.genericRuns.map((r) => r.wallMs)).toFixed(0)} ms` : ""}, ${timed.counts.total} resources`);
    });
    for (const roles of PLAN.scaleSizes) {
      const rss = runNode<{ run: RunTime; maxRssKiB: number }>(script("workers/fleet.js"), ["rss", platform, String(roles)]).report;
      scalingRss.push({ round, platform, roles, run: rss.run, maxRssKiB: rss.maxRssKiB });
    }
    log(`  round ${round + 1}, ${platform}: peak RSS ${PLAN.scaleSizes.map((roles) => `${((scalingRss.find((x) => x.round === round && x.platform === platform && x.roles === roles)?.maxRssKiB ?? 0) / 1024).toFixed(0)} MiB`).join(" / ")}`);
  }
}
const toolVariation: BenchResults["toolVariation"] = [];
for (const platform of PLATFORMS) {
  for (const tools of PLAN.toolCounts) {
    const { report } = runNode<{ counts: ResourceCounts; fleet: FleetShape; bytes: number }>(script("workers/fleet.js"), ["count", platform, "100", String(tools)]);
    toolVariation.push({ platform, ...report });
  }
}

// 4. Import cost: a provider by its package root against the deep paths the library uses.
log("4/5 import cost");
const imports: BenchResults["imports"] = {};
const providerPackages = ["kubernetes", "docker", "vault"];
const deepFiles = (provider: string) => [...new Set([...modules.docker.library, ...modules.kubernetes.library])].filter((file) => file.includes(`@cdktf/provider-${provider}/`));
for (const provider of providerPackages) imports[provider] = { root: [], deep: [], deepModules: deepFiles(provider).length };
for (let round = 0; round < PLAN.importRounds; round++) {
  const runs = providerPackages.flatMap((provider) => [
    { provider, how: "root" as const, args: ["root", `@cdktf/provider-${provider}`] },
    { provider, how: "deep" as const, args: ["deep", ...deepFiles(provider)] },
  ]);
  for (const run of rotated(runs, round)) {
    const { wallMs, report } = runNode<{ cdktfMs: number; providerMs: number; maxRssKiB: number }>(script("cold/import-provider.js"), run.args);
    imports[run.provider][run.how].push({ wallMs, ...report });
  }
}

// 5. Diagnostics: stack traces captured by cdktf per synthesis, and the library's own work.
log("5/5 diagnostics");
const diagnostics: BenchResults["diagnostics"] = {};
for (const platform of PLATFORMS) {
  diagnostics[platform] = runNode<BenchResults["diagnostics"][string]>(script("workers/diagnose.js"), [platform, String(PLAN.diagnoseWarmup), String(PLAN.diagnoseRounds)]).report;
}

const results: BenchResults = {
  quick: QUICK,
  machine: machineAtStart,
  loadAverageAtEnd: describeMachine().loadAverage,
  durationSec: (Date.now() - started) / 1000,
  plan: PLAN,
  seedInProcess,
  cold,
  loadAttribution,
  scaling,
  scalingRss,
  toolVariation,
  imports,
  diagnostics,
};
const markdown = renderResults(results);
console.log(markdown);
writeFileSync(RESULTS_MD, resultsWithSections(RESULTS_MD, { synth: markdown }));
// Raw measurements, rounded to microseconds (and KiB), for anyone who wants other statistics.
const rounded = JSON.stringify(results, (_key, value) => (typeof value === "number" && !Number.isInteger(value) ? Math.round(value * 1000) / 1000 : value));
writeFileSync(RESULTS_JSON, `${rounded}\n`);
log(`wrote ${RESULTS_MD} and ${RESULTS_JSON} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
