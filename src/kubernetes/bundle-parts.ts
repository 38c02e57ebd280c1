import { posix } from "node:path";
import type { ConfigMapV1 } from "@cdktf/provider-kubernetes/lib/config-map-v1";
import type { DeploymentV1SpecTemplateSpecInitContainer, DeploymentV1SpecTemplateSpecVolume } from "@cdktf/provider-kubernetes/lib/deployment-v1";
import type { Construct } from "constructs";
import { terraformLiteral } from "../terraform/terraform-literal";
import { configMapParts, JOIN_PARTS_PROGRAM } from "./config-map-parts";
import { hardenedContainerSecurityContext } from "./pod";
import { kubernetesClasses } from "./provider-classes";

/** Where the init container reads the bundle's parts, one directory each. */
const BUNDLE_PARTS_DIR = "/opt/rapidclaw-bundle-parts";

/** Where a pod's bundle comes from: ConfigMaps `<name>-bundle`, `<name>-bundle-1`, … holding its parts. */
export interface BundleParts {
  /** The ConfigMaps, in order. */
  readonly configMaps: ConfigMapV1[];
  /** The key of each part: `<bundle file>.part`. */
  readonly key: string;
}

/** The last bundle text split, its parts escaped for Terraform: the same bundle serves every stack of a process. */
let lastParts: { readonly text: string; readonly parts: string[] } | undefined;
function literalParts(text: string): string[] {
  if (lastParts?.text !== text) lastParts = { text, parts: configMapParts(text).map(terraformLiteral) };
  return lastParts.parts;
}

/**
 * The bundle in ConfigMaps of their own, in parts: it is larger than the 1 MiB a ConfigMap may
 * hold. Ids `bundle`, `bundle-1`, … under `scope`.
 */
export function bundleConfigMaps(scope: Construct, owner: string, namespace: string, labels: Record<string, string>, bundlePath: string, text: string): BundleParts {
  const key = `${posix.basename(bundlePath)}.part`;
  const configMaps = literalParts(text).map((part, i) => new kubernetesClasses.ConfigMapV1(scope, i === 0 ? "bundle" : `bundle-${i}`, {
    metadata: { name: i === 0 ? `${owner}-bundle` : `${owner}-bundle-${i}`, namespace, labels },
    data: { [key]: part },
  }));
  return { configMaps, key };
}

/**
 * The pod's side of the bundle: a volume per part, the volume `bundle` (an emptyDir) the joined
 * file lands in, and the init container `join-bundle` (in `image`, Node) that joins the parts
 * into `bundlePath`, 0444. Mount `bundle` read-only at the bundle's directory to run it.
 */
export function bundleJoin(parts: BundleParts, bundlePath: string, image: string): { volumes: DeploymentV1SpecTemplateSpecVolume[]; initContainer: DeploymentV1SpecTemplateSpecInitContainer } {
  const partDir = (i: number) => `${BUNDLE_PARTS_DIR}/${i}`;
  return {
    volumes: [
      ...parts.configMaps.map((part, i) => ({ name: `bundle-${i}`, configMap: { name: part.metadata.name, defaultMode: "0444" } })),
      // The joined bundle, written by the init container, read-only to the program.
      { name: "bundle", emptyDir: { sizeLimit: "16Mi" } },
    ],
    initContainer: {
      name: "join-bundle",
      image,
      command: ["node", "-e", JOIN_PARTS_PROGRAM, bundlePath, ...parts.configMaps.map((_, i) => `${partDir(i)}/${parts.key}`)],
      resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "500m", memory: "128Mi" } },
      securityContext: hardenedContainerSecurityContext(),
      volumeMount: [
        ...parts.configMaps.map((_, i) => ({ name: `bundle-${i}`, mountPath: partDir(i), readOnly: true })),
        { name: "bundle", mountPath: posix.dirname(bundlePath) },
      ],
    },
  };
}
