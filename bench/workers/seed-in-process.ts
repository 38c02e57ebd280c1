// Child process: the seed scenario on one platform, in-process synthesis time of the library and
// of both floors, alternating. Usage: node seed-in-process.js <platform> <warmup> <rounds>
// Prints one JSON line: raw wall-clock and CPU milliseconds per variant, in round order.
import { AgentPlatform, RapidClawStack } from "../../src";
import { firewallScenario } from "../../examples/firewall-scenario";
import { buildGenericStack, planGenericStack } from "../floors/generic";
import { buildHandWrittenDocker } from "../floors/hand-written-docker";
import { buildHandWrittenKubernetes } from "../floors/hand-written-kubernetes";
import { assertIdentical, readSynthesized, temporaryOutdir, timeSynth, type StackBuilder } from "../lib/synth";

const [platformArg, warmupArg, roundsArg] = process.argv.slice(2);
const platform = platformArg as AgentPlatform;
if (platform !== AgentPlatform.DOCKER && platform !== AgentPlatform.KUBERNETES) throw new Error(`unknown platform ${platformArg}`);
const warmup = Number(warmupArg);
const rounds = Number(roundsArg);

const outdir = temporaryOutdir(`seed-${platform}`);
try {
  const library: StackBuilder = (app, id) => new RapidClawStack(app, id, firewallScenario(platform));
  timeSynth(outdir.path, library);
  const reference = readSynthesized(outdir.path);
  const genericPlan = planGenericStack(JSON.parse(reference));

  const variants: [string, StackBuilder][] = [
    ["library", library],
    ["handWritten", platform === AgentPlatform.DOCKER ? buildHandWrittenDocker : buildHandWrittenKubernetes],
    ["generic", (app, id) => buildGenericStack(app, id, genericPlan)],
  ];
  const wallMs: Record<string, number[]> = Object.fromEntries(variants.map(([name]) => [name, []]));
  const cpuMs: Record<string, number[]> = Object.fromEntries(variants.map(([name]) => [name, []]));
  for (let round = -warmup; round < rounds; round++) {
    // Rotate the order every round so that no variant always runs first (or right after a GC).
    const offset = ((round % variants.length) + variants.length) % variants.length;
    for (let k = 0; k < variants.length; k++) {
      const [name, build] = variants[(offset + k) % variants.length];
      // No forced gc() between runs: a full collection before each run made every variant about
      // three times slower (the heap shrinks and is grown again during the run); collections
      // happen where they fall, and alternation spreads them over the variants.
      const time = timeSynth(outdir.path, build);
      // Every run of every variant is checked against the library's JSON, outside the timing.
      assertIdentical(reference, readSynthesized(outdir.path), `${name} (${platform})`);
      if (round >= 0) {
        wallMs[name].push(time.wallMs);
        cpuMs[name].push(time.cpuMs);
      }
    }
  }
  console.log(JSON.stringify({ platform, warmup, rounds, bytes: Buffer.byteLength(reference), wallMs, cpuMs }));
} finally {
  outdir.dispose();
}
