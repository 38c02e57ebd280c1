import type { Manifest } from "@cdktf/provider-kubernetes/lib/manifest";
import type { NetworkPolicyV1 } from "@cdktf/provider-kubernetes/lib/network-policy-v1";
import { TerraformStack } from "cdktf";
import { Construct } from "constructs";
import { FirewallSpecError, raisedBy, type SpecProblem } from "../model/errors";
import { labelProblems } from "../model/kubernetes-names";
import { AgentPlatform } from "../model/types";
import { planOf, type FirewallSpec } from "../plan/firewall-spec";
import { LABELS } from "../plan/plan";
import { COMPONENTS, firewallLabels, workloadLabels } from "../terraform/labels";
import { missingProviders } from "../terraform/required-providers";
import { componentSelector, firewallPolicy, tcpPorts, type PolicyPeer } from "../kubernetes/network-policy";
import { PROXY_EVENTS_PORT_NAME } from "../kubernetes/proxy-events-sidecar";
import { kubernetesClasses } from "../kubernetes/provider-classes";
import { pathOfChild } from "./construct-path";
import { PROMETHEUS_RULE_API_VERSION } from "./prometheus-alert-rules";

/** Who may scrape the firewall's metrics, and how Prometheus finds them. Kubernetes only so far. */
export interface MetricsScrapeOptions {
  /**
   * Labels of the scraping pods (your Prometheus'), all of which a pod must carry, e.g.
   * `{ "app.kubernetes.io/name": "prometheus" }`. Required: without it every pod of the
   * namespaces could read the firewall's counters.
   */
  readonly podLabels: { [key: string]: string };
  /**
   * Labels of the namespaces those pods are in, e.g. `{ "kubernetes.io/metadata.name": "monitoring" }`.
   * @default - the firewall's own namespace only
   */
  readonly namespaceLabels?: { [key: string]: string };
  /**
   * A Prometheus Operator `PodMonitor` (`monitoring.coreos.com/v1`) in the firewall's namespace,
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
  /** The firewall's namespace (a reference when created in the stack). */
  readonly namespaceName: string;
}

/** The metrics ports: the gateway's `admin` and the proxy-events sidecar's, by component. */
const METRICS_PORTS = [
  { component: COMPONENTS.toolGateway, portName: "admin", port: (spec: FirewallSpec) => planOf(spec).gateway?.adminPort },
  { component: COMPONENTS.egressProxy, portName: PROXY_EVENTS_PORT_NAME, port: (spec: FirewallSpec) => planOf(spec).proxyEvents?.adminPort },
] as const;

/**
 * Opt-in scraping of the firewall's `/metrics` on Kubernetes: a NetworkPolicy per metrics port
 * (`<firewall>-tool-gateway-metrics` on the gateway's admin port, `<firewall>-egress-proxy-metrics`
 * on proxy-events') admitting only the pods you name, and optionally a `PodMonitor` beside the
 * `PrometheusRule`, so the rules have data. Without it nothing but the kubelet's probes reaches
 * those ports. Invalid props throw `FirewallSpecError` before anything is added.
 */
export class MetricsScrape extends Construct {
  /** API version of the `PodMonitor`. */
  public static readonly POD_MONITOR_API_VERSION = PROMETHEUS_RULE_API_VERSION;

  /** The policies admitting the scraper, one per metrics port. */
  public readonly networkPolicies: NetworkPolicyV1[] = [];
  /** The `PodMonitor`, with `podMonitorLabels`. */
  public readonly podMonitor?: Manifest;

  constructor(scope: Construct, id: string, props: MetricsScrapeProps) {
    const plan = planOf(props.spec);
    const problems = metricsScrapeProblems(plan.platform, props, "");
    if (problems.length > 0) throw new FirewallSpecError(raisedBy(pathOfChild(scope, id), problems));
    super(scope, id);
    const firewall = plan.names.firewall;
    const namespace = props.namespaceName;
    // One peer: the pods with these labels in these namespaces (both must match).
    const scraper: PolicyPeer = {
      podSelector: { matchLabels: { ...props.podLabels } },
      ...(props.namespaceLabels === undefined ? {} : { namespaceSelector: { matchLabels: { ...props.namespaceLabels } } }),
    };
    const served = METRICS_PORTS.flatMap((m) => { const port = m.port(props.spec); return port === undefined ? [] : [{ ...m, port }]; });
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

/** Problems with the scrape options, each at `<prefix>.<key>`: Kubernetes only, a pod selector, valid labels. */
export function metricsScrapeProblems(platform: AgentPlatform, options: MetricsScrapeOptions, prefix: string): SpecProblem[] {
  const at = (...keys: string[]) => [prefix, ...keys].filter((k) => k !== "").join(".");
  if (platform !== AgentPlatform.KUBERNETES) {
    return [{ path: at(), message: `scraping is opened on Kubernetes only so far, and platform is ${platform}, where the gateway and proxy-events serve /metrics on their loopback; remove it and read them with docker exec <container> node -e "fetch('http://127.0.0.1:9464/metrics').then(r=>r.text()).then(console.log)" (9465 for proxy-events)` }];
  }
  const problems: SpecProblem[] = [];
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
