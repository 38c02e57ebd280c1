// Cold child: the hand-written Kubernetes program (no library), synthesized in a fresh process.
// Usage: node hand-written-kubernetes.js <outdir>
import { App } from "cdktf";
import { buildHandWrittenKubernetes } from "../floors/hand-written-kubernetes";
import { STACK_ID } from "../lib/stack-id";
import { report } from "./report";

const loadedMs = performance.now();
const app = new App({ outdir: process.argv[2] });
buildHandWrittenKubernetes(app, STACK_ID);
app.synth();
report(loadedMs);
