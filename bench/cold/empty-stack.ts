// Cold child, the cold-start floor: loads cdktf and the given provider modules (deep paths, as
// files), then synthesizes an empty stack. Usage: node empty-stack.js <outdir> [module file...]
import { App, TerraformStack } from "cdktf";
import { STACK_ID } from "../lib/stack-id";
import { report } from "./report";

const [outdir, ...modules] = process.argv.slice(2);
for (const file of modules) require(file);
const loadedMs = performance.now();
const app = new App({ outdir });
new TerraformStack(app, STACK_ID);
app.synth();
report(loadedMs);
