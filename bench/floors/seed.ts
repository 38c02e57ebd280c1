// The seed scenario as the benchmark compares it: the library's stack and, read off it, the plans of
// both floors (outside any timing). Shared by the benchmark's workers and by test/bench-floors.test.ts.
import { App } from "cdktf";
import { AgentPlatform, RapidClawStack } from "../../src";
import { firewallScenario } from "../../examples/firewall-scenario";
import { readSynthesized, STACK_ID, type StackBuilder } from "../lib/synth";
import { planGenericStack, type GenericStackPlan } from "./generic";
import { planHandWrittenStack, type HandWrittenPlan } from "./hand-written";

/** The library's seed stack on `platform`. */
export function librarySeed(platform: AgentPlatform): StackBuilder {
  if (platform !== AgentPlatform.DOCKER && platform !== AgentPlatform.KUBERNETES) throw new Error(`unknown platform ${platform}: docker or kubernetes`);
  return (app, id) => new RapidClawStack(app, id, firewallScenario(platform));
}

/** The library's seed synthesized into `outdir`: its JSON and both floors' plans. */
export function seedReference(platform: AgentPlatform, outdir: string): { json: string; handWritten: HandWrittenPlan; generic: GenericStackPlan } {
  const app = new App({ outdir });
  const stack = new RapidClawStack(app, STACK_ID, firewallScenario(platform));
  app.synth();
  const json = readSynthesized(outdir);
  return { json, handWritten: planHandWrittenStack(stack), generic: planGenericStack(JSON.parse(json)) };
}
