// Child process for the scaling runs. Usage:
//   node fleet.js time  <platform> <roles> <reps> generic|library-only [tools]
//                                                          warm up on the seed, then time <reps> library
//                                                          synths of the fleet, then (generic) as many
//                                                          generic-floor synths of the same JSON (checked
//                                                          byte for byte)
//   node fleet.js rss   <platform> <roles> [tools]         one library synth, nothing else: peak RSS
//   node fleet.js count <platform> <roles> [tools]         one library synth: resource counts only
// Prints one JSON line.
import { AgentPlatform, RapidClawStack } from "../../src";
import { firewallScenario } from "../../examples/firewall-scenario";
import { fleetSpec, FLEET_TOOL_COUNT } from "../fleet";
import { buildGenericStack, planGenericStack } from "../floors/generic";
import { countResources, describeFleet } from "../lib/resources";
import { assertIdentical, readSynthesized, temporaryOutdir, timeSynth, type RunTime, type StackBuilder } from "../lib/synth";

const [mode, platformArg, rolesArg, ...rest] = process.argv.slice(2);
const platform = platformArg as AgentPlatform;
if (platform !== AgentPlatform.DOCKER && platform !== AgentPlatform.KUBERNETES) throw new Error(`unknown platform ${platformArg}`);
const roles = Number(rolesArg);
const reps = mode === "time" ? Number(rest.shift()) : 1;
const withGeneric = mode === "time" ? rest.shift() === "generic" : false;
const tools = rest.length > 0 ? Number(rest[0]) : FLEET_TOOL_COUNT;
const spec = fleetSpec(platform, roles, tools);
const library: StackBuilder = (app, id) => new RapidClawStack(app, id, spec);

const outdir = temporaryOutdir(`fleet-${platform}-${roles}`);
try {
  if (mode === "time") {
    // Warm-up on the seed: the JIT has seen cdktf, the provider classes and the library once.
    for (let i = 0; i < 5; i++) timeSynth(outdir.path, (app, id) => new RapidClawStack(app, id, firewallScenario(platform)));
    const libraryRuns: RunTime[] = [];
    for (let i = 0; i < reps; i++) libraryRuns.push(timeSynth(outdir.path, library));
    const json = readSynthesized(outdir.path);
    const genericRuns: RunTime[] = [];
    if (withGeneric) {
      const plan = planGenericStack(JSON.parse(json));
      for (let i = 0; i < reps; i++) genericRuns.push(timeSynth(outdir.path, (app, id) => buildGenericStack(app, id, plan)));
      assertIdentical(json, readSynthesized(outdir.path), `generic floor (${platform}, ${roles} roles)`);
    }
    console.log(JSON.stringify({ mode, platform, roles, tools, libraryRuns, genericRuns, bytes: Buffer.byteLength(json), counts: countResources(json), fleet: describeFleet(spec) }));
  } else if (mode === "rss" || mode === "count") {
    const run = timeSynth(outdir.path, library);
    const maxRssKiB = process.resourceUsage().maxRSS;
    const json = readSynthesized(outdir.path);
    console.log(JSON.stringify({ mode, platform, roles, tools, run, maxRssKiB, bytes: Buffer.byteLength(json), counts: countResources(json), fleet: describeFleet(spec) }));
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
} finally {
  outdir.dispose();
}
