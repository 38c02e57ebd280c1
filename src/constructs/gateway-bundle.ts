import { existsSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { packageRoot } from "../terraform/package-files";

/** Where `npm run build` writes the gateway bundle, relative to the package root (listed in `files`). */
export const GATEWAY_BUNDLE_PATH = "dist/gateway/rapidclaw-gateway.cjs";

/** The packaged bundle as last read, with the file version it was read at. */
let packagedBundle: { readonly version: string; readonly bundle: GatewayBundle } | undefined;

/**
 * The one-file tool gateway (`rapidclaw gateway`), as a stock Node image runs it. On Docker the
 * file is uploaded into the gateway's container from a file asset of the stack (by path, with its
 * hash); on Kubernetes ConfigMap parts read it from that file asset, so the stack's JSON names
 * the file on both (the plan, state and etcd still hold ConfigMap data). Either way what runs is
 * exactly what this package shipped. With `gateway.image` the bundle is in the image and none is delivered.
 */
export class GatewayBundle {
  /**
   * The bundle this package ships (`dist/gateway/rapidclaw-gateway.cjs`, built by `npm run build`);
   * read once per process while the file stays the same (its size and modification time).
   */
  public static packaged(): GatewayBundle {
    const path = join(packageRoot(), GATEWAY_BUNDLE_PATH);
    const stat = statSync(path, { throwIfNoEntry: false });
    const version = stat && `${stat.size}:${stat.mtimeMs}`;
    if (packagedBundle === undefined || version === undefined || packagedBundle.version !== version) {
      packagedBundle = { version: version ?? "", bundle: GatewayBundle.fromFile(path) };
    }
    return packagedBundle.bundle;
  }

  /** A bundle built elsewhere (`npm run build` writes one), read at synthesis. */
  public static fromFile(path: string): GatewayBundle {
    if (!existsSync(path)) throw new Error(`the gateway bundle ${path} does not exist; build it with npm run build (a published package ships it)`);
    return new GatewayBundle(resolve(path), readFileSync(path, "utf8"));
  }

  /** Absolute path of the bundle's file (a Docker stack uploads it from its asset copy). */
  public readonly path: string;

  /** The bundle's text. */
  public readonly text: string;

  private constructor(path: string, text: string) {
    this.path = path;
    this.text = text;
  }
}
