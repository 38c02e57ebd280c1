/**
 * How to run `rapidclaw probe` as a role, for the stack's outputs: a `docker run` command (a
 * container on the role's network, as its agents' user, with their proxy, role and gateway
 * variables) and a Kubernetes Job (the role's labels and ServiceAccount, the same variables). Pure.
 */
import { posix } from "node:path";
import { GATEWAY_BUNDLE_PATH } from "../constructs/gateway-bundle";
import { DEFAULTS } from "../model/defaults";
import { UNREACHABLE_RESOLVER } from "../model/dns-opt-in";
import { roleUids } from "../plan/role-uids";
import { LABELS, type FirewallPlan, type PlannedRole } from "../plan/plan";
import { COMPONENTS, workloadLabels } from "../terraform/labels";
import { bundleJoinLayout } from "../kubernetes/bundle-join-layout";

/** The package's name, under node_modules. */
const PACKAGE = "@rapidclaw/agent-firewall";
/** Where the probe container finds the bundle and the firewall file. */
const BUNDLE = "/opt/rapidclaw/rapidclaw.cjs";
const DOCKER_CONFIG = "/etc/rapidclaw/firewall.yaml";
/** The Kubernetes agents' uid (kubernetes/agents.ts AGENT_UID). */
const KUBERNETES_AGENT_UID = 10001;

/** What the role's agents are told: their proxy and gateway URLs (Terraform references allowed). */
export interface RoleEndpoints {
  readonly proxyUrl: string;
  readonly gatewayUrl?: string;
}

/** The variables the probe reads, as the role's agents have them. */
function probeEnvironment(role: PlannedRole, endpoints: RoleEndpoints): Array<[string, string]> {
  const env: Array<[string, string]> = [["HTTPS_PROXY", endpoints.proxyUrl], ["RAPIDCLAW_ROLE", role.name]];
  if (endpoints.gatewayUrl !== undefined) env.push(["RAPIDCLAW_GATEWAY_URL", endpoints.gatewayUrl]);
  return env;
}

/** The user the role's agents run as on Docker: the first agent's, else the role's own uid. */
function dockerUser(plan: FirewallPlan, role: PlannedRole): string {
  const uid = roleUids(plan.names.firewall, plan.roles.map((r) => r.name)).get(role.name);
  return plan.agents.find((a) => a.role === role.name)?.user ?? `${uid}:${uid}`;
}

/**
 * Docker: the probe in a throw-away container on the role's network, as its agents' user, with
 * their resolver (none that answers, unless the role opts in to DNS), a read-only root and no capabilities. Run from the directory holding node_modules (the bundle is
 * the package's), with RAPIDCLAW_FIREWALL_FILE set to the firewall file.
 */
export function dockerProbeCommand(plan: FirewallPlan, role: PlannedRole, endpoints: RoleEndpoints): string {
  if (role.docker === undefined) throw new Error(`role "${role.name}" has no Docker network; the Docker probe command is for platform docker`);
  const image = plan.gateway?.image ?? DEFAULTS.gateway.image;
  return [
    "docker run --rm",
    `--network ${role.docker.networkName}`,
    `--user ${dockerUser(plan, role)}`,
    ...(role.dnsReason === undefined ? [`--dns ${UNREACHABLE_RESOLVER}`] : []),
    "--read-only --cap-drop ALL --security-opt no-new-privileges",
    ...probeEnvironment(role, endpoints).map(([name, value]) => `-e ${name}=${value}`),
    `-v "$PWD/node_modules/${PACKAGE}/${GATEWAY_BUNDLE_PATH}:${BUNDLE}:ro"`,
    `-v "$(realpath "$RAPIDCLAW_FIREWALL_FILE"):${DOCKER_CONFIG}:ro"`,
    image,
    `node ${BUNDLE} probe --config ${DOCKER_CONFIG}`,
  ].join(" ");
}

/** Kubernetes: where the tool gateway's ConfigMaps hold the firewall file and the bundle's parts. */
export interface GatewayConfigMaps {
  /** The ConfigMap of the gateway's firewall file, and the file's key in it. */
  readonly config: { readonly name: string; readonly key: string };
  /** The bundle's parts in order: ConfigMap names; each holds one key, `bundleKey`. */
  readonly bundleParts: ReadonlyArray<string>;
  readonly bundleKey: string;
}

/**
 * Kubernetes: a Job whose pod is one of the role's (its labels, ServiceAccount, agents' uid and
 * resolver configuration, the same variables), running the probe once from the tool gateway's ConfigMaps: an init
 * container joins the bundle's parts, as the gateway's does (`bundleJoinLayout`).
 */
export function kubernetesProbeJob(plan: FirewallPlan, role: PlannedRole, endpoints: RoleEndpoints, configMaps: GatewayConfigMaps): Record<string, unknown> {
  const image = plan.gateway?.image ?? DEFAULTS.gateway.image;
  const labels = workloadLabels(plan.names.firewall, COMPONENTS.agent, { [LABELS.role]: role.resourceName });
  const join = bundleJoinLayout(configMaps.bundleParts, configMaps.bundleKey, BUNDLE);
  const config = `/etc/rapidclaw/${configMaps.config.key}`;
  const hardened = { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } };
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name: `${plan.names.firewall}-probe-${role.resourceName}`, namespace: plan.namespace, labels },
    spec: {
      backoffLimit: 0,
      ttlSecondsAfterFinished: 3600,
      template: {
        metadata: { labels },
        spec: {
          serviceAccountName: role.serviceAccountName,
          automountServiceAccountToken: false,
          restartPolicy: "Never",
          // As the role's agents: no resolver that answers unless the role opts in to DNS.
          ...(role.dnsReason === undefined ? { dnsPolicy: "None", dnsConfig: { nameservers: [UNREACHABLE_RESOLVER] } } : {}),
          securityContext: { runAsNonRoot: true, runAsUser: KUBERNETES_AGENT_UID, runAsGroup: KUBERNETES_AGENT_UID, seccompProfile: { type: "RuntimeDefault" } },
          initContainers: [{
            name: join.initContainer.name,
            image,
            command: join.initContainer.command,
            securityContext: hardened,
            volumeMounts: [...join.partVolumes.map((part) => ({ name: part.name, mountPath: part.mountPath, readOnly: true })), { name: join.bundleVolume.name, mountPath: join.bundleVolume.mountPath }],
          }],
          containers: [{
            name: "probe",
            image,
            command: ["node", BUNDLE, "probe", "--config", config],
            env: probeEnvironment(role, endpoints).map(([name, value]) => ({ name, value })),
            securityContext: hardened,
            volumeMounts: [{ name: join.bundleVolume.name, mountPath: join.bundleVolume.mountPath, readOnly: true }, { name: "config", mountPath: posix.dirname(config), readOnly: true }],
          }],
          volumes: [
            { name: join.bundleVolume.name, emptyDir: { sizeLimit: join.bundleVolume.sizeLimit } },
            { name: "config", configMap: { name: configMaps.config.name, items: [{ key: configMaps.config.key, path: configMaps.config.key }] } },
            ...join.partVolumes.map((part) => ({ name: part.name, configMap: { name: part.configMap } })),
          ],
        },
      },
    },
  };
}
