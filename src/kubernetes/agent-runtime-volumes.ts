import { posix } from "node:path";
import type { ConfigMapV1 } from "@cdktf/provider-kubernetes/lib/config-map-v1";
import type {
  DeploymentV1SpecTemplateSpecContainerVolumeMount,
  DeploymentV1SpecTemplateSpecVolume,
} from "@cdktf/provider-kubernetes/lib/deployment-v1";
import { Construct } from "constructs";
import { LABELS, type PlannedRole } from "../plan/plan";
import type { AgentRuntimeMount } from "../render/agent-runtime-files";
import { COMPONENTS, workloadLabels } from "../terraform/labels";
import { terraformLiteral } from "../terraform/terraform-literal";
import { scratchVolumes, sha256 } from "./pod";
import { kubernetesClasses } from "./provider-classes";

/** sha256 of an agent's runtime files, so its pods roll when they change (subPath mounts never update in place). */
export const RUNTIME_FILES_CHECKSUM_ANNOTATION = "rapidclaw.dev/runtime-files-sha256";

/** Room for the state a runtime writes (Hermes' sessions and logs) under a read-only root. */
const STATE_SIZE_LIMIT = "256Mi";

/** An agent's runtime as pod volumes, mounts and the checksum of its files. */
export interface RuntimeVolumes {
  readonly volumes: DeploymentV1SpecTemplateSpecVolume[];
  readonly mounts: DeploymentV1SpecTemplateSpecContainerVolumeMount[];
  readonly checksum: string;
}

/**
 * The ConfigMaps of the agents' runtimes: one per runtime with the package's files (the plugin,
 * the bundle), shared by every role, and one per role and runtime with the role's configuration.
 * Each file is mounted on its own (subPath), so a file can go into a directory the program writes
 * to (Hermes' home), which a ConfigMap mounted as a directory would make read-only.
 */
export class AgentRuntimeConfigMaps extends Construct {
  /** ConfigMaps by name, created for the runtimes and roles that have agents. */
  public readonly configMaps: { [name: string]: ConfigMapV1 } = {};

  constructor(scope: Construct, id: string, private readonly namespace: string, private readonly firewallName: string) {
    super(scope, id);
  }

  /** Volumes and mounts of an agent of `role` with the runtime `mount`; a read-only root gets a scratch state directory. */
  public volumesOf(role: PlannedRole, mount: AgentRuntimeMount): RuntimeVolumes {
    const shared = this.configMap(`${this.firewallName}-${mount.runtime}-files`, mount.sharedFiles, {});
    const own = this.configMap(`${role.filesConfigMapName}-${mount.runtime}`, mount.roleFiles, { [LABELS.role]: role.resourceName });
    const state = mount.stateDirectory !== undefined && !role.allowFileSystem
      ? scratchVolumes([{ name: "runtime-state", path: mount.stateDirectory, sizeLimit: STATE_SIZE_LIMIT }])
      : { volumes: [], mounts: [] };
    const fileMounts = (volume: string, files: AgentRuntimeMount["sharedFiles"]) =>
      files.map((file) => ({ name: volume, mountPath: file.path, subPath: posix.basename(file.path), readOnly: true }));
    return {
      volumes: [
        ...state.volumes,
        { name: "runtime-shared", configMap: { name: shared.metadata.name, defaultMode: "0444" } },
        { name: "runtime-role", configMap: { name: own.metadata.name, defaultMode: "0444" } },
      ],
      // The state directory first: the files mounted into it must come after it.
      mounts: [...state.mounts, ...fileMounts("runtime-shared", mount.sharedFiles), ...fileMounts("runtime-role", mount.roleFiles)],
      checksum: sha256(JSON.stringify([...mount.sharedFiles, ...mount.roleFiles].map((f) => [f.path, f.content]))),
    };
  }

  private configMap(name: string, files: AgentRuntimeMount["sharedFiles"], labels: { [key: string]: string }): ConfigMapV1 {
    this.configMaps[name] ??= new kubernetesClasses.ConfigMapV1(this, name, {
      metadata: { name, namespace: this.namespace, labels: workloadLabels(this.firewallName, COMPONENTS.agent, labels) },
      data: Object.fromEntries(files.map((f) => [posix.basename(f.path), terraformLiteral(f.content)])),
    });
    return this.configMaps[name];
  }
}
