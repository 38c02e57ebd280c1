import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import { build, type Metafile, type Plugin } from "esbuild";
import { GATEWAY_BUNDLE_PATH } from "../src/constructs/gateway-bundle";
import { HOOK_BUNDLE_PACKAGE_PATH } from "../src/render/agent-runtime-files";

const ROOT = join(__dirname, "..");


/**
 * zod's classic API re-exports every message locale (about 40 languages, a quarter of the bundle);
 * the firewall's errors are English, so the bundle keeps `en` alone (`z.locales.en`, the one zod
 * configures at load) and drops the rest.
 */
const ZOD_ENGLISH_ONLY: Plugin = {
  name: "zod-english-only",
  setup(build) {
    build.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]node_modules[\\/]zod[\\/]/.test(args.importer) ? { path: join(args.resolveDir, "..", "locales", "index.js"), namespace: "zod-locales" } : undefined);
    // The library loads zod lazily with require() (valid typed props never need it); in the bundle
    // that must be the same ES module the imports get, not zod's CommonJS build beside it.
    build.onResolve({ filter: /^zod$/ }, (args) =>
      args.kind === "require-call" ? build.resolve("zod", { kind: "import-statement", resolveDir: args.resolveDir }) : undefined);
    build.onLoad({ filter: /.*/, namespace: "zod-locales" }, (args) => ({
      contents: 'export { default as en } from "./en.js";',
      resolveDir: join(args.path, ".."),
      loader: "js",
    }));
  },
};

/**
 * The gateway uses undici's `Pool` alone, over HTTP/1.1 (it offers no other protocol in TLS), with
 * Buffer bodies. `undici`'s index loads every dispatcher, fetch and the mocks (half a megabyte), so
 * `undici` resolves to the pool. Left out as well: the HTTP/2 client, the FormData body support
 * (loaded for FormData bodies only), and the SIMD build of the parser (70 KB; undici falls back to
 * the plain build, which runs on every CPU, when it does not load). So the bundle fits a ConfigMap.
 */
const UNDICI_TRIMMED: Plugin = {
  name: "undici-trimmed",
  setup(build) {
    const inUndici = (importer: string) => /[\\/]node_modules[\\/]undici[\\/]/.test(importer);
    const leftOut: Record<string, string> = {
      "../llhttp/llhttp_simd-wasm.js": 'throw new Error("the SIMD parser is not in the gateway bundle");',
      "../web/fetch/body.js": 'throw new Error("FormData bodies are not in the gateway bundle");',
      "./client-h2.js": 'module.exports = () => { throw new Error("HTTP/2 is not in the gateway bundle"); };',
    };
    build.onResolve({ filter: /^\.\.?\/(llhttp\/llhttp_simd-wasm|web\/fetch\/body|client-h2)\.js$/ }, (args) =>
      inUndici(args.importer) && args.path in leftOut ? { path: args.path, namespace: "undici-left-out" } : undefined);
    build.onLoad({ filter: /.*/, namespace: "undici-left-out" }, (args) => ({ contents: leftOut[args.path], loader: "js" }));
    build.onResolve({ filter: /^undici$/ }, () => ({ path: join(ROOT, "node_modules", "undici", "index.js"), namespace: "undici-pool-only" }));
    build.onLoad({ filter: /.*/, namespace: "undici-pool-only" }, (args) => ({
      contents: 'module.exports = { Pool: require("./lib/dispatcher/pool.js") };',
      resolveDir: dirname(args.path),
      loader: "js",
    }));
  },
};

/**
 * Bundles the `rapidclaw` CLI (gateway, proxy-events, logs, alerts) with every dependency into
 * one CommonJS file a stock Node image runs without node_modules. The output depends only on the
 * sources and the pinned esbuild: no timestamps, no absolute paths (esbuild writes paths relative
 * to the working directory, which is fixed to the package root here).
 */
export async function bundleGateway(outfile = join(ROOT, GATEWAY_BUNDLE_PATH)): Promise<{ warnings: string[] }> {
  const result = await bundleCli("src/cli/main.ts", outfile);
  writeFileSync(join(dirname(outfile), "THIRD-PARTY-LICENSES.txt"), thirdPartyLicenses(Object.keys(result.metafile.inputs)));
  return result;
}

/**
 * Bundles the agent hooks alone (`hook hermes`), the file agents with `runtime: hermes` carry: a
 * twentieth of the whole CLI. Its code is a part of the gateway bundle's, whose license file covers it.
 */
export async function bundleHook(outfile = join(ROOT, HOOK_BUNDLE_PACKAGE_PATH)): Promise<{ warnings: string[] }> {
  return bundleCli("src/cli/hook-main.ts", outfile);
}

/** One entry of the CLI with every dependency in one CommonJS file, reproducibly; its inputs and warnings. */
async function bundleCli(entry: string, outfile: string): Promise<{ warnings: string[]; metafile: Metafile }> {
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node20",
    minify: true,
    // Functions and classes keep their names, so stack traces and error classes stay readable.
    keepNames: true,
    legalComments: "eof",
    sourcemap: false,
    metafile: true,
    logLevel: "silent",
    plugins: [ZOD_ENGLISH_ONLY, UNDICI_TRIMMED],
    // `rapidclaw --version`: the bundle runs without the package's package.json beside it.
    define: { RAPIDCLAW_VERSION: JSON.stringify((JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version) },
  });
  return { metafile: result.metafile, warnings: result.warnings.map((w) => `${w.location?.file ?? ""}:${w.location?.line ?? ""} ${w.text}`) };
}

/** The license text of every package the bundle holds code of, sorted by package, to ship next to it. */
function thirdPartyLicenses(inputs: ReadonlyArray<string>): string {
  const packages = new Set<string>();
  for (const input of inputs) {
    // Inputs are relative to the package root, except the plugin's (`namespace:/absolute/path`).
    const path = relative(ROOT, resolve(ROOT, input.replace(/^[a-z-]+:/, "")));
    const match = /^(.*?node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(path);
    if (match) packages.add(match[1]);
  }
  return [...packages].sort().map((dir) => {
    const manifest = JSON.parse(readFileSync(join(ROOT, dir, "package.json"), "utf8")) as { name: string; version: string; license?: string };
    const file = readdirSync(join(ROOT, dir)).sort().find((f) => /^(licen[cs]e|copying)/i.test(f));
    const text = file === undefined ? `(no license file; package.json says ${manifest.license ?? "nothing"})` : readFileSync(join(ROOT, dir, file), "utf8").trim();
    return `${manifest.name}@${manifest.version} (${manifest.license ?? "unknown"})\n\n${text}\n`;
  }).join(`\n${"-".repeat(72)}\n\n`);
}

/** Modules a bundle may still require at run time: Node's own. */
export const NODE_BUILTINS: ReadonlySet<string> = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);

if (require.main === module) {
  Promise.all([bundleGateway(), bundleHook()]).then((results) => {
    for (const warning of results.flatMap((r) => r.warnings)) process.stderr.write(`bundle-gateway: warning: ${warning}\n`);
  }, (error: unknown) => {
    process.stderr.write(`bundle-gateway: ${(error as Error).message}\n`);
    process.exitCode = 1;
  });
}
