import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App, Testing, TerraformStack } from "cdktf";
import { describe, expect, it } from "vitest";
import { AgentPlatform, AlertSeverity, EgressProxy, FirewallSpec, IsolatedAgentNetwork, RapidClawStack, WebhookFormat, type FirewallSpecProps } from "../src";
import { firewallScenario } from "../examples/firewall-scenario";
import { KubernetesProvider } from "@cdktf/provider-kubernetes/lib/provider";
import { loadFirewallSpec } from "../src/model/load";
import { compileFirewall } from "../src/plan/plan";
import { fronted } from "./support/gateway-spec";
import { failureOf } from "./support/spec-error";
import { squidBinary, squidParse } from "./support/squid";

type Json = Record<string, any>;
type Labels = Record<string, string>;

function synthStack(props: FirewallSpecProps) {
  // With validations: the stack's layer check (rapidclaw verify's) must accept the sidecar and its policies.
  const doc = JSON.parse(Testing.synth(new RapidClawStack(new App(), "firewall", props), true));
  const all = (type: string): Json[] => Object.values(doc.resource?.[type] ?? {});
  const named = (type: string, name: string) => all(type).find((r) => r.metadata.name === name) as Json;
  return { doc, all, named };
}

const COMPONENT = "rapidclaw.dev/component";
const selects = (selector: Json | undefined, labels: Labels) => Object.entries(selector?.match_labels ?? {}).every(([k, v]) => labels[k] === v);

/** Every (peer, port) the policies selecting pods with `labels` allow in one direction. */
function grants(all: (type: string) => Json[], labels: Labels, direction: "Ingress" | "Egress"): { peer: Json; port: string }[] {
  const [key, side] = direction === "Ingress" ? ["ingress", "from"] : ["egress", "to"];
  return all("kubernetes_network_policy_v1")
    .filter((p) => p.spec.policy_types.includes(direction) && selects(p.spec.pod_selector, labels))
    .flatMap((p) => (p.spec[key] ?? []).flatMap((rule: Json) => rule[side].flatMap((peer: Json) => rule.ports.map((port: Json) => ({ peer, port: `${port.protocol}/${port.port}` })))));
}
const podSelects = (peer: Json, labels: Labels) => peer.pod_selector !== undefined && peer.namespace_selector === undefined && selects(peer.pod_selector, labels);

describe("proxy-events on Kubernetes, without a gateway", () => {
  const { all, named } = synthStack(firewallScenario(AgentPlatform.KUBERNETES));
  const proxy = named("kubernetes_deployment_v1", "rapidclaw-egress-proxy");
  const pod = proxy.spec.template.spec;
  const [squid, events] = pod.container;
  const podLabels = new Map(all("kubernetes_deployment_v1").map((d) => [d.metadata.name as string, d.spec.template.metadata.labels as Labels]));

  it("runs beside Squid in every proxy pod, following the event log on the pod's log volume, read-only, Squid writing it", () => {
    expect(pod.container.map((c: Json) => c.name)).toEqual(["squid", "proxy-events"]);
    expect(events.command).toEqual([
      "node", "/opt/rapidclaw/rapidclaw-gateway.cjs", "proxy-events", "--config", "/etc/rapidclaw/firewall.json", "--log", "/var/log/squid/events.log",
      "--redis", "redis://rapidclaw-events-redis:6379", "--admin-port", "9465", "--drain-timeout-sec", "30",
    ]);
    expect(squid.volume_mount).toContainEqual({ name: "log", mount_path: "/var/log/squid" });
    expect(events.volume_mount).toContainEqual({ name: "log", mount_path: "/var/log/squid", read_only: true });
    const conf = named("kubernetes_config_map_v1", "rapidclaw-egress-proxy-squid-conf").data["squid.conf"];
    expect(conf).toContain("access_log stdio:/var/log/squid/events.log rapidclaw");
  });

  it.skipIf(squidBinary === undefined)("has a squid.conf with the event log that real Squid accepts", () => {
    const conf = named("kubernetes_config_map_v1", "rapidclaw-egress-proxy-squid-conf").data["squid.conf"].replace(/%%\{/g, "%{").replace(/\$\$\{/g, "${");
    expect(squidParse(conf).problems).toEqual([]);
  });

  it("runs hardened as its own user in Squid's group (the log is 0640), without readiness (Redis down must not take the proxy out of its Service)", () => {
    expect(events.security_context).toMatchObject({ run_as_user: "10004", run_as_group: "13", read_only_root_filesystem: true, allow_privilege_escalation: false, capabilities: { drop: ["ALL"] } });
    expect(events.readiness_probe).toBeUndefined();
    expect(events.liveness_probe).toMatchObject({ http_get: { path: "/healthz", port: "events-admin" } });
    expect(squid.readiness_probe).toBeDefined();
    expect(pod.init_container.map((c: Json) => c.name)).toEqual(["join-bundle"]);
    expect(pod.termination_grace_period_seconds).toBe(45);
    expect(proxy.spec.template.metadata.annotations["rapidclaw.dev/proxy-events-sha256"]).toMatch(/^[0-9a-f]{64}$/);
  });

  it("loads a firewall file the real loader accepts, with the description's roles and thresholds", () => {
    const data = named("kubernetes_config_map_v1", "rapidclaw-proxy-events").data;
    expect(Object.keys(data)).toEqual(["firewall.json"]);
    const dir = mkdtempSync(join(tmpdir(), "rapidclaw-k8s-events-"));
    try {
      writeFileSync(join(dir, "firewall.json"), data["firewall.json"]);
      const plan = compileFirewall(loadFirewallSpec(join(dir, "firewall.json")));
      expect(plan.roles.map((r) => r.name).sort()).toEqual(["customer_support", "research_agent"]);
      expect(plan.monitoring.networkBlocked).toEqual({ count: 5, windowSec: 300, severity: AlertSeverity.CRITICAL });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("keeps the windows in a bundled Redis only the proxy's pods reach, which reaches nothing", () => {
    const redisPod = podLabels.get("rapidclaw-events-redis") as Labels;
    expect(redisPod[COMPONENT]).toBe("proxy-events-redis");
    expect(named("kubernetes_service_v1", "rapidclaw-events-redis").spec.port).toEqual([{ name: "redis", port: 6379, target_port: "redis", protocol: "TCP" }]);
    expect(grants(all, redisPod, "Ingress")).toEqual([{ peer: { pod_selector: { match_labels: { [COMPONENT]: "egress-proxy" } } }, port: "TCP/6379" }]);
    expect(grants(all, redisPod, "Egress")).toEqual([]);
    for (const [name, labels] of podLabels) {
      const reaches = grants(all, labels, "Egress").some((g) => podSelects(g.peer, redisPod));
      expect(reaches, name).toBe(name === "rapidclaw-egress-proxy");
    }
  });

  it("lets the sidecar's webhook calls out where Squid goes: public addresses on 443, no private range", () => {
    const proxyPod = podLabels.get("rapidclaw-egress-proxy") as Labels;
    const publicBlocks = grants(all, proxyPod, "Egress").filter((g) => g.peer.ip_block?.cidr === "0.0.0.0/0");
    expect(publicBlocks.map((g) => g.port)).toEqual(["TCP/443"]);
    expect(publicBlocks[0].peer.ip_block.except).toEqual(expect.arrayContaining(["10.0.0.0/8", "169.254.0.0/16", "192.168.0.0/16"]));
  });

  it("adds nothing to a proxy built alone: the sidecar comes with ProxyEvents and its Redis", () => {
    const stack = new TerraformStack(new App(), "alone");
    new KubernetesProvider(stack, "kubernetes", {});
    const network = new IsolatedAgentNetwork(stack, "network", { spec: FirewallSpec.fromProps(firewallScenario(AgentPlatform.KUBERNETES)) });
    new EgressProxy(stack, "proxy", { network });
    const doc = JSON.parse(Testing.synth(stack));
    const deployment = Object.values<Json>(doc.resource.kubernetes_deployment_v1)[0];
    expect(deployment.spec.template.spec.container.map((c: Json) => c.name)).toEqual(["squid"]);
    expect(deployment.spec.template.spec.termination_grace_period_seconds).toBeUndefined();
  });

  it("rolls the proxy pods when proxy-events' firewall file changes, and only its annotation moves", () => {
    const changed = synthStack({ ...firewallScenario(AgentPlatform.KUBERNETES), monitoring: { networkBlocked: { count: 7, windowSec: 300, severity: AlertSeverity.CRITICAL } } });
    const annotations = (d: Json) => d.spec.template.metadata.annotations;
    const after = annotations(changed.named("kubernetes_deployment_v1", "rapidclaw-egress-proxy"));
    const before = annotations(proxy);
    expect(after["rapidclaw.dev/proxy-events-sha256"]).not.toBe(before["rapidclaw.dev/proxy-events-sha256"]);
    expect(after["rapidclaw.dev/squid-conf-sha256"]).toBe(before["rapidclaw.dev/squid-conf-sha256"]);
  });
});

describe("proxy-events on Kubernetes: its port", () => {
  it("refuses a proxy.port that puts a role's port on proxy-events' admin port in the same pods", () => {
    const error = failureOf(() => new RapidClawStack(new App(), "firewall", { ...firewallScenario(AgentPlatform.KUBERNETES), proxy: { ...firewallScenario(AgentPlatform.KUBERNETES).proxy, port: 9464 } }));
    expect(error.problems).toEqual([{ construct: "firewall", path: "proxy.port", message: expect.stringContaining("role research_agent's proxy port 9465 is proxy-events' admin port") }]);
  });
});

describe("proxy-events on Kubernetes, with a gateway", () => {
  it("counts in the gateway's bundled Redis, which admits the proxy's pods too, and bundles none of its own", () => {
    const { all, named } = synthStack(fronted(AgentPlatform.KUBERNETES));
    const events = named("kubernetes_deployment_v1", "rapidclaw-egress-proxy").spec.template.spec.container[1];
    expect(events.command).toContain("redis://rapidclaw-gateway-redis:6379");
    expect(named("kubernetes_deployment_v1", "rapidclaw-events-redis")).toBeUndefined();
    const redisPod = named("kubernetes_deployment_v1", "rapidclaw-gateway-redis").spec.template.metadata.labels;
    const proxyPod = named("kubernetes_deployment_v1", "rapidclaw-egress-proxy").spec.template.metadata.labels;
    expect(grants(all, proxyPod, "Egress").filter((g) => podSelects(g.peer, redisPod)).map((g) => g.port)).toEqual(["TCP/6379"]);
  });

  it("with an existing Redis of the gateway's: the proxy's pods reach that Redis's namespace on its port", () => {
    const spec = fronted(AgentPlatform.KUBERNETES, (s) => { s.gateway = { redis: { url: "redis://redis.data.svc:6380" } }; });
    const { all, named } = synthStack(spec);
    const proxyPod = named("kubernetes_deployment_v1", "rapidclaw-egress-proxy").spec.template.metadata.labels;
    const policy = named("kubernetes_network_policy_v1", "rapidclaw-proxy-events");
    expect(policy.spec.egress).toEqual([{ to: [{ namespace_selector: { match_labels: { "kubernetes.io/metadata.name": "data" } } }], ports: [{ protocol: "TCP", port: "6380" }] }]);
    expect(grants(all, proxyPod, "Egress").some((g) => g.port === "TCP/6380")).toBe(true);
    expect(named("kubernetes_deployment_v1", "rapidclaw-events-redis")).toBeUndefined();
  });

  it("mounts each webhook's Secret into the sidecar where its firewall file points it, as into the gateway", () => {
    const spec = { ...fronted(AgentPlatform.KUBERNETES), monitoring: { webhooks: [{ severity: AlertSeverity.CRITICAL, format: WebhookFormat.SLACK, kubernetesSecret: "slack-webhook" }] } };
    const { named } = synthStack(spec);
    const pod = named("kubernetes_deployment_v1", "rapidclaw-egress-proxy").spec.template.spec;
    expect(pod.volume).toContainEqual({ name: "webhook-0", secret: { secret_name: "slack-webhook", default_mode: "0444" } });
    expect(pod.container[1].volume_mount).toContainEqual({ name: "webhook-0", mount_path: "/run/rapidclaw/webhooks/0", read_only: true });
    const config = JSON.parse(named("kubernetes_config_map_v1", "rapidclaw-proxy-events").data["firewall.json"]);
    expect(config.monitoring.webhooks).toEqual([{ severity: "critical", format: "slack", urlFile: "/run/rapidclaw/webhooks/0/url" }]);
  });
});
