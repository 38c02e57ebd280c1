import { App, Testing } from "cdktf";
import { describe, expect, it } from "vitest";
import { AgentPlatform, RapidClawStack, type FirewallSpecProps, type MetricsScrapeOptions } from "../src";
import { firewallScenario } from "../examples/firewall-scenario";
import { fronted } from "./support/gateway-spec";
import { failureOf } from "./support/spec-error";

type Json = Record<string, any>;

function synth(props: FirewallSpecProps, metricsScrape: MetricsScrapeOptions) {
  const doc = JSON.parse(Testing.synth(new RapidClawStack(new App(), "firewall", { ...props, metricsScrape }), true));
  return { doc, all: (type: string): Json[] => Object.values(doc.resource?.[type] ?? {}) };
}

const PROMETHEUS = { podLabels: { "app.kubernetes.io/name": "prometheus" }, namespaceLabels: { "kubernetes.io/metadata.name": "monitoring" } };

describe("scraping the firewall's metrics (Kubernetes)", () => {
  it("admits only the named pods of the named namespaces, on each metrics port, and adds nothing else", () => {
    const { all } = synth(fronted(AgentPlatform.KUBERNETES), PROMETHEUS);
    const policies = all("kubernetes_network_policy_v1").filter((p) => p.metadata.name.endsWith("-metrics")).sort((a, b) => b.metadata.name.localeCompare(a.metadata.name));
    expect(policies.map((p) => [p.metadata.name, p.spec.pod_selector.match_labels["rapidclaw.dev/component"], p.spec.policy_types, p.spec.ingress, p.spec.egress])).toEqual([
      ["rapidclaw-tool-gateway-metrics", "tool-gateway", ["Ingress"], [{ from: [{ pod_selector: { match_labels: PROMETHEUS.podLabels }, namespace_selector: { match_labels: PROMETHEUS.namespaceLabels } }], ports: [{ protocol: "TCP", port: "9464" }] }], undefined],
      ["rapidclaw-egress-proxy-metrics", "egress-proxy", ["Ingress"], [{ from: [{ pod_selector: { match_labels: PROMETHEUS.podLabels }, namespace_selector: { match_labels: PROMETHEUS.namespaceLabels } }], ports: [{ protocol: "TCP", port: "9465" }] }], undefined],
    ]);
    // The ports the policies open are the ones the containers serve /metrics on.
    const deployments = all("kubernetes_deployment_v1");
    const portOf = (deployment: string, name: string) => deployments.find((d) => d.metadata.name === deployment)?.spec.template.spec.container.flatMap((c: Json) => c.port ?? []).find((p: Json) => p.name === name)?.container_port;
    expect([portOf("rapidclaw-tool-gateway", "admin"), portOf("rapidclaw-egress-proxy", "events-admin")]).toEqual([9464, 9465]);
    expect(all("kubernetes_manifest")).toEqual([]);
  });

  it("without a gateway, opens proxy-events' port alone; the firewall's namespace when no namespace is named", () => {
    const { all } = synth(firewallScenario(AgentPlatform.KUBERNETES), { podLabels: PROMETHEUS.podLabels });
    const policies = all("kubernetes_network_policy_v1").filter((p) => p.metadata.name.endsWith("-metrics"));
    expect(policies.map((p) => p.metadata.name)).toEqual(["rapidclaw-egress-proxy-metrics"]);
    expect(policies[0].spec.ingress[0].from).toEqual([{ pod_selector: { match_labels: PROMETHEUS.podLabels } }]);
  });

  it("adds a PodMonitor selecting the gateway's and proxy-events' pods by their metrics ports, labelled for the Operator", () => {
    const { all } = synth(fronted(AgentPlatform.KUBERNETES), { ...PROMETHEUS, podMonitorLabels: { release: "kube-prometheus-stack" } });
    const [monitor] = all("kubernetes_manifest").map((m) => m.manifest);
    expect(monitor).toMatchObject({
      apiVersion: "monitoring.coreos.com/v1",
      kind: "PodMonitor",
      metadata: { name: "rapidclaw-metrics", labels: { release: "kube-prometheus-stack" } },
      spec: {
        selector: { matchLabels: { "app.kubernetes.io/managed-by": "rapidclaw" }, matchExpressions: [{ key: "rapidclaw.dev/component", operator: "In", values: ["tool-gateway", "egress-proxy"] }] },
        podMetricsEndpoints: [{ port: "admin", path: "/metrics" }, { port: "events-admin", path: "/metrics" }],
      },
    });
  });

  it("refuses, all at once and at each path, a missing pod selector, bad labels, and every namespace", () => {
    const error = failureOf(() => new RapidClawStack(new App(), "firewall", { ...fronted(AgentPlatform.KUBERNETES), metricsScrape: { podLabels: {}, namespaceLabels: {}, podMonitorLabels: { "bad key!": "x" } } }));
    expect(error.problems.map((p) => [p.construct, p.path])).toEqual([
      ["firewall/metrics-scrape", "metricsScrape.namespaceLabels"],
      ["firewall/metrics-scrape", "metricsScrape.podLabels"],
      ["firewall/metrics-scrape", "metricsScrape.podMonitorLabels.bad key!"],
    ]);
    expect(error.problems[1].message).toContain('e.g. { "app.kubernetes.io/name": "prometheus" }');
  });

  it("refuses scraping on Docker, saying how to read the metrics there", () => {
    const error = failureOf(() => new RapidClawStack(new App(), "firewall", { ...firewallScenario(AgentPlatform.DOCKER), metricsScrape: PROMETHEUS }));
    expect(error.problems).toEqual([{ construct: "firewall/metrics-scrape", path: "metricsScrape", message: expect.stringContaining("docker exec") }]);
  });
});
