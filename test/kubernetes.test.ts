import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KubernetesProvider } from "@cdktf/provider-kubernetes/lib/provider";
import { App, TerraformStack, Testing } from "cdktf";
import { describe, expect, it } from "vitest";
import { AgentFleet, AgentPlatform, EgressProxy, FirewallSpec, IsolatedAgentNetwork, type FirewallSpecProps } from "../src";
import type { AgentFiles } from "../src/plan/agent-environment";
import { CHECKSUM_ANNOTATIONS, rolePortName, sha256 } from "../src/kubernetes/pod";
import { VAULT_TOKEN_AUDIENCE, VAULT_TOKEN_DIR } from "../src/kubernetes/agents";
import { LABELS } from "../src/plan/plan";
import { FORBIDDEN_DESTINATIONS } from "../src/model/forbidden-destinations";
import { buildExistingStackExample, EXISTING_STACK_NAME, ExistingPlatformStack } from "../examples/existing-stack";
import { firewallScenario } from "../examples/firewall-scenario";
import { canonicalJson, synthesize, type SynthesizedStack } from "./support/synth";
import { terraformLiteral } from "../src/terraform/terraform-literal";
import { planOf } from "../src/plan/firewall-spec";

type Json = Record<string, any>;
type Labels = Record<string, string>;

const seed = (): FirewallSpecProps => firewallScenario(AgentPlatform.KUBERNETES);
const PROFILE_FILES: AgentFiles = {
  research_agent: [
    { path: "/etc/rapidclaw/profile.json", content: '{"role":"research_agent"}' },
    { path: "/etc/rapidclaw/profile.yaml", content: "role: research_agent\n" },
  ],
};

/** A whole Kubernetes firewall in a plain stack: provider, network, proxy, agents. */
function kubernetesStack(props: FirewallSpecProps = seed(), files: AgentFiles = PROFILE_FILES) {
  const stack = new TerraformStack(new App(), "firewall");
  new KubernetesProvider(stack, "kubernetes", {});
  const spec = FirewallSpec.fromProps(props);
  const network = new IsolatedAgentNetwork(stack, "network", { spec });
  const proxy = new EgressProxy(stack, "egress-proxy", { network });
  const fleet = new AgentFleet(stack, "agents", { network, proxy, files });
  return { stack, spec, network, proxy, fleet, synth: synthesize(stack) };
}

/** The seed with extra role options, by role name. */
function withRoles(extra: Record<string, Json>, base: FirewallSpecProps = seed()): FirewallSpecProps {
  const roles = Object.fromEntries(Object.entries(base.roles).map(([name, role]) => [name, { ...role, ...(extra[name] ?? {}) }]));
  return { ...base, roles };
}

const policies = (s: SynthesizedStack) => s.resources("kubernetes_network_policy_v1");
const byName = (list: Json[], name: string) => list.find((r) => r.metadata.name === name) as Json;

/** Whether a label selector selects a set of labels (an empty selector selects everything). */
function selects(selector: Json | undefined, labels: Labels): boolean {
  return Object.entries(selector?.match_labels ?? {}).every(([k, v]) => labels[k] === v) && selector?.match_expressions === undefined;
}

/** Pod template labels of each agent Deployment, by Deployment name. */
function agentPods(s: SynthesizedStack): Map<string, Labels> {
  return new Map(
    s
      .resources("kubernetes_deployment_v1")
      .filter((d) => d.spec.template.metadata.labels[LABELS.component] === "agent")
      .map((d) => [d.metadata.name, d.spec.template.metadata.labels]),
  );
}

/** Every (peer, port) an egress rule list allows, flattened. */
function egressGrants(rules: Json[] | undefined): { peer: Json; protocol: string; port: string }[] {
  return (rules ?? []).flatMap((rule) => {
    expect(rule.to, "a rule without `to` allows every destination").toBeDefined();
    expect(rule.ports, "a rule without `ports` allows every port").toBeDefined();
    return rule.to.flatMap((peer: Json) => rule.ports.map((p: Json) => ({ peer, protocol: p.protocol, port: p.port })));
  });
}

/** Everything a pod with these labels may send, by the union of the policies selecting it. */
function podEgress(s: SynthesizedStack, labels: Labels) {
  return policies(s)
    .filter((p) => p.spec.policy_types.includes("Egress") && selects(p.spec.pod_selector, labels))
    .flatMap((p) => egressGrants(p.spec.egress));
}

const isDnsPeer = (peer: Json) =>
  Object.keys(peer).sort().join() === "namespace_selector,pod_selector" &&
  peer.namespace_selector.match_labels["kubernetes.io/metadata.name"] === "kube-system" &&
  peer.pod_selector.match_labels["k8s-app"] === "kube-dns";
const isProxyPeer = (peer: Json) => Object.keys(peer).join() === "pod_selector" && peer.pod_selector.match_labels[LABELS.component] === "egress-proxy";

describe("Kubernetes firewall: agent NetworkPolicies", () => {
  const { spec, synth } = kubernetesStack();
  const plan = planOf(spec);
  const pods = agentPods(synth);

  it("has a default-deny policy for both directions that selects every agent pod", () => {
    const deny = byName(policies(synth), "rapidclaw-agents-default-deny");
    expect(deny.spec.policy_types).toEqual(["Ingress", "Egress"]);
    expect(deny.spec.ingress).toBeUndefined();
    expect(deny.spec.egress).toBeUndefined();
    expect(deny.spec.pod_selector).toEqual({ match_labels: { [LABELS.component]: "agent" } });
    expect([...pods.keys()].sort()).toEqual(["hermes-agent", "openclaw-agent"]);
    for (const labels of pods.values()) expect(selects(deny.spec.pod_selector, labels)).toBe(true);
  });

  it("gives agents no way to port 53 anywhere, and pods a DNS configuration that cannot recurse", () => {
    expect(policies(synth).map((p) => p.metadata.name)).not.toContain("rapidclaw-agents-dns");
    for (const [name, labels] of pods) {
      // Any policy selecting the pod, any peer: no rule opens port 53 (or all ports, which would include it).
      const grants = podEgress(synth, labels);
      expect(grants.filter((g) => g.port === "53" || g.port === undefined), name).toEqual([]);
      const pod = synth.resources("kubernetes_deployment_v1").find((d) => d.spec.template.metadata.labels[LABELS.agent] === name)!.spec.template.spec;
      expect(pod.dns_policy, name).toBe("None");
      expect(pod.dns_config, name).toEqual({ nameservers: ["127.0.0.1"] });
    }
  });

  it("opens the cluster DNS to a role that opts in with a reason, and warns at synthesis", () => {
    const { synth: s, stack } = kubernetesStack(withRoles({ research_agent: { network: { allowEgress: true, allowedHosts: ["*.google.com"], dnsReason: "the vendor SDK resolves its license server" } } }));
    const research = byName(policies(s), "rapidclaw-role-research-agent-egress");
    const dnsRules = research.spec.egress.filter((r: Json) => r.ports.some((p: Json) => p.port === "53"));
    expect(dnsRules).toHaveLength(1);
    expect(isDnsPeer(dnsRules[0].to[0])).toBe(true);
    expect(JSON.stringify(byName(policies(s), "rapidclaw-role-customer-support-egress").spec.egress)).not.toContain('"53"');
    const research_pod = s.resources("kubernetes_deployment_v1").find((d) => d.metadata.name === "openclaw-agent")!.spec.template.spec;
    expect(research_pod.dns_policy).toBeUndefined();
    const warnings = stack.node.findAll().flatMap((c) => c.node.metadata.filter((m) => m.type === "@cdktf/warn").map((m) => String(m.data)));
    expect(warnings.join("\n")).toMatch(/Agents of role "research_agent" may query DNS \(the cluster DNS\).*DNS tunnelling.*the vendor SDK resolves its license server/);
    expect(() => kubernetesStack(withRoles({ research_agent: { network: { dnsReason: "dns" } } }))).toThrow(/roles\.research_agent\.network\.dnsReason: the reason must be 10 to 200 characters/);
  });

  it("lets each role's pods reach only their own proxy port, and nothing else", () => {
    for (const [name, labels] of pods) {
      const agent = plan.agents.find((a) => a.resourceName === name)!;
      const role = plan.roles.find((r) => r.name === agent.role)!;
      const grants = podEgress(synth, labels);
      const toProxy = grants.filter((g) => isProxyPeer(g.peer));
      expect(toProxy.map((g) => `${g.protocol}/${g.port}`)).toEqual([`TCP/${role.proxyPort}`]);
      expect(grants.filter((g) => !isProxyPeer(g.peer))).toEqual([]);
      expect(grants.some((g) => g.peer.ip_block !== undefined)).toBe(false);
    }
    const ports = plan.roles.map((r) => r.proxyPort);
    expect(new Set(ports).size).toBe(ports.length);
  });

  it("names and selects one egress policy per role", () => {
    for (const role of plan.roles) {
      const policy = byName(policies(synth), `rapidclaw-role-${role.resourceName}-egress`);
      expect(policy.spec.pod_selector.match_labels).toEqual({ [LABELS.component]: "agent", [LABELS.role]: role.resourceName });
      expect(policy.spec.policy_types).toEqual(["Egress"]);
    }
  });

  it("allows no ingress to agent pods unless asked", () => {
    for (const labels of pods.values()) {
      const ingress = policies(synth).filter((p) => selects(p.spec.pod_selector, labels) && p.spec.ingress !== undefined);
      expect(ingress).toEqual([]);
    }
  });

  it("adds a role's egress CIDRs, on their ports, to that role only", () => {
    const props = withRoles({ research_agent: { network: { allowEgress: true, allowedHosts: ["arxiv.org"], egressCidrs: [{ cidr: "10.20.0.0/16", ports: [5432, 443] }, { cidr: "fd12:3456::/48", ports: [8443] }] } } });
    const { synth: s } = kubernetesStack(props);
    const cidrGrants = (name: string) =>
      podEgress(s, agentPods(s).get(name)!)
        .filter((g) => g.peer.ip_block)
        .map((g) => `${g.peer.ip_block.cidr}${g.peer.ip_block.except ? "-except" : ""} ${g.protocol}/${g.port}`)
        .sort();
    expect(cidrGrants("openclaw-agent")).toEqual(["10.20.0.0/16 TCP/443", "10.20.0.0/16 TCP/5432", "fd12:3456::/48 TCP/8443"]);
    expect(cidrGrants("hermes-agent")).toEqual([]);
  });

  it("adds the NodeLocal DNSCache address as a second DNS peer when set, for opted-in roles and the proxy", () => {
    const { synth: s } = kubernetesStack(withRoles({ customer_support: { network: { dnsReason: "the vendor SDK resolves its license server" } } }, { ...seed(), kubernetes: { nodeLocalDnsIp: "169.254.20.10" } }));
    for (const name of ["rapidclaw-role-customer-support-egress", "rapidclaw-egress-proxy"]) {
      const rule = byName(policies(s), name).spec.egress.find((r: Json) => r.ports.some((p: Json) => p.port === "53"));
      expect(rule.to).toHaveLength(2);
      expect(isDnsPeer(rule.to[0])).toBe(true);
      expect(rule.to[1]).toEqual({ ip_block: { cidr: "169.254.20.10/32" } });
      expect(rule.ports).toEqual([{ protocol: "UDP", port: "53" }, { protocol: "TCP", port: "53" }]);
    }
  });

  it("admits ingress to agent pods only from the configured namespaces, on the configured port", () => {
    const { synth: s } = kubernetesStack({ ...seed(), kubernetes: { ingress: { namespaceLabels: { team: "gateway", "kubernetes.io/metadata.name": "gw" }, port: 8080 } } });
    const ingress = byName(policies(s), "rapidclaw-agents-ingress");
    expect(ingress.spec.policy_types).toEqual(["Ingress"]);
    expect(ingress.spec.pod_selector).toEqual({ match_labels: { [LABELS.component]: "agent" } });
    expect(ingress.spec.ingress).toEqual([
      { from: [{ namespace_selector: { match_labels: { "kubernetes.io/metadata.name": "gw", team: "gateway" } } }], ports: [{ protocol: "TCP", port: "8080" }] },
    ]);
  });
});

describe("Kubernetes firewall: namespace", () => {
  it("creates and labels the namespace, and places everything in it by reference", () => {
    const { synth } = kubernetesStack();
    const [namespace] = synth.resources("kubernetes_namespace_v1");
    expect(namespace.metadata.name).toBe("ai-agents");
    expect(namespace.metadata.labels).toMatchObject({ [LABELS.firewall]: "true", [LABELS.managedBy]: "rapidclaw" });
    const id = Object.keys(synth.doc.resource.kubernetes_namespace_v1)[0];
    const namespaced = Object.entries(synth.doc.resource as Json)
      .filter(([type]) => type !== "kubernetes_namespace_v1")
      .flatMap(([, byId]) => Object.values(byId as Json));
    expect(namespaced.length).toBeGreaterThan(10);
    for (const r of namespaced) expect(r.metadata.namespace).toBe(`\${kubernetes_namespace_v1.${id}.metadata[0].name}`);
  });

  it("adopts an existing namespace without creating one", () => {
    const spec = FirewallSpec.fromProps({ ...seed(), namespace: "agents-prod", kubernetes: { existingNamespace: true } });
    const doc = JSON.parse(
      Testing.synthScope((scope) => {
        const network = new IsolatedAgentNetwork(scope, "network", { spec });
        new EgressProxy(scope, "egress-proxy", { network });
      }),
    );
    expect(doc.resource.kubernetes_namespace_v1).toBeUndefined();
    const all = Object.values(doc.resource as Json).flatMap((byId) => Object.values(byId as Json));
    expect(all.length).toBeGreaterThan(0);
    for (const r of all) expect(r.metadata.namespace).toBe("agents-prod");
  });
});

describe("Kubernetes firewall: egress proxy", () => {
  const { spec, proxy, synth } = kubernetesStack();
  const plan = planOf(spec);
  const policy = byName(policies(synth), "rapidclaw-egress-proxy");
  const [deployment] = synth.resources("kubernetes_deployment_v1").filter((d) => d.metadata.name === "rapidclaw-egress-proxy");
  const pod = deployment.spec.template;
  const squid = pod.spec.container[0];

  it("admits each role only on its own port, and no one else", () => {
    expect(policy.spec.pod_selector).toEqual({ match_labels: { [LABELS.component]: "egress-proxy" } });
    expect(policy.spec.policy_types).toEqual(["Ingress", "Egress"]);
    expect(policy.spec.ingress).toHaveLength(plan.roles.length);
    for (const rule of policy.spec.ingress) {
      expect(rule.from).toHaveLength(1);
      expect(Object.keys(rule.from[0])).toEqual(["pod_selector"]);
    }
    const admitted = policy.spec.ingress.map((r: Json) => `${r.from[0].pod_selector.match_labels[LABELS.role]} ${r.ports.map((p: Json) => `${p.protocol}/${p.port}`).join()}`);
    expect(admitted).toEqual(plan.roles.map((r) => `${r.resourceName} TCP/${r.proxyPort}`));
    // Each agent pod is admitted on exactly its role's port.
    for (const labels of agentPods(synth).values()) {
      const ports = policy.spec.ingress.filter((r: Json) => selects(r.from[0].pod_selector, labels)).flatMap((r: Json) => r.ports.map((p: Json) => p.port));
      const role = plan.roles.find((r) => r.resourceName === labels[LABELS.role])!;
      expect(ports).toEqual([String(role.proxyPort)]);
    }
  });

  it("sends only DNS and HTTPS, and never to private, link-local or loopback ranges", () => {
    const grants = egressGrants(policy.spec.egress);
    for (const g of grants.filter((g) => g.port === "53")) expect(isDnsPeer(g.peer)).toBe(true);
    const web = grants.filter((g) => g.port !== "53");
    expect([...new Set(web.map((g) => `${g.protocol}/${g.port}`))]).toEqual(["TCP/443"]);
    const blocks = Object.fromEntries(web.map((g) => [g.peer.ip_block.cidr, g.peer.ip_block.except]));
    expect(Object.keys(blocks).sort()).toEqual(["0.0.0.0/0", "::/0"]);
    expect(blocks["0.0.0.0/0"]).toEqual(expect.arrayContaining(["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "169.254.0.0/16", "127.0.0.0/8"]));
    expect(blocks["::/0"]).toEqual(expect.arrayContaining(["fc00::/7", "fe80::/10", "::1/128"]));
    for (const cidr of [...blocks["0.0.0.0/0"], ...blocks["::/0"]]) expect(cidr).toMatch(/\/\d+$/);
  });

  it("leaves out exactly the ranges Squid refuses: ::, every NAT64 and 6to4 prefix, and proxy.forbiddenCidrs", () => {
    const except = (spec: FirewallSpecProps) => {
      const web = egressGrants(byName(policies(kubernetesStack(spec).synth), "rapidclaw-egress-proxy").spec.egress).filter((g) => g.port !== "53");
      return [...new Set(web.flatMap((g) => g.peer.ip_block.except as string[]))];
    };
    expect(except(seed())).toEqual([...FORBIDDEN_DESTINATIONS]);
    for (const range of ["::/128", "64:ff9b::/96", "64:ff9b:1::/48", "2002::/16"]) expect(except(seed())).toContain(range);
    const extra = except({ ...seed(), proxy: { ...seed().proxy, forbiddenCidrs: ["52.94.0.0/16", "2600:1f00::/24"] } });
    expect(extra).toEqual(expect.arrayContaining(["52.94.0.0/16", "2600:1f00::/24"]));
  });

  it("allows plain HTTP on port 80 only when asked", () => {
    const { synth: s } = kubernetesStack({ ...seed(), proxy: { ...seed().proxy, allowPlainHttp: true } });
    const web = egressGrants(byName(policies(s), "rapidclaw-egress-proxy").spec.egress).filter((g) => g.port !== "53");
    expect([...new Set(web.map((g) => g.port))].sort()).toEqual(["443", "80"]);
  });

  it("runs hardened Squid as the proxy user with the config from a ConfigMap", () => {
    expect(deployment.spec.replicas).toBe("2");
    expect(squid.image).toBe(plan.proxy.image);
    // A throwaway certificate for the ssl-bump ports (nothing is bumped), then Squid in the foreground.
    expect(squid.command).toEqual(["sh", "-c", expect.stringMatching(/^openssl req -x509 .* \|\| exit 1; while .* kill -USR1 \$\$; done & exec squid -N -f \/etc\/squid\/squid\.conf$/)]);
    expect(pod.spec.security_context).toMatchObject({ run_as_user: "13", run_as_group: "13", run_as_non_root: true, seccomp_profile: { type: "RuntimeDefault" } });
    expect(pod.spec.automount_service_account_token).toBe(false);
    expect(squid.security_context).toMatchObject({ allow_privilege_escalation: false, read_only_root_filesystem: true, capabilities: { drop: ["ALL"] } });
    expect(squid.resources.requests).toBeDefined();
    expect(squid.resources.limits).toBeDefined();
    const mounts = Object.fromEntries(squid.volume_mount.map((m: Json) => [m.mount_path, m]));
    expect(mounts["/etc/squid/squid.conf"]).toMatchObject({ sub_path: "squid.conf", read_only: true });
    expect(mounts["/etc/squid/rapidclaw-sni-present.sh"]).toMatchObject({ sub_path: "rapidclaw-sni-present.sh", read_only: true });
    const volumes = Object.fromEntries(pod.spec.volume.map((v: Json) => [v.name, v]));
    for (const dir of ["/var/spool/squid", "/var/run/squid", "/var/log/squid"]) expect(volumes[mounts[dir].name].empty_dir).toBeDefined();
    const [configMap] = synth.resources("kubernetes_config_map_v1").filter((c) => c.metadata.name === "rapidclaw-egress-proxy-squid-conf");
    expect(configMap.data["squid.conf"]).toBe(terraformLiteral(proxy.squidConf));
    expect(squid.readiness_probe.tcp_socket).toEqual([{ port: String(plan.roles[0].proxyPort) }]);
  });

  it("rolls the proxy pods when squid.conf changes", () => {
    expect(pod.metadata.annotations[CHECKSUM_ANNOTATIONS.squidConf]).toBe(sha256(proxy.squidConf));
    const { proxy: other, synth: s } = kubernetesStack({ ...seed(), modelHosts: ["api.anthropic.com"] });
    const otherPod = s.resources("kubernetes_deployment_v1").find((d) => d.metadata.name === "rapidclaw-egress-proxy")!.spec.template;
    expect(other.squidConf).not.toBe(proxy.squidConf);
    expect(otherPod.metadata.annotations[CHECKSUM_ANNOTATIONS.squidConf]).toBe(sha256(other.squidConf));
    expect(otherPod.metadata.annotations[CHECKSUM_ANNOTATIONS.squidConf]).not.toBe(pod.metadata.annotations[CHECKSUM_ANNOTATIONS.squidConf]);
  });

  it("exposes one named port per role on the Service and the container, and points each role's agents at its port", () => {
    const [service] = synth.resources("kubernetes_service_v1");
    expect(service.metadata.name).toBe("rapidclaw-egress-proxy");
    expect(service.spec.type).toBe("ClusterIP");
    expect(service.spec.selector).toMatchObject({ [LABELS.component]: "egress-proxy" });
    expect(selects({ match_labels: service.spec.selector }, pod.metadata.labels)).toBe(true);
    expect(service.spec.port.map((p: Json) => [p.name, p.port, p.target_port])).toEqual(plan.roles.map((r, i) => [`role-${i}`, r.proxyPort, `role-${i}`]));
    expect(squid.port.map((p: Json) => [p.name, p.container_port])).toEqual(plan.roles.map((r, i) => [`role-${i}`, r.proxyPort]));
    for (const role of plan.roles) expect(proxy.proxyUrls[role.name]).toBe(`http://${proxy.kubernetes.serviceAddress}:${role.proxyPort}`);
    expect(proxy.kubernetes.serviceHost).toMatch(/^rapidclaw-egress-proxy\..+\.svc$/);
  });

  it("generates valid, unique port names however many roles and however long their names", () => {
    const names = Array.from({ length: 120 }, (_, i) => rolePortName(i));
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) {
      expect(name.length).toBeLessThanOrEqual(15);
      expect(name).toMatch(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/);
      expect(name).toMatch(/[a-z]/);
      expect(name).not.toContain("--");
    }
    const long = "a_very_long_role_name_that_is_far_beyond_fifteen";
    const props = { ...seed(), roles: { ...seed().roles, [long]: {} } };
    const { synth: s } = kubernetesStack(props);
    const ports = s.resources("kubernetes_service_v1")[0].spec.port;
    expect(ports.map((p: Json) => p.name)).toEqual(["role-0", "role-1", "role-2"]);
  });

  it("keeps one proxy pod up with a PodDisruptionBudget that never blocks a drain with one replica", () => {
    for (const replicas of [1, 2, 3]) {
      const { synth: s } = kubernetesStack({ ...seed(), proxy: { ...seed().proxy, replicas } });
      const [pdb] = s.resources("kubernetes_pod_disruption_budget_v1");
      expect(pdb.spec).toMatchObject({ max_unavailable: "1" });
      expect(pdb.spec.min_available).toBeUndefined();
      expect(selects(pdb.spec.selector, pod.metadata.labels)).toBe(true);
      expect(s.resources("kubernetes_deployment_v1").find((d) => d.metadata.name === "rapidclaw-egress-proxy")!.spec.replicas).toBe(String(replicas));
    }
  });
});

describe("Kubernetes firewall: roles and agents", () => {
  const { spec, synth } = kubernetesStack();
  const plan = planOf(spec);
  const deployments = synth.resources("kubernetes_deployment_v1").filter((d) => d.spec.template.metadata.labels[LABELS.component] === "agent");
  const agent = (name: string) => deployments.find((d) => d.metadata.name === name)!;
  const serviceAccounts = synth.resources("kubernetes_service_account_v1");
  const saRef = (name: string) => {
    const id = Object.entries(synth.doc.resource.kubernetes_service_account_v1).find(([, sa]) => (sa as Json).metadata.name === name)![0];
    return `\${kubernetes_service_account_v1.${id}.metadata[0].name}`;
  };

  it("gives each role a ServiceAccount that mounts no API token", () => {
    expect(serviceAccounts.map((sa) => sa.metadata.name).sort()).toEqual(plan.roles.map((r) => r.serviceAccountName).sort());
    for (const role of plan.roles) {
      const sa = serviceAccounts.find((s) => s.metadata.name === role.serviceAccountName)!;
      expect(sa.automount_service_account_token).toBe(false);
      expect(sa.metadata.labels[LABELS.role]).toBe(role.resourceName);
    }
  });

  it("runs each agent as its role's ServiceAccount, labelled for its role's policies", () => {
    for (const a of plan.agents) {
      const role = plan.roles.find((r) => r.name === a.role)!;
      const d = agent(a.resourceName);
      expect(d.spec.replicas).toBe(String(a.replicas));
      expect(d.spec.template.spec.service_account_name).toBe(saRef(role.serviceAccountName));
      expect(d.spec.template.spec.automount_service_account_token).toBe(false);
      expect(d.spec.template.metadata.labels).toMatchObject({ [LABELS.component]: "agent", [LABELS.role]: role.resourceName, [LABELS.agent]: a.resourceName });
      expect(selects(d.spec.selector, d.spec.template.metadata.labels)).toBe(true);
    }
  });

  it("hardens agent pods: non-root, RuntimeDefault seccomp, no escalation, no capabilities, read-only root with /tmp", () => {
    for (const d of deployments) {
      const podSpec = d.spec.template.spec;
      expect(podSpec.security_context).toMatchObject({ run_as_non_root: true, run_as_user: "10001", seccomp_profile: { type: "RuntimeDefault" } });
      const [container] = podSpec.container;
      expect(container.security_context).toMatchObject({ allow_privilege_escalation: false, read_only_root_filesystem: true, capabilities: { drop: ["ALL"] } });
      const tmp = container.volume_mount.find((m: Json) => m.mount_path === "/tmp");
      expect(podSpec.volume.find((v: Json) => v.name === tmp.name).empty_dir).toBeDefined();
    }
  });

  it("sets requests and limits from memory and cpus", () => {
    expect(agent("openclaw-agent").spec.template.spec.container[0].resources).toEqual({ requests: { cpu: "1000m", memory: "2048Mi" }, limits: { cpu: "1000m", memory: "2048Mi" } });
    expect(agent("hermes-agent").spec.template.spec.container[0].resources).toEqual({ requests: { cpu: "500m", memory: "1024Mi" }, limits: { cpu: "500m", memory: "1024Mi" } });
  });

  it("points agents at their role's proxy port", () => {
    for (const a of plan.agents) {
      const role = plan.roles.find((r) => r.name === a.role)!;
      const env = Object.fromEntries(agent(a.resourceName).spec.template.spec.container[0].env.map((e: Json) => [e.name, e.value]));
      // The Service's cluster IP by reference: agents resolve no names.
      expect(env.HTTPS_PROXY).toMatch(new RegExp(`^http://\\$\\{kubernetes_service_v1\\.egress-proxy_kubernetes_service_[0-9A-F]+\\.spec\\[0\\]\\.cluster_ip\\}:${role.proxyPort}$`));
      expect(env.RAPIDCLAW_ROLE).toBe(a.role);
    }
  });

  it("gives a role that allows the file system a writable root, and no /tmp volume", () => {
    const { synth: s } = kubernetesStack(withRoles({ research_agent: { allowFileSystem: true } }));
    const d = s.resources("kubernetes_deployment_v1").find((x) => x.metadata.name === "openclaw-agent")!;
    const [container] = d.spec.template.spec.container;
    expect(container.security_context.read_only_root_filesystem).toBe(false);
    expect(container.security_context.allow_privilege_escalation).toBe(false);
    expect((container.volume_mount ?? []).some((m: Json) => m.mount_path === "/tmp")).toBe(false);
    const other = s.resources("kubernetes_deployment_v1").find((x) => x.metadata.name === "hermes-agent")!;
    expect(other.spec.template.spec.container[0].security_context.read_only_root_filesystem).toBe(true);
  });

  it("mounts a short-lived Vault-audience token for roles that hold keys, and none for roles without", () => {
    for (const a of plan.agents) {
      const podSpec = agent(a.resourceName).spec.template.spec;
      const mount = podSpec.container[0].volume_mount.find((m: Json) => m.mount_path === VAULT_TOKEN_DIR);
      expect(mount.read_only).toBe(true);
      const volume = podSpec.volume.find((v: Json) => v.name === mount.name);
      expect(volume.projected[0].sources).toEqual([{ service_account_token: { audience: VAULT_TOKEN_AUDIENCE, expiration_seconds: 600, path: "token" } }]);
    }
    const keyless = withRoles({ customer_support: { tools: { knowledge_base: "READ", ticket_system: "WRITE" } } });
    const { synth: s } = kubernetesStack(keyless);
    const hermes = s.resources("kubernetes_deployment_v1").find((x) => x.metadata.name === "hermes-agent")!.spec.template.spec;
    expect(hermes.container[0].volume_mount.some((m: Json) => m.mount_path === VAULT_TOKEN_DIR)).toBe(false);
    expect(hermes.volume.some((v: Json) => v.projected)).toBe(false);
  });

  it("mounts a role's files read-only from one ConfigMap, and rolls the pods when they change", () => {
    const maps = synth.resources("kubernetes_config_map_v1").filter((c) => c.metadata.labels[LABELS.component] === "agent");
    expect(maps).toHaveLength(1);
    expect(maps[0].metadata.labels[LABELS.role]).toBe("research-agent");
    expect(maps[0].data).toEqual({ "profile.json": '{"role":"research_agent"}', "profile.yaml": "role: research_agent\n" });
    const podSpec = agent("openclaw-agent").spec.template.spec;
    const mount = podSpec.container[0].volume_mount.find((m: Json) => m.mount_path === "/etc/rapidclaw");
    expect(mount.read_only).toBe(true);
    const volume = podSpec.volume.find((v: Json) => v.name === mount.name);
    expect(volume.config_map.items).toEqual([{ key: "profile.json", path: "profile.json" }, { key: "profile.yaml", path: "profile.yaml" }]);
    const env = Object.fromEntries(podSpec.container[0].env.map((e: Json) => [e.name, e.value]));
    expect(env.RAPIDCLAW_PROFILE).toBe("/etc/rapidclaw/profile.json");
    expect(agent("hermes-agent").spec.template.metadata.annotations).toBeUndefined();

    const checksum = (s: SynthesizedStack) => s.resources("kubernetes_deployment_v1").find((d) => d.metadata.name === "openclaw-agent")!.spec.template.metadata.annotations[CHECKSUM_ANNOTATIONS.agentFiles];
    const changed = kubernetesStack(seed(), { research_agent: [{ ...PROFILE_FILES.research_agent[0], content: '{"role":"other"}' }, PROFILE_FILES.research_agent[1]] });
    expect(checksum(synth)).toMatch(/^[0-9a-f]{64}$/);
    expect(checksum(changed.synth)).not.toBe(checksum(synth));
  });

  it("refuses a role's files spread over several directories", () => {
    const files = { research_agent: [{ path: "/etc/rapidclaw/profile.json", content: "{}" }, { path: "/etc/other/profile.yaml", content: "" }] };
    expect(() => kubernetesStack(seed(), files)).toThrow(/one directory.*found \/etc\/other, \/etc\/rapidclaw/);
  });

  it("synthesizes byte-identical JSON for the same input", () => {
    expect(kubernetesStack().synth.json).toBe(synth.json);
  });
});

describe("example: the firewall in an existing stack", () => {
  it("matches the snapshot", () => {
    const stack = new ExistingPlatformStack(Testing.app(), EXISTING_STACK_NAME);
    expect(canonicalJson(Testing.synth(stack))).toMatchSnapshot();
  });

  it("synthesizes into the given directory with only the user's Kubernetes provider, network and proxy", () => {
    const outdir = mkdtempSync(join(tmpdir(), "rapidclaw-existing-"));
    try {
      buildExistingStackExample(outdir).synth();
      const doc = JSON.parse(readFileSync(join(outdir, "stacks", EXISTING_STACK_NAME, "cdk.tf.json"), "utf8"));
      expect(Object.keys(doc.provider)).toEqual(["kubernetes"]);
      expect(doc.provider.kubernetes).toHaveLength(1);
      expect(Object.keys(doc.resource).every((type) => type.startsWith("kubernetes_"))).toBe(true);
      expect(doc.resource.kubernetes_deployment_v1 && Object.values(doc.resource.kubernetes_deployment_v1).map((d: any) => d.metadata.name)).toEqual(["rapidclaw-egress-proxy"]);
      expect(doc.resource.kubernetes_service_account_v1).toBeUndefined();
      expect(Object.keys(doc.resource.kubernetes_network_policy_v1)).toHaveLength(4);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});
