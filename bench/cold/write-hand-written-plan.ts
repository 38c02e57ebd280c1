// Untimed helper of the cold benchmark: writes the hand-written program's literals for the seed on
// one platform (read off the library's stack) as JSON. Usage: node write-hand-written-plan.js <platform> <plan file>
import { writeFileSync } from "node:fs";
import type { AgentPlatform } from "../../src";
import { seedReference } from "../floors/seed";
import { temporaryOutdir } from "../lib/synth";

const [platform, planFile] = process.argv.slice(2);
const outdir = temporaryOutdir("plan");
try {
  writeFileSync(planFile, JSON.stringify(seedReference(platform as AgentPlatform, outdir.path).handWritten));
  console.log(JSON.stringify({ planFile }));
} finally {
  outdir.dispose();
}
