// Rewrites a copy of package.json so that `cdktf` resolves to CDK Terrain (cdktn) everywhere:
// the @cdktf/provider-* packages have no cdktn builds, so they run on cdktn through the alias.
import { readFileSync, writeFileSync } from "node:fs";

const [file, cdktn, constructs] = process.argv.slice(2);
if (!file || !cdktn || !constructs) throw new Error("usage: node alias-cdktn.mjs <package.json> <cdktn version> <constructs version>");
const pkg = JSON.parse(readFileSync(file, "utf8"));
pkg.devDependencies.cdktf = `npm:cdktn@${cdktn}`;
pkg.devDependencies.constructs = constructs;
// The CLI is not part of the suite, and it pins cdktf 0.21 for itself.
delete pkg.devDependencies["cdktf-cli"];
pkg.overrides = { ...pkg.overrides, cdktf: "$cdktf" };
writeFileSync(file, `${JSON.stringify(pkg, null, 2)}\n`);
