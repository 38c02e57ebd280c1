import type { ConfigMapV1 } from "@cdktf/provider-kubernetes/lib/config-map-v1";
import type { DeploymentV1, DeploymentV1Spec, DeploymentV1SpecTemplateSpec, DeploymentV1SpecTemplateSpecContainer, DeploymentV1SpecTemplateSpecInitContainer, DeploymentV1SpecTemplateSpecVolume } from "@cdktf/provider-kubernetes/lib/deployment-v1";
import type { NetworkPolicyV1, NetworkPolicyV1SpecEgress } from "@cdktf/provider-kubernetes/lib/network-policy-v1";
import type { PodDisruptionBudgetV1 } from "@cdktf/provider-kubernetes/lib/pod-disruption-budget-v1";
import type { ServiceV1 } from "@cdktf/provider-kubernetes/lib/service-v1";
import { Construct } from "constructs";
import type { IAgentNetwork } from "../constructs/agent-network";
import { pathOfChild } from "../constructs/construct-path";
import { FirewallSpecError, raisedBy } from "../model/errors";
import { planOf } from "../plan/firewall-spec";
import { proxyImageProblems } from "../plan/proxy-image";
import { posix } from "node:path";
import { renderSquidConfForPlan, SQUID_CONF_PATH, squidGatewayListenerForPlan } from "../render/squid-conf";
import { squidStartCommand } from "../render/squid-start-command";
import { SQUID_SNI_HELPER, SQUID_SNI_HELPER_PATH } from "../render/squid-tls";
import { COMPONENTS, workloadLabels } from "../terraform/labels";
import { terraformLiteral } from "../terraform/terraform-literal";
import { agentPodSelector, componentSelector, dnsEgressRule, firewallPolicy, publicInternetPeers, tcpPorts } from "./network-policy";
import { CHECKSUM_ANNOTATIONS, hardenedContainerSecurityContext, hardenedPodSecurityContext, rolePortName, scratchVolumes, sha256 } from "./pod";
import { kubernetesClasses } from "./provider-classes";

/** The `proxy` user and group of the Squid image (uid/gid 13 on Debian and Ubuntu). */
export const SQUID_UID = 13;

/** Name of the gateway listener's port on the container and the Service. */
const GATEWAY_PORT_NAME = "tool-gateway";

/** ConfigMap key of the SNI helper, beside `squid.conf`. */
const SNI_HELPER_KEY = posix.basename(SQUID_SNI_HELPER_PATH);

/** Requests and limits of each proxy container: Squid without a cache needs little. */
export const PROXY_RESOURCES = {
  requests: { cpu: "100m", memory: "128Mi" },
  limits: { cpu: "1000m", memory: "512Mi" },
} as const;

/** The proxy pods' volume of Squid's logs, its event log among them: a sidecar reading it mounts it read-only. */
export const SQUID_LOG_VOLUME = "log";

/** Where Squid may write: spool, run and log directories, each a small emptyDir. */
const SQUID_SCRATCH = [
  { name: "spool", path: "/var/spool/squid", sizeLimit: "16Mi" },
  { name: "run", path: "/var/run/squid", sizeLimit: "1Mi" },
  // Also the event log proxy-events follows, rotated past EVENT_LOG_ROTATION.maxBytes (a full volume would get the pod evicted).
  { name: SQUID_LOG_VOLUME, path: "/var/log/squid", sizeLimit: "1Gi" },
];

/** A container added to every proxy pod beside Squid, with what it needs (`KubernetesEgressProxy.addSidecar`). */
export interface ProxyPodSidecar {
  /** The container. */
  readonly container: DeploymentV1SpecTemplateSpecContainer;
  /** @default - none */
  readonly initContainers?: DeploymentV1SpecTemplateSpecInitContainer[];
  /** Volumes it mounts besides the proxy's. @default - none */
  readonly volumes?: DeploymentV1SpecTemplateSpecVolume[];
  /** Pod annotations, e.g. a checksum that rolls the pods when its configuration changes. @default - none */
  readonly annotations?: { [key: string]: string };
  /** The pods' `terminationGracePeriodSeconds`, when the sidecar needs longer than the default to stop. @default - unchanged */
  readonly terminationGracePeriodSeconds?: number;
}

/** Properties of `KubernetesEgressProxy`. */
export interface KubernetesEgressProxyProps {
  /** The network whose namespace the proxy runs in; the proxy uses its firewall spec. */
  readonly network: IAgentNetwork;
}

/**
 * Kubernetes part of EgressProxy: a Squid Deployment with one port per role, its ConfigMap,
 * Service and PodDisruptionBudget, and the NetworkPolicy `<firewall>-egress-proxy`: ingress on each
 * role's port from that role's agent pods only; egress to the cluster DNS and to public
 * addresses on 443 (and 80 with `proxy.allowPlainHttp`), never to private, link-local or
 * loopback ranges.
 */
export class KubernetesEgressProxy extends Construct {
  /** DNS name of the proxy Service (agents do not use it: they resolve no names). */
  public readonly serviceHost: string;
  /**
   * The proxy Service's cluster IP, a Terraform reference (`spec[0].cluster_ip`, known after
   * apply): agents reach the proxy by address, so they need no resolver.
   */
  public readonly serviceAddress: string;
  /** squid.conf, under the key `squid.conf`. */
  public readonly configMap: ConfigMapV1;
  /** The Squid pods. */
  public readonly deployment: DeploymentV1;
  /** ClusterIP Service with one port per role. */
  public readonly service: ServiceV1;
  /** Keeps a proxy pod up during voluntary disruptions while there are several. */
  public readonly podDisruptionBudget: PodDisruptionBudgetV1;
  /** Ingress per role port from that role only; egress to DNS and public HTTPS only. */
  public readonly networkPolicy: NetworkPolicyV1;
  /** The rendered squid.conf, as in the ConfigMap. */
  public readonly squidConf: string;
  /** `http://<serviceAddress>:<role port>` agents use as HTTPS_PROXY, per role name. */
  public readonly proxyUrls: { [roleName: string]: string };
  /** `http://<serviceAddress>:<port>` of the tool gateway's listener (RAPIDCLAW_UPSTREAM_PROXY); undefined without one. */
  public readonly gatewayProxyUrl?: string;
  /** The Deployment's spec as given, which `addSidecar` extends. */
  private deploymentSpec: DeploymentV1Spec;

  constructor(scope: Construct, id: string, props: KubernetesEgressProxyProps) {
    const plan = planOf(props.network.spec);
    const problems = proxyImageProblems(plan);
    if (problems.length > 0) throw new FirewallSpecError(raisedBy(pathOfChild(scope, id), problems));
    super(scope, id);
    const firewall = plan.names.firewall;
    const namespaceName = props.network.namespaceName;
    const squidConf = renderSquidConfForPlan(plan);
    this.squidConf = squidConf;
    const labels = workloadLabels(firewall, COMPONENTS.egressProxy);
    // Service names resolve as `<service>.<namespace>.svc` through the pods' search list, whatever the cluster domain.
    this.serviceHost = `${plan.names.proxy}.${namespaceName}.svc`;
    const ports = plan.roles.map((role) => ({ name: rolePortName(role.slot), port: role.proxyPort }));
    // The tool gateway's way out, as on Docker: its own listener, its upstreams' hosts only.
    const gatewayListener = squidGatewayListenerForPlan(plan);
    if (gatewayListener) ports.push({ name: GATEWAY_PORT_NAME, port: gatewayListener.port });

    this.configMap = new kubernetesClasses.ConfigMapV1(this, "squid-conf", {
      metadata: { name: plan.names.proxyConfigMap, namespace: namespaceName, labels },
      data: { "squid.conf": terraformLiteral(squidConf), [SNI_HELPER_KEY]: terraformLiteral(SQUID_SNI_HELPER) },
    });

    const scratch = scratchVolumes(SQUID_SCRATCH);
    this.deploymentSpec = {
      replicas: String(plan.proxy.replicas),
      selector: { matchLabels: labels },
      template: {
        metadata: { labels, annotations: { [CHECKSUM_ANNOTATIONS.squidConf]: sha256(squidConf) } },
        spec: {
          automountServiceAccountToken: false,
          securityContext: hardenedPodSecurityContext(SQUID_UID),
          container: [
            {
              name: "squid",
              image: plan.proxy.image as string, // set: proxyImageProblems
              // Makes the throwaway certificate of the ssl-bump ports in /dev/shm, then runs Squid, rotating the event log proxy-events follows.
              command: squidStartCommand(SQUID_CONF_PATH, plan.proxyEvents && { path: plan.proxyEvents.logFile }),
              port: ports.map((p) => ({ name: p.name, containerPort: p.port, protocol: "TCP" })),
              readinessProbe:
                ports.length > 0 ? { tcpSocket: [{ port: String(ports[0].port) }], initialDelaySeconds: 2, periodSeconds: 10 } : undefined,
              resources: { requests: { ...PROXY_RESOURCES.requests }, limits: { ...PROXY_RESOURCES.limits } },
              securityContext: hardenedContainerSecurityContext(),
              volumeMount: [
                { name: "squid-conf", mountPath: SQUID_CONF_PATH, subPath: "squid.conf", readOnly: true },
                { name: "squid-conf", mountPath: SQUID_SNI_HELPER_PATH, subPath: SNI_HELPER_KEY, readOnly: true },
                ...scratch.mounts,
              ],
            },
          ],
          volume: [{ name: "squid-conf", configMap: { name: this.configMap.metadata.name, defaultMode: "0444" } }, ...scratch.volumes],
        },
      },
    };
    this.deployment = new kubernetesClasses.DeploymentV1(this, "deployment", {
      metadata: { name: plan.names.proxy, namespace: namespaceName, labels },
      spec: this.deploymentSpec,
    });

    this.service = new kubernetesClasses.ServiceV1(this, "service", {
      metadata: { name: plan.names.proxy, namespace: namespaceName, labels },
      spec: {
        type: "ClusterIP",
        selector: labels,
        port: ports.map((p) => ({ name: p.name, port: p.port, targetPort: p.name, protocol: "TCP" })),
      },
    });
    this.serviceAddress = this.service.spec.clusterIp;
    this.proxyUrls = Object.fromEntries(plan.roles.map((r) => [r.name, `http://${this.serviceAddress}:${r.proxyPort}`]));
    this.gatewayProxyUrl = gatewayListener && `http://${this.serviceAddress}:${gatewayListener.port}`;

    // maxUnavailable, not minAvailable: with one replica, minAvailable 1 would block every node drain.
    this.podDisruptionBudget = new kubernetesClasses.PodDisruptionBudgetV1(this, "pdb", {
      metadata: { name: plan.names.proxy, namespace: namespaceName, labels },
      spec: { maxUnavailable: "1", selector: { matchLabels: labels } },
    });

    const webPorts = plan.proxy.allowPlainHttp ? [443, 80] : [443];
    const egress: NetworkPolicyV1SpecEgress[] = [dnsEgressRule(plan), { to: publicInternetPeers(plan), ports: tcpPorts(webPorts) }];
    this.networkPolicy = firewallPolicy(this, "network-policy", {
      firewall,
      namespace: namespaceName,
      name: plan.names.proxy,
      podSelector: componentSelector(firewall, COMPONENTS.egressProxy),
      policyTypes: ["Ingress", "Egress"],
      ingress: [
        ...plan.roles.map((role) => ({ from: [{ podSelector: agentPodSelector(firewall, role) }], ports: tcpPorts([role.proxyPort]) })),
        ...(gatewayListener ? [{ from: [{ podSelector: componentSelector(firewall, COMPONENTS.toolGateway) }], ports: tcpPorts([gatewayListener.port]) }] : []),
      ],
      egress,
    });
  }

  /**
   * Adds a sidecar to every proxy pod (ProxyEvents adds `rapidclaw proxy-events`): its container,
   * init containers, volumes and pod annotations beside Squid's, and a termination grace period
   * when it needs one. Mount `SQUID_LOG_VOLUME` read-only to read Squid's logs.
   */
  public addSidecar(sidecar: ProxyPodSidecar): void {
    const template = this.deploymentSpec.template;
    const pod = template.spec as DeploymentV1SpecTemplateSpec;
    const added: DeploymentV1Spec = {
      ...this.deploymentSpec,
      template: {
        ...template,
        metadata: { ...template.metadata, annotations: { ...template.metadata.annotations, ...sidecar.annotations } },
        spec: {
          ...pod,
          terminationGracePeriodSeconds: sidecar.terminationGracePeriodSeconds ?? pod.terminationGracePeriodSeconds,
          // Lists this class built, never references.
          initContainer: [...((pod.initContainer ?? []) as DeploymentV1SpecTemplateSpecInitContainer[]), ...(sidecar.initContainers ?? [])],
          container: [...(pod.container as DeploymentV1SpecTemplateSpecContainer[]), sidecar.container],
          volume: [...((pod.volume ?? []) as DeploymentV1SpecTemplateSpecVolume[]), ...(sidecar.volumes ?? [])],
        },
      },
    };
    this.deploymentSpec = added;
    this.deployment.putSpec(added);
  }
}
