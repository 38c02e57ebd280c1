import { readFileSync } from "node:fs";
import { App } from "cdktf";
import { AgentPlatform, RapidClawStack } from "../src";
import { firewallScenario } from "../examples/firewall-scenario";
import { readSynthesized, temporaryOutdir } from "./lib/synth";
const o = temporaryOutdir("c");
for (const p of [AgentPlatform.DOCKER, AgentPlatform.KUBERNETES]) {
  const app = new App({ outdir: o.path }); new RapidClawStack(app, "agent-firewall", firewallScenario(p)); app.synth();
  console.log(p, readSynthesized(o.path) === readFileSync(`/tmp/bs-lib-${p}.json`, "utf8"));
}
o.dispose();
