// The example scenario read from examples/firewall.yaml: `npx tsx examples/file-stack.ts` synthesizes it into cdktf.out/.
import { join } from "node:path";
import { App } from "cdktf";
import { RapidClawStack } from "../src";

export const FIREWALL_FILE = join(__dirname, "firewall.yaml");

/** Builds the example app; tests call this with their own output directory. */
export function buildFileExample(outdir?: string): App {
  const app = new App(outdir ? { outdir } : {});
  RapidClawStack.fromFile(app, "agent-firewall", FIREWALL_FILE);
  return app;
}

if (require.main === module) buildFileExample().synth();
