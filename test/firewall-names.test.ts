import { App, Testing, type TerraformStack } from "cdktf";
import { describe, expect, it } from "vitest";
import { AgentPlatform, FirewallSpecError, RapidClawStack, type RapidClawStackProps } from "../src";
import { ipv4InNetwork, parseCidr, type Network } from "../src/model/addresses";
import { compileFirewall, LABELS } from "../src/plan/plan";
import { firewallScenario } from "../examples/firewall-scenario";

type Doc = Record<string, any>;

/** Replaces `${type.id.attr}` references to another resource's string attribute by that attribute's value. */
function resolve(doc: Doc, value: string): string {
  return value.replace(/\$\{([a-z0-9_]+)\.([^.}]+)\.([a-z_]+)\}/g, (whole, type, id, attr) => {
    const target = doc.resource?.[type]?.[id]?.[attr];
    return typeof target === "string" ? resolve(doc, target) : whole;
  });
}

/**
 * Every name a stack gives something outside Terraform, by what it names: resources' `name`,
 * `path` and `role_name`, Kubernetes `metadata.name`, Docker bridge names, and KV secret paths
 * under their mount. Images are left out: two firewalls may run the same image on purpose. The
 * namespace is left out too: the second firewall adopts the first one's.
 */
function externalNames(stack: TerraformStack): string[] {
  const doc: Doc = JSON.parse(Testing.synth(stack));
  const names: string[] = [];
  for (const [type, resources] of Object.entries<Doc>(doc.resource ?? {})) {
    if (type === "docker_image" || type === "kubernetes_namespace_v1") continue;
    for (const resource of Object.values<Doc>(resources)) {
      const add = (what: string, value: unknown) => typeof value === "string" && names.push(`${what} ${resolve(doc, value)}`);
      if (type === "vault_kv_secret_v2") { add("vault secret", `${resource.mount}/${resource.name}`); continue; }
      add(`${type}.name`, resource.name);
      add("vault path", resource.path);
      add("vault role", resource.role_name);
      const metadata = Array.isArray(resource.metadata) ? resource.metadata[0] : resource.metadata;
      add(`${type}.metadata.name`, metadata?.name);
      add("bridge", resource.options?.["com.docker.network.bridge.name"]);
    }
  }
  return names;
}

/** Subnets of every Docker network of a stack. */
function dockerSubnets(stack: TerraformStack): Network[] {
  const doc: Doc = JSON.parse(Testing.synth(stack));
  return Object.values<Doc>(doc.resource.docker_network).flatMap((n) => n.ipam_config.map((c: Doc) => parseCidr(c.subnet) as Network));
}

const overlapping = (a: Network, b: Network) => ipv4InNetwork(a.base, b) || ipv4InNetwork(b.base, a);

function twoFirewalls(platform: AgentPlatform, first: Partial<RapidClawStackProps>, second: Partial<RapidClawStackProps>) {
  const app = new App();
  const a = new RapidClawStack(app, "firewall-a", { ...firewallScenario(platform), ...first });
  const b = new RapidClawStack(app, "firewall-b", { ...firewallScenario(platform), ...second });
  return { a, b };
}

type Labels = Record<string, string>;

/** A label selector of the stack, by where it is: `<resource type>.<resource id> <place>`. */
interface Selector { readonly where: string; readonly matchLabels: Labels }

/**
 * Every pod selector of a Kubernetes stack that selects in its own namespace: Deployment, Service
 * and PodDisruptionBudget selectors, NetworkPolicy `podSelector`s and the pod selectors of their
 * ingress and egress peers (peers with a `namespaceSelector` select in other namespaces: left out).
 */
function podSelectors(doc: Doc): Selector[] {
  const selectors: Selector[] = [];
  const each = (type: string, visit: (id: string, spec: Doc) => void) => {
    for (const [id, resource] of Object.entries<Doc>(doc.resource[type] ?? {})) visit(`${type}.${id}`, resource.spec);
  };
  each("kubernetes_deployment_v1", (where, spec) => selectors.push({ where: `${where} selector`, matchLabels: spec.selector.match_labels }));
  each("kubernetes_pod_disruption_budget_v1", (where, spec) => selectors.push({ where: `${where} selector`, matchLabels: spec.selector.match_labels }));
  each("kubernetes_service_v1", (where, spec) => selectors.push({ where: `${where} selector`, matchLabels: spec.selector }));
  each("kubernetes_network_policy_v1", (where, spec) => {
    selectors.push({ where: `${where} podSelector`, matchLabels: spec.pod_selector.match_labels });
    const peers = [...(spec.ingress ?? []).flatMap((rule: Doc) => rule.from ?? []), ...(spec.egress ?? []).flatMap((rule: Doc) => rule.to ?? [])];
    for (const peer of peers) {
      if (peer.pod_selector !== undefined && peer.namespace_selector === undefined) selectors.push({ where: `${where} peer`, matchLabels: peer.pod_selector.match_labels });
    }
  });
  return selectors;
}

/** Labels of every pod template of a Kubernetes stack, by Deployment. */
function podTemplates(doc: Doc): { readonly deployment: string; readonly labels: Labels }[] {
  return Object.entries<Doc>(doc.resource.kubernetes_deployment_v1).map(([id, d]) => ({ deployment: id, labels: d.spec.template.metadata.labels }));
}

/** Kubernetes `matchLabels` semantics: every label of the selector, with its value, on the pod. */
const matches = (selector: Labels, pod: Labels) => Object.entries(selector).every(([key, value]) => pod[key] === value);

/** Each selector of `a` that selects a pod of `b`, with the pod's Deployment. */
function crossSelections(a: TerraformStack, b: TerraformStack): string[] {
  const pods = podTemplates(JSON.parse(Testing.synth(b)));
  return podSelectors(JSON.parse(Testing.synth(a))).flatMap((s) => pods.filter((pod) => matches(s.matchLabels, pod.labels)).map((pod) => `${s.where} -> ${pod.deployment}`));
}

/**
 * Resources the stack labels as the firewall's (`app.kubernetes.io/managed-by: rapidclaw`: Docker
 * containers and networks, Kubernetes objects and pod templates) that lack the firewall's name
 * label, a namespace the firewall creates aside. Fails on a stack that labels nothing.
 */
function unlabelled(stack: TerraformStack, firewall: string): string[] {
  const doc: Doc = JSON.parse(Testing.synth(stack));
  const missing: string[] = [];
  let labelled = 0;
  const check = (where: string, labels: Labels | undefined) => {
    if (labels?.[LABELS.managedBy] !== "rapidclaw") return;
    labelled += 1;
    if (labels[LABELS.firewallName] !== firewall) missing.push(where);
  };
  for (const [type, resources] of Object.entries<Doc>(doc.resource)) {
    if (type === "kubernetes_namespace_v1") continue;
    for (const [id, resource] of Object.entries<Doc>(resources)) {
      if (Array.isArray(resource.labels)) check(`${type}.${id}`, Object.fromEntries(resource.labels.map((l: Doc) => [l.label, l.value])));
      check(`${type}.${id} metadata`, resource.metadata?.labels);
      check(`${type}.${id} template`, resource.spec?.template?.metadata?.labels);
    }
  }
  expect(labelled).toBeGreaterThan(0);
  return missing;
}

/** The example firewall on Kubernetes with two tools behind the tool gateway, so its pods and policies are there too. */
function withGateway(props: Partial<RapidClawStackProps>): Partial<RapidClawStackProps> {
  const base = firewallScenario(AgentPlatform.KUBERNETES);
  return {
    ...props,
    tools: { ...base.tools, web_search: { ...base.tools.web_search, upstream: "https://api.search.example.com" }, send_email: { ...base.tools.send_email, upstream: "https://mail.example.com:8443" } },
    vault: { address: "https://vault.vault.svc:8200" },
  };
}

const shared = (a: TerraformStack, b: TerraformStack) => {
  const theirs = new Set(externalNames(b));
  return externalNames(a).filter((name) => theirs.has(name));
};

describe("two firewalls side by side", () => {
  it("share no external name and no subnet on one Docker engine", () => {
    const { a, b } = twoFirewalls(AgentPlatform.DOCKER, { name: "team-a" }, { name: "team-b" });
    expect(externalNames(a)).toEqual(expect.arrayContaining([
      "docker_container.name team-a-egress-proxy", "docker_container.name team-a-openclaw-agent",
      "docker_network.name team-a-egress", "docker_network.name team-a-agents-research-agent",
      "vault path team-a-agent-keys", "vault path team-a-approle", "vault role team-a-research-agent", "vault_policy.name team-a-research-agent",
    ]));
    expect(shared(a, b)).toEqual([]);
    expect(unlabelled(a, "team-a")).toEqual([]);
    const subnetsB = dockerSubnets(b);
    for (const subnet of dockerSubnets(a)) expect(subnetsB.filter((other) => overlapping(subnet, other)).map((n) => n.text), subnet.text).toEqual([]);
  });

  it("share no external name in one Kubernetes namespace and one Vault", () => {
    const { a, b } = twoFirewalls(AgentPlatform.KUBERNETES, { name: "team-a" }, { name: "team-b", kubernetes: { existingNamespace: true } });
    expect(externalNames(a)).toEqual(expect.arrayContaining([
      "kubernetes_deployment_v1.metadata.name team-a-egress-proxy", "kubernetes_service_v1.metadata.name team-a-egress-proxy",
      "kubernetes_deployment_v1.metadata.name team-a-openclaw-agent", "kubernetes_service_account_v1.metadata.name team-a-research-agent-agent",
      "kubernetes_network_policy_v1.metadata.name team-a-agents-default-deny", "vault path team-a-kubernetes",
    ]));
    expect(shared(a, b)).toEqual([]);
  });

  it("select none of each other's pods in one Kubernetes namespace", () => {
    const { a, b } = twoFirewalls(AgentPlatform.KUBERNETES, withGateway({ name: "team-a" }), withGateway({ name: "team-b", kubernetes: { existingNamespace: true } }));
    const docA: Doc = JSON.parse(Testing.synth(a));
    // Every kind of selector is looked at, and each selects its own firewall's pods.
    expect(new Set(podSelectors(docA).map((s) => s.where.replace(/^\S+\.[^ ]+ /, "")))).toEqual(new Set(["selector", "podSelector", "peer"]));
    expect(Object.keys(docA.resource.kubernetes_deployment_v1)).toEqual(expect.arrayContaining([expect.stringMatching(/tool-gateway/), expect.stringMatching(/redis/)]));
    expect(podSelectors(docA).filter((s) => !podTemplates(docA).some((pod) => matches(s.matchLabels, pod.labels))).map((s) => s.where)).toEqual([]);
    expect(unlabelled(a, "team-a")).toEqual([]);
    expect(crossSelections(a, b)).toEqual([]);
    expect(crossSelections(b, a)).toEqual([]);
  });

  // The check above can fail: under the default name, selectors carry no firewall label.
  it("do select each other's pods when both keep the default name", () => {
    const { a, b } = twoFirewalls(AgentPlatform.KUBERNETES, withGateway({}), withGateway({ kubernetes: { existingNamespace: true } }));
    expect(crossSelections(a, b)).toEqual(expect.arrayContaining([expect.stringMatching(/^kubernetes_service_v1\.\S+ selector -> /), expect.stringMatching(/^kubernetes_network_policy_v1\.\S+ peer -> /)]));
    expect(crossSelections(b, a).length).toBeGreaterThan(0);
  });

  // The check above can fail: under one name the same two firewalls collide everywhere.
  it("do share names when both keep the default name", () => {
    const { a, b } = twoFirewalls(AgentPlatform.DOCKER, {}, {});
    expect(shared(a, b)).toEqual(expect.arrayContaining(["docker_container.name rapidclaw-egress-proxy", "vault path agent-keys", "vault path approle"]));
  });
});

describe("the firewall name", () => {
  it("keeps every name as it was under the default name", () => {
    const plan = compileFirewall(firewallScenario(AgentPlatform.DOCKER));
    expect(plan.names.proxy).toBe("rapidclaw-egress-proxy");
    expect(plan.vault).toMatchObject({ mountPath: "agent-keys", authPath: "approle" });
    expect(plan.agents.map((a) => a.workloadName)).toEqual(["hermes-agent", "openclaw-agent"]);
    expect(plan.docker.egressSubnet).toBe("172.31.0.0/24");
  });

  it("leaves explicit Vault paths and subnets alone", () => {
    const plan = compileFirewall({ ...firewallScenario(AgentPlatform.DOCKER), name: "team-a", vault: { mountPath: "keys", authPath: "agents" }, docker: { egressSubnet: "172.29.0.0/24" } });
    expect(plan.vault).toMatchObject({ mountPath: "keys", authPath: "agents" });
    expect(plan.docker.egressSubnet).toBe("172.29.0.0/24");
  });

  it.each([
    ["Team_A", /^name: firewall name "Team_A" must be a DNS label.*try "team-a"/],
    ["a".repeat(25), /^name: firewall name "a{25}" has 25 characters; at most 24 .*shorten it/],
    ["team-", /^name: firewall name "team-" must be a DNS label/],
  ])("refuses %s with its path and a fix", (name, message) => {
    let error: unknown;
    try { compileFirewall({ ...firewallScenario(AgentPlatform.KUBERNETES), name }); } catch (e) { error = e; }
    expect(error).toBeInstanceOf(FirewallSpecError);
    expect((error as FirewallSpecError).problems.map((p) => `${p.path}: ${p.message}`)).toEqual([expect.stringMatching(message)]);
  });

  it("refuses an agent whose name would be the proxy's", () => {
    const spec = firewallScenario(AgentPlatform.DOCKER);
    expect(() => compileFirewall({ ...spec, name: "team-a", agents: [{ ...spec.agents![0], name: "egress-proxy" }] })).toThrow(/agents\[0\]\.name: agent name "egress-proxy" would name the agent "team-a-egress-proxy", the firewall's own proxy/);
    expect(() => compileFirewall({ ...spec, name: "team-a", agents: [{ ...spec.agents![0], name: "team-a-worker" }] })).toThrow(/starts with "team-a-", which is reserved/);
  });
});
