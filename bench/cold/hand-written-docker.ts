// Cold child: the hand-written Docker program (no library), synthesized in a fresh process.
// Usage: node hand-written-docker.js <outdir>
import { App } from "cdktf";
import { buildHandWrittenDocker } from "../floors/hand-written-docker";
import { STACK_ID } from "../lib/stack-id";
import { report } from "./report";

const loadedMs = performance.now();
const app = new App({ outdir: process.argv[2] });
buildHandWrittenDocker(app, STACK_ID);
app.synth();
report(loadedMs);
