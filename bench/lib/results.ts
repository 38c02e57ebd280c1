// Turns the raw measurements of bench/run.ts into bench/RESULTS.md. Every figure here is computed
// from the measurements passed in; the prose around them is fixed.
import type { ColdReport } from "../cold/report";
import type { Machine } from "./machine";
import type { FleetShape, ResourceCounts } from "./resources";
import { formatMedianIqr, formatMedianRange, summarize, type Summary } from "./stats";
import type { RunTime } from "./synth";

export type ColdVariant = "library" | "handWritten" | "emptyLibraryModules" | "emptyPlatformModules";
type ColdSample = ColdReport & { readonly wallMs: number };

/** One timing child of the scaling runs. */
export interface ScalingPoint {
  readonly round: number;
  /** Place in the round's up-and-down sequence of sizes (10, 100, 1,000, 100, 10). */
  readonly position: number;
  readonly platform: string;
  readonly roles: number;
  readonly reps: number;
  readonly libraryRuns: RunTime[];
  /** Empty on the way down (the generic floor runs once per size and round). */
  readonly genericRuns: RunTime[];
  readonly bytes: number;
  readonly counts: ResourceCounts;
  readonly fleet: FleetShape;
}

export interface BenchResults {
  readonly quick: boolean;
  readonly machine: Machine;
  readonly loadAverageAtEnd: [number, number, number];
  readonly durationSec: number;
  readonly plan: {
    readonly seedWarmup: number;
    readonly seedRounds: number;
    readonly coldRounds: number;
    readonly scaleSizes: number[];
    readonly scaleRounds: number;
    readonly scaleReps: Record<number, number>;
    readonly toolCounts: number[];
    readonly importRounds: number;
    readonly attributionRuns: number;
    readonly diagnoseWarmup: number;
    readonly diagnoseRounds: number;
  };
  readonly seedInProcess: { [platform: string]: { bytes: number; warmup: number; rounds: number; wallMs: Record<string, number[]>; cpuMs: Record<string, number[]> } };
  readonly cold: {
    platforms: { [platform: string]: Record<ColdVariant, ColdSample[]> & { modules: { library: string[]; handWritten: string[] } } };
    nodeOnly: ColdSample[];
  };
  readonly loadAttribution: { [platform: string]: { loadedMs: number; doneMs: number; modulesMs: Record<string, number>; loadedOnFirstUseMs: number }[] };
  readonly scaling: ScalingPoint[];
  readonly scalingRss: { round: number; platform: string; roles: number; run: RunTime; maxRssKiB: number }[];
  readonly toolVariation: { platform: string; counts: ResourceCounts; fleet: FleetShape; bytes: number }[];
  readonly imports: { [provider: string]: { root: ImportSample[]; deep: ImportSample[]; deepModules: number } };
  readonly diagnostics: {
    [platform: string]: {
      traceRuns: number;
      stackTraces: Record<string, { perSynth: number; msPerSynth: number; framesPerCapture: number; synthMs: number }>;
      decomposition: { depth: number; rounds: number; wallMs: Record<string, number[]> };
    };
  };
}

interface ImportSample {
  readonly wallMs: number;
  readonly cdktfMs: number;
  readonly providerMs: number;
  readonly maxRssKiB: number;
}

/** Rows of the cold-start attribution. */
const FIRST_USE = "of the above, loaded on first use during the first build";
const FIRST_BUILD = "first build + synth, without modules loaded on first use";

const TARGETS = { libraryOverHandWritten: 1.1, coldOverFloor: 1.5, growth1000Over100: 11, peakRssBytes: 1024 ** 3 };

const PLATFORM_NAME: Record<string, string> = { docker: "Docker", kubernetes: "Kubernetes" };
const VARIANT_NAME: Record<string, string> = {
  library: "library (`RapidClawStack`)",
  handWritten: "hand-written floor",
  generic: "generic floor",
  emptyLibraryModules: "empty stack + the library's provider modules",
  emptyPlatformModules: "empty stack + the platform's provider modules",
  nodeOnly: "node alone (start and exit)",
};

/** Per-round ratios a[i] / b[i]. */
const paired = (a: number[], b: number[]) => a.map((value, i) => value / b[i]);
const ratio = (s: Summary, digits = 2) => `${s.median.toFixed(digits)}× (IQR ${s.q1.toFixed(digits)}–${s.q3.toFixed(digits)})`;
const ratioRange = (s: Summary, digits = 2) => `${s.median.toFixed(digits)}× (${s.min.toFixed(digits)}–${s.max.toFixed(digits)})`;
const mib = (kib: number) => kib / 1024;
const yesNo = (ok: boolean) => (ok ? "**met**" : "**missed**");
const medianOf = (values: number[]) => summarize(values).median;

/** What the library creates, per resource type: what multiplies it, and why it exists. */
const RESOURCE_MODEL: Record<string, { scope: keyof Multipliers; why: string }[]> = {
  docker: [
    { scope: "fixed", why: "2 × `docker_network` (the proxy's egress network and the network of the proxy's event follower and its Redis), 3 × `docker_image` and `docker_container` (Squid; `rapidclaw proxy-events`, which follows the proxy's log and keeps the alert windows; the bundled Redis those windows live in), and in Vault the KV v2 `vault_mount`, its `vault_kv_secret_backend_v2` settings and the AppRole `vault_auth_backend`: one firewall, one of each" },
    { scope: "roles", why: "`docker_network`: the role's own internal network (its subnet is what the role's AppRole login is bound to); the proxy's address on it is one entry in the proxy container, not a resource" },
    { scope: "agentImages", why: "`docker_image`: one per distinct agent image, shared by every agent that runs it" },
    { scope: "keyedTools", why: "`time_rotating` (the rotation schedule) and `vault_kv_secret_v2` (the key and the tool's config): one key per tool, whatever the number of roles using it (plus one `ephemeral` `random_password` block, which is not a resource and holds no state)" },
    { scope: "rolesWithKeys", why: "`vault_policy` (read on exactly the role's keys) and `vault_approle_auth_backend_role` (its login): one pair per role that holds at least one key; a role's tools are lines in its policy document, not resources" },
    { scope: "agents", why: "`docker_container`: the agent itself; its role profile travels inside it as uploaded files, not as resources" },
  ],
  kubernetes: [
    { scope: "fixed", why: "the namespace and the agents' default-deny NetworkPolicy; the proxy's ConfigMap, Deployment, Service, PodDisruptionBudget and NetworkPolicy; for its event follower (a sidecar of the proxy pods) a ConfigMap with its firewall file, two ConfigMaps holding the gateway program in parts under 1 MiB, and a NetworkPolicy; the bundled Redis's Deployment, Service and NetworkPolicy; Vault's mount, KV settings, Kubernetes auth backend and its config: one firewall, one of each" },
    { scope: "keyedTools", why: "`time_rotating` and `vault_kv_secret_v2`, as on Docker: one key per tool" },
    { scope: "roles", why: "the role's egress NetworkPolicy (its own proxy port), its ServiceAccount (the identity Vault binds) and the ConfigMap of its profile documents; the role's proxy port is one entry in the proxy's Service, Deployment and NetworkPolicy, not a resource" },
    { scope: "rolesWithKeys", why: "`vault_policy` and `vault_kubernetes_auth_backend_role`, as on Docker" },
    { scope: "agents", why: "`kubernetes_deployment_v1`: the agent's pods" },
  ],
};
interface Multipliers {
  fixed: number;
  agentImages: number;
  keyedTools: number;
  roles: number;
  rolesWithKeys: number;
  agents: number;
}
const PER_UNIT: Record<string, Multipliers> = {
  docker: { fixed: 11, agentImages: 1, keyedTools: 2, roles: 1, rolesWithKeys: 2, agents: 1 },
  kubernetes: { fixed: 18, agentImages: 0, keyedTools: 2, roles: 3, rolesWithKeys: 2, agents: 1 },
};
function modelledResources(platform: string, fleet: FleetShape): number {
  const k = PER_UNIT[platform];
  return k.fixed + k.agentImages * fleet.agentImages + k.keyedTools * fleet.keyedTools + k.roles * fleet.roles + k.rolesWithKeys * fleet.rolesWithKeys + k.agents * fleet.agents;
}

export function renderResults(r: BenchResults): string {
  const out: string[] = [];
  const line = (text = "") => out.push(text);
  const table = (head: string[], rows: string[][]) => {
    line(`| ${head.join(" | ")} |`);
    line(`|${head.map(() => "---").join("|")}|`);
    for (const row of rows) line(`| ${row.join(" | ")} |`);
    line();
  };
  const platforms = Object.keys(r.seedInProcess);
  const m = r.machine;

  // ---- computed figures used in several places
  const seedRatios = Object.fromEntries(
    platforms.map((p) => {
      const s = r.seedInProcess[p];
      return [
        p,
        {
          handWritten: summarize(paired(s.wallMs.library, s.wallMs.handWritten)),
          generic: summarize(paired(s.wallMs.library, s.wallMs.generic)),
          handWrittenCpu: summarize(paired(s.cpuMs.library, s.cpuMs.handWritten)),
          genericCpu: summarize(paired(s.cpuMs.library, s.cpuMs.generic)),
        },
      ];
    }),
  );
  const coldWall = (p: string, v: ColdVariant) => r.cold.platforms[p][v].map((s) => s.wallMs);
  const coldRatios = Object.fromEntries(
    platforms.map((p) => [
      p,
      {
        libraryModules: summarize(paired(coldWall(p, "library"), coldWall(p, "emptyLibraryModules"))),
        platformModules: summarize(paired(coldWall(p, "library"), coldWall(p, "emptyPlatformModules"))),
        handWritten: summarize(paired(coldWall(p, "library"), coldWall(p, "handWritten"))),
        handWrittenOverFloor: summarize(paired(coldWall(p, "handWritten"), coldWall(p, "emptyPlatformModules"))),
      },
    ]),
  );
  const sizes = [...new Set(r.scaling.map((s) => s.roles))].sort((a, b) => a - b);
  const rounds = [...new Set(r.scaling.map((s) => s.round))].sort((a, b) => a - b);
  const point = (p: string, roles: number, round: number) => r.scaling.find((s) => s.platform === p && s.roles === roles && s.round === round) as ScalingPoint;
  const libraryMs = (s: ScalingPoint) => medianOf(s.libraryRuns.map((x) => x.wallMs));
  const genericMs = (s: ScalingPoint) => medianOf(s.genericRuns.map((x) => x.wallMs));
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
  /** Per round: the mean time of the larger size over the mean time of the smaller one (runs that bracket each other in time). */
  const roundMean = (p: string, roles: number, round: number) => mean(r.scaling.filter((s) => s.platform === p && s.roles === roles && s.round === round).map(libraryMs));
  const growth = (p: string, small: number, large: number) => summarize(rounds.map((round) => roundMean(p, large, round) / roundMean(p, small, round)));
  const largest = sizes[sizes.length - 1];
  const peakRss = (p: string, roles: number) => summarize(r.scalingRss.filter((s) => s.platform === p && s.roles === roles).map((s) => s.maxRssKiB * 1024));
  const modelHolds = [...r.scaling, ...r.toolVariation].every((s) => modelledResources(s.platform, s.fleet) === s.counts.total);

  line("# Synth benchmark: speed, memory and scaling");
  line();
  line(`Written by \`npm run bench\` (bench/run.ts) on ${m.date}; do not edit by hand. Raw measurements: bench/results.json.${r.quick ? " **Quick mode (BENCH_QUICK=1): too few repetitions to rely on.**" : ""}`);
  line();
  table(
    ["CPU", "cores", "memory", "Node", "OS", "load average (1, 5, 15 min) at start → end", "run time"],
    [[m.cpuModel, String(m.cores), `${m.memoryGiB.toFixed(1)} GiB`, m.node, m.os, `${m.loadAverage.map((x) => x.toFixed(2)).join(", ")} → ${r.loadAverageAtEnd.map((x) => x.toFixed(2)).join(", ")}`, `${(r.durationSec / 60).toFixed(1)} min`]],
  );
  line("The machine is shared and noisy (other jobs run on its two cores; see the load average): every comparison below is measured side by side in one run, alternating the variants, and reported as the median of per-round ratios with its interquartile range (IQR) or full range.");
  line();

  // ---- targets
  line("## Targets");
  line();
  const targetRows: string[][] = [];
  for (const p of platforms) {
    const s = seedRatios[p].handWritten;
    targetRows.push([`library ≤ ${TARGETS.libraryOverHandWritten.toFixed(2)}× hand-written floor, in-process (${PLATFORM_NAME[p]})`, ratio(s), yesNo(s.median <= TARGETS.libraryOverHandWritten)]);
  }
  for (const p of platforms) targetRows.push([`library ÷ generic floor, in-process (${PLATFORM_NAME[p]}; report only)`, ratio(seedRatios[p].generic), "—"]);
  for (const p of platforms) {
    const s = coldRatios[p].libraryModules;
    targetRows.push([`cold synth ≤ ${TARGETS.coldOverFloor.toFixed(1)}× empty-stack floor with the same provider modules (${PLATFORM_NAME[p]})`, ratio(s), yesNo(s.median <= TARGETS.coldOverFloor)]);
  }
  for (const p of platforms) {
    const s = coldRatios[p].platformModules;
    targetRows.push([`cold synth ÷ empty-stack floor with only the platform's provider modules (${PLATFORM_NAME[p]}; stricter, report only)`, ratio(s), s.median <= TARGETS.coldOverFloor ? "within 1.5×" : "over 1.5×"]);
  }
  if (sizes.includes(100) && sizes.includes(1000)) {
    for (const p of platforms) {
      const s = growth(p, 100, 1000);
      targetRows.push([`t(1,000 roles) ÷ t(100 roles) ≤ ${TARGETS.growth1000Over100} (${PLATFORM_NAME[p]})`, `${ratioRange(s)} over ${s.n} rounds`, yesNo(s.median <= TARGETS.growth1000Over100)]);
    }
  }
  for (const p of platforms) {
    const s = peakRss(p, largest);
    targetRows.push([`peak RSS ≤ 1 GiB at ${largest.toLocaleString("en-US")} roles (${PLATFORM_NAME[p]})`, `${(s.median / 1024 ** 2).toFixed(0)} MiB (max ${(s.max / 1024 ** 2).toFixed(0)})`, yesNo(s.max <= TARGETS.peakRssBytes)]);
  }
  targetRows.push(["resources grow with roles + tools + agents, never roles × tools", modelHolds ? "every count equals the linear model below, at every size and tool count" : "a count differs from the linear model: see Scaling", yesNo(modelHolds)]);
  table(["target", "measured", ""], targetRows);
  line("Figures are wall-clock times; CPU times (user + system of the measuring process) are given beside them in section 1 as a check that scheduling noise did not decide a ratio.");
  line();

  // ---- 1. seed in-process
  line("## 1. The example scenario, in-process");
  line();
  line(
    `The reference example: \`RapidClawStack\` with \`firewallScenario(AgentPlatform.DOCKER)\` and \`firewallScenario(AgentPlatform.KUBERNETES)\` (six tools, two roles, two agents). ` +
      "The timed unit, identical for every variant: `new App({ outdir })` into a temporary directory, build the stack, `app.synth()` (validations, the stack's JSON and the manifest written to disk). " +
      "The **hand-written floor** (bench/floors/hand-written.ts) is the plain cdktf program a user would write by hand for the same JSON, without the library: every resource and provider through the same prebuilt typed class by deep import, configured with literals (documents, references as `${…}` text), the same outputs, assets and stack overrides, under plain `Construct` scopes giving every element the library's construct path. Its literals are read off the library's construct tree before any timing, so it cannot drift from the library; only constructing the typed classes and synthesizing is timed. " +
      "The **generic floor** (bench/floors/generic.ts) rebuilds the library's JSON with cdktf's generic `TerraformResource` (`terraformResourceType`, every attribute by `addOverride`), a bare `TerraformProvider` and `TerraformOutput`. " +
      "**Every run of both floors is compared byte for byte with the library's JSON; the benchmark stops if one differs.** " +
      `One process per platform; ${r.seedInProcess[platforms[0]].warmup} warm-up rounds, then ${r.seedInProcess[platforms[0]].rounds} rounds, each running the three variants once in a rotating order.`,
  );
  line();
  const seedRows: string[][] = [];
  for (const p of platforms) {
    const s = r.seedInProcess[p];
    for (const v of ["library", "handWritten", "generic"]) {
      const wall = summarize(s.wallMs[v]);
      const cpu = summarize(s.cpuMs[v]);
      const versus =
        v === "library" ? "—" : `${ratio(v === "handWritten" ? seedRatios[p].handWritten : seedRatios[p].generic)} wall; ${ratio(v === "handWritten" ? seedRatios[p].handWrittenCpu : seedRatios[p].genericCpu)} CPU`;
      seedRows.push([PLATFORM_NAME[p], VARIANT_NAME[v], `${(s.bytes / 1024).toFixed(1)} KiB`, formatMedianIqr(wall, 1), formatMedianIqr(cpu, 1), `${wall.min.toFixed(1)}–${wall.max.toFixed(1)}`, versus]);
    }
  }
  table(["platform", "variant", "JSON", "wall ms, median (IQR)", "CPU ms, median (IQR)", "wall range", "library ÷ variant, per-round median (IQR)"], seedRows);

  // ---- 2. cold
  line("## 2. The example scenario, cold processes");
  line();
  line(
    "Each sample is a fresh `node` process running compiled JavaScript (no tsx): it loads its modules, synthesizes the example into a temporary directory with `app.synth()`, and exits. " +
      "Wall time is measured by the parent from spawn to exit; *modules loaded* and *done* are `performance.now()` inside the child (milliseconds since the process started). " +
      "The library's cold runs and the hand-written ones are checked byte for byte against the in-process JSON. " +
      "Two cold-start floors, both loading only cdktf and provider classes by deep path and synthesizing an empty stack: with **the provider modules the library's process loads** (the target's floor; listed below), and with **only the modules the hand-written program of that platform loads**. " +
      `${r.plan.coldRounds} rounds, all variants of both platforms once per round in a rotating order.`,
  );
  line();
  const coldRows: string[][] = [];
  for (const p of platforms) {
    for (const v of ["library", "handWritten", "emptyLibraryModules", "emptyPlatformModules"] as ColdVariant[]) {
      const samples = r.cold.platforms[p][v];
      const versus =
        v === "library" ? "—" : v === "handWritten" ? ratio(coldRatios[p].handWritten) : v === "emptyLibraryModules" ? ratio(coldRatios[p].libraryModules) : ratio(coldRatios[p].platformModules);
      coldRows.push([
        PLATFORM_NAME[p],
        VARIANT_NAME[v],
        formatMedianIqr(summarize(samples.map((s) => s.wallMs)), 0),
        `${summarize(samples.map((s) => s.wallMs)).min.toFixed(0)}–${summarize(samples.map((s) => s.wallMs)).max.toFixed(0)}`,
        formatMedianIqr(summarize(samples.map((s) => s.loadedMs)), 0),
        formatMedianIqr(summarize(samples.map((s) => s.doneMs - s.loadedMs)), 0),
        mib(summarize(samples.map((s) => s.maxRssKiB)).median).toFixed(0),
        versus,
      ]);
    }
  }
  const nodeOnly = summarize(r.cold.nodeOnly.map((s) => s.wallMs));
  coldRows.push(["—", VARIANT_NAME.nodeOnly, formatMedianIqr(nodeOnly, 0), `${nodeOnly.min.toFixed(0)}–${nodeOnly.max.toFixed(0)}`, "—", "—", mib(summarize(r.cold.nodeOnly.map((s) => s.maxRssKiB)).median).toFixed(0), "—"]);
  table(["platform", "variant", "wall ms, median (IQR)", "wall range", "modules loaded at ms", "build + synth ms", "peak RSS MiB", "library ÷ variant (per-round median, IQR)"], coldRows);
  for (const p of platforms) {
    const mods = r.cold.platforms[p].modules;
    const short = (files: string[]) => files.map((f) => f.replace(/.*node_modules[/\\]/, "").replace(/[/\\]index\.js$/, "")).join(", ");
    const extra = mods.library.filter((f) => !mods.handWritten.includes(f));
    line(`- ${PLATFORM_NAME[p]}: the library's process loads ${mods.library.length} provider modules, the hand-written program ${mods.handWritten.length}${extra.length > 0 ? `; the library's extra ones: ${short(extra)}` : ""}.`);
  }
  line();
  line("**Where a cold start goes.** The library's cold run once more, with every module's own compile-and-run time recorded (a hook on `Module.prototype._compile`, children excluded; the hook adds a little). Median of " + `${r.plan.attributionRuns} runs per platform, in ms:`);
  line();
  const groupOf = (key: string, p: string): string => {
    if (key === "cdktf" || key === "constructs") return "cdktf + constructs";
    if (key.startsWith("@cdktf/provider-")) {
      const own = p === "docker" ? /provider-(docker|vault|random|time)\// : /provider-(kubernetes|vault|random|time)\//;
      return own.test(key) ? "provider classes the platform uses" : "provider classes of the other platform";
    }
    if (key === "library (src)") return "library code";
    if (key === "bench") return "bench entry";
    return `${key} (library dependency)`;
  };
  const attributionRows: string[][] = [];
  const groups = new Set<string>();
  const perPlatform: Record<string, Record<string, number>> = {};
  for (const p of platforms) {
    const runs = r.loadAttribution[p];
    const grouped = runs.map((run) => {
      const g: Record<string, number> = {};
      for (const [key, ms] of Object.entries(run.modulesMs)) g[groupOf(key, p)] = (g[groupOf(key, p)] ?? 0) + ms;
      return g;
    });
    perPlatform[p] = {};
    for (const g of grouped) Object.keys(g).forEach((k) => groups.add(k));
    for (const k of groups) perPlatform[p][k] = medianOf(grouped.map((g) => g[k] ?? 0));
    perPlatform[p][FIRST_USE] = medianOf(runs.map((run) => run.loadedOnFirstUseMs));
    perPlatform[p][FIRST_BUILD] = medianOf(runs.map((run) => run.doneMs - run.loadedMs - run.loadedOnFirstUseMs));
    perPlatform[p]["process start to done"] = medianOf(runs.map((run) => run.doneMs));
  }
  const order = [...groups].sort((a, b) => perPlatform[platforms[0]][b] - perPlatform[platforms[0]][a]);
  for (const k of [...order, FIRST_USE, FIRST_BUILD, "process start to done"]) attributionRows.push([k, ...platforms.map((p) => (perPlatform[p][k] ?? 0).toFixed(0))]);
  table(["part", ...platforms.map((p) => PLATFORM_NAME[p])], attributionRows);

  // ---- 3. scaling
  line("## 3. Scaling");
  line();
  const reps = sizes.map((n) => `${n.toLocaleString("en-US")} roles: ${r.plan.scaleReps[n]}`).join(", ");
  line(
    "Generated fleets (bench/fleet.ts): 50 tools (every second holds a key, every third has a rate limit, every fifth is read-only), two agents per role (three images in turn), roles holding six tools each at READ/WRITE/EXECUTE (every fifth role only tools without keys), every third role without egress beyond the model hosts and the others with three hosts of their own. " +
      `Each timing is a child process of its own, which warms up on the example five times and then times its synthesis (${reps} repetitions per process; the process's median is its value), and on the way up the generic floor on the same JSON (checked byte for byte). ` +
      `Per round and platform the sizes run up and back down (${[...sizes, ...sizes.slice(0, -1).reverse()].map((n) => n.toLocaleString("en-US")).join(", ")}), and a growth ratio is the round's mean time of the larger size over the mean of the smaller one, so that both sides bracket each other in time; ${r.plan.scaleRounds} rounds. ` +
      "**Peak RSS** is `process.resourceUsage().maxRSS` of a separate child that loads the modules, synthesizes the fleet once and exits (one per size, platform and round).",
  );
  line();
  const scaleRows: string[][] = [];
  for (const p of platforms) {
    for (const n of sizes) {
      const points = r.scaling.filter((s) => s.platform === p && s.roles === n);
      const first = points[0];
      const lib = summarize(points.map(libraryMs));
      const gen = summarize(points.filter((s) => s.genericRuns.length > 0).map(genericMs));
      const rss = summarize(r.scalingRss.filter((s) => s.platform === p && s.roles === n).map((s) => s.maxRssKiB));
      scaleRows.push([
        PLATFORM_NAME[p],
        n.toLocaleString("en-US"),
        String(first.fleet.agents),
        String(first.counts.total),
        (first.counts.total / n).toFixed(2),
        `${(first.bytes / 1024 ** 2).toFixed(1)}`,
        formatMedianRange(lib, 0),
        formatMedianRange(gen, 0),
        (lib.median / gen.median).toFixed(2),
        (lib.median / first.counts.total).toFixed(2),
        formatMedianRange({ ...rss, median: mib(rss.median), min: mib(rss.min), max: mib(rss.max), q1: mib(rss.q1), q3: mib(rss.q3) }, 0),
      ]);
    }
  }
  table(["platform", "roles", "agents", "resources", "resources per role", "JSON MiB", "library ms, median (range)", "generic floor ms", "library ÷ generic", "library ms per resource", "peak RSS MiB, median (range)"], scaleRows);
  const growthRows: string[][] = [];
  for (const p of platforms) {
    for (let i = 1; i < sizes.length; i++) {
      const small = sizes[i - 1];
      const large = sizes[i];
      const resourcesSmall = point(p, small, rounds[0]).counts.total;
      const resourcesLarge = point(p, large, rounds[0]).counts.total;
      growthRows.push([PLATFORM_NAME[p], `${large.toLocaleString("en-US")} ÷ ${small.toLocaleString("en-US")} roles`, ratioRange(growth(p, small, large)), `${(resourcesLarge / resourcesSmall).toFixed(2)}×`, `${(point(p, large, rounds[0]).bytes / point(p, small, rounds[0]).bytes).toFixed(2)}×`]);
    }
  }
  table(["platform", "sizes", "time ratio, median of rounds (range)", "resources ratio", "JSON bytes ratio"], growthRows);

  line("### What each role, tool and agent costs");
  line();
  line("Every resource is read on every `plan` and `apply` (one or more provider API calls), so the library creates one only where something must exist on its own. The counts measured above (and below, for other tool counts) equal exactly this model:");
  line();
  for (const p of platforms) {
    const k = PER_UNIT[p];
    const terms = (Object.keys(k) as (keyof Multipliers)[]).filter((key) => k[key] !== 0).map((key) => (key === "fixed" ? String(k.fixed) : `${k[key]} × ${key}`));
    line(`**${PLATFORM_NAME[p]}: resources = ${terms.join(" + ")}**`);
    line();
    table(
      ["per", "resources", "what and why"],
      RESOURCE_MODEL[p].map((entry) => [entry.scope, String(k[entry.scope]), entry.why]),
    );
  }
  const verifyRows = [...r.scaling.filter((s) => s.round === rounds[0] && s.genericRuns.length > 0), ...r.toolVariation].map((s) => [
    PLATFORM_NAME[s.platform],
    String(s.fleet.roles),
    String(s.fleet.tools),
    String(s.fleet.keyedTools),
    String(s.fleet.rolesWithKeys),
    String(s.fleet.agents),
    String(s.fleet.agentImages),
    String(s.counts.total),
    String(modelledResources(s.platform, s.fleet)),
    String(s.counts.ephemeral),
    `${(s.bytes / 1024 ** 2).toFixed(2)}`,
  ]);
  table(["platform", "roles", "tools", "keyed tools", "roles with keys", "agents", "agent images", "resources measured", "model", "ephemeral blocks", "JSON MiB"], verifyRows);
  line(
    "A tool costs resources only when it has a key (2: rotation and secret), once for the whole fleet; a role's tools are entries in its policy and profile documents, never resources, so resources never grow with roles × tools. " +
      "The JSON's *bytes* do grow with roles × tools: each role's profile document lists every tool of the fleet (allowed ones with their limits, the rest as denied), and on Docker each agent container carries its role's profile (JSON and YAML). " +
      "Compare the JSON size at 100 roles across the tool counts above.",
  );
  line();

  // ---- 4. imports
  line("## 4. Import cost: provider package root against deep paths");
  line();
  line(
    "A fresh process loads cdktf, then one provider either by `require(\"@cdktf/provider-x\")` or by the deep paths the library uses (`@cdktf/provider-x/lib/<resource>`); load times are measured inside the process with `process.hrtime`, wall time by the parent. " +
      `${r.plan.importRounds} rounds, all variants in a rotating order.`,
  );
  line();
  const importRows = Object.entries(r.imports).map(([provider, data]) => {
    const root = summarize(data.root.map((s) => s.providerMs));
    const deep = summarize(data.deep.map((s) => s.providerMs));
    const per = summarize(paired(data.root.map((s) => s.providerMs), data.deep.map((s) => s.providerMs)));
    return [
      `@cdktf/provider-${provider}`,
      formatMedianIqr(root, 0),
      `${formatMedianIqr(deep, 0)} (${data.deepModules} modules)`,
      ratio(per, 1),
      `${summarize(data.root.map((s) => s.wallMs)).median.toFixed(0)} / ${summarize(data.deep.map((s) => s.wallMs)).median.toFixed(0)}`,
      `${mib(summarize(data.root.map((s) => s.maxRssKiB)).median).toFixed(0)} / ${mib(summarize(data.deep.map((s) => s.maxRssKiB)).median).toFixed(0)}`,
    ];
  });
  const cdktfLoad = summarize(Object.values(r.imports).flatMap((d) => [...d.root, ...d.deep].map((s) => s.cdktfMs)));
  table(["provider", "root: load ms, median (IQR)", "deep paths: load ms", "root ÷ deep (per round)", "process wall ms, root / deep", "peak RSS MiB, root / deep"], importRows);
  line(`Loading cdktf itself, before the provider, took ${formatMedianIqr(cdktfLoad, 0)} ms in the same processes.`);
  line();

  // ---- 5. diagnostics
  line("## 5. Where the in-process time goes");
  line();
  line(
    "cdktf records a full stack trace (`Error.captureStackTrace` with no depth limit, formatted to text) for every token it creates and for every output-reference object of a typed provider class; typed classes create those objects eagerly in their constructors, one per nested block of the resource's schema. " +
      `A separate diagnostic process wraps that function to count the captures and time them (warm, ${r.diagnostics[platforms[0]].traceRuns} synths per variant, one variant after the other; the synth times in this table are only indicative):`,
  );
  line();
  const diagRows: string[][] = [];
  for (const p of platforms) {
    for (const [v, d] of Object.entries(r.diagnostics[p].stackTraces)) {
      diagRows.push([PLATFORM_NAME[p], VARIANT_NAME[v], d.perSynth.toFixed(0), d.framesPerCapture.toFixed(1), d.msPerSynth.toFixed(2), d.synthMs.toFixed(1), d.synthMs > 0 ? `${((100 * d.msPerSynth) / d.synthMs).toFixed(0)} %` : "—"]);
    }
  }
  table(["platform", "variant", "stack traces per synth", "frames per trace", "ms in them per synth", "synth ms", "share"], diagRows);
  line(
    "**The library's extra time, taken apart in place.** The same diagnostic process then alternates, round by round, the library, the hand-written floor, and the hand-written floor with the library's extra work added step by step: called as many frames deeper as the library's constructs make each stack trace, then also validating and planning the example (`FirewallSpec.fromProps`), then also rendering its documents (squid.conf, role profiles as JSON and YAML, Vault policies). " +
      `Per-round differences from the hand-written floor, median (IQR), ms; ${r.diagnostics[platforms[0]].decomposition.rounds} rounds:`,
  );
  line();
  const stepNames: Record<string, string> = {
    deeper: "hand-written, frames deeper",
    deeperValidated: "… + validate and plan",
    deeperValidatedRendered: "… + render the documents",
    library: "library",
  };
  const decompositionRows: string[][] = [];
  for (const p of platforms) {
    const d = r.diagnostics[p].decomposition;
    const base = d.wallMs.handWritten;
    decompositionRows.push([PLATFORM_NAME[p], "hand-written floor", formatMedianIqr(summarize(base), 2), "—"]);
    for (const step of ["deeper", "deeperValidated", "deeperValidatedRendered", "library"]) {
      const label = step === "deeper" ? `hand-written, ${d.depth} frames deeper` : stepNames[step];
      decompositionRows.push([PLATFORM_NAME[p], label, formatMedianIqr(summarize(d.wallMs[step]), 2), formatMedianIqr(summarize(d.wallMs[step].map((v, i) => v - base[i])), 2)]);
    }
  }
  table(["platform", "variant", "wall ms, median (IQR)", "minus hand-written, per round: median (IQR)"], decompositionRows);
  line("Differences of a few tenths of a millisecond are at the level of this machine's noise (see the IQRs); read them as orders of magnitude.");
  line();

  // ---- findings
  line("## Findings");
  line();
  for (const finding of findings(r, { seedRatios, coldRatios, perPlatform, growth, peakRss, sizes, largest, modelHolds })) line(`- ${finding}`);
  line();

  // ---- method
  line("## Method and caveats");
  line();
  line(`- Repetitions: seed in-process ${r.plan.seedWarmup} warm-up + ${r.plan.seedRounds} rounds per platform; cold ${r.plan.coldRounds} rounds; scaling ${r.plan.scaleRounds} rounds with ${reps} repetitions per process (fewer at 1,000 roles to keep the run short); tool-count variation 1 run each; imports ${r.plan.importRounds} rounds; load attribution ${r.plan.attributionRuns} runs per platform; diagnostics ${r.plan.diagnoseWarmup} warm-up + ${r.plan.diagnoseRounds} rounds per platform.`);
  line("- Everything runs from JavaScript compiled by `tsc -p bench/tsconfig.json` into dist/bench-build (the library's sources included), never through tsx.");
  line("- No forced garbage collection between runs: a `gc()` before each run made every variant about three times slower (the heap shrinks and is grown again within the run), which would measure something no user runs. Collections fall where they fall; rotation spreads them over the variants.");
  line("- Ratios are medians of per-round ratios (each round measures every variant once, within a few hundred milliseconds), so slow periods of the shared machine affect both sides of a ratio.");
  line("- The hand-written floor is given every value as a literal, so the library's validation, planning, rendering and its check of the stack's layers (`verifyLayers`) count against the library; its construct tree mirrors the library's because byte-identical JSON requires equal construct paths. Its cold process reads those literals from a JSON file (as a program parses its own source), which counts in its load time.");
  line("- Scaling times include `app.synth()` writing the JSON (up to tens of MiB) to a temporary directory.");
  line("- The floors must produce the library's JSON byte for byte (the benchmark names the first differing character); both are read off the library's output, and `npm test` checks them on both platforms (test/bench-floors.test.ts), so a construct they cannot replay yet fails there, not in a bench run.");
  line();
  return out.join("\n");
}

interface Computed {
  seedRatios: Record<string, { handWritten: Summary; generic: Summary }>;
  coldRatios: Record<string, { libraryModules: Summary; platformModules: Summary; handWrittenOverFloor: Summary }>;
  perPlatform: Record<string, Record<string, number>>;
  growth: (p: string, small: number, large: number) => Summary;
  peakRss: (p: string, roles: number) => Summary;
  sizes: number[];
  largest: number;
  modelHolds: boolean;
}

/** Sentences about what met and missed its target, and why, with the figures measured. */
function findings(r: BenchResults, c: Computed): string[] {
  const out: string[] = [];
  const platforms = Object.keys(r.seedInProcess);
  for (const p of platforms) {
    const s = c.seedRatios[p].handWritten;
    const d = r.diagnostics[p];
    const base = d.decomposition.wallMs.handWritten;
    const minus = (step: string) => medianOf(d.decomposition.wallMs[step].map((v, i) => v - base[i]));
    out.push(
      `${PLATFORM_NAME[p]}, in-process: the library takes ${s.median.toFixed(2)}× the hand-written floor (IQR ${s.q1.toFixed(2)}–${s.q3.toFixed(2)}; target ≤ ${TARGETS.libraryOverHandWritten.toFixed(2)}×: ${s.median <= TARGETS.libraryOverHandWritten ? "met" : "missed"}). ` +
        `Taken apart in place (section 5): ${minus("library").toFixed(2)} ms more per synth than the floor, of which the ${d.decomposition.depth} extra stack frames of its construct layers cost ${minus("deeper").toFixed(2)} ms ` +
        `(cdktf's ${d.stackTraces.library.perSynth.toFixed(0)} stack traces per synth each grow from ${d.stackTraces.handWritten.framesPerCapture.toFixed(1)} to ${d.stackTraces.library.framesPerCapture.toFixed(1)} frames), ` +
        `validation and planning bring it to ${minus("deeperValidated").toFixed(2)} ms and rendering the documents to ${minus("deeperValidatedRendered").toFixed(2)} ms` +
        (minus("library") - minus("deeperValidatedRendered") > 0.1
          ? `; the remaining ${(minus("library") - minus("deeperValidatedRendered")).toFixed(2)} ms is the library's own construct bookkeeping. `
          : ", which accounts for all of it within this machine's noise. ") +
        (s.median > TARGETS.libraryOverHandWritten
          ? (() => {
              const needed = medianOf(r.seedInProcess[p].wallMs.library) - TARGETS.libraryOverHandWritten * medianOf(r.seedInProcess[p].wallMs.handWritten);
              const ownWork = minus("deeperValidatedRendered") - minus("deeper");
              return `Meeting ${TARGETS.libraryOverHandWritten.toFixed(2)}× would take about ${needed.toFixed(2)} ms per synth off the library (medians); its validation, planning and rendering cost ${ownWork.toFixed(2)} ms in place. `;
            })()
          : "") +
        `The generic floor is ${c.seedRatios[p].generic.median.toFixed(2)}× faster than the library: the typed provider classes, which the library and the hand-written floor both use, spend ${d.stackTraces.handWritten.msPerSynth.toFixed(1)} ms of a ${d.stackTraces.handWritten.synthMs.toFixed(1)} ms hand-written synth on stack traces alone, the generic classes none.`,
    );
  }
  for (const p of platforms) {
    const s = c.coldRatios[p].libraryModules;
    const a = c.perPlatform[p];
    const deps = Object.entries(a).filter(([k]) => k.endsWith("(library dependency)"));
    const depText = deps.map(([k, v]) => `${k.replace(" (library dependency)", "")} ${v.toFixed(0)} ms`).join(", ");
    const other = a["provider classes of the other platform"] ?? 0;
    out.push(
      `${PLATFORM_NAME[p]}, cold: ${s.median.toFixed(2)}× the empty-stack floor with the same provider modules (target ≤ ${TARGETS.coldOverFloor}×: ${s.median <= TARGETS.coldOverFloor ? "met" : "missed"}); ` +
        `${c.coldRatios[p].platformModules.median.toFixed(2)}× the floor with only the ${PLATFORM_NAME[p]} modules. The difference is what the library loads and runs besides cdktf: its dependencies (${depText}), ` +
        `its own code (${(a["library code"] ?? 0).toFixed(0)} ms to load), and a first build + synth that also runs validation, planning, rendering and the check of the stack's layers (\`verifyLayers\`) cold ` +
        `(${(a[FIRST_BUILD] ?? 0).toFixed(0)} ms, in the instrumented runs, against ${summarize(r.cold.platforms[p].handWritten.map((x) => x.doneMs - x.loadedMs)).median.toFixed(0)} ms for the hand-written program's first build + synth)` +
        (other > 1 ? `; it also loads provider classes of the other platform (${other.toFixed(0)} ms), because the constructs import both platforms' classes.` : ".") +
        ` Even the hand-written program is ${c.coldRatios[p].handWrittenOverFloor.median.toFixed(2)}× the floor with the platform's modules (it synthesizes the example, the floor an empty stack). ` +
        (s.median > TARGETS.coldOverFloor
          ? (() => {
              const needed = medianOf(r.cold.platforms[p].library.map((x) => x.wallMs)) - TARGETS.coldOverFloor * medianOf(r.cold.platforms[p].emptyLibraryModules.map((x) => x.wallMs));
              const own = a["library code"] ?? 0;
              return (
                `Meeting ${TARGETS.coldOverFloor}× would take about ${needed.toFixed(0)} ms off the library's cold run (medians); loading the library's own code takes ${own.toFixed(0)} ms (valid typed props are checked without zod, which is no longer loaded), ` +
                `so most of the gap is the first build + synth, which runs the library's validation, planning, rendering and layer check once, before V8 has optimized any of it; the hand-written program, which validates and renders nothing, is at ${c.coldRatios[p].handWrittenOverFloor.median.toFixed(2)}×.`
              );
            })()
          : ""),
    );
  }
  if (c.sizes.includes(100) && c.sizes.includes(1000)) {
    for (const p of platforms) {
      const g = c.growth(p, 100, 1000);
      const at = (roles: number) => r.scaling.find((s) => s.platform === p && s.roles === roles) as ScalingPoint;
      out.push(
        `${PLATFORM_NAME[p]}, scaling: 1,000 roles take ${g.median.toFixed(1)}× the time of 100 roles (range over rounds ${g.min.toFixed(1)}–${g.max.toFixed(1)}; target ≤ ${TARGETS.growth1000Over100}: ${g.median <= TARGETS.growth1000Over100 ? "met" : "missed"} by the median). ` +
          `Resources grow ${(at(1000).counts.total / at(100).counts.total).toFixed(1)}× and the JSON ${(at(1000).bytes / at(100).bytes).toFixed(1)}×: cdktf resolves every string of the JSON three times over (tokens), so time follows the bytes as much as the resources, and the bytes grow with roles × tools (profile documents, section 3). ` +
          `Peak RSS at 1,000 roles is ${(c.peakRss(p, 1000).max / 1024 ** 2).toFixed(0)} MiB at most.`,
      );
    }
  }
  out.push(c.modelHolds ? "Resources: every measured count equals the linear model; no resource is created per (role, tool) pair." : "Resources: a measured count differs from the linear model; see section 3.");
  return out;
}
