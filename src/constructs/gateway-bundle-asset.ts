import { createHash } from "node:crypto";
import { AssetType, TerraformAsset, TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import type { GatewayBundle } from "./gateway-bundle";

/** The bundle as a file asset of the stack, and the bundle's sha256 (hex). */
export interface GatewayBundleAsset {
  /** Synthesis copies the file to `assets/<id>/<sha256>/rapidclaw-gateway.cjs` beside the stack's JSON; `asset.path` names that copy. */
  readonly asset: TerraformAsset;
  readonly sha256: string;
}

/** Each bundle's sha256, computed once: the packaged bundle is one object per process, and a megabyte to hash. */
const digests = new WeakMap<GatewayBundle, string>();
function sha256Of(bundle: GatewayBundle): string {
  let digest = digests.get(bundle);
  if (digest === undefined) digests.set(bundle, (digest = createHash("sha256").update(bundle.text).digest("hex")));
  return digest;
}

/**
 * The gateway bundle as a file asset of `scope`'s stack, so the stack's JSON names the file
 * instead of holding the program. One asset per bundle and stack (id
 * `rapidclaw-gateway-bundle-<sha256 prefix>`), shared by every program that runs it; its hash is
 * the bundle's, so the path is the same on every synthesis of the same bundle.
 */
export function gatewayBundleAsset(scope: Construct, bundle: GatewayBundle): GatewayBundleAsset {
  const stack = TerraformStack.of(scope);
  const sha256 = sha256Of(bundle);
  const id = `rapidclaw-gateway-bundle-${sha256.slice(0, 12)}`;
  const asset = (stack.node.tryFindChild(id) as TerraformAsset | undefined)
    ?? new TerraformAsset(stack, id, { path: bundle.path, type: AssetType.FILE, assetHash: sha256 });
  return { asset, sha256 };
}
