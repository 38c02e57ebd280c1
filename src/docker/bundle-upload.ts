import type { ContainerUpload } from "@cdktf/provider-docker/lib/container";
import type { Construct } from "constructs";
import type { GatewayBundle } from "../constructs/gateway-bundle";
import { gatewayBundleAsset } from "../constructs/gateway-bundle-asset";

/**
 * The gateway bundle as a Docker upload from the stack's file asset of it (`gatewayBundleAsset`):
 * the container uploads it from there (`source`) with its sha256 (`source_hash`, which replaces
 * the container when the bundle changes). The JSON and the state carry that path and hash, not
 * the program.
 */
export function bundleUpload(scope: Construct, bundle: GatewayBundle, file: string, permissions: string): ContainerUpload {
  const { asset, sha256 } = gatewayBundleAsset(scope, bundle);
  return { file, source: asset.path, sourceHash: sha256, permissions };
}
