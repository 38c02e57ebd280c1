// Child process: the seed scenario on one platform, in-process synthesis time of the library and
// of both floors, alternating. Usage: node seed-in-process.js <platform> <warmup> <rounds>
// Prints one JSON line: raw wall-clock and CPU milliseconds per variant, in round order.
import type { AgentPlatform } from "../../src";
import { buildGenericStack } from "../floors/generic";
import { buildHandWrittenStack } from "../floors/hand-written";
import { librarySeed, seedReference } from "../floors/seed";
import { assertIdentical, readSynthesized, temporaryOutdir, timeSynth, type StackBuilder } from "../lib/synth";

const [platformArg, warmupArg, roundsArg] = process.argv.slice(2);
const platform = platformArg as AgentPlatform;
const library = librarySeed(platform);
const warmup = Number(warmupArg);
const rounds = Number(roundsArg);

const outdir = temporaryOutdir(`seed-${platform}`);
try {
  const { json: reference, handWritten, generic } = seedReference(platform, outdir.path);

  const variants: [string, StackBuilder][] = [
    ["library", library],
    ["handWritten", (app, id) => buildHandWrittenStack(app, id, handWritten)],
    ["generic", (app, id) => buildGenericStack(app, id, generic)],
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
