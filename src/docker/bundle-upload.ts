import { createHash } from "node:crypto";
import type { ContainerUpload } from "@cdktf/provider-docker/lib/container";
import { AssetType, TerraformAsset, TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import type { GatewayBundle } from "../constructs/gateway-bundle";

/** Each bundle's sha256, hex, computed once (the packaged bundle is one object per process). */
const digests = new WeakMap<GatewayBundle, string>();
function sha256Of(bundle: GatewayBundle): string {
  let digest = digests.get(bundle);
  if (digest === undefined) digests.set(bundle, (digest = createHash("sha256").update(bundle.text).digest("hex")));
  return digest;
}

/**
 * The gateway bundle as a Docker upload from a file asset of the stack: synthesis copies the file
 * to `assets/<id>/<sha256>/rapidclaw-gateway.cjs` beside the stack's JSON, and the container
 * uploads it from there (`source`) with its sha256 (`source_hash`, which replaces the container
 * when the bundle changes). The JSON and the state carry that path and hash, not the program.
 * One asset per bundle and stack, shared by the gateway and proxy-events.
 */
export function bundleUpload(scope: Construct, bundle: GatewayBundle, file: string, permissions: string): ContainerUpload {
  const stack = TerraformStack.of(scope);
  const hash = sha256Of(bundle);
  const id = `rapidclaw-gateway-bundle-${hash.slice(0, 12)}`;
  const asset = (stack.node.tryFindChild(id) as TerraformAsset | undefined)
    ?? new TerraformAsset(stack, id, { path: bundle.path, type: AssetType.FILE, assetHash: hash });
  return { file, source: asset.path, sourceHash: hash, permissions };
}
