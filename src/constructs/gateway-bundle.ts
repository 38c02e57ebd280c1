import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { packageRoot } from "../terraform/package-files";

/** Where `npm run build` writes the gateway bundle, relative to the package root (listed in `files`). */
export const GATEWAY_BUNDLE_PATH = "dist/gateway/rapidclaw-gateway.cjs";

/**
 * The one-file tool gateway (`rapidclaw gateway`), as a stock Node image runs it. Its text is
 * uploaded into the gateway's container, so what runs is exactly what this package shipped.
 */
export class GatewayBundle {
  /** The bundle this package ships (`dist/gateway/rapidclaw-gateway.cjs`, built by `npm run build`). */
  public static packaged(): GatewayBundle {
    return GatewayBundle.fromFile(join(packageRoot(), GATEWAY_BUNDLE_PATH));
  }

  /** A bundle built elsewhere (`npm run build` writes one), read at synthesis. */
  public static fromFile(path: string): GatewayBundle {
    if (!existsSync(path)) throw new Error(`the gateway bundle ${path} does not exist; build it with npm run build (a published package ships it)`);
    return new GatewayBundle(readFileSync(path, "utf8"));
  }

  /** The bundle's text. */
  public readonly text: string;

  private constructor(text: string) {
    this.text = text;
  }
}
