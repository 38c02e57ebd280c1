import type { ConfigMapV1 } from "@cdktf/provider-kubernetes/lib/config-map-v1";
import type { DeploymentV1 } from "@cdktf/provider-kubernetes/lib/deployment-v1";
import type { NetworkPolicyV1, NetworkPolicyV1SpecEgress } from "@cdktf/provider-kubernetes/lib/network-policy-v1";
import type { PodDisruptionBudgetV1 } from "@cdktf/provider-kubernetes/lib/pod-disruption-budget-v1";
import type { ServiceV1 } from "@cdktf/provider-kubernetes/lib/service-v1";
import { Construct } from "constructs";
import type { IAgentNetwork } from "../constructs/agent-network";
import { planOf } from "../plan/firewall-spec";
import { renderSquidConfForPlan, SQUID_CONF_PATH } from "../render/squid-conf";
import { COMPONENTS, workloadLabels } from "../terraform/labels";
import { terraformLiteral } from "../terraform/terraform-literal";
import { agentPodSelector, componentSelector, dnsEgressRule, firewallPolicy, publicInternetPeers, tcpPorts } from "./network-policy";
import { CHECKSUM_ANNOTATIONS, hardenedContainerSecurityContext, hardenedPodSecurityContext, rolePortName, scratchVolumes, sha256 } from "./pod";
import { kubernetesClasses } from "./provider-classes";
import { GatewayBundle } from "../constructs/gateway-bundle";
import { KubernetesProxyEventsSidecar } from "./proxy-events-sidecar";

/** The `proxy` user and group of the Squid image (uid/gid 13 on Debian and Ubuntu). */
export const SQUID_UID = 13;

/** Requests and limits of each proxy container: Squid without a cache needs little. */
export const PROXY_RESOURCES = {
  requests: { cpu: "100m", memory: "128Mi" },
  limits: { cpu: "1000m", memory: "512Mi" },
} as const;

/** Where Squid may write: spool, run and log directories, each a small emptyDir. */
const SQUID_SCRATCH = [
  { name: "spool", path: "/var/spool/squid", sizeLimit: "16Mi" },
  { name: "run", path: "/var/run/squid", sizeLimit: "1Mi" },
  // The event log proxy-events follows grows until the pod is replaced (Squid rotates only on `squid -k rotate`).
  { name: "log", path: "/var/log/squid", sizeLimit: "1Gi" },
];

/** Properties of `KubernetesEgressProxy`. */
export interface KubernetesEgressProxyProps {
  /** The network whose namespace the proxy runs in; the proxy uses its firewall spec. */
  readonly network: IAgentNetwork;
  /**
   * The program of the proxy-events sidecar (the gateway bundle holds every `rapidclaw` command).
   * @default GatewayBundle.packaged() - the bundle this package ships
   */
  readonly bundle?: GatewayBundle;
}

/**
 * Kubernetes part of EgressProxy: a Squid Deployment with one port per role, its ConfigMap,
 * Service and PodDisruptionBudget, and the NetworkPolicy `<firewall>-egress-proxy`: ingress on each
 * role's port from that role's agent pods only; egress to the cluster DNS and to public
 * addresses on 443 (and 80 with `proxy.allowPlainHttp`), never to private, link-local or
 * loopback ranges.
 */
export class KubernetesEgressProxy extends Construct {
  /** DNS name of the proxy Service; agents use `http://<serviceHost>:<role port>`. */
  public readonly serviceHost: string;
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
  /** `http://<serviceHost>:<role port>` agents use as HTTPS_PROXY, per role name. */
  public readonly proxyUrls: { [roleName: string]: string };
  /** `rapidclaw proxy-events` in each proxy pod, following Squid's event log on the shared `log` volume. */
  public readonly proxyEvents?: KubernetesProxyEventsSidecar;

  constructor(scope: Construct, id: string, props: KubernetesEgressProxyProps) {
    super(scope, id);
    const plan = planOf(props.network.spec);
    const firewall = plan.names.firewall;
    const namespaceName = props.network.namespaceName;
    const squidConf = renderSquidConfForPlan(plan);
    this.squidConf = squidConf;
    const labels = workloadLabels(firewall, COMPONENTS.egressProxy);
    // Service names resolve as `<service>.<namespace>.svc` through the pods' search list, whatever the cluster domain.
    this.serviceHost = `${plan.names.proxy}.${namespaceName}.svc`;
    const ports = plan.roles.map((role) => ({ name: rolePortName(role.slot), port: role.proxyPort }));
    this.proxyUrls = Object.fromEntries(plan.roles.map((r) => [r.name, `http://${this.serviceHost}:${r.proxyPort}`]));

    this.configMap = new kubernetesClasses.ConfigMapV1(this, "squid-conf", {
      metadata: { name: plan.names.proxyConfigMap, namespace: namespaceName, labels },
      data: { "squid.conf": terraformLiteral(squidConf) },
    });

    const scratch = scratchVolumes(SQUID_SCRATCH);
    const events = plan.proxyEvents && new KubernetesProxyEventsSidecar(this, "proxy-events", { plan, namespaceName, bundle: props.bundle ?? GatewayBundle.packaged(), logVolume: "log" });
    this.proxyEvents = events;
    this.deployment = new kubernetesClasses.DeploymentV1(this, "deployment", {
      metadata: { name: plan.names.proxy, namespace: namespaceName, labels },
      spec: {
        replicas: String(plan.proxy.replicas),
        selector: { matchLabels: labels },
        template: {
          metadata: { labels, annotations: { [CHECKSUM_ANNOTATIONS.squidConf]: sha256(squidConf), ...(events && { [CHECKSUM_ANNOTATIONS.proxyEvents]: events.checksum }) } },
          spec: {
            automountServiceAccountToken: false,
            terminationGracePeriodSeconds: events?.terminationGracePeriodSeconds,
            initContainer: events && [events.initContainer],
            securityContext: hardenedPodSecurityContext(SQUID_UID),
            container: [
              {
                name: "squid",
                image: plan.proxy.image,
                command: ["squid", "-N", "-f", SQUID_CONF_PATH],
                port: ports.map((p) => ({ name: p.name, containerPort: p.port, protocol: "TCP" })),
                readinessProbe:
                  ports.length > 0 ? { tcpSocket: [{ port: String(ports[0].port) }], initialDelaySeconds: 2, periodSeconds: 10 } : undefined,
                resources: { requests: { ...PROXY_RESOURCES.requests }, limits: { ...PROXY_RESOURCES.limits } },
                securityContext: hardenedContainerSecurityContext(),
                volumeMount: [{ name: "squid-conf", mountPath: SQUID_CONF_PATH, subPath: "squid.conf", readOnly: true }, ...scratch.mounts],
              },
              ...(events ? [events.container] : []),
            ],
            volume: [{ name: "squid-conf", configMap: { name: this.configMap.metadata.name, defaultMode: "0444" } }, ...scratch.volumes, ...(events?.volumes ?? [])],
          },
        },
      },
    });

    this.service = new kubernetesClasses.ServiceV1(this, "service", {
      metadata: { name: plan.names.proxy, namespace: namespaceName, labels },
      spec: {
        type: "ClusterIP",
        selector: labels,
        port: ports.map((p) => ({ name: p.name, port: p.port, targetPort: p.name, protocol: "TCP" })),
      },
    });

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
      ingress: plan.roles.map((role) => ({ from: [{ podSelector: agentPodSelector(firewall, role) }], ports: tcpPorts([role.proxyPort]) })),
      egress,
    });
  }
}
