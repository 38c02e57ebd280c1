import type { Manifest } from "@cdktf/provider-kubernetes/lib/manifest";
import type { NetworkPolicyV1 } from "@cdktf/provider-kubernetes/lib/network-policy-v1";
import type { Network as DockerNetwork } from "@cdktf/provider-docker/lib/network";
import { TerraformStack } from "cdktf";
import { Construct } from "constructs";
import { FirewallSpecError, raisedBy, type SpecProblem } from "../model/errors";
import { labelProblems } from "../model/kubernetes-names";
import { AgentPlatform } from "../model/types";
import { ipv4ToText, parseCidr, type Network } from "../model/addresses";
import { planOf, type FirewallSpec } from "../plan/firewall-spec";
import { LABELS, type FirewallPlan } from "../plan/plan";
import { dockerClasses } from "../docker/provider-classes";
import { COMPONENTS, dockerLabels, firewallLabels, workloadLabels } from "../terraform/labels";
import { missingProviders } from "../terraform/required-providers";
import { componentSelector, firewallPolicy, tcpPorts, type PolicyPeer } from "../kubernetes/network-policy";
import { PROXY_EVENTS_PORT_NAME } from "../kubernetes/proxy-events-sidecar";
import { kubernetesClasses } from "../kubernetes/provider-classes";
import { pathOfChild } from "./construct-path";
import { PROMETHEUS_RULE_API_VERSION } from "./prometheus-alert-rules";

/** Who may scrape the firewall's metrics (the gateway's and proxy-events' `/metrics`), and how Prometheus finds them. */
export interface MetricsScrapeOptions {
  /**
   * Kubernetes: labels of the scraping pods (your Prometheus'), all of which a pod must carry,
   * e.g. `{ "app.kubernetes.io/name": "prometheus" }`. Required on Kubernetes: without it every
   * pod of the namespaces could read the firewall's counters.
   * @default - none (required on Kubernetes)
   */
  readonly podLabels?: { [key: string]: string };
  /**
   * Kubernetes: labels of the namespaces those pods are in, e.g. `{ "kubernetes.io/metadata.name": "monitoring" }`.
   * @default - the firewall's own namespace only
   */
  readonly namespaceLabels?: { [key: string]: string };
  /**
   * Docker: name of the network to create for scraping: `internal`, on `dockerSubnet`, joined by
   * the gateway (second address) and proxy-events (third), whose `/metrics` then listen there
   * instead of on their loopback; attach your Prometheus with `docker network connect`.
   * @default - none (required on Docker)
   */
  readonly dockerNetwork?: string;
  /**
   * Docker: the subnet of `dockerNetwork`, an IPv4 CIDR from /16 to /28 outside the firewall's
   * subnets (`docker.subnet`, `docker.egressSubnet`, the gateway's); Prometheus gets an address
   * from its upper half.
   * @default - none (required on Docker)
   */
  readonly dockerSubnet?: string;
  /**
   * Kubernetes: a Prometheus Operator `PodMonitor` (`monitoring.coreos.com/v1`) in the firewall's namespace,
   * scraping the gateway's and proxy-events' `/metrics`, with these labels for the Operator's
   * `podMonitorSelector` (`{}` for none). The Operator's CRD must exist before `terraform plan`.
   * @default - no PodMonitor: point your Prometheus at the pods' `admin` and `events-admin` ports yourself
   */
  readonly podMonitorLabels?: { [key: string]: string };
}

/** Properties of `MetricsScrape`. */
export interface MetricsScrapeProps extends MetricsScrapeOptions {
  /** The firewall whose metrics are scraped. */
  readonly spec: FirewallSpec;
  /**
   * Kubernetes: the firewall's namespace (a reference when created in the stack).
   * @default - the firewall's `namespace`
   */
  readonly namespaceName?: string;
}

/** Docker: where the gateway and proxy-events serve `/metrics` on the monitoring network. */
export interface DockerMetricsAddresses {
  /** The gateway's address (the subnet's second). */
  readonly toolGateway: string;
  /** proxy-events' address (the third). */
  readonly proxyEvents: string;
}

/** Docker: a container's place on the monitoring network, where its `/metrics` listens. */
export interface DockerMetricsAttachment {
  /** The monitoring network. */
  readonly network: DockerNetwork;
  /** The container's address on it. */
  readonly address: string;
}

/** The attachment of the gateway or proxy-events to the Docker monitoring network, if there is one. */
export function dockerMetrics(scrape: MetricsScrape | undefined, who: keyof DockerMetricsAddresses): DockerMetricsAttachment | undefined {
  if (scrape?.dockerNetwork === undefined || scrape.dockerAddresses === undefined) return undefined;
  return { network: scrape.dockerNetwork, address: scrape.dockerAddresses[who] };
}

/** The metrics ports: the gateway's `admin` and the proxy-events sidecar's, by component. */
const METRICS_PORTS = [
  { component: COMPONENTS.toolGateway, portName: "admin", port: (plan: FirewallPlan) => plan.gateway?.adminPort },
  { component: COMPONENTS.egressProxy, portName: PROXY_EVENTS_PORT_NAME, port: (plan: FirewallPlan) => plan.proxyEvents?.adminPort },
] as const;

/** Docker network names: a letter or digit, then letters, digits, `_`, `.` and `-`. */
const DOCKER_NETWORK_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;

/**
 * Opt-in scraping of the firewall's `/metrics`. Kubernetes: a NetworkPolicy per metrics port
 * (`<firewall>-tool-gateway-metrics` on the gateway's admin port, `<firewall>-egress-proxy-metrics`
 * on proxy-events') admitting only the pods you name, and optionally a `PodMonitor` beside the
 * `PrometheusRule`, so the rules have data; without it nothing but the kubelet's probes reaches
 * those ports. Docker: the internal network `dockerNetwork` the gateway and proxy-events join
 * (give this construct to `ToolGateway` and `ProxyEvents` as `metricsScrape`), serving `/metrics`
 * there only; without it they serve it on their loopback. Invalid props throw
 * `FirewallSpecError` before anything is added.
 */
export class MetricsScrape extends Construct {
  /** API version of the `PodMonitor`. */
  public static readonly POD_MONITOR_API_VERSION = PROMETHEUS_RULE_API_VERSION;

  /** Kubernetes: the policies admitting the scraper, one per metrics port. */
  public readonly networkPolicies: NetworkPolicyV1[] = [];
  /** Kubernetes: the `PodMonitor`, with `podMonitorLabels`. */
  public readonly podMonitor?: Manifest;
  /** Docker: the monitoring network. */
  public readonly dockerNetwork?: DockerNetwork;
  /** Docker: the gateway's and proxy-events' addresses on it. */
  public readonly dockerAddresses?: DockerMetricsAddresses;

  constructor(scope: Construct, id: string, props: MetricsScrapeProps) {
    const plan = planOf(props.spec);
    const problems = metricsScrapeProblems(plan, props, "");
    if (problems.length > 0) throw new FirewallSpecError(raisedBy(pathOfChild(scope, id), problems));
    super(scope, id);
    const firewall = plan.names.firewall;
    const served = METRICS_PORTS.flatMap((m) => { const port = m.port(plan); return port === undefined ? [] : [{ ...m, port }]; });
    if (plan.platform === AgentPlatform.DOCKER) {
      const subnet = parseCidr(props.dockerSubnet as string) as Network;
      this.dockerAddresses = { toolGateway: ipv4ToText(subnet.base + 2n), proxyEvents: ipv4ToText(subnet.base + 3n) };
      // Internal, without a host address (as the gateway's networks): only the containers on it reach each other.
      this.dockerNetwork = new dockerClasses.Network(this, "network", {
        name: props.dockerNetwork as string,
        internal: true,
        // Prometheus and whatever else you attach get addresses from the upper half, never the firewall's.
        ipamConfig: [{ subnet: subnet.text, gateway: ipv4ToText(subnet.base + 1n), ipRange: `${ipv4ToText(subnet.base + (1n << BigInt(31 - subnet.prefix)))}/${subnet.prefix + 1}` }],
        options: { "com.docker.network.bridge.inhibit_ipv4": "true" },
        labels: dockerLabels(workloadLabels(firewall, "metrics-network")),
      });
      return;
    }
    const namespace = props.namespaceName ?? plan.namespace;
    // One peer: the pods with these labels in these namespaces (both must match).
    const scraper: PolicyPeer = {
      podSelector: { matchLabels: { ...props.podLabels } },
      ...(props.namespaceLabels === undefined ? {} : { namespaceSelector: { matchLabels: { ...props.namespaceLabels } } }),
    };
    for (const m of served) {
      this.networkPolicies.push(firewallPolicy(this, m.component, {
        firewall,
        namespace,
        name: `${firewall}-${m.component}-metrics`,
        podSelector: componentSelector(firewall, m.component),
        policyTypes: ["Ingress"],
        ingress: [{ from: [scraper], ports: tcpPorts([m.port]) }],
      }));
    }
    if (props.podMonitorLabels === undefined) return;
    this.podMonitor = new kubernetesClasses.Manifest(this, "pod-monitor", {
      manifest: {
        apiVersion: PROMETHEUS_RULE_API_VERSION,
        kind: "PodMonitor",
        metadata: { name: `${firewall}-metrics`, namespace, labels: workloadLabels(firewall, "pod-monitor", props.podMonitorLabels) },
        spec: {
          selector: {
            matchLabels: { [LABELS.managedBy]: "rapidclaw", ...firewallLabels(firewall) },
            matchExpressions: [{ key: LABELS.component, operator: "In", values: served.map((m) => m.component) }],
          },
          podMetricsEndpoints: served.map((m) => ({ port: m.portName, path: "/metrics" })),
        },
      },
    });
    const stack = TerraformStack.of(this);
    this.node.addValidation({ validate: () => missingProviders("MetricsScrape", stack, [kubernetesClasses.KubernetesProvider]) });
  }
}

/** The firewall's own Docker subnets, which the monitoring network must stay out of. */
function firewallSubnets(plan: FirewallPlan): string[] {
  const gateway = plan.gateway?.docker;
  return [plan.docker.subnet, plan.docker.egressSubnet, gateway?.egressNetwork.subnet, gateway?.redisNetwork.subnet, gateway?.vaultNetwork.subnet, plan.proxyEvents?.docker?.subnet]
    .filter((subnet): subnet is string => subnet !== undefined);
}

/** Problems with the scrape options, each at `<prefix>.<key>`: each platform's fields, valid labels, a subnet of its own. */
export function metricsScrapeProblems(plan: FirewallPlan, options: MetricsScrapeOptions, prefix: string): SpecProblem[] {
  const at = (...keys: string[]) => [prefix, ...keys].filter((k) => k !== "").join(".");
  const problems: SpecProblem[] = [];
  const kubernetes = plan.platform === AgentPlatform.KUBERNETES;
  const foreign = kubernetes ? (["dockerNetwork", "dockerSubnet"] as const) : (["podLabels", "namespaceLabels", "podMonitorLabels"] as const);
  for (const key of foreign) {
    if (options[key] !== undefined) problems.push({ path: at(key), message: `${key} is for ${kubernetes ? "Docker" : "Kubernetes"}, and platform is ${plan.platform}; remove it${kubernetes ? " and give podLabels (and namespaceLabels)" : " and give dockerNetwork and dockerSubnet"}` });
  }
  if (!kubernetes) return [...problems, ...dockerProblems(plan, options, at)];
  if (options.podLabels === undefined || Object.keys(options.podLabels).length === 0) {
    problems.push({ path: at("podLabels"), message: `name the scraping pods' labels, e.g. { "app.kubernetes.io/name": "prometheus" }: without them every pod of the namespaces could read the firewall's counters` });
  }
  for (const key of ["podLabels", "namespaceLabels", "podMonitorLabels"] as const) {
    for (const [label, value] of Object.entries(options[key] ?? {})) {
      for (const message of labelProblems(label, value)) problems.push({ path: at(key, label), message });
    }
  }
  if (options.namespaceLabels !== undefined && Object.keys(options.namespaceLabels).length === 0) {
    problems.push({ path: at("namespaceLabels"), message: `{} would admit those pods in every namespace; name the namespace, e.g. { "kubernetes.io/metadata.name": "monitoring" }, or leave namespaceLabels out for the firewall's own` });
  }
  return problems;
}

function dockerProblems(plan: FirewallPlan, options: MetricsScrapeOptions, at: (...keys: string[]) => string): SpecProblem[] {
  const problems: SpecProblem[] = [];
  if (options.dockerNetwork === undefined) problems.push({ path: at("dockerNetwork"), message: `name the network to create for scraping, e.g. "${plan.names.firewall}-monitoring"; attach your Prometheus to it with docker network connect` });
  else if (!DOCKER_NETWORK_NAME.test(options.dockerNetwork)) problems.push({ path: at("dockerNetwork"), message: `"${options.dockerNetwork}" is not a Docker network name; use letters, digits, "_", "." and "-", starting with a letter or digit, e.g. "${plan.names.firewall}-monitoring"` });
  if (options.dockerSubnet === undefined) {
    problems.push({ path: at("dockerSubnet"), message: "give the monitoring network's subnet, an IPv4 CIDR outside the firewall's subnets, e.g. 172.29.0.0/28" });
    return problems;
  }
  const subnet = parseCidr(options.dockerSubnet);
  if (typeof subnet === "string") return [...problems, { path: at("dockerSubnet"), message: subnet }];
  if (subnet.version !== 4 || subnet.prefix < 16 || subnet.prefix > 28) return [...problems, { path: at("dockerSubnet"), message: `${subnet.text} is not an IPv4 subnet from /16 to /28; give one such as 172.29.0.0/28` }];
  for (const taken of firewallSubnets(plan)) {
    const other = parseCidr(taken) as Network;
    const overlaps = subnet.base >> BigInt(32 - Math.min(subnet.prefix, other.prefix)) === other.base >> BigInt(32 - Math.min(subnet.prefix, other.prefix));
    if (overlaps) problems.push({ path: at("dockerSubnet"), message: `${subnet.text} overlaps the firewall's subnet ${taken}; choose one outside it, e.g. 172.29.0.0/28` });
  }
  return problems;
}
