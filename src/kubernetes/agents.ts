import { posix } from "node:path";
import type { ConfigMapV1 } from "@cdktf/provider-kubernetes/lib/config-map-v1";
import type {
  DeploymentV1,
  DeploymentV1SpecTemplateSpecContainerVolumeMount,
  DeploymentV1SpecTemplateSpecVolume,
} from "@cdktf/provider-kubernetes/lib/deployment-v1";
import type { ServiceAccountV1 } from "@cdktf/provider-kubernetes/lib/service-account-v1";
import { Construct } from "constructs";
import type { IAgentNetwork } from "../constructs/agent-network";
import type { IEgressProxy } from "../constructs/egress-proxy";
import { planOf } from "../plan/firewall-spec";
import { LABELS, type PlannedRole } from "../plan/plan";
import { agentEnvironment, agentGatewayEnvironment, announcedProfilePath, type AgentFile, type AgentFiles } from "../plan/agent-environment";
import { agentRuntimeMount, withRuntimeEnvironment } from "../render/agent-runtime-files";
import { COMPONENTS, firewallLabels, workloadLabels } from "../terraform/labels";
import { readPackageFile } from "../terraform/package-files";
import { AgentRuntimeConfigMaps, RUNTIME_FILES_CHECKSUM_ANNOTATION } from "./agent-runtime-volumes";
import { terraformLiteral } from "../terraform/terraform-literal";
import { CHECKSUM_ANNOTATIONS, hardenedContainerSecurityContext, hardenedPodSecurityContext, scratchVolumes, sha256 } from "./pod";
import { byString } from "../model/order";
import { kubernetesClasses } from "./provider-classes";
import { UNREACHABLE_RESOLVER } from "../model/dns-opt-in";

/** User and group agent containers run as: non-root, above the usual system and login ranges. */
export const AGENT_UID = 10001;

/**
 * Directory of the service account token agents present to Vault's Kubernetes auth; the token
 * itself is the file `token` in it (`VAULT_TOKEN_PATH`). Mounted only for roles that hold keys.
 */
export const VAULT_TOKEN_DIR = "/var/run/secrets/vault";

/** The token file agents log in to Vault with. */
export const VAULT_TOKEN_PATH = `${VAULT_TOKEN_DIR}/token`;

/** Audience of that token; the Vault Kubernetes auth role must expect exactly this audience. */
export const VAULT_TOKEN_AUDIENCE = "vault";

/** Lifetime of that token; the kubelet refreshes it before it expires. */
export const VAULT_TOKEN_EXPIRATION_SECONDS = 600;

/**
 * The projected ServiceAccount token a pod logs in to Vault with, at `VAULT_TOKEN_PATH`: short-lived
 * and for Vault alone (its audience), instead of the automounted API token.
 */
export function vaultTokenVolume(): { volume: DeploymentV1SpecTemplateSpecVolume; mount: DeploymentV1SpecTemplateSpecContainerVolumeMount } {
  return {
    volume: {
      name: "vault-token",
      projected: [{ sources: [{ serviceAccountToken: { audience: VAULT_TOKEN_AUDIENCE, expirationSeconds: VAULT_TOKEN_EXPIRATION_SECONDS, path: posix.basename(VAULT_TOKEN_PATH) } }] }],
    },
    mount: { name: "vault-token", mountPath: VAULT_TOKEN_DIR, readOnly: true },
  };
}

/** Properties of `KubernetesAgents`. */
export interface KubernetesAgentsProps {
  /** The network whose namespace the agents run in; the agents are its firewall's. */
  readonly network: IAgentNetwork;
  /** The proxy the agents must use. */
  readonly proxy: IEgressProxy;
  /**
   * Files mounted read-only into the agents of a role, by role name; a role's files share one
   * directory (the role profile documents).
   * @default - none
   */
  readonly files?: AgentFiles;
  /**
   * Kubernetes: the address agents reach the tool gateway at, `ToolGateway.kubernetes.serviceAddress`
   * (agents resolve no names). Docker agents use the gateway's address on their role's network.
   * @default - the gateway Service's DNS name, which agents resolve only when their role opts in to DNS (`network.dnsReason`)
   */
  readonly gatewayAddress?: string;
}

/** A role's files as one ConfigMap: keys are file names, all files in `directory`. */
interface RoleFileSet {
  readonly directory: string;
  readonly data: { [fileName: string]: string };
  readonly checksum: string;
}

/**
 * Kubernetes part of AgentFleet: per role a ServiceAccount (no automounted API token) and the
 * ConfigMap of its files; per agent a hardened Deployment using its role's ServiceAccount,
 * labelled so the role's NetworkPolicies select it, pointed at its role's proxy port; an agent
 * with a `runtime` also mounts its program's configuration and hook (`AgentRuntime`).
 */
export class KubernetesAgents extends Construct {
  /** ServiceAccounts by role name: the subjects Vault's Kubernetes auth binds each role's policy to. */
  public readonly serviceAccounts: { [roleName: string]: ServiceAccountV1 } = {};
  /** ConfigMaps of the roles' files, by role name (roles without files have none). */
  public readonly fileConfigMaps: { [roleName: string]: ConfigMapV1 } = {};
  /** Agent Deployments by agent name. */
  public readonly deployments: { [agentName: string]: DeploymentV1 } = {};
  /** ConfigMaps of the agents' runtimes (`AgentProps.runtime`) by name: the package's files per runtime, each role's configuration. */
  public readonly runtimeConfigMaps: { [name: string]: ConfigMapV1 };

  constructor(scope: Construct, id: string, props: KubernetesAgentsProps) {
    super(scope, id);
    const plan = planOf(props.network.spec);
    const namespace = props.network.namespaceName;
    const files = props.files ?? {};
    const profilePath = announcedProfilePath(files);
    const fileSets = new Map<string, RoleFileSet>();
    // One scope per kind: agent and role names can never collide as construct ids.
    const accountScope = new Construct(this, "service-accounts");
    const filesScope = new Construct(this, "role-files");
    const deploymentScope = new Construct(this, "deployments");
    const runtimeFiles = new AgentRuntimeConfigMaps(this, "runtime-files", namespace, plan.names.firewall);
    this.runtimeConfigMaps = runtimeFiles.configMaps;
    for (const role of plan.roles) {
      const roleLabels = workloadLabels(plan.names.firewall, COMPONENTS.agent, { [LABELS.role]: role.resourceName });
      this.serviceAccounts[role.name] = new kubernetesClasses.ServiceAccountV1(accountScope, role.resourceName, {
        metadata: { name: role.serviceAccountName, namespace, labels: roleLabels },
        automountServiceAccountToken: false,
      });
      const fileSet = roleFileSet(role.name, files[role.name] ?? []);
      if (fileSet) {
        fileSets.set(role.name, fileSet);
        this.fileConfigMaps[role.name] = new kubernetesClasses.ConfigMapV1(filesScope, role.resourceName, {
          metadata: { name: role.filesConfigMapName, namespace, labels: roleLabels },
          data: Object.fromEntries(Object.entries(fileSet.data).map(([name, text]) => [name, terraformLiteral(text)])),
        });
      }
    }

    const roles = new Map(plan.roles.map((r) => [r.name, r]));
    for (const agent of plan.agents) {
      const role = roles.get(agent.role) as PlannedRole;
      const selectorLabels = { [LABELS.component]: COMPONENTS.agent, [LABELS.agent]: agent.resourceName, ...firewallLabels(plan.names.firewall) };
      const podLabels = workloadLabels(plan.names.firewall, COMPONENTS.agent, { [LABELS.agent]: agent.resourceName, [LABELS.role]: role.resourceName });
      const fileSet = fileSets.get(role.name);
      const volumes = this.agentVolumes(role, fileSet);
      const runtime = agentRuntimeMount(props.network.spec, agent, readPackageFile);
      const runtimeVolumes = runtime && runtimeFiles.volumesOf(role, runtime);
      volumes.volumes.push(...(runtimeVolumes?.volumes ?? []));
      volumes.mounts.push(...(runtimeVolumes?.mounts ?? []));
      const proxyUrl = props.proxy.proxyUrls[agent.role];
      if (proxyUrl === undefined) throw new Error(`agent "${agent.name}": the proxy serves no role "${agent.role}"; build the proxy and the agents from the same firewall spec`);
      const quantities = { cpu: `${Math.round(agent.cpus * 1000)}m`, memory: `${agent.memoryMiB}Mi` };
      this.deployments[agent.name] = new kubernetesClasses.DeploymentV1(deploymentScope, agent.resourceName, {
        metadata: { name: agent.workloadName, namespace, labels: podLabels },
        spec: {
          replicas: String(agent.replicas),
          // Only component and agent: a selector cannot change, the agent's role can.
          selector: { matchLabels: selectorLabels },
          template: {
            metadata: {
              labels: podLabels,
              annotations: fileSet || runtimeVolumes ? {
                ...(fileSet && { [CHECKSUM_ANNOTATIONS.agentFiles]: fileSet.checksum }),
                ...(runtimeVolumes && { [RUNTIME_FILES_CHECKSUM_ANNOTATION]: runtimeVolumes.checksum }),
              } : undefined,
            },
            spec: {
              serviceAccountName: this.serviceAccounts[role.name].metadata.name,
              automountServiceAccountToken: false,
              securityContext: hardenedPodSecurityContext(AGENT_UID),
              // No resolver unless the role opts in: `None` with a nameserver that answers nothing (see UNREACHABLE_RESOLVER).
              ...(role.dnsReason === undefined ? { dnsPolicy: "None", dnsConfig: { nameservers: [UNREACHABLE_RESOLVER] } } : {}),
              container: [
                {
                  name: agent.resourceName,
                  image: agent.image,
                  env: withRuntimeEnvironment(agentEnvironment(agent, proxyUrl, plan.proxy.noProxy, profilePath, agentGatewayEnvironment(plan, agent.role, props.gatewayAddress)), runtime).map(([name, value]) => ({ name, value })),
                  resources: { requests: quantities, limits: { ...quantities } },
                  securityContext: hardenedContainerSecurityContext(role.allowFileSystem),
                  volumeMount: volumes.mounts.length > 0 ? volumes.mounts : undefined,
                },
              ],
              volume: volumes.volumes.length > 0 ? volumes.volumes : undefined,
            },
          },
        },
      });
    }
  }

  /** Volumes of a role's agents: /tmp on a read-only root, the Vault token for roles with keys, the role's files. */
  private agentVolumes(role: PlannedRole, fileSet: RoleFileSet | undefined) {
    const volumes: DeploymentV1SpecTemplateSpecVolume[] = [];
    const mounts: DeploymentV1SpecTemplateSpecContainerVolumeMount[] = [];
    if (!role.allowFileSystem) {
      const tmp = scratchVolumes([{ name: "tmp", path: "/tmp", sizeLimit: "64Mi" }]);
      volumes.push(...tmp.volumes);
      mounts.push(...tmp.mounts);
    }
    if (role.keyGrants.length > 0) {
      const token = vaultTokenVolume();
      volumes.push(token.volume);
      mounts.push(token.mount);
    }
    if (fileSet) {
      if (mounts.some((m) => m.mountPath === fileSet.directory)) {
        throw new Error(`files of role "${role.name}": ${fileSet.directory} is already a mount of the agent; put the files in a directory of their own`);
      }
      const configMap = this.fileConfigMaps[role.name];
      volumes.push({
        name: "role-files",
        configMap: {
          name: configMap.metadata.name,
          defaultMode: "0444",
          items: Object.keys(fileSet.data).map((key) => ({ key, path: key })),
        },
      });
      mounts.push({ name: "role-files", mountPath: fileSet.directory, readOnly: true });
    }
    return { volumes, mounts };
  }
}

/** ConfigMap keys: the characters Kubernetes allows in one. */
const CONFIG_MAP_KEY = /^[-._a-zA-Z0-9]+$/;

/**
 * A role's files as one ConfigMap mounted at their directory, or undefined when it has none.
 * Throws when the files are not all directly in one absolute directory (other than `/`), since
 * one mount cannot place them elsewhere.
 */
function roleFileSet(roleName: string, files: ReadonlyArray<AgentFile>): RoleFileSet | undefined {
  if (files.length === 0) return undefined;
  const problem = (text: string) => new Error(`files of role "${roleName}": ${text}`);
  const sorted = [...files].sort((a, b) => byString(a.path, b.path));
  for (const file of sorted) {
    if (!posix.isAbsolute(file.path) || posix.normalize(file.path) !== file.path) throw problem(`"${file.path}" must be an absolute, normalised path`);
  }
  const directories = [...new Set(sorted.map((f) => posix.dirname(f.path)))];
  if (directories.length > 1) throw problem(`all files must be directly in one directory, one ConfigMap is mounted there; found ${directories.join(", ")}`);
  const directory = directories[0];
  if (directory === "/") throw problem("the files are in the root directory; put them in a directory of their own, like /etc/rapidclaw");
  const data: { [fileName: string]: string } = {};
  for (const file of sorted) {
    const name = posix.basename(file.path);
    if (!CONFIG_MAP_KEY.test(name) || name.startsWith("..")) throw problem(`file name "${name}" may hold only letters, digits, ".", "_" and "-", and may not start with ".."`);
    if (name in data) throw problem(`"${file.path}" is listed twice`);
    data[name] = file.content;
  }
  // Hashes the text as given: contents must be literal (a token's later value would not roll the pods).
  return { directory, data, checksum: sha256(JSON.stringify(sorted.map((f) => [f.path, f.content]))) };
}
