// Diagnostic cold child (not a timed variant): the library's cold run with each module's own
// compile-and-run time recorded (Module.prototype._compile, children excluded), grouped by package,
// to show what a cold start loads (and how much of it is loaded on first use, during the first
// build). The hook itself adds a little time.
// Usage: node library-load-attribution.js <platform> <outdir>
import Module = require("node:module");

type Compile = (this: unknown, content: string, filename: string) => unknown;
const moduleProto = (Module as unknown as { prototype: { _compile: Compile } }).prototype;
const original = moduleProto._compile;
const selfNs = new Map<string, bigint>();
/** Modules first loaded after the library was (the library requires some on first use). */
let lateNs = 0n;
let loaded = false;
const childNs: bigint[] = [];

/** `cdktf`, `zod`, `@cdktf/provider-kubernetes/lib/deployment-v1`, `library (src)`, `bench`. */
function group(filename: string): string {
  const inPackage = /node_modules[/\\]((?:@[^/\\]+[/\\])?[^/\\]+)(?:[/\\]lib[/\\]([^/\\]+))?/.exec(filename);
  if (inPackage) {
    const name = inPackage[1].replace(/\\/g, "/");
    return name.startsWith("@cdktf/provider-") && inPackage[2] ? `${name}/lib/${inPackage[2]}` : name;
  }
  return /[/\\](src|examples)[/\\]/.test(filename) ? "library (src)" : "bench";
}

moduleProto._compile = function (this: unknown, content: string, filename: string) {
  const start = process.hrtime.bigint();
  childNs.push(0n);
  try {
    return original.call(this, content, filename);
  } finally {
    const total = process.hrtime.bigint() - start;
    const children = childNs.pop() as bigint;
    if (childNs.length > 0) childNs[childNs.length - 1] += total;
    const key = group(filename);
    selfNs.set(key, (selfNs.get(key) ?? 0n) + total - children);
    if (loaded) lateNs += total - children;
  }
};

const { App } = require("cdktf") as typeof import("cdktf");
const { RapidClawStack } = require("../../src") as typeof import("../../src");
const { firewallScenario } = require("../../examples/firewall-scenario") as typeof import("../../examples/firewall-scenario");
const loadedMs = performance.now();
loaded = true;
const [platform, outdir] = process.argv.slice(2);
const app = new App({ outdir });
new RapidClawStack(app, "agent-firewall", firewallScenario(platform as never));
app.synth();
const doneMs = performance.now();
const modulesMs = Object.fromEntries([...selfNs.entries()].map(([key, ns]) => [key, Number(ns) / 1e6]));
console.log(JSON.stringify({ loadedMs, doneMs, modulesMs, loadedOnFirstUseMs: Number(lateNs) / 1e6 }));
