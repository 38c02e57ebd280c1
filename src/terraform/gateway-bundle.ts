import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";

/** Where `npm run build` writes the gateway bundle, relative to the package root (listed in `files`). */
export const GATEWAY_BUNDLE = "dist/gateway/rapidclaw-gateway.cjs";

/** The package's name in its package.json: the root the bundle is found under. */
const PACKAGE_NAME = "@rapidclaw/agent-firewall";

/** The gateway's one-file bundle as deployments ship it. */
export interface GatewayBundle {
  /** Absolute path of the file on this machine (never written into synthesized output). */
  readonly path: string;
  /** Hex sha256 of its bytes: pod annotations and asset names carry it, so a new bundle rolls the gateway. */
  readonly sha256: string;
}

/** Bundles read so far, by path, size and modification time: firewalls synthesized in one process share one read. */
const read = new Map<string, GatewayBundle>();

/**
 * The gateway bundle at `path`, or by default the package's own: found from this module upwards
 * (the package root holds `package.json` named `@rapidclaw/agent-firewall`), so it works from the
 * sources and from the built package alike. Throws, naming the path and the fix, when the file
 * is missing.
 */
export function gatewayBundle(path?: string): GatewayBundle {
  const file = path ?? join(packageRoot(), GATEWAY_BUNDLE);
  if (!existsSync(file)) {
    throw new Error(
      path === undefined
        ? `the tool gateway bundle ${file} is missing: build it with \`npm run build\` in the package (it is part of the published package)`
        : `the tool gateway bundle ${file} is missing: give the path of a bundle built with \`npm run build\``,
    );
  }
  const stat = statSync(file);
  const cacheKey = `${file}\n${stat.size}\n${stat.mtimeMs}`;
  let bundle = read.get(cacheKey);
  if (bundle === undefined) {
    bundle = { path: file, sha256: createHash("sha256").update(readFileSync(file)).digest("hex") };
    read.set(cacheKey, bundle);
  }
  return bundle;
}

/** The directory holding this package's package.json. */
function packageRoot(): string {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, "utf8")) as { name?: string }).name === PACKAGE_NAME) return dir;
    if (dirname(dir) === dir) throw new Error(`cannot find the ${PACKAGE_NAME} package above ${__dirname}; give the gateway bundle's path`);
  }
}
