// The example scenario on Docker: `npx cdktf synth` (see cdktf.json) synthesizes it into cdktf.out/.
import { App } from "cdktf";
import { AgentPlatform, RapidClawStack } from "../src";
import { firewallScenario } from "./firewall-scenario";

/** Builds the example app; tests call this with their own output directory. */
export function buildDockerExample(outdir?: string): App {
  const app = new App(outdir ? { outdir } : {});
  new RapidClawStack(app, "agent-firewall", firewallScenario(AgentPlatform.DOCKER));
  return app;
}

if (require.main === module) buildDockerExample().synth();
