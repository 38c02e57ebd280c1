// Run by test/platform-loading.test.ts in a fresh Node process (so that the module cache starts
// empty): `node --import tsx platform-loading-child.ts <platform> <hidden package or "">`. Hides a
// package as if it were not installed, loads the library, builds the platform's firewall with a
// tool gateway and a PrometheusRule (Kubernetes), and prints what it loaded and synthesized as JSON.
import Module = require("node:module");

const [platform, hidden] = process.argv.slice(2);
const moduleInternals = Module as unknown as { _resolveFilename: (request: string, ...rest: unknown[]) => string };
const resolveFilename = moduleInternals._resolveFilename;
moduleInternals._resolveFilename = function (request: string, ...rest: unknown[]) {
  if (hidden && (request === hidden || request.startsWith(`${hidden}/`))) {
    throw Object.assign(new Error(`Cannot find module '${request}'`), { code: "MODULE_NOT_FOUND" });
  }
  return resolveFilename.call(this, request, ...rest);
};

/** The packages (by name under node_modules) that have a module in the cache. */
const loadedPackages = () =>
  [...new Set(Object.keys(require.cache).map((file) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(file)?.[1]).filter((name) => name !== undefined))].sort();

/* eslint-disable @typescript-eslint/no-require-imports -- loaded after the resolver hook, in order */
const library = require("../../src") as typeof import("../../src");
const afterRoot = loadedPackages();
const { Testing, App } = require("cdktf") as typeof import("cdktf");
const { fronted } = require("./gateway-spec") as typeof import("./gateway-spec");

let synthesized: string | undefined;
let error: string | undefined;
try {
  const options = platform === library.AgentPlatform.KUBERNETES ? { prometheusRule: {} } : {};
  synthesized = Testing.synth(new library.RapidClawStack(new App(), "agent-firewall", { ...fronted(platform as never), ...options }));
} catch (caught) {
  error = (caught as Error).message;
}
process.stdout.write(JSON.stringify({ afterRoot, afterSynth: loadedPackages(), synthesized, error }));
