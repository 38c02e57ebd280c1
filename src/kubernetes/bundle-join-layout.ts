import { posix } from "node:path";
import { JOIN_PARTS_PROGRAM } from "./config-map-parts";

/** Where the init container reads the bundle's parts, one directory each. */
const BUNDLE_PARTS_DIR = "/opt/rapidclaw-bundle-parts";

/** The key of a bundle's part in its ConfigMap: `<bundle file>.part`. */
export const bundlePartKey = (bundlePath: string) => `${posix.basename(bundlePath)}.part`;

/**
 * How a pod joins a bundle from its ConfigMap parts, whichever form writes the pod (the
 * provider's structs for the gateway and proxy-events, a manifest for the probe's Job): a volume
 * per part (`bundle-<i>`, mounted at `/opt/rapidclaw-bundle-parts/<i>`), the `emptyDir` volume
 * `bundle` the joined file lands in (mounted at the bundle's directory), and the init container
 * `join-bundle` that joins the parts into the bundle's path, 0444. Pure.
 */
export interface BundleJoinLayout {
  readonly partVolumes: ReadonlyArray<{ readonly name: string; readonly configMap: string; readonly mountPath: string }>;
  readonly bundleVolume: { readonly name: "bundle"; readonly mountPath: string; readonly sizeLimit: string };
  readonly initContainer: { readonly name: "join-bundle"; readonly command: string[] };
}

/**
 * The layout joining the parts in ConfigMaps `partConfigMaps` (in order), each under `partKey`
 * (`bundlePartKey` of the path they were made for), into `bundlePath`.
 */
export function bundleJoinLayout(partConfigMaps: ReadonlyArray<string>, partKey: string, bundlePath: string): BundleJoinLayout {
  const partVolumes = partConfigMaps.map((configMap, i) => ({ name: `bundle-${i}`, configMap, mountPath: `${BUNDLE_PARTS_DIR}/${i}` }));
  return {
    partVolumes,
    bundleVolume: { name: "bundle", mountPath: posix.dirname(bundlePath), sizeLimit: "16Mi" },
    initContainer: { name: "join-bundle", command: ["node", "-e", JOIN_PARTS_PROGRAM, bundlePath, ...partVolumes.map((v) => `${v.mountPath}/${partKey}`)] },
  };
}
