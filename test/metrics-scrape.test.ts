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

  it("refuses Docker's fields on Kubernetes, at their paths", () => {
    const error = failureOf(() => new RapidClawStack(new App(), "firewall", { ...fronted(AgentPlatform.KUBERNETES), metricsScrape: { ...PROMETHEUS, dockerNetwork: "monitoring" } }));
    expect(error.problems.map((p) => p.path)).toEqual(["metricsScrape.dockerNetwork"]);
  });
});

describe("scraping the firewall's metrics (Docker)", () => {
  const containers = (all: (type: string) => Json[]) => all("docker_container");
  const networkRef = (doc: Json, name: string) => `\${docker_network.${Object.entries<Json>(doc.resource.docker_network).find(([, n]) => n.name === name)?.[0]}.name}`;

  it("creates an internal monitoring network where the gateway and proxy-events serve /metrics, at their own addresses, and nobody else is", () => {
    const { doc, all } = synth(fronted(AgentPlatform.DOCKER), { dockerNetwork: "rapidclaw-monitoring", dockerSubnet: "172.29.0.0/28" });
    const network = Object.values<Json>(doc.resource.docker_network).find((n) => n.name === "rapidclaw-monitoring");
    expect(network).toMatchObject({ internal: true, ipam_config: [{ subnet: "172.29.0.0/28", gateway: "172.29.0.1", ip_range: "172.29.0.8/29" }], options: { "com.docker.network.bridge.inhibit_ipv4": "true" } });
    const ref = networkRef(doc, "rapidclaw-monitoring");
    const on = containers(all).filter((c) => c.networks_advanced.some((n: Json) => n.name === ref));
    expect(on.map((c) => [c.name, c.networks_advanced.find((n: Json) => n.name === ref).ipv4_address])).toEqual([["rapidclaw-proxy-events", "172.29.0.3"], ["rapidclaw-tool-gateway", "172.29.0.2"]]);
    const admin = (c: Json) => c.entrypoint[c.entrypoint.indexOf("--admin-host") + 1];
    expect(on.map(admin)).toEqual(["172.29.0.3", "172.29.0.2"]);
  });

  it("keeps /metrics on the loopback without it", () => {
    const doc = JSON.parse(Testing.synth(new RapidClawStack(new App(), "firewall", fronted(AgentPlatform.DOCKER))));
    const admin = (c: Json) => c.entrypoint[c.entrypoint.indexOf("--admin-host") + 1];
    const served = Object.values<Json>(doc.resource.docker_container).filter((c) => c.entrypoint?.includes("--admin-host"));
    expect(served.map(admin)).toEqual(["127.0.0.1", "127.0.0.1"]);
  });

  it("refuses, at each path, a missing network or subnet, a subnet in the firewall's, and Kubernetes' fields", () => {
    const refused = (metricsScrape: MetricsScrapeOptions) => failureOf(() => new RapidClawStack(new App(), "firewall", { ...fronted(AgentPlatform.DOCKER), metricsScrape })).problems;
    expect(refused({}).map((p) => p.path)).toEqual(["metricsScrape.dockerNetwork", "metricsScrape.dockerSubnet"]);
    const overlap = refused({ dockerNetwork: "mon", dockerSubnet: "172.30.5.0/28" });
    expect(overlap).toEqual([{ construct: "firewall/metrics-scrape", path: "metricsScrape.dockerSubnet", message: "172.30.5.0/28 overlaps the firewall's subnet 172.30.0.0/16; choose one outside it, e.g. 172.29.0.0/28" }]);
    expect(refused({ dockerNetwork: "bad name", dockerSubnet: "172.29.0.0/30", podLabels: { app: "prometheus" } }).map((p) => p.path)).toEqual(["metricsScrape.dockerNetwork", "metricsScrape.dockerSubnet", "metricsScrape.podLabels"]);
  });
});
