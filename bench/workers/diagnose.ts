// Diagnostic child (not part of the target comparisons): where the seed's in-process synthesis time
// goes. Usage: node diagnose.js <platform> <warmup> <rounds>
// 1. cdktf captures a full stack trace for every token and every output-reference object a typed
//    provider class creates. This wraps that function for a while to count the captures, their
//    frames and their time, per variant.
// 2. The library's extra time over the hand-written floor, taken apart in place: the hand-written
//    program run as many frames deeper as the library's constructs add, then also validating and
//    planning the seed (FirewallSpec.fromProps), then also rendering its documents, alternating
//    with the library and the plain floor round by round.
import type { AgentPlatform } from "../../src";
import { firewallScenario } from "../../examples/firewall-scenario";
import { FirewallSpec } from "../../src/plan/firewall-spec";
import { buildRoleProfile, renderRoleProfileYaml, renderRoleProfileJson } from "../../src/render/role-profile";
import { renderSquidConfForPlan } from "../../src/render/squid-conf";
import { vaultPolicyForRole } from "../../src/render/vault-policy";
import { buildGenericStack } from "../floors/generic";
import { buildHandWrittenStack } from "../floors/hand-written";
import { librarySeed, seedReference } from "../floors/seed";
import { assertIdentical, readSynthesized, temporaryOutdir, timeSynth, type StackBuilder } from "../lib/synth";
import { planOf } from "../../src/plan/firewall-spec";

const platform = process.argv[2] as AgentPlatform;
const warmup = Number(process.argv[3]);
const rounds = Number(process.argv[4]);
const TRACE_RUNS = 30;

// The module object every cdktf caller goes through (`(0, stack_trace_1.captureStackTrace)()`).
const stackTraceModule = require("cdktf/lib/tokens/private/stack-trace") as { captureStackTrace: (below?: unknown) => string[] };
const originalCapture = stackTraceModule.captureStackTrace;
let captures = 0;
let captureNs = 0n;
let capturedFrames = 0;
function countingCapture(below?: unknown): string[] {
  const start = process.hrtime.bigint();
  const frames = originalCapture(below ?? countingCapture);
  captureNs += process.hrtime.bigint() - start;
  captures++;
  capturedFrames += frames.length;
  return frames;
}

/** Calls `run` from `depth` more stack frames down (one frame per level). */
function nested(depth: number, run: () => void): void {
  if (depth === 0) run();
  else nested(depth - 1, run);
}

/** The work of the library outside cdktf: validation and plan, then (optionally) every document. */
function libraryOwnWork(render: boolean): void {
  const plan = planOf(FirewallSpec.fromProps(firewallScenario(platform)));
  if (!render) return;
  renderSquidConfForPlan(plan);
  for (const role of plan.roles) {
    const profile = buildRoleProfile(plan, role);
    renderRoleProfileJson(profile);
    renderRoleProfileYaml([profile]);
    vaultPolicyForRole(plan, role);
  }
}

const outdir = temporaryOutdir(`diagnose-${platform}`);
try {
  const library = librarySeed(platform);
  const { json: reference, handWritten: handWrittenPlan, generic: genericPlan } = seedReference(platform, outdir.path);
  const handWritten: StackBuilder = (app, id) => buildHandWrittenStack(app, id, handWrittenPlan);

  // 1. Stack traces, variant after variant.
  stackTraceModule.captureStackTrace = countingCapture;
  const stackTraces: Record<string, { perSynth: number; msPerSynth: number; framesPerCapture: number; synthMs: number }> = {};
  for (const [name, build] of [["library", library], ["handWritten", handWritten], ["generic", (app, id) => buildGenericStack(app, id, genericPlan)]] as [string, StackBuilder][]) {
    for (let i = 0; i < warmup; i++) timeSynth(outdir.path, build);
    captures = 0;
    captureNs = 0n;
    capturedFrames = 0;
    let wall = 0;
    for (let i = 0; i < TRACE_RUNS; i++) wall += timeSynth(outdir.path, build).wallMs;
    stackTraces[name] = { perSynth: captures / TRACE_RUNS, msPerSynth: Number(captureNs) / 1e6 / TRACE_RUNS, framesPerCapture: captures > 0 ? capturedFrames / captures : 0, synthMs: wall / TRACE_RUNS };
  }
  stackTraceModule.captureStackTrace = originalCapture;

  // 2. The library's extra time, taken apart in place.
  const depth = Math.max(0, Math.round(stackTraces.library.framesPerCapture - stackTraces.handWritten.framesPerCapture));
  const steps: [string, StackBuilder][] = [
    ["library", library],
    ["handWritten", handWritten],
    ["deeper", (app, id) => nested(depth, () => void handWritten(app, id))],
    ["deeperValidated", (app, id) => nested(depth, () => { libraryOwnWork(false); handWritten(app, id); })],
    ["deeperValidatedRendered", (app, id) => nested(depth, () => { libraryOwnWork(true); handWritten(app, id); })],
  ];
  const wallMs: Record<string, number[]> = Object.fromEntries(steps.map(([name]) => [name, []]));
  for (let round = -warmup; round < rounds; round++) {
    const offset = ((round % steps.length) + steps.length) % steps.length;
    for (let k = 0; k < steps.length; k++) {
      const [name, build] = steps[(offset + k) % steps.length];
      const time = timeSynth(outdir.path, build);
      if (round === -warmup) assertIdentical(reference, readSynthesized(outdir.path), `diagnostic step ${name}`);
      if (round >= 0) wallMs[name].push(time.wallMs);
    }
  }
  console.log(JSON.stringify({ platform, traceRuns: TRACE_RUNS, stackTraces, decomposition: { depth, rounds, wallMs } }));
} finally {
  outdir.dispose();
}
