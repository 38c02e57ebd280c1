import type { ConfigMapV1 } from "@cdktf/provider-kubernetes/lib/config-map-v1";
import type { DeploymentV1SpecTemplateSpecInitContainer, DeploymentV1SpecTemplateSpecVolume } from "@cdktf/provider-kubernetes/lib/deployment-v1";
import { Fn } from "cdktf";
import type { Construct } from "constructs";
import type { GatewayBundle } from "../constructs/gateway-bundle";
import { gatewayBundleAsset } from "../constructs/gateway-bundle-asset";
import { bundleJoinLayout, bundlePartKey } from "./bundle-join-layout";
import { base64Length, configMapPartRanges } from "./config-map-parts";
import { hardenedContainerSecurityContext } from "./pod";
import { kubernetesClasses } from "./provider-classes";

/** Where a pod's bundle comes from: ConfigMaps `<name>-bundle`, `<name>-bundle-1`, … holding its parts. */
export interface BundleParts {
  /** The ConfigMaps, in order; each holds one key, `<bundle file>.part` (`bundlePartKey`). */
  readonly configMaps: ConfigMapV1[];
}

/**
 * The bundle in ConfigMaps of their own, in parts: it is larger than the 1 MiB a ConfigMap may
 * hold. Ids `bundle`, `bundle-1`, … under `scope`. Each part's data is a Terraform expression
 * over the stack's file asset of the bundle (`gatewayBundleAsset`), decoding the part's bytes
 * from the file's base64: `${base64decode(substr(filebase64("assets/…"), offset, length))}`.
 * The JSON names the file; Terraform reads it at plan, so the plan, the state and the
 * ConfigMaps (etcd) still hold the program.
 */
export function bundleConfigMaps(scope: Construct, owner: string, namespace: string, labels: Record<string, string>, bundlePath: string, bundle: GatewayBundle): BundleParts {
  const key = bundlePartKey(bundlePath);
  const fileBase64 = Fn.filebase64(gatewayBundleAsset(scope, bundle).asset.path);
  const configMaps = configMapPartRanges(Buffer.from(bundle.text, "utf8"), `the gateway bundle ${bundle.path}`).map(({ start, end }, i) => new kubernetesClasses.ConfigMapV1(scope, i === 0 ? "bundle" : `bundle-${i}`, {
    metadata: { name: i === 0 ? `${owner}-bundle` : `${owner}-bundle-${i}`, namespace, labels },
    data: { [key]: Fn.base64decode(Fn.substr(fileBase64, base64Length(start), base64Length(end - start))) },
  }));
  return { configMaps };
}

/**
 * The pod's side of the bundle (`bundleJoinLayout`) as the provider's structs: a volume per part,
 * the volume `bundle` (an emptyDir) the joined file lands in, and the init container
 * `join-bundle` (in `image`, Node) that joins the parts into `bundlePath`, 0444. Mount `bundle`
 * read-only at the bundle's directory to run it.
 */
export function bundleJoin(parts: BundleParts, bundlePath: string, image: string): { volumes: DeploymentV1SpecTemplateSpecVolume[]; initContainer: DeploymentV1SpecTemplateSpecInitContainer } {
  const layout = bundleJoinLayout(parts.configMaps.map((c) => c.metadata.name), bundlePartKey(bundlePath), bundlePath);
  return {
    volumes: [
      ...layout.partVolumes.map((part) => ({ name: part.name, configMap: { name: part.configMap, defaultMode: "0444" } })),
      // The joined bundle, written by the init container, read-only to the program.
      { name: layout.bundleVolume.name, emptyDir: { sizeLimit: layout.bundleVolume.sizeLimit } },
    ],
    initContainer: {
      ...layout.initContainer,
      image,
      resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "500m", memory: "128Mi" } },
      securityContext: hardenedContainerSecurityContext(),
      volumeMount: [
        ...layout.partVolumes.map((part) => ({ name: part.name, mountPath: part.mountPath, readOnly: true })),
        { name: layout.bundleVolume.name, mountPath: layout.bundleVolume.mountPath },
      ],
    },
  };
}
