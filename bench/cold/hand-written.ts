// Cold child: the hand-written program (no library) in a fresh process: reads its literals (the plan
// the parent wrote with write-hand-written-plan.js, as JSON), loads the typed provider classes it
// names and synthesizes. Usage: node hand-written.js <plan file> <outdir>
import { readFileSync } from "node:fs";
import { App } from "cdktf";
import { buildHandWrittenStack, type HandWrittenPlan } from "../floors/hand-written";
import { STACK_ID } from "../lib/stack-id";
import { report } from "./report";

const [planFile, outdir] = process.argv.slice(2);
// Reading the literals stands for the program's own source text, which a hand-written program
// would parse at load time; it counts as loading.
const plan = JSON.parse(readFileSync(planFile, "utf8")) as HandWrittenPlan;
for (const node of plan.nodes) if (node.kind === "resource" || node.kind === "provider") require(node.class.module);
const loadedMs = performance.now();
const app = new App({ outdir });
buildHandWrittenStack(app, STACK_ID, plan);
app.synth();
report(loadedMs);
