// Cold child: a fresh process that loads the library (package root, as users import it) and
// synthesizes the seed scenario. Usage: node library.js <platform> <outdir>
import { App } from "cdktf";
import { AgentPlatform, RapidClawStack } from "../../src";
import { firewallScenario } from "../../examples/firewall-scenario";
import { STACK_ID } from "../lib/stack-id";
import { report } from "./report";

const loadedMs = performance.now();
const [platform, outdir] = process.argv.slice(2);
const app = new App({ outdir });
new RapidClawStack(app, STACK_ID, firewallScenario(platform as AgentPlatform));
app.synth();
report(loadedMs);
