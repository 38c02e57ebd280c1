import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App, Testing } from "cdktf";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { firewallScenario } from "../examples/firewall-scenario";
import { RapidClawStack } from "../src";
import { GATEWAY_BUNDLE_PATH } from "../src/constructs/gateway-bundle";
import { AgentPlatform, KeyDelivery, KeyMode, ToolAccess, type FirewallSpecProps } from "../src/model/types";
import { normalisedName, reorderSpec, specWithReorderingArb } from "./support/arbitraries";

/**
 * Security invariants of the synthesized Terraform JSON, checked with fast-check over generated
 * VALID specs on both platforms. Each invariant is its own test with `numRuns: 500`. All tests of
 * a platform use the same seed, so they see the same 500 specs, and each spec is synthesized once
 * (cached by its JSON) and checked by all seven; only the determinism invariant synthesizes a
 * second time (the reordered spec). The expectations are computed here from the spec alone, with
 * DESIGN.md's semantics, never from the library's plan.
 *
 * Reproduce a failure with the seed fast-check prints: RAPIDCLAW_INVARIANT_SEED=<seed>.
 * Explore further with RAPIDCLAW_INVARIANT_RUNS=<runs> (the test timeout may need raising).
 */

/** Runs per invariant per platform; RAPIDCLAW_INVARIANT_RUNS explores further (the suite stays at 500). */
const RUNS = Number(process.env.RAPIDCLAW_INVARIANT_RUNS ?? 500);
const SEED = Number(process.env.RAPIDCLAW_INVARIANT_SEED ?? Math.floor(Math.random() * 2 ** 31));

type Json = any;
type Spec = FirewallSpecProps;

// ---------------------------------------------------------------------------------------------
// Synthesis
// ---------------------------------------------------------------------------------------------

const OUTDIR = mkdtempSync(join(tmpdir(), "rapidclaw-invariants-"));
afterAll(() => rmSync(OUTDIR, { recursive: true, force: true }));

/**
 * `Testing.synth` of a RapidClawStack built from `spec` in a fresh App. cdktf captures a stack
 * trace for every token it creates, kept only for its own error messages; under vitest each one
 * is formatted through source maps, which makes synthesis about three times slower. A plain
 * formatter is used while synthesizing; the test "the faster stack-trace formatter changes
 * nothing" below shows the JSON is the same either way.
 */
function synthesize(spec: Spec, plainStackTraces = true): string {
  const formatter = Error.prepareStackTrace;
  if (plainStackTraces) Error.prepareStackTrace = () => "";
  try {
    return Testing.synth(new RapidClawStack(new App({ outdir: OUTDIR }), "agent-firewall", spec as any));
  } finally {
    Error.prepareStackTrace = formatter;
  }
}

const synthCache = new Map<string, string>();

/** The synthesized JSON of a spec, once per distinct spec. */
function synthesized(spec: Spec): string {
  const key = JSON.stringify(spec);
  let json = synthCache.get(key);
  if (json === undefined) {
    json = synthesize(spec);
    synthCache.set(key, json);
  }
  return json;
}

const resources = (doc: Json, type: string): [string, Json][] => Object.entries(doc.resource?.[type] ?? {});

/** A name, or a reference to another resource's `metadata[0].name`, resolved to that name. */
function resolveName(doc: Json, value: unknown): unknown {
  const ref = typeof value === "string" ? /^\$\{([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.metadata\[0\]\.name\}$/.exec(value) : null;
  return ref ? doc.resource?.[ref[1]]?.[ref[2]]?.metadata?.name ?? value : value;
}

// ---------------------------------------------------------------------------------------------
// What the spec means, computed independently of the library (DESIGN.md semantics)
// ---------------------------------------------------------------------------------------------

const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const roleNamesOf = (spec: Spec) => Object.keys(spec.roles).sort(byString);
const agentsOf = (spec: Spec) => spec.agents ?? [];
const proxyPortOf = (spec: Spec) => spec.proxy?.port ?? 3128;
const mountPathOf = (spec: Spec) => spec.vault?.mountPath ?? "agent-keys";

/** A host pattern as DESIGN.md defines it: case and one trailing dot do not matter. */
interface Pattern {
  readonly wildcard: boolean;
  readonly domain: string;
}

function pattern(text: string): Pattern {
  const lower = text.toLowerCase().replace(/\.$/, "");
  return lower.startsWith("*.") ? { wildcard: true, domain: lower.slice(2) } : { wildcard: false, domain: lower };
}

/** `api.example.com` matches only itself; `*.example.com` matches every subdomain and not the apex. */
const patternMatches = (p: Pattern, host: string) => (p.wildcard ? host.endsWith(`.${p.domain}`) : host === p.domain);

/** The patterns a role may reach: the model hosts, plus its `allowedHosts` when `allowEgress`. */
function rolePatterns(spec: Spec, role: string): Pattern[] {
  const network = spec.roles[role].network;
  return [...spec.modelHosts, ...(network?.allowEgress === true ? network.allowedHosts ?? [] : [])].map(pattern);
}

/** Host names to ask the proxy about: every listed domain, its subdomains, parent, and look-alikes. */
function sampleHosts(spec: Spec): string[] {
  const patterns = [...spec.modelHosts, ...Object.values(spec.roles).flatMap((r) => r.network?.allowedHosts ?? [])].map(pattern);
  const hosts = new Set<string>(["unlisted.example.invalid"]);
  for (const { domain } of patterns) {
    hosts.add(domain);
    hosts.add(`api.${domain}`);
    hosts.add(`x.y.${domain}`);
    hosts.add(`evil${domain}`);
    hosts.add(`${domain}.evil.net`);
    const parent = domain.split(".").slice(1).join(".");
    if (parent.includes(".")) hosts.add(parent);
  }
  return [...hosts].sort(byString);
}

/** Paths a role's Vault policy must grant `read` on: keyed tools it holds above DENY. */
function expectedVaultGrants(spec: Spec, role: string): string[] {
  return Object.entries(spec.roles[role].tools ?? {})
    .filter(([tool, access]) => access !== ToolAccess.DENY && spec.tools[tool]?.key !== undefined)
    .map(([tool]) => `${mountPathOf(spec)}/data/tools/${normalisedName(tool)}`)
    .sort(byString);
}

// ---------------------------------------------------------------------------------------------
// Addresses and label selectors
// ---------------------------------------------------------------------------------------------

const ipv4ToNumber = (address: string) => address.split(".").reduce((acc, part) => acc * 256 + Number(part), 0);

function ipv4InCidr(address: string, cidr: string): boolean {
  const [base, prefixText] = cidr.includes("/") ? cidr.split("/") : [cidr, "32"];
  if (base.includes(":")) return false;
  const size = 2 ** (32 - Number(prefixText));
  return Math.floor(ipv4ToNumber(address) / size) === Math.floor(ipv4ToNumber(base) / size);
}

/** Whether a `match_labels` selector selects a set of labels (any other selector form is not understood here). */
function selects(selector: Json, labels: Record<string, string>): boolean {
  if (selector === undefined) return false;
  const keys = Object.keys(selector);
  if (keys.some((k) => k !== "match_labels")) throw new Error(`selector form not understood by this test: ${JSON.stringify(selector)}`);
  return Object.entries(selector.match_labels ?? {}).every(([key, value]) => labels[key] === value);
}

// ---------------------------------------------------------------------------------------------
// squid.conf: parsed back and evaluated the way Squid evaluates it
// ---------------------------------------------------------------------------------------------

interface SquidConf {
  /** Listeners (`address:port`, `*:port` for every address) and their names (`http_port 10.0.0.2:3128 name=role-a`). */
  readonly ports: Map<string, string | undefined>;
  /** ACLs by name; several `acl` lines of one name add up, as in Squid. */
  readonly acls: Map<string, { type: string; flags: string[]; values: string[] }>;
  readonly access: { allow: boolean; acls: { name: string; negated: boolean }[] }[];
  /** `ssl_bump <action> acl...` lines, in order. */
  readonly bump: { action: string; acls: { name: string; negated: boolean }[] }[];
}

function parseSquidConf(text: string): SquidConf {
  const ports = new Map<string, string | undefined>();
  const acls = new Map<string, { type: string; flags: string[]; values: string[] }>();
  const access: SquidConf["access"] = [];
  const bump: SquidConf["bump"] = [];
  for (const line of text.split("\n").map((l) => l.trim())) {
    if (line === "" || line.startsWith("#")) continue;
    const [directive, ...words] = line.split(/\s+/);
    if (directive === "http_port") {
      const [address, port] = words[0].includes(":") ? words[0].split(":") : ["*", words[0]];
      const name = words.find((w) => w.startsWith("name="))?.slice(5);
      ports.set(`${address}:${port}`, name);
    } else if (directive === "acl") {
      const [name, type, ...rest] = words;
      const flags = rest.filter((w) => /^-[a-z]$/.test(w));
      const values = rest.filter((w) => !/^-[a-z]$/.test(w));
      const acl = acls.get(name);
      if (acl && acl.type !== type) throw new Error(`squid.conf: acl ${name} declared with two types`);
      acls.set(name, { type, flags, values: [...(acl?.values ?? []), ...values] });
    } else if (directive === "http_access") {
      const [action, ...names] = words;
      access.push({ allow: action === "allow", acls: names.map((n) => ({ name: n.replace(/^!/, ""), negated: n.startsWith("!") })) });
    } else if (directive === "ssl_bump") {
      const [action, ...names] = words;
      bump.push({ action, acls: names.map((n) => ({ name: n.replace(/^!/, ""), negated: n.startsWith("!") })) });
    }
  }
  return { ports, acls, access, bump };
}

/** Squid's dstdomain: `.x.com` matches `x.com` and every subdomain; `x.com` matches only itself. */
const squidDomainMatches = (entry: string, host: string) => {
  const e = entry.toLowerCase();
  return e.startsWith(".") ? host === e.slice(1) || host.endsWith(e) : host === e;
};

/** The listener a connection to `address:port` reaches, if any: one bound to that address, or to every address. */
const listenerAt = (conf: SquidConf, address: string | undefined, port: number): string | undefined => {
  const key = [`${address}:${port}`, `*:${port}`].find((k) => conf.ports.has(k));
  return key;
};

interface ProxyRequest {
  readonly sourceAddress?: string;
  /** The proxy address the client connected to. @default - any */
  readonly localAddress?: string;
  readonly localPort: number;
  readonly method: string;
  readonly host: string;
  readonly port: number;
}

/** A public address every sample host resolves to in this model (the proxy resolves destinations). */
const RESOLVED_ADDRESS = "93.184.216.34";

/**
 * Squid's decision for a request: the first http_access line whose ACLs all match decides (none
 * denies); a CONNECT on an ssl-bump port must then be peeked at in ssl_bump step 1 (the first
 * matching line decides; none would splice it unchecked, Squid's default), else it is closed.
 */
function squidAllows(conf: SquidConf, request: ProxyRequest): boolean {
  const aclMatches = (name: string): boolean => {
    if (name === "all") return true;
    const acl = conf.acls.get(name);
    if (acl === undefined) throw new Error(`squid.conf: http_access uses undefined acl ${name}`);
    switch (acl.type) {
      case "method":
        return acl.values.includes(request.method);
      case "port":
        return acl.values.includes(String(request.port));
      case "dstdomain":
        return acl.values.some((entry) => squidDomainMatches(entry, request.host));
      case "dstdom_regex":
        return acl.values.some((re) => new RegExp(re, acl.flags.includes("-i") ? "i" : "").test(request.host));
      case "dst":
        return acl.values.some((cidr) => ipv4InCidr(RESOLVED_ADDRESS, cidr));
      case "src":
        return request.sourceAddress !== undefined && acl.values.some((cidr) => ipv4InCidr(request.sourceAddress as string, cidr));
      case "myportname":
        return acl.values.includes(conf.ports.get(listenerAt(conf, request.localAddress, request.localPort) ?? "") ?? "");
      case "annotate_transaction":
        // Always matches; it only records a note on the transaction (the logged event).
        return true;
      case "at_step":
        // Only step 1 is modelled: the decision on the CONNECT itself, before any ClientHello.
        return acl.values.includes("SslBump1");
      default:
        throw new Error(`squid.conf: acl type ${acl.type} not modelled by this test`);
    }
  };
  if (listenerAt(conf, request.localAddress, request.localPort) === undefined) return false;
  const first = <T extends { acls: { name: string; negated: boolean }[] }>(rules: T[]) => rules.find((rule) => rule.acls.every(({ name, negated }) => aclMatches(name) !== negated));
  const access = first(conf.access);
  if (access === undefined || !access.allow) return false;
  if (request.method !== "CONNECT") return true;
  const bump = first(conf.bump);
  return bump === undefined ? true : bump.action === "peek";
}

/** The squid.conf the synthesized proxy runs: the Docker container's upload, or the Kubernetes ConfigMap. */
function deployedSquidConf(doc: Json, platform: AgentPlatform): string {
  if (platform === AgentPlatform.DOCKER) {
    const uploads = resources(doc, "docker_container").flatMap(([, c]) => (c.upload ?? []).filter((u: Json) => u.file.endsWith("squid.conf")));
    if (uploads.length !== 1) throw new Error(`expected one squid.conf upload, found ${uploads.length}`);
    return uploads[0].content;
  }
  const confs = resources(doc, "kubernetes_config_map_v1").flatMap(([, m]) => (m.data?.["squid.conf"] !== undefined ? [m.data["squid.conf"]] : []));
  if (confs.length !== 1) throw new Error(`expected one ConfigMap holding squid.conf, found ${confs.length}`);
  return confs[0];
}

// ---------------------------------------------------------------------------------------------
// Platform views of the synthesized JSON
// ---------------------------------------------------------------------------------------------

interface DockerView {
  /** Each role's internal network (`rapidclaw-agents-<role>`), as a reference, by role name. */
  readonly roleNetworkRefs: Map<string, string>;
  readonly networks: Map<string, Json>;
  readonly proxy: Json;
  readonly agents: Map<string, Json>;
}

function dockerView(doc: Json, spec: Spec): DockerView {
  const networks = new Map(resources(doc, "docker_network").map(([id, n]) => [`\${docker_network.${id}.name}`, n]));
  const containers = resources(doc, "docker_container").map(([, c]) => c);
  const agents = new Map<string, Json>();
  for (const agent of agentsOf(spec)) {
    const found = containers.filter((c) => c.name === normalisedName(agent.name));
    if (found.length !== 1) throw new Error(`agent "${agent.name}": expected one container named ${normalisedName(agent.name)}, found ${found.length}`);
    agents.set(agent.name, found[0]);
  }
  const roleNetworkRefs = new Map<string, string>();
  for (const role of roleNamesOf(spec)) {
    const found = [...networks.entries()].filter(([, n]) => n.name === `rapidclaw-agents-${normalisedName(role)}`);
    if (found.length !== 1) throw new Error(`role "${role}": expected one network rapidclaw-agents-${normalisedName(role)}, found ${found.length}`);
    roleNetworkRefs.set(role, found[0][0]);
  }
  // proxy-events and its Redis count the proxy's events: they must sit on no agent network.
  const component = (c: Json) => c.labels.find((l: Json) => l.label === "rapidclaw.dev/component")?.value;
  const monitoring = containers.filter((c) => ["proxy-events", "proxy-events-redis"].includes(component(c)));
  for (const c of monitoring) {
    if (c.networks_advanced.some((n: Json) => [...roleNetworkRefs.values()].includes(n.name))) throw new Error(`${c.name} joins an agent network`);
  }
  const others = containers.filter((c) => ![...agents.values()].includes(c) && !monitoring.includes(c));
  if (others.length !== 1) throw new Error(`expected exactly one container besides the agents and proxy-events (the proxy), found ${others.length}`);
  return { roleNetworkRefs, networks, proxy: others[0], agents };
}

interface KubernetesView {
  readonly agents: Map<string, Json>;
  readonly proxy: Json;
  readonly policies: Json[];
}

function kubernetesView(doc: Json, spec: Spec): KubernetesView {
  const deployments = resources(doc, "kubernetes_deployment_v1").map(([, d]) => d);
  const agents = new Map<string, Json>();
  for (const agent of agentsOf(spec)) {
    const found = deployments.filter((d) => d.metadata.name === normalisedName(agent.name));
    if (found.length !== 1) throw new Error(`agent "${agent.name}": expected one Deployment named ${normalisedName(agent.name)}, found ${found.length}`);
    agents.set(agent.name, found[0]);
  }
  const others = deployments.filter((d) => ![...agents.values()].includes(d));
  // Besides the agents: the proxy (with its proxy-events sidecar) and the Redis of proxy-events' windows, nothing else.
  const component = (d: Json) => podLabels(d)["rapidclaw.dev/component"];
  const proxies = others.filter((d) => component(d) === "egress-proxy");
  const unexpected = others.filter((d) => component(d) !== "egress-proxy" && component(d) !== "proxy-events-redis");
  if (proxies.length !== 1 || unexpected.length > 0) throw new Error(`expected the proxy and proxy-events' Redis besides the agents, found ${others.map((d) => d.metadata.name).join(", ")}`);
  return { agents, proxy: proxies[0], policies: resources(doc, "kubernetes_network_policy_v1").map(([, p]) => p) };
}

const podLabels = (deployment: Json): Record<string, string> => deployment.spec.template.metadata.labels ?? {};

const envOf = (container: Json, platform: AgentPlatform): Map<string, string[]> => {
  const env = new Map<string, string[]>();
  const pairs: [string, string][] =
    platform === AgentPlatform.DOCKER
      ? (container.env ?? []).map((e: string) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)])
      : (container.env ?? []).map((e: Json) => [e.name, e.value]);
  for (const [name, value] of pairs) env.set(name, [...(env.get(name) ?? []), value]);
  return env;
};

/** Policies in the deployment's namespace whose pod selector selects its pods. */
const policiesSelecting = (view: KubernetesView, deployment: Json) =>
  view.policies.filter((p) => p.metadata.namespace === deployment.metadata.namespace && selects(p.spec.pod_selector, podLabels(deployment)));

// ---------------------------------------------------------------------------------------------
// The seven invariants: each returns what it found wrong (empty when it holds)
// ---------------------------------------------------------------------------------------------

/** 1. Every agent workload is covered by default-deny egress. */
function defaultDenyEgress(spec: Spec, doc: Json, platform: AgentPlatform): string[] {
  const wrong: string[] = [];
  if (platform === AgentPlatform.DOCKER) {
    const view = dockerView(doc, spec);
    const roleOfAgent = new Map(agentsOf(spec).map((a) => [a.name, a.role]));
    for (const [name, container] of view.agents) {
      const joined = (container.networks_advanced ?? []).map((n: Json) => n.name);
      const own = view.roleNetworkRefs.get(roleOfAgent.get(name) as string);
      if (joined.length !== 1 || joined[0] !== own) wrong.push(`agent "${name}" joins ${JSON.stringify(joined)}, not only the internal network of its role ${own}`);
      if (container.network_mode !== undefined) wrong.push(`agent "${name}" sets network_mode ${container.network_mode}`);
    }
    for (const [ref, network] of view.networks) {
      const agents = [...view.agents.entries()].filter(([, c]) => (c.networks_advanced ?? []).some((n: Json) => n.name === ref)).map(([name]) => name);
      if (network.internal !== true && agents.length > 0) wrong.push(`network ${network.name} is not internal but holds an agent`);
      // No agent shares a network with another role's agent; a role's network holds only its agents and the proxy.
      const roles = [...new Set(agents.map((a) => roleOfAgent.get(a)))];
      if (roles.length > 1) wrong.push(`network ${network.name} holds agents of roles ${JSON.stringify(roles)}`);
      const role = [...view.roleNetworkRefs].find(([, r]) => r === ref)?.[0];
      if (role !== undefined && roles.some((r) => r !== role)) wrong.push(`network ${network.name} of role ${role} holds agents of ${JSON.stringify(roles)}`);
      if (role !== undefined && network.internal !== true) wrong.push(`network ${network.name} of role ${role} is not internal`);
    }
    return wrong;
  }
  const view = kubernetesView(doc, spec);
  const egressPolicies = view.policies.filter((p) => (p.spec.policy_types ?? []).includes("Egress"));
  for (const [name, deployment] of view.agents) {
    if (!selects(deployment.spec.selector, podLabels(deployment))) wrong.push(`Deployment of agent "${name}" does not select its own pod labels`);
    const covering = egressPolicies.filter((p) => policiesSelecting(view, deployment).includes(p));
    if (covering.length === 0) wrong.push(`no Egress NetworkPolicy selects the pods of agent "${name}" (labels ${JSON.stringify(podLabels(deployment))})`);
  }
  const coversAll = egressPolicies.some((p) => [...view.agents.values()].every((d) => policiesSelecting(view, d).includes(p)));
  if (!coversAll) wrong.push("no single Egress NetworkPolicy selects every agent's pods");
  return wrong;
}

/** 2. An agent's egress reaches only DNS, its role's proxy port or address, and the role's explicit CIDRs. */
function agentEgressOnlyToProxyAndDns(spec: Spec, doc: Json, platform: AgentPlatform): string[] {
  const wrong: string[] = [];
  const conf = parseSquidConf(deployedSquidConf(doc, platform));
  if (platform === AgentPlatform.DOCKER) {
    const view = dockerView(doc, spec);
    const proxyAddressOf = (role: string) => view.proxy.networks_advanced.find((n: Json) => n.name === view.roleNetworkRefs.get(role))?.ipv4_address;
    // Squid listens only on per-role addresses: each listener is bound to the proxy's address on the network of the role it names.
    for (const [listener, name] of conf.ports) {
      const role = roleNamesOf(spec).find((r) => normalisedName(r) === name);
      if (role === undefined || listener !== `${proxyAddressOf(role)}:${proxyPortOf(spec)}`) wrong.push(`squid.conf listens on ${listener} (${name}), not on a role's own proxy address`);
    }
    if ([...conf.acls.values()].some((acl) => acl.type === "src")) wrong.push("squid.conf tells roles apart by source address");
    for (const agent of agentsOf(spec)) {
      const container = view.agents.get(agent.name);
      const address = container.networks_advanced?.[0]?.ipv4_address;
      if (agent.ipv4Address !== address) wrong.push(`agent "${agent.name}" asked for ${agent.ipv4Address ?? "an engine-assigned address"} but got ${address}`);
      const proxyUrl = `http://${proxyAddressOf(agent.role)}:${proxyPortOf(spec)}`;
      const env = envOf(container, platform);
      for (const variable of ["HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"]) {
        if (JSON.stringify(env.get(variable)) !== JSON.stringify([proxyUrl])) wrong.push(`agent "${agent.name}": ${variable} is ${JSON.stringify(env.get(variable))}, not [${proxyUrl}]`);
      }
      const listener = listenerAt(conf, proxyAddressOf(agent.role), proxyPortOf(spec));
      if (listener === undefined || conf.ports.get(listener) !== normalisedName(agent.role)) wrong.push(`agent "${agent.name}": its proxy URL ${proxyUrl} does not reach the listener of role ${agent.role}`);
    }
    return wrong;
  }
  const view = kubernetesView(doc, spec);
  const proxyLabels = podLabels(view.proxy);
  const agentPods = [...view.agents.values()].map(podLabels);
  const roles = roleNamesOf(spec);
  const nodeLocal = spec.kubernetes?.nodeLocalDnsIp;
  const describePeer = (peer: Json): string => {
    const keys = Object.keys(peer).sort(byString).join(",");
    if (keys === "namespace_selector,pod_selector"
      && JSON.stringify(peer.namespace_selector) === JSON.stringify({ match_labels: { "kubernetes.io/metadata.name": "kube-system" } })
      && JSON.stringify(peer.pod_selector) === JSON.stringify({ match_labels: { "k8s-app": "kube-dns" } })) return "dns";
    if (keys === "ip_block") return `cidr ${peer.ip_block.cidr}${peer.ip_block.except ? ` except ${peer.ip_block.except.join(",")}` : ""}`;
    if (keys === "pod_selector" && selects(peer.pod_selector, proxyLabels) && !agentPods.some((labels) => selects(peer.pod_selector, labels))) return "proxy";
    return `peer ${JSON.stringify(peer)}`;
  };
  for (const agent of agentsOf(spec)) {
    const deployment = view.agents.get(agent.name);
    const rolePort = proxyPortOf(spec) + roles.indexOf(agent.role);
    const granted = new Set<string>();
    for (const policy of policiesSelecting(view, deployment)) {
      if (!(policy.spec.policy_types ?? []).includes("Egress")) continue;
      for (const rule of policy.spec.egress ?? []) {
        const peers = rule.to && rule.to.length > 0 ? rule.to.map(describePeer) : ["anywhere"];
        const ports = rule.ports && rule.ports.length > 0 ? rule.ports.map((p: Json) => `${p.protocol ?? "TCP"}/${p.port ?? "any"}`) : ["any port"];
        for (const peer of peers) for (const port of ports) granted.add(`${peer} ${port}`);
      }
    }
    // DNS only for a role that opts in (`network.dnsReason`): a resolver that recurses is a way out.
    const dns = spec.roles[agent.role].network?.dnsReason !== undefined;
    const expected = new Set<string>([...(dns ? ["dns UDP/53", "dns TCP/53"] : []), `proxy TCP/${rolePort}`]);
    if (nodeLocal && dns) ["UDP", "TCP"].forEach((protocol) => expected.add(`cidr ${nodeLocal}/32 ${protocol}/53`));
    for (const { cidr, ports } of spec.roles[agent.role].network?.egressCidrs ?? []) for (const port of ports) expected.add(`cidr ${cidr} TCP/${port}`);
    const extra = [...granted].filter((g) => !expected.has(g));
    const missing = [...expected].filter((g) => !granted.has(g));
    if (extra.length > 0 || missing.length > 0) wrong.push(`agent "${agent.name}" (role ${agent.role}): egress allows ${JSON.stringify(extra)} beyond, and lacks ${JSON.stringify(missing)} of, ${dns ? "DNS + " : ""}proxy port ${rolePort} + the role's CIDRs`);
    if (!dns && deployment.spec.template.spec.dns_policy !== "None") wrong.push(`agent "${agent.name}" (role ${agent.role}): pod DNS policy ${deployment.spec.template.spec.dns_policy ?? "ClusterFirst"}, not None, though the role resolves nothing`);
    // The agent's proxy variables lead to Squid's port of the role: Service port -> proxy container port -> http_port named for the role.
    const proxyUrls = ["HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"].map((v) => envOf(deployment.spec.template.spec.container[0], platform).get(v) ?? []);
    const services = new Map(resources(doc, "kubernetes_service_v1"));
    for (const values of proxyUrls) {
      // By the Service's cluster IP, a Terraform reference: agents resolve no names.
      const url = values.length === 1 ? /^http:\/\/\$\{kubernetes_service_v1\.([^.]+)\.spec\[0\]\.cluster_ip\}:(\d+)$/.exec(values[0]) : null;
      const service = url ? services.get(url[1]) : undefined;
      const servicePort = service?.spec.port?.find((p: Json) => String(p.port) === url?.[2]);
      const containerPort = view.proxy.spec.template.spec.container.flatMap((c: Json) => c.port ?? []).find((p: Json) => p.name === servicePort?.target_port || String(p.container_port) === String(servicePort?.target_port));
      const leadsToRole = url && service && selects({ match_labels: service.spec.selector }, proxyLabels) && !agentPods.some((labels) => selects({ match_labels: service.spec.selector }, labels))
        && Number(url[2]) === rolePort && containerPort && Number(containerPort.container_port) === rolePort && conf.ports.get(listenerAt(conf, undefined, rolePort) ?? "") === normalisedName(agent.role);
      if (!leadsToRole) wrong.push(`agent "${agent.name}": proxy URL ${JSON.stringify(values)} does not lead through the proxy Service to Squid's port ${rolePort} of role ${agent.role}`);
    }
  }
  // The proxy's side: each role port admits only that role's agents.
  const proxyPolicy = view.policies.filter((p) => selects(p.spec.pod_selector, proxyLabels));
  for (const policy of proxyPolicy) {
    for (const rule of policy.spec.ingress ?? []) {
      for (const port of rule.ports ?? [{ port: "any" }]) {
        const role = roles.find((_role, i) => String(proxyPortOf(spec) + i) === String(port.port));
        for (const agent of agentsOf(spec)) {
          const labels = podLabels(view.agents.get(agent.name));
          // No `from` admits everyone; a peer other than a pod selector is taken to admit (conservatively).
          const peers: Json[] = rule.from ?? [];
          const admitted = peers.length === 0 || peers.some((peer) => (Object.keys(peer).join() === "pod_selector" ? selects(peer.pod_selector, labels) : true));
          if (admitted && agent.role !== role) wrong.push(`proxy port ${port.port} admits agent "${agent.name}" of role ${agent.role}, but the port is role ${role}'s`);
        }
      }
    }
  }
  return wrong;
}

/** 3. A role's proxy allowlist is exactly the model hosts plus (with allowEgress) its allowedHosts. */
function proxyAllowlistPerRole(spec: Spec, doc: Json, platform: AgentPlatform): string[] {
  const wrong: string[] = [];
  const conf = parseSquidConf(deployedSquidConf(doc, platform));
  const last = conf.access[conf.access.length - 1];
  const alwaysMatches = ({ name, negated }: { name: string; negated: boolean }) => !negated && (name === "all" || conf.acls.get(name)?.type === "annotate_transaction");
  if (!last || last.allow || !last.acls.some((a) => a.name === "all") || !last.acls.every(alwaysMatches)) wrong.push("squid.conf does not end its http_access rules with `deny all`");
  // Squid 5.7 refuses to start when one dstdomain ACL holds entries that cover each other.
  for (const [name, acl] of conf.acls) {
    if (acl.type !== "dstdomain") continue;
    if (!acl.flags.includes("-n")) wrong.push(`acl ${name} is dstdomain without -n (it would match reverse-resolved names)`);
    acl.values.forEach((a, i) => acl.values.forEach((b, j) => {
      const covers = a === b || (a.startsWith(".") && (b === a.slice(1) || b.endsWith(a)));
      if (i !== j && covers) wrong.push(`acl ${name} lists overlapping entries ${a} and ${b}`);
    }));
  }
  const hosts = sampleHosts(spec);
  const requestsOf = (role: string): Omit<ProxyRequest, "method" | "host" | "port">[] => {
    if (platform === AgentPlatform.KUBERNETES) return [{ localPort: proxyPortOf(spec) + roleNamesOf(spec).indexOf(role) }];
    const view = dockerView(doc, spec);
    const localAddress = view.proxy.networks_advanced.find((n: Json) => n.name === view.roleNetworkRefs.get(role))?.ipv4_address;
    return [{ localAddress, localPort: proxyPortOf(spec) }];
  };
  for (const role of roleNamesOf(spec)) {
    const patterns = rolePatterns(spec, role);
    for (const from of requestsOf(role)) {
      for (const host of hosts) {
        const expected = patterns.some((p) => patternMatches(p, host));
        const connect = squidAllows(conf, { ...from, method: "CONNECT", host, port: 443 });
        if (connect !== expected) wrong.push(`role ${role} (listener ${from.localAddress ?? "*"}:${from.localPort}): CONNECT ${host}:443 is ${connect ? "allowed" : "refused"}, expected ${expected ? "allowed" : "refused"}`);
        const plain = squidAllows(conf, { ...from, method: "GET", host, port: 80 });
        if (plain !== (expected && spec.proxy?.allowPlainHttp === true)) wrong.push(`role ${role}: plain HTTP to ${host}:80 is ${plain ? "allowed" : "refused"} with allowPlainHttp ${spec.proxy?.allowPlainHttp ?? false}`);
        if (squidAllows(conf, { ...from, method: "CONNECT", host, port: 22 })) wrong.push(`role ${role}: CONNECT ${host}:22 is allowed`);
      }
    }
  }
  return wrong;
}

/** 4. A role's Vault policy grants read on exactly the keys of the tools it may use; nothing else. */
function vaultPolicyLeastPrivilege(spec: Spec, doc: Json, platform: AgentPlatform): string[] {
  const wrong: string[] = [];
  const policies = resources(doc, "vault_policy");
  const policyByRef = new Map(policies.map(([id, p]) => [`\${vault_policy.${id}.name}`, p]));
  const roleOfPolicy = new Map<Json, string>();
  for (const role of roleNamesOf(spec)) {
    const expected = expectedVaultGrants(spec, role);
    const named = policies.filter(([, p]) => p.name === `rapidclaw-${normalisedName(role)}`).map(([, p]) => p);
    if (expected.length === 0) {
      for (const p of named) if (grantsOf(p.policy, wrong).length > 0) wrong.push(`role ${role} holds no key but its policy grants ${JSON.stringify(grantsOf(p.policy, []))}`);
      continue;
    }
    if (named.length !== 1) { wrong.push(`role ${role}: expected one vault_policy rapidclaw-${normalisedName(role)}, found ${named.length}`); continue; }
    roleOfPolicy.set(named[0], role);
    const granted = grantsOf(named[0].policy, wrong);
    if (JSON.stringify(granted) !== JSON.stringify(expected)) wrong.push(`role ${role}: policy grants read on ${JSON.stringify(granted)}, expected exactly ${JSON.stringify(expected)}`);
  }
  for (const [, p] of policies) if (!roleOfPolicy.has(p) && grantsOf(p.policy, []).length > 0) wrong.push(`vault_policy ${p.name} belongs to no role that holds keys`);
  // Each key's secret lives where the policies point.
  if ((spec.vault?.keyMode ?? KeyMode.EPHEMERAL) !== KeyMode.EXTERNAL) {
    const mounts = new Map(resources(doc, "vault_mount").map(([id, m]) => [`\${vault_mount.${id}.path}`, m.path]));
    const stored = resources(doc, "vault_kv_secret_v2").map(([, s]) => `${mounts.get(s.mount) ?? s.mount}/data/${s.name}`).sort(byString);
    const keyed = Object.keys(spec.tools).filter((t) => spec.tools[t].key !== undefined).map((t) => `${mountPathOf(spec)}/data/tools/${normalisedName(t)}`).sort(byString);
    if (JSON.stringify(stored) !== JSON.stringify(keyed)) wrong.push(`secrets stored at ${JSON.stringify(stored)}, expected one per keyed tool ${JSON.stringify(keyed)}`);
  }
  // Logins: each auth role carries exactly its role's policy, without Vault's default policy.
  const logins = [...resources(doc, "vault_kubernetes_auth_backend_role"), ...resources(doc, "vault_approle_auth_backend_role")].map(([, l]) => l);
  for (const login of logins) {
    const attached = (login.token_policies ?? []).map((ref: string) => policyByRef.get(ref));
    const role = attached.length === 1 ? roleOfPolicy.get(attached[0]) : undefined;
    if (role === undefined) { wrong.push(`auth role ${login.role_name} carries policies ${JSON.stringify(login.token_policies)}, not exactly one role's policy`); continue; }
    if (login.token_no_default_policy !== true) wrong.push(`auth role ${login.role_name} also gets Vault's default policy`);
    if (platform === AgentPlatform.KUBERNETES) {
      const accounts: string[] = login.bound_service_account_names ?? [];
      const users = resources(doc, "kubernetes_deployment_v1").map(([, d]) => d).filter((d) => accounts.includes(resolveName(doc, d.spec.template.spec.service_account_name) as string));
      const strangers = users.filter((d) => !agentsOf(spec).some((a) => a.role === role && normalisedName(a.name) === d.metadata.name));
      if (strangers.length > 0 || accounts.length !== 1) wrong.push(`auth role ${login.role_name} (role ${role}) is bound to ${JSON.stringify(accounts)}, used by ${JSON.stringify(strangers.map((d) => d.metadata.name))} outside the role`);
    }
  }
  const holding = roleNamesOf(spec).filter((r) => expectedVaultGrants(spec, r).length > 0);
  if (logins.length !== holding.length) wrong.push(`${logins.length} auth roles for ${holding.length} roles that hold keys`);
  return wrong;
}

/** `path "<p>" { capabilities = ["read"] }` blocks of a policy, sorted; anything else is reported. */
function grantsOf(hcl: string, wrong: string[]): string[] {
  const body = hcl.split("\n").filter((line) => !line.trim().startsWith("#")).join("\n");
  const block = /path "([^"]*)" \{\n\s*capabilities = \[([^\]]*)\]\n\}\n?/g;
  const paths: string[] = [];
  let rest = body;
  for (const match of body.matchAll(block)) {
    rest = rest.replace(match[0], "");
    if (match[2].trim() !== '"read"') wrong.push(`policy grants ${match[2]} on ${match[1]}, not only read`);
    if (/[*+]/.test(match[1])) wrong.push(`policy path ${match[1]} holds a wildcard`);
    paths.push(match[1]);
  }
  if (rest.trim() !== "") wrong.push(`policy holds more than path blocks: ${JSON.stringify(rest.trim())}`);
  return paths.sort(byString);
}

/** 5. No key value, password or token appears in the synthesized JSON. */
/** sha256 of the packaged gateway bundle, whose file asset a Docker stack uploads and Kubernetes ConfigMap parts read. */
const BUNDLE_SHA256 = createHash("sha256").update(readFileSync(join(__dirname, "..", GATEWAY_BUNDLE_PATH))).digest("hex");
/** A Kubernetes ConfigMap part of the bundle: bytes decoded from the bundle's file asset, nothing else. */
const BUNDLE_PART = new RegExp(String.raw`^\$\{base64decode\(substr\(filebase64\("assets/rapidclaw-gateway-bundle-${BUNDLE_SHA256.slice(0, 12)}/${BUNDLE_SHA256}/rapidclaw-gateway\.cjs"\), \d+, \d+\)\)\}$`);

function noSecretsInOutput(spec: Spec, doc: Json): string[] {
  const wrong: string[] = [];
  for (const [id, password] of [...resources(doc, "random_password"), ...Object.entries<Json>(doc.ephemeral?.random_password ?? {})]) {
    if ("result" in password || "override_special" in password) wrong.push(`random_password ${id} carries a value`);
  }
  for (const type of ["vault_token", "vault_approle_auth_backend_role_secret_id", "vault_approle_auth_backend_login", "random_string"]) {
    if (resources(doc, type).length > 0) wrong.push(`${type} resources put credentials into state`);
  }
  const keyRef = /^(ephemeral\.)?random_password\.[A-Za-z0-9_-]+\.result$/;
  for (const [id, secret] of resources(doc, "vault_kv_secret_v2")) {
    const data = secret.data_json ?? secret.data_json_wo;
    if (typeof data !== "string" || !/^\$\{jsonencode\(\{.*\}\)\}$/s.test(data)) { wrong.push(`secret ${id}: data is not a jsonencode() expression: ${JSON.stringify(data)}`); continue; }
    const apiKey = /"api_key" = ([^,}]*)/.exec(data)?.[1]?.trim();
    if (apiKey === undefined || !keyRef.test(apiKey)) wrong.push(`secret ${id}: api_key is ${JSON.stringify(apiKey)}, not a reference to a random_password result`);
    if (secret.data_json !== undefined && secret.data_json_wo !== undefined) wrong.push(`secret ${id} sets both data_json and data_json_wo`);
  }
  for (const [id, endpoint] of resources(doc, "vault_generic_endpoint")) if (/api_key|password|token/i.test(endpoint.data_json ?? "")) wrong.push(`generic endpoint ${id} writes a credential`);
  for (const [name, output] of Object.entries<Json>(doc.output ?? {})) if (/random_password|vault_kv_secret|secret_id/.test(JSON.stringify(output.value))) wrong.push(`output ${name} exposes a secret`);
  // Random-looking strings: 16+ letters and digits mixing upper case, lower case and digits, that
  // the spec did not hold. Hex hashes are allowed only where they are explained (config checksums).
  const inputText = JSON.stringify(spec);
  // Every Terraform expression is one the library wrote: a reference or jsonencode() of references.
  // Anything else came from the spec's text, and Terraform would evaluate it (read files, other keys).
  const expression = /\$\{(?!(ephemeral\.|data\.)?[a-z][a-z0-9_]*\.[A-Za-z0-9_-]+\.[a-z_]|jsonencode\(\{)/;
  const visit = (value: Json, path: string) => {
    if (typeof value === "string") {
      // A Kubernetes bundle part: the one expression allowed besides references, reading the bundle's file asset.
      const bundlePart = /\.data\.rapidclaw-gateway\.cjs\.part$/.test(path) && BUNDLE_PART.test(value);
      if (!bundlePart && expression.test(value.replace(/\$\$\{/g, ""))) wrong.push(`${path} holds a Terraform expression that is not a reference: ${JSON.stringify(value.slice(0, 120))}`);
      if (/random_password\.[A-Za-z0-9_-]+\.result/.test(value) && !/^\$\.resource\.vault_kv_secret_v2\.[^.]+\.data_json(_wo)?$/.test(path)) wrong.push(`${path} refers to a key value outside the secret that stores it`);
      for (const run of value.match(/[A-Za-z0-9+/]{16,}/g) ?? []) {
        if (/[A-Z]/.test(run) && /[a-z]/.test(run) && /[0-9]/.test(run) && !inputText.includes(run)) wrong.push(`${path} holds a random-looking string ${run}`);
      }
      for (const hex of value.match(/\b[0-9a-f]{32,}\b/g) ?? []) {
        // The gateway bundle's sha256 names its file asset, uploaded by path and hash (Docker) or read by the parts (Kubernetes).
        const bundleAsset = hex === BUNDLE_SHA256 && (bundlePart || /\.upload\[\d+\]\.source(_hash)?$/.test(path));
        if (!inputText.includes(hex) && !/(config_sha256|-sha256)$/.test(path) && !bundleAsset) wrong.push(`${path} holds an unexplained hash ${hex}`);
      }
    } else if (Array.isArray(value)) value.forEach((v, i) => visit(v, `${path}[${i}]`));
    else if (value && typeof value === "object") for (const [k, v] of Object.entries(value)) visit(v, `${path}.${k}`);
  };
  visit(doc, "$");
  return wrong;
}

/** 6. Determinism: the same spec, with its maps and sets in another order, synthesizes byte-identical JSON. */
function deterministicOutput(spec: Spec, json: string, reorderSeed: number): string[] {
  const wrong: string[] = [];
  const again = synthesize(reorderSpec(spec, reorderSeed));
  if (again !== json) {
    const a = json.split("\n");
    const b = again.split("\n");
    const line = a.findIndex((l, i) => l !== b[i]);
    wrong.push(`reordered spec (seed ${reorderSeed}) synthesizes different JSON from line ${line + 1}: ${JSON.stringify(a[line])} vs ${JSON.stringify(b[line])}`);
  }
  for (const path of [OUTDIR, process.cwd()]) if (json.includes(path)) wrong.push(`the JSON holds the local path ${path}`);
  if (/\b20\d\d-\d\d-\d\dT\d\d:\d\d/.test(json)) wrong.push("the JSON holds a timestamp");
  return wrong;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * What Kubernetes requires of each kind's metadata.name (the API server's validation):
 * Namespaces are DNS-1123 labels, Services DNS-1035 labels (both at most 63); Deployments,
 * ConfigMaps, ServiceAccounts, PodDisruptionBudgets and NetworkPolicies are DNS-1123 subdomains
 * (at most 253). The names the firewall derives from the spec's names are also kept to 63 for
 * Deployments, ServiceAccounts and ConfigMaps; NetworkPolicy names may be longer (`rapidclaw-role-<role>-egress`
 * reaches 70 with a 48-character role name), see test/regressions.test.ts.
 */
const KUBERNETES_NAME_RULES: Record<string, { pattern: RegExp; maxLength: number; what: string }> = {
  kubernetes_namespace_v1: { pattern: DNS_LABEL, maxLength: 63, what: "DNS-1123 label of at most 63 characters" },
  kubernetes_service_v1: { pattern: DNS_1035_LABEL, maxLength: 63, what: "DNS-1035 label of at most 63 characters" },
  kubernetes_network_policy_v1: { pattern: DNS_SUBDOMAIN, maxLength: 253, what: "DNS-1123 subdomain of at most 253 characters" },
  default: { pattern: DNS_LABEL, maxLength: 63, what: "DNS-1123 label of at most 63 characters" },
};
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const LABEL_KEY_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const DOCKER_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
const IANA_PORT_NAME = /^(?=.*[a-z])[a-z0-9]([a-z0-9]|-(?!-))*[a-z0-9]$/;
const TERRAFORM_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_-]*$/;
const isReference = (value: unknown) => typeof value === "string" && value.startsWith("${");

/** 7. Every generated name is valid for its platform, and distinct inputs never share a name. */
function validDistinctNames(spec: Spec, doc: Json, platform: AgentPlatform): string[] {
  const wrong: string[] = [];
  for (const [type, items] of Object.entries<Json>({ ...doc.resource, ...Object.fromEntries(Object.entries<Json>(doc.ephemeral ?? {}).map(([t, v]) => [`ephemeral.${t}`, v])) })) {
    for (const id of Object.keys(items)) if (!TERRAFORM_IDENTIFIER.test(id)) wrong.push(`${type}.${id} is not a Terraform identifier`);
  }
  const distinct = (what: string, names: string[], count: number) => {
    const duplicates = names.filter((n, i) => names.indexOf(n) !== i);
    if (duplicates.length > 0) wrong.push(`${what}: ${JSON.stringify(duplicates)} used twice`);
    if (names.length !== count) wrong.push(`${what}: ${names.length} names for ${count} inputs`);
  };
  const rolesWithKeys = roleNamesOf(spec).filter((r) => expectedVaultGrants(spec, r).length > 0).length;
  distinct("Vault policies", resources(doc, "vault_policy").map(([, p]) => p.name), rolesWithKeys);
  if ((spec.vault?.keyMode ?? KeyMode.EPHEMERAL) !== KeyMode.EXTERNAL) {
    distinct("Vault secrets", resources(doc, "vault_kv_secret_v2").map(([, s]) => s.name), Object.values(spec.tools).filter((t) => t.key).length);
  }
  const labelProblems = (where: string, labels: Record<string, string> | undefined) => {
    for (const [key, value] of Object.entries(labels ?? {})) {
      const slash = key.lastIndexOf("/");
      const name = key.slice(slash + 1);
      const prefix = slash < 0 ? "" : key.slice(0, slash);
      if (!LABEL_KEY_NAME.test(name) || name.length > 63 || (slash >= 0 && !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(prefix))) wrong.push(`${where}: label key ${key} is not valid`);
      if (!isReference(value) && (value.length > 63 || !LABEL_VALUE.test(value))) wrong.push(`${where}: label value ${JSON.stringify(value)} of ${key} is not valid`);
    }
  };
  if (platform === AgentPlatform.DOCKER) {
    const containers = resources(doc, "docker_container").map(([, c]) => c.name);
    const networks = resources(doc, "docker_network").map(([, n]) => n.name);
    for (const name of [...containers, ...networks]) if (!DOCKER_NAME.test(name)) wrong.push(`Docker name ${JSON.stringify(name)} is not valid`);
    // Besides the agents: the proxy, proxy-events and its Redis; besides the role networks: the egress network and proxy-events' own.
    distinct("Docker containers", containers, agentsOf(spec).length + 3);
    distinct("Docker networks", networks, roleNamesOf(spec).length + 2);
    // Linux interface names: at most 15 characters.
    const bridges = resources(doc, "docker_network").flatMap(([, n]) => n.options?.["com.docker.network.bridge.name"] ?? []);
    for (const bridge of bridges) if (!/^[A-Za-z0-9_.-]{1,15}$/.test(bridge)) wrong.push(`bridge name ${JSON.stringify(bridge)} is not a valid interface name`);
    distinct("Docker bridges", bridges, roleNamesOf(spec).length);
    return wrong;
  }
  const byKind = new Map<string, string[]>();
  for (const [type, items] of Object.entries<Json>(doc.resource)) {
    if (!type.startsWith("kubernetes_")) continue;
    for (const [id, item] of Object.entries<Json>(items)) {
      const metadata = item.metadata ?? {};
      const name = metadata.name;
      if (!isReference(name)) {
        const rule = KUBERNETES_NAME_RULES[type] ?? KUBERNETES_NAME_RULES.default;
        if (typeof name !== "string" || name.length > rule.maxLength || !rule.pattern.test(name)) wrong.push(`${type}.${id}: name ${JSON.stringify(name)} is not a ${rule.what}`);
        const key = `${type} in ${metadata.namespace ?? "(cluster)"}`;
        byKind.set(key, [...(byKind.get(key) ?? []), name]);
      }
      labelProblems(`${type}.${id} labels`, metadata.labels);
      const spec_ = item.spec ?? {};
      labelProblems(`${type}.${id} selector`, type === "kubernetes_service_v1" ? spec_.selector : spec_.selector?.match_labels);
      labelProblems(`${type}.${id} pod selector`, spec_.pod_selector?.match_labels);
      const template = spec_.template;
      if (template) {
        labelProblems(`${type}.${id} pod labels`, template.metadata?.labels);
        for (const container of template.spec?.container ?? []) {
          if (!DNS_LABEL.test(container.name) || container.name.length > 63) wrong.push(`${type}.${id}: container name ${container.name} is not a DNS label`);
          for (const port of container.port ?? []) if (port.name !== undefined && (port.name.length > 15 || !IANA_PORT_NAME.test(port.name))) wrong.push(`${type}.${id}: port name ${port.name} is not an IANA service name`);
        }
        for (const volume of template.spec?.volume ?? []) if (!DNS_LABEL.test(volume.name)) wrong.push(`${type}.${id}: volume name ${volume.name} is not a DNS label`);
      }
      if (type === "kubernetes_service_v1") for (const port of spec_.port ?? []) if (port.name !== undefined && (port.name.length > 15 || !IANA_PORT_NAME.test(port.name))) wrong.push(`${type}.${id}: port name ${port.name} is not an IANA service name`);
    }
  }
  for (const [kind, names] of byKind) {
    const duplicates = names.filter((n, i) => names.indexOf(n) !== i);
    if (duplicates.length > 0) wrong.push(`${kind}: ${JSON.stringify(duplicates)} used twice`);
  }
  const namesOf = (type: string) => resources(doc, type).map(([, r]) => r.metadata.name);
  // Besides the agents: the proxy and proxy-events' own Redis (generated specs front no tool, so there is no gateway Redis to share).
  distinct("Deployments", namesOf("kubernetes_deployment_v1"), agentsOf(spec).length + 2);
  distinct("ServiceAccounts", namesOf("kubernetes_service_account_v1"), roleNamesOf(spec).length);
  distinct("Kubernetes auth roles", resources(doc, "vault_kubernetes_auth_backend_role").map(([, r]) => r.role_name), rolesWithKeys);
  return wrong;
}

// ---------------------------------------------------------------------------------------------
// The properties
// ---------------------------------------------------------------------------------------------

interface Invariant {
  readonly title: string;
  readonly check: (spec: Spec, json: string, platform: AgentPlatform, reorderSeed: number) => string[];
}

const INVARIANTS: Invariant[] = [
  { title: "1. every agent workload is covered by default-deny egress", check: (spec, json, platform) => defaultDenyEgress(spec, JSON.parse(json), platform) },
  { title: "2. an agent's egress reaches only DNS, its role's proxy port or address, and the role's CIDRs", check: (spec, json, platform) => agentEgressOnlyToProxyAndDns(spec, JSON.parse(json), platform) },
  { title: "3. a role's proxy allowlist is the model hosts plus (with allowEgress) its allowedHosts, never another role's", check: (spec, json, platform) => proxyAllowlistPerRole(spec, JSON.parse(json), platform) },
  { title: "4. a role's Vault policy grants read on exactly the keys of the tools it may use", check: (spec, json, platform) => vaultPolicyLeastPrivilege(spec, JSON.parse(json), platform) },
  { title: "5. no key value, password or token appears in the synthesized JSON", check: (spec, json) => noSecretsInOutput(spec, JSON.parse(json)) },
  { title: "6. the same spec, in any key order, synthesizes byte-identical JSON", check: (spec, json, _platform, reorderSeed) => deterministicOutput(spec, json, reorderSeed) },
  { title: "7. every generated name is valid for its platform, and distinct inputs never share a name", check: (spec, json, platform) => validDistinctNames(spec, JSON.parse(json), platform) },
];

describe.each([AgentPlatform.DOCKER, AgentPlatform.KUBERNETES])("security invariants on %s", (platform) => {
  const specs = specWithReorderingArb(platform);
  for (const invariant of INVARIANTS) {
    it(`invariant ${invariant.title} (${RUNS} generated specs)`, () => {
      fc.assert(
        fc.property(specs, ({ spec, reorderSeed }) => {
          const violations = invariant.check(spec, synthesized(spec), platform, reorderSeed);
          if (violations.length > 0) throw new Error(`invariant ${invariant.title} violated on ${platform}:\n  - ${violations.slice(0, 12).join("\n  - ")}`);
        }),
        { numRuns: RUNS, seed: SEED },
      );
      // The first invariant of a platform synthesizes all 500 specs (the others reuse them), and the
      // determinism test synthesizes them again; each Docker stack carries the program bundle
      // (proxy-events). On a shared 2-core machine under load that can take minutes: a cap, not a measure.
    }, 900_000);
  }
});

describe("the invariant harness", () => {
  it.each([AgentPlatform.DOCKER, AgentPlatform.KUBERNETES])("the faster stack-trace formatter changes nothing in the JSON (%s)", (platform) => {
    const spec = firewallScenario(platform);
    expect(synthesize(spec, true)).toBe(synthesize(spec, false));
  });

  it.each([AgentPlatform.DOCKER, AgentPlatform.KUBERNETES])("the seed scenario upholds every invariant (%s)", (platform) => {
    const spec = firewallScenario(platform);
    for (const invariant of INVARIANTS) expect(invariant.check(spec, synthesized(spec), platform, 7), invariant.title).toEqual([]);
  });

  it("writes no file to the app's outdir (Testing.synth keeps the JSON in memory)", () => {
    expect(readdirSync(OUTDIR, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile())).toEqual([]);
  });

  it("notices a role allowed another role's host (the squid.conf model is not vacuous)", () => {
    const spec = firewallScenario(AgentPlatform.KUBERNETES);
    const doc = JSON.parse(synthesized(spec));
    const [id, configMap] = resources(doc, "kubernetes_config_map_v1").find(([, m]) => m.data?.["squid.conf"] !== undefined) as [string, Json];
    configMap.data["squid.conf"] = configMap.data["squid.conf"].replace("acl role_customer-support_hosts dstdomain -n", "acl role_customer-support_hosts dstdomain -n arxiv.org");
    doc.resource.kubernetes_config_map_v1[id] = configMap;
    expect(proxyAllowlistPerRole(spec, doc, AgentPlatform.KUBERNETES).join("\n")).toContain("CONNECT arxiv.org:443 is allowed, expected refused");
  });

  it("notices a key value in the JSON and an extra Vault grant", () => {
    const spec = firewallScenario(AgentPlatform.DOCKER);
    const doc = JSON.parse(synthesized(spec));
    const [secretId, secret] = resources(doc, "vault_kv_secret_v2")[0];
    const leaked = createHash("sha256").update("x").digest("base64").slice(0, 40).replace(/[+/]/g, "Q");
    doc.resource.vault_kv_secret_v2[secretId] = { ...secret, data_json: `\${jsonencode({"api_key" = "${leaked}"})}`, data_json_wo: undefined };
    expect(noSecretsInOutput(spec, doc).join("\n")).toMatch(/api_key is .* not a reference[\s\S]*random-looking string/);
    const [, agent] = resources(doc, "docker_container").find(([, c]) => c.name === "openclaw-agent") as [string, Json];
    agent.env.push("K=${random_password.keys_web-search-key_25745A0C.result}", 'F=${file("/etc/passwd")}');
    expect(noSecretsInOutput(spec, doc).join("\n")).toMatch(/refers to a key value outside[\s\S]*not a reference: "F=/);
    const [policyId, policy] = resources(doc, "vault_policy")[0];
    doc.resource.vault_policy[policyId] = { ...policy, policy: `${policy.policy}path "agent-keys/data/tools/file-upload" {\n  capabilities = ["read"]\n}\n` };
    expect(vaultPolicyLeastPrivilege(spec, doc, AgentPlatform.DOCKER).join("\n")).toContain("expected exactly");
  });

  it("notices an agent on a second network, an agent pointed at another proxy, and a clashing name (Docker)", () => {
    const spec = firewallScenario(AgentPlatform.DOCKER);
    const doc = JSON.parse(synthesized(spec));
    const [[, first], [, second]] = resources(doc, "docker_container").filter(([, c]) => c.name !== "rapidclaw-egress-proxy");
    const egressRef = `\${docker_network.${resources(doc, "docker_network").find(([, n]) => n.internal !== true)?.[0]}.name}`;
    first.networks_advanced.push({ name: egressRef });
    second.env = second.env.map((e: string) => (e.startsWith("HTTPS_PROXY=") ? "HTTPS_PROXY=http://203.0.113.9:3128" : e));
    expect(defaultDenyEgress(spec, doc, AgentPlatform.DOCKER).join("\n")).toContain("not only the internal network");
    expect(agentEgressOnlyToProxyAndDns(spec, doc, AgentPlatform.DOCKER).join("\n")).toContain("HTTPS_PROXY is");
    second.name = first.name;
    expect(validDistinctNames(spec, doc, AgentPlatform.DOCKER).join("\n")).toContain("used twice");
  });

  it("notices agents of two roles on one network, and Squid listening on every address (Docker)", () => {
    const spec = firewallScenario(AgentPlatform.DOCKER);
    const doc = JSON.parse(synthesized(spec));
    const [[, first], [, second]] = resources(doc, "docker_container").filter(([, c]) => c.name !== "rapidclaw-egress-proxy");
    second.networks_advanced = first.networks_advanced;
    expect(defaultDenyEgress(spec, doc, AgentPlatform.DOCKER).join("\n")).toContain("holds agents of roles");
    const proxy = resources(doc, "docker_container").find(([, c]) => c.name === "rapidclaw-egress-proxy")?.[1];
    proxy.upload[0].content = proxy.upload[0].content.replace(/^http_port [\d.]+:/m, "http_port ");
    expect(agentEgressOnlyToProxyAndDns(spec, doc, AgentPlatform.DOCKER).join("\n")).toContain("not on a role's own proxy address");
  });

  it("notices a role policy opening egress to the internet (Kubernetes)", () => {
    const spec = firewallScenario(AgentPlatform.KUBERNETES);
    const doc = JSON.parse(synthesized(spec));
    const [, rolePolicy] = resources(doc, "kubernetes_network_policy_v1").find(([, p]) => p.metadata.name === "rapidclaw-role-research-agent-egress") as [string, Json];
    rolePolicy.spec.egress.push({ to: [{ ip_block: { cidr: "0.0.0.0/0" } }], ports: [{ port: "443", protocol: "TCP" }] });
    expect(agentEgressOnlyToProxyAndDns(spec, doc, AgentPlatform.KUBERNETES).join("\n")).toContain('egress allows ["cidr 0.0.0.0/0 TCP/443"] beyond');
  });

  it("notices an agent Deployment no Egress policy selects", () => {
    const spec = firewallScenario(AgentPlatform.KUBERNETES);
    const doc = JSON.parse(synthesized(spec));
    for (const [, policy] of resources(doc, "kubernetes_network_policy_v1")) policy.spec.pod_selector.match_labels["rapidclaw.dev/component"] = "something-else";
    expect(defaultDenyEgress(spec, doc, AgentPlatform.KUBERNETES).join("\n")).toContain("no Egress NetworkPolicy selects the pods of agent");
  });
});

// ---------------------------------------------------------------------------------------------
// The tool gateway (Docker): generated firewalls with fronted tools
// ---------------------------------------------------------------------------------------------

/** Runs of each gateway invariant: each spec synthesizes a gateway with its 0.8 MiB bundle, so fewer than the 500 above. */
const GATEWAY_RUNS = Math.min(RUNS, 60);
const GATEWAY = "rapidclaw-tool-gateway";
/** Upstream hosts under a domain no generated host pattern covers: a host the gateway fronts is never a role's direct host. */
const upstreamOf = (tool: string) => `https://${normalisedName(tool)}.upstream.example`;

/** A generated Docker firewall with some tools fronted by the gateway (the others' keys stay with agents, some said so explicitly) and Vault's address. */
const gatewaySpecArb: fc.Arbitrary<{ spec: Spec; reorderSeed: number }> = specWithReorderingArb(AgentPlatform.DOCKER).chain(({ spec, reorderSeed }) =>
  fc.subarray(Object.keys(spec.tools).sort(byString), { minLength: 1 }).chain((fronted) => fc.boolean().map((explicit) => ({
    reorderSeed,
    spec: {
      ...spec,
      tools: Object.fromEntries(Object.entries(spec.tools).map(([name, tool]) => {
        if (fronted.includes(name)) return [name, { ...tool, upstream: upstreamOf(name) }];
        return [name, explicit && tool.key ? { ...tool, key: { ...tool.key, delivery: KeyDelivery.AGENT } } : tool];
      })),
      vault: { ...spec.vault, address: "http://vault:8200" },
    },
  }))));

/** Keys only the gateway reads, computed from the spec: keyed tools with an upstream. */
const custodyTools = (spec: Spec) => Object.keys(spec.tools).filter((t) => spec.tools[t].key !== undefined && spec.tools[t].upstream !== undefined).sort(byString);
const keyPath = (spec: Spec, tool: string) => `${mountPathOf(spec)}/data/tools/${normalisedName(tool)}`;

interface GatewayDockerView {
  readonly containers: Map<string, Json>;
  /** Container names on each network, by network name. */
  readonly members: Map<string, string[]>;
  /** Network name of a `${docker_network.<id>.name}` reference. */
  readonly networkName: (reference: string) => string;
  readonly subnetOf: (network: string) => string;
}

function gatewayDockerView(doc: Json): GatewayDockerView {
  const networks = new Map(resources(doc, "docker_network").map(([id, n]) => [`\${docker_network.${id}.name}`, n]));
  const networkName = (reference: string) => networks.get(reference)?.name ?? `unknown ${reference}`;
  const containers = new Map(resources(doc, "docker_container").map(([, c]) => [c.name as string, c]));
  const members = new Map<string, string[]>();
  for (const [name, c] of containers) for (const n of c.networks_advanced ?? []) members.set(networkName(n.name), [...(members.get(networkName(n.name)) ?? []), name].sort(byString));
  const subnetOf = (network: string) => [...networks.values()].find((n) => n.name === network)?.ipam_config?.[0]?.subnet;
  return { containers, members, networkName, subnetOf };
}

/** The third address of an IPv4 subnet: where the gateway listens for the role on that network. */
const thirdAddress = (cidr: string) => {
  const value = ipv4ToNumber(cidr.split("/")[0]) + 3;
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join(".");
};

/** G1. Key custody: the gateway's policy reads exactly the keys it holds; no agent role's policy reads any of them. */
function gatewayKeyCustody(spec: Spec, doc: Json): string[] {
  const wrong: string[] = [];
  // In path order, as policies list them: tool names and paths sort apart (`no_no` < `no-xxx`, `no-no` < `no-xxx`).
  const custody = custodyTools(spec).map((t) => keyPath(spec, t)).sort(byString);
  const policies = resources(doc, "vault_policy").map(([, p]) => p);
  const gatewayPolicies = policies.filter((p) => p.name === GATEWAY);
  if (custody.length === 0 && gatewayPolicies.length > 0) wrong.push("the gateway holds no key but has a policy");
  if (custody.length > 0 && (gatewayPolicies.length !== 1 || JSON.stringify(grantsOf(gatewayPolicies[0].policy, wrong)) !== JSON.stringify(custody))) {
    wrong.push(`the gateway's policy grants ${JSON.stringify(gatewayPolicies.map((p) => grantsOf(p.policy, [])))}, expected exactly ${JSON.stringify(custody)}`);
  }
  for (const policy of policies.filter((p) => p.name !== GATEWAY)) {
    const held = grantsOf(policy.policy, wrong).filter((path) => custody.includes(path));
    if (held.length > 0) wrong.push(`agent policy ${policy.name} reads gateway-held keys ${JSON.stringify(held)}`);
  }
  for (const role of roleNamesOf(spec)) {
    const expected = expectedVaultGrants(spec, role).filter((path) => !custody.includes(path));
    const own = policies.find((p) => p.name === `rapidclaw-${normalisedName(role)}`);
    const granted = own ? grantsOf(own.policy, []) : [];
    if (JSON.stringify(granted) !== JSON.stringify(expected)) wrong.push(`role ${role}: policy grants ${JSON.stringify(granted)}, expected its agent-held keys ${JSON.stringify(expected)}`);
  }
  const view = gatewayDockerView(doc);
  const login = resources(doc, "vault_approle_auth_backend_role").map(([, l]) => l).find((l) => l.role_name === GATEWAY);
  if ((login !== undefined) !== (custody.length > 0)) wrong.push(`the gateway ${login ? "has" : "lacks"} an AppRole login while holding ${custody.length} keys`);
  if (login) {
    const vaultSubnet = view.subnetOf("rapidclaw-gateway-vault");
    if (JSON.stringify(login.secret_id_bound_cidrs) !== JSON.stringify([vaultSubnet]) || JSON.stringify(login.token_bound_cidrs) !== JSON.stringify([vaultSubnet])) wrong.push(`the gateway's login is bound to ${JSON.stringify(login.secret_id_bound_cidrs)}, not its Vault network ${vaultSubnet}`);
    if (JSON.stringify(view.members.get("rapidclaw-gateway-vault")) !== JSON.stringify([`${GATEWAY}-vault-agent`])) wrong.push(`the Vault network holds ${JSON.stringify(view.members.get("rapidclaw-gateway-vault"))}`);
  }
  return wrong;
}

/** G2. Networks: only the gateway reaches Redis; the gateway's way out is the proxy alone; each role reaches the gateway at its own address, on its own network. */
function gatewayNetworks(spec: Spec, doc: Json): string[] {
  const wrong: string[] = [];
  const view = gatewayDockerView(doc);
  const expectMembers = (network: string, names: string[]) => {
    if (JSON.stringify(view.members.get(network)) !== JSON.stringify(names.sort(byString))) wrong.push(`${network} holds ${JSON.stringify(view.members.get(network))}, expected ${JSON.stringify(names)}`);
  };
  // proxy-events counts in the gateway's Redis unless that Redis needs a login.
  const sharesRedis = view.members.get("rapidclaw-gateway-limits")?.includes("rapidclaw-proxy-events") === true;
  expectMembers("rapidclaw-gateway-limits", [GATEWAY, "rapidclaw-gateway-redis", ...(sharesRedis ? ["rapidclaw-proxy-events"] : [])]);
  expectMembers("rapidclaw-gateway-egress", [GATEWAY, "rapidclaw-egress-proxy"]);
  const gateway = view.containers.get(GATEWAY);
  const roleNetworks = roleNamesOf(spec).map((r) => `rapidclaw-agents-${normalisedName(r)}`);
  const joined = (gateway?.networks_advanced ?? []).map((n: Json) => [view.networkName(n.name), n.ipv4_address]);
  const own = joined.slice(roleNetworks.length).map(([network]: string[]) => network);
  if (JSON.stringify(own) !== JSON.stringify(["rapidclaw-gateway-egress", "rapidclaw-gateway-limits"]) || !roleNetworks.every((n, i) => joined[i][0] === n && joined[i][1] === thirdAddress(view.subnetOf(n)))) wrong.push(`the gateway joins ${JSON.stringify(joined)}, not each role's network at its third address plus its own two`);
  for (const [network, names] of view.members) {
    const roles = new Set(agentsOf(spec).filter((a) => names.includes(normalisedName(a.name))).map((a) => a.role));
    if (roles.size > 1) wrong.push(`network ${network} holds agents of roles ${JSON.stringify([...roles])}`);
  }
  for (const name of ["rapidclaw-gateway-egress", "rapidclaw-gateway-limits", "rapidclaw-gateway-vault"]) {
    const network = resources(doc, "docker_network").map(([, n]) => n).find((n) => n.name === name);
    if (network && network.internal !== true) wrong.push(`${name} is not internal: the gateway would have a way out besides the proxy`);
  }
  return wrong;
}

/** G3. Agents: their gateway URL is the gateway's address on their own role's network, for exactly the fronted tools they may use; that address bypasses the proxy. */
function gatewayAgentEnvironment(spec: Spec, doc: Json): string[] {
  const wrong: string[] = [];
  const view = gatewayDockerView(doc);
  for (const agent of agentsOf(spec)) {
    const env = envOf(view.containers.get(normalisedName(agent.name)), AgentPlatform.DOCKER);
    const address = thirdAddress(view.subnetOf(`rapidclaw-agents-${normalisedName(agent.role)}`));
    const url = env.get("RAPIDCLAW_GATEWAY_URL")?.[0] ?? "";
    if (new URL(url || "http://none").hostname !== address) wrong.push(`agent "${agent.name}": RAPIDCLAW_GATEWAY_URL ${url} is not the gateway's address ${address} on its role's network`);
    if (!(env.get("NO_PROXY")?.[0] ?? "").split(",").includes(address)) wrong.push(`agent "${agent.name}": NO_PROXY lacks the gateway ${address}`);
    const tools = [...env.keys()].filter((k) => /^RAPIDCLAW_TOOL_.*_URL$/.test(k)).sort(byString);
    const usable = Object.keys(spec.tools).filter((t) => spec.tools[t].upstream !== undefined && (spec.roles[agent.role].tools?.[t] ?? ToolAccess.DENY) !== ToolAccess.DENY);
    const expected = usable.map((t) => `RAPIDCLAW_TOOL_${normalisedName(t).toUpperCase().replace(/-/g, "_")}_URL`).sort(byString);
    if (JSON.stringify(tools) !== JSON.stringify(expected)) wrong.push(`agent "${agent.name}": tool URLs ${JSON.stringify(tools)}, expected ${JSON.stringify(expected)}`);
  }
  return wrong;
}

/** G4. The proxy's gateway listener is bound to its address on the gateway's egress network and allows exactly the upstream hosts. */
function gatewayProxyListener(spec: Spec, doc: Json): string[] {
  const wrong: string[] = [];
  const conf = parseSquidConf(deployedSquidConf(doc, AgentPlatform.DOCKER));
  const view = gatewayDockerView(doc);
  const proxyAddress = view.containers.get("rapidclaw-egress-proxy")?.networks_advanced.find((n: Json) => view.networkName(n.name) === "rapidclaw-gateway-egress")?.ipv4_address;
  const listeners = [...conf.ports].filter(([, name]) => name === "tool_gateway").map(([listener]) => listener);
  if (JSON.stringify(listeners) !== JSON.stringify([`${proxyAddress}:${proxyPortOf(spec)}`])) wrong.push(`the tool_gateway listener is ${JSON.stringify(listeners)}, not the proxy's gateway-network address ${proxyAddress}`);
  const hosts = [...new Set(Object.values(spec.tools).flatMap((t) => (t.upstream ? [new URL(t.upstream).hostname] : [])))].sort(byString);
  const allowed = [...(conf.acls.get("gateway_hosts")?.values ?? [])].sort(byString);
  if (JSON.stringify(allowed) !== JSON.stringify(hosts)) wrong.push(`the gateway listener allows ${JSON.stringify(allowed)}, expected the upstream hosts ${JSON.stringify(hosts)}`);
  for (const host of sampleHosts(spec)) {
    if (!hosts.includes(host) && squidAllows(conf, { localAddress: proxyAddress, localPort: proxyPortOf(spec), method: "CONNECT", host, port: 443 })) wrong.push(`the gateway listener lets the gateway reach ${host}, which no upstream is on`);
  }
  return wrong;
}

const GATEWAY_INVARIANTS: Invariant[] = [
  { title: "G1. only the gateway reads the keys it holds; agent roles keep exactly their agent-held keys", check: (spec, json) => gatewayKeyCustody(spec, JSON.parse(json)) },
  { title: "G2. only the gateway reaches Redis and the proxy's gateway listener; it joins each role's network at the role's own address", check: (spec, json) => gatewayNetworks(spec, JSON.parse(json)) },
  { title: "G3. agents are pointed at the gateway on their own role's network, for exactly the fronted tools they may use", check: (spec, json) => gatewayAgentEnvironment(spec, JSON.parse(json)) },
  { title: "G4. the gateway leaves only through its proxy listener, to its upstreams' hosts alone", check: (spec, json) => gatewayProxyListener(spec, JSON.parse(json)) },
  { title: "5. no key value, password or token appears in the synthesized JSON", check: (spec, json) => noSecretsInOutput(spec, JSON.parse(json)) },
  { title: "6. the same spec, in any key order, synthesizes byte-identical JSON", check: (spec, json, _platform, reorderSeed) => deterministicOutput(spec, json, reorderSeed) },
];

describe("tool gateway invariants on docker", () => {
  for (const invariant of GATEWAY_INVARIANTS) {
    it(`invariant ${invariant.title} (${GATEWAY_RUNS} generated specs)`, () => {
      fc.assert(
        fc.property(gatewaySpecArb, ({ spec, reorderSeed }) => {
          const violations = invariant.check(spec, synthesized(spec), AgentPlatform.DOCKER, reorderSeed);
          if (violations.length > 0) throw new Error(`invariant ${invariant.title} violated:\n  - ${violations.slice(0, 12).join("\n  - ")}`);
        }),
        { numRuns: GATEWAY_RUNS, seed: SEED },
      );
    });
  }
});

// ---------------------------------------------------------------------------------------------
// The tool gateway on Kubernetes: generated specs with upstreams, so every firewall deploys one
// ---------------------------------------------------------------------------------------------

/** Runs of each gateway invariant: a gateway stack carries the 0.8 MiB bundle, so a tenth of the others' runs. */
const K8S_GATEWAY_RUNS = Math.max(1, Math.floor(RUNS / 10));
const GATEWAY_COMPONENT = "tool-gateway";
const REDIS_COMPONENT = "gateway-redis";

/** A generated Kubernetes spec whose chosen tools get an upstream (their keys then go to the gateway), with Vault's address and maybe an existing Redis. */
const kubernetesGatewaySpecArb: fc.Arbitrary<Spec> = specWithReorderingArb(AgentPlatform.KUBERNETES).chain(({ spec }) =>
  fc
    .record({ fronted: fc.subarray(Object.keys(spec.tools).sort(byString), { minLength: 1 }), externalRedis: fc.boolean(), port: fc.option(fc.constantFrom(9000, 18080), { nil: undefined }) })
    .map(({ fronted, externalRedis, port }): Spec => ({
      ...spec,
      tools: Object.fromEntries(Object.entries(spec.tools).map(([name, tool]) => [name, fronted.includes(name) ? { ...tool, upstream: `https://${normalisedName(name)}.upstream.example` } : tool])),
      vault: { ...spec.vault, address: "https://vault.vault.svc:8200" },
      gateway: { ...(port === undefined ? {} : { port }), ...(externalRedis ? { redis: { url: "rediss://10.77.0.9:6380" } } : {}) },
    })),
);

/** The role a gateway port belongs to: ports follow the roles in name order from `gateway.port`. */
const gatewayPortOf = (spec: Spec, role: string) => (spec.gateway?.port ?? 8080) + roleNamesOf(spec).indexOf(role);

/** Deployments by name, with their pod labels. */
const deploymentsOf = (doc: Json): Map<string, Json> => new Map(resources(doc, "kubernetes_deployment_v1").map(([, d]) => [d.metadata.name, d]));

/** (peer, port) pairs the policies selecting a pod allow in one direction; a rule without peers or ports reads as `any`. */
function podGrants(doc: Json, labels: Record<string, string>, direction: "Ingress" | "Egress"): { peer: Json | "any"; port: string }[] {
  const [rules, side] = direction === "Ingress" ? ["ingress", "from"] : ["egress", "to"];
  return resources(doc, "kubernetes_network_policy_v1")
    .map(([, p]) => p)
    .filter((p) => (p.spec.policy_types ?? []).includes(direction) && selects(p.spec.pod_selector, labels))
    .flatMap((p) => (p.spec[rules] ?? []).flatMap((rule: Json) => {
      const peers: (Json | "any")[] = rule[side] && rule[side].length > 0 ? rule[side] : ["any"];
      const ports: string[] = rule.ports && rule.ports.length > 0 ? rule.ports.map((port: Json) => `${port.protocol ?? "TCP"}/${port.port ?? "any"}`) : ["any"];
      return peers.flatMap((peer) => ports.map((port) => ({ peer, port })));
    }));
}

/** Whether a peer can mean pods with these labels in the policy's namespace (conservatively: any peer but an IP block or another namespace could). */
function peerCanSelect(peer: Json | "any", labels: Record<string, string>): boolean {
  if (peer === "any") return true;
  if (peer.ip_block !== undefined) return false;
  if (peer.namespace_selector !== undefined) {
    const name = peer.namespace_selector.match_labels?.["kubernetes.io/metadata.name"];
    if (name === "kube-system" || name === "vault") return false;
  }
  return peer.pod_selector === undefined || selects(peer.pod_selector, labels);
}

/**
 * G1. Each role's agents reach the gateway only on their role's port and the proxy only on theirs
 * (besides DNS and the role's CIDRs, nothing), and each gateway port admits only that role's agents.
 */
function gatewayPortPerRole(spec: Spec, doc: Json): string[] {
  const wrong: string[] = [];
  const deployments = deploymentsOf(doc);
  const gateway = [...deployments.values()].find((d) => podLabels(d)[LABELS_COMPONENT] === GATEWAY_COMPONENT);
  if (gateway === undefined) return ["no gateway Deployment"];
  const gatewayLabels = podLabels(gateway);
  for (const agent of agentsOf(spec)) {
    const labels = podLabels(deployments.get(normalisedName(agent.name)));
    const egress = podGrants(doc, labels, "Egress");
    const ports = egress.filter((g) => peerCanSelect(g.peer, gatewayLabels)).map((g) => g.port);
    const expected = `TCP/${gatewayPortOf(spec, agent.role)}`;
    if (JSON.stringify([...new Set(ports)]) !== JSON.stringify([expected])) wrong.push(`agent "${agent.name}" (role ${agent.role}) reaches the gateway on ${JSON.stringify(ports)}, expected only ${expected}`);
    const cidrs = new Set((spec.roles[agent.role].network?.egressCidrs ?? []).flatMap(({ cidr, ports: p }) => p.map((port) => `${cidr} TCP/${port}`)));
    for (const { peer, port } of egress) {
      if (peer === "any") { wrong.push(`agent "${agent.name}" may reach anything on ${port}`); continue; }
      const component = peer.pod_selector?.match_labels?.[LABELS_COMPONENT];
      const allowed = peer.namespace_selector?.match_labels?.["kubernetes.io/metadata.name"] === "kube-system" ? port.endsWith("/53")
        : peer.ip_block !== undefined ? cidrs.has(`${peer.ip_block.cidr} ${port}`) || (peer.ip_block.cidr === `${spec.kubernetes?.nodeLocalDnsIp}/32` && port.endsWith("/53"))
        : peer.namespace_selector === undefined && component === GATEWAY_COMPONENT ? port === expected
        : peer.namespace_selector === undefined && component === "egress-proxy" && port === `TCP/${proxyPortOf(spec) + roleNamesOf(spec).indexOf(agent.role)}`;
      if (!allowed) wrong.push(`agent "${agent.name}" (role ${agent.role}) may reach ${JSON.stringify(peer)} on ${port}`);
    }
  }
  for (const grant of podGrants(doc, gatewayLabels, "Ingress")) {
    const role = roleNamesOf(spec).find((r) => `TCP/${gatewayPortOf(spec, r)}` === grant.port);
    if (role === undefined) wrong.push(`the gateway admits ${JSON.stringify(grant.peer)} on ${grant.port}, no role's port`);
    for (const agent of agentsOf(spec)) {
      if (peerCanSelect(grant.peer, podLabels(deployments.get(normalisedName(agent.name)))) && agent.role !== role) wrong.push(`gateway port ${grant.port} admits agent "${agent.name}" of role ${agent.role}, but the port is role ${role}'s`);
    }
    if (grant.peer === "any" || grant.peer.pod_selector?.match_labels?.[LABELS_COMPONENT] !== "agent") wrong.push(`the gateway admits ${JSON.stringify(grant.peer)}, not agent pods`);
  }
  return wrong;
}

/**
 * G2. Only the gateway and proxy-events (a sidecar of the proxy's pods, keeping its alert windows
 * there) reach Redis: the bundled Redis admits those two alone and sends nothing; an existing
 * Redis is their egress alone. No agent reaches it.
 */
const REDIS_CLIENTS: ReadonlyArray<string | undefined> = [GATEWAY_COMPONENT, "egress-proxy"];

function onlyGatewayAndProxyEventsReachRedis(spec: Spec, doc: Json): string[] {
  const wrong: string[] = [];
  const deployments = deploymentsOf(doc);
  const redis = [...deployments.values()].find((d) => podLabels(d)[LABELS_COMPONENT] === REDIS_COMPONENT);
  if (spec.gateway?.redis !== undefined) {
    if (redis !== undefined) wrong.push("a Redis is bundled although gateway.redis is set");
    for (const [name, d] of deployments) {
      const reaches = podGrants(doc, podLabels(d), "Egress").some((g) => g.port === "TCP/6380" && (g.peer === "any" || g.peer.ip_block?.cidr === "10.77.0.9/32"));
      if (reaches !== REDIS_CLIENTS.includes(podLabels(d)[LABELS_COMPONENT])) wrong.push(`${name} ${reaches ? "reaches" : "does not reach"} the existing Redis`);
    }
    return wrong;
  }
  if (redis === undefined) return ["no bundled Redis Deployment"];
  const redisLabels = podLabels(redis);
  for (const [name, d] of deployments) {
    if (d === redis) continue;
    const reaches = podGrants(doc, podLabels(d), "Egress").some((g) => peerCanSelect(g.peer, redisLabels));
    if (reaches !== REDIS_CLIENTS.includes(podLabels(d)[LABELS_COMPONENT])) wrong.push(`${name} ${reaches ? "reaches" : "does not reach"} the bundled Redis`);
  }
  const ingress = podGrants(doc, redisLabels, "Ingress");
  if (ingress.length === 0) wrong.push("no policy admits the gateway to Redis");
  for (const grant of ingress) {
    if (grant.peer === "any" || Object.keys(grant.peer).join() !== "pod_selector" || !REDIS_CLIENTS.includes(grant.peer.pod_selector.match_labels?.[LABELS_COMPONENT])) wrong.push(`Redis admits ${JSON.stringify(grant.peer)}, not the gateway and proxy-events alone`);
  }
  const isolatedOut = resources(doc, "kubernetes_network_policy_v1").some(([, p]) => (p.spec.policy_types ?? []).includes("Egress") && selects(p.spec.pod_selector, redisLabels));
  if (!isolatedOut || podGrants(doc, redisLabels, "Egress").length > 0) wrong.push("Redis's egress is not closed");
  return wrong;
}

/** G3. The gateway leaves only to DNS, Redis, Vault, and public addresses (every forbidden range excluded) on 443. */
function gatewayEgressBounded(spec: Spec, doc: Json): string[] {
  const wrong: string[] = [];
  const gateway = [...deploymentsOf(doc).values()].find((d) => podLabels(d)[LABELS_COMPONENT] === GATEWAY_COMPONENT);
  const forbidden = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "127.0.0.0/8", "fc00::/7", "fe80::/10"];
  for (const { peer, port } of podGrants(doc, podLabels(gateway), "Egress")) {
    if (peer === "any") { wrong.push(`the gateway may reach anything on ${port}`); continue; }
    if (peer.ip_block === undefined) continue;
    const { cidr, except = [] } = peer.ip_block;
    if (cidr === "10.77.0.9/32" && port === "TCP/6380" && spec.gateway?.redis !== undefined) continue;
    if (cidr === `${spec.kubernetes?.nodeLocalDnsIp}/32` && port.endsWith("/53")) continue;
    if (port !== "TCP/443") wrong.push(`the gateway reaches ${cidr} on ${port}`);
    const missing = forbidden.filter((f) => f.includes(":") === cidr.includes(":") && !except.includes(f));
    if (missing.length > 0) wrong.push(`the gateway's egress to ${cidr} does not exclude ${JSON.stringify(missing)}`);
  }
  return wrong;
}

/** G4. No agent role's Vault login carries a key the gateway holds; the gateway's login is bound to its own ServiceAccount. */
function k8sGatewayKeyCustody(spec: Spec, doc: Json): string[] {
  const wrong: string[] = [];
  const custody = Object.keys(spec.tools).filter((t) => spec.tools[t].upstream !== undefined && spec.tools[t].key !== undefined).map((t) => `${mountPathOf(spec)}/data/tools/${normalisedName(t)}`);
  const policies = new Map(resources(doc, "vault_policy").map(([id, p]) => [`\${vault_policy.${id}.name}`, p]));
  for (const [, login] of resources(doc, "vault_kubernetes_auth_backend_role")) {
    const granted = (login.token_policies ?? []).flatMap((ref: string) => grantsOf(policies.get(ref)?.policy ?? "", []));
    const held = granted.filter((path: string) => custody.includes(path));
    if (login.role_name === "rapidclaw-tool-gateway") {
      if (JSON.stringify([...granted].sort(byString)) !== JSON.stringify([...custody].sort(byString))) wrong.push(`the gateway's login grants ${JSON.stringify(granted)}, expected ${JSON.stringify(custody)}`);
      const account = resolveName(doc, login.bound_service_account_names?.[0]);
      if (login.bound_service_account_names?.length !== 1 || account !== "rapidclaw-tool-gateway") wrong.push(`the gateway's login is bound to ${JSON.stringify(login.bound_service_account_names)}`);
    } else if (held.length > 0) wrong.push(`agent login ${login.role_name} reads gateway-held keys ${JSON.stringify(held)}`);
  }
  return wrong;
}

const LABELS_COMPONENT = "rapidclaw.dev/component";

const K8S_GATEWAY_INVARIANTS: Invariant[] = [
  { title: "G1. each role's agents reach the gateway only on their own port, which admits only them", check: (spec, json) => gatewayPortPerRole(spec, JSON.parse(json)) },
  { title: "G2. only the gateway and proxy-events reach Redis, never an agent", check: (spec, json) => onlyGatewayAndProxyEventsReachRedis(spec, JSON.parse(json)) },
  { title: "G3. the gateway leaves only to DNS, Redis, Vault and public addresses on 443", check: (spec, json) => gatewayEgressBounded(spec, JSON.parse(json)) },
  { title: "G4. only the gateway's login reads the keys it holds", check: (spec, json) => k8sGatewayKeyCustody(spec, JSON.parse(json)) },
];

describe("tool gateway invariants on kubernetes", () => {
  for (const invariant of K8S_GATEWAY_INVARIANTS) {
    it(`invariant ${invariant.title} (${K8S_GATEWAY_RUNS} generated specs)`, () => {
      fc.assert(
        fc.property(kubernetesGatewaySpecArb, (spec) => {
          const violations = invariant.check(spec, synthesized(spec), AgentPlatform.KUBERNETES, 0);
          if (violations.length > 0) throw new Error(`invariant ${invariant.title} violated:\n  - ${violations.slice(0, 12).join("\n  - ")}`);
        }),
        { numRuns: K8S_GATEWAY_RUNS, seed: SEED },
      );
    });
  }

  it("notices an agent reaching another role's gateway port, and a stranger reaching Redis", () => {
    const base = firewallScenario(AgentPlatform.KUBERNETES);
    const spec: Spec = { ...base, tools: { ...base.tools, web_search: { ...base.tools.web_search, upstream: "https://api.search.example" } }, vault: { address: "https://vault.vault.svc:8200" } };
    const doc = JSON.parse(synthesized(spec));
    for (const invariant of K8S_GATEWAY_INVARIANTS) expect(invariant.check(spec, JSON.stringify(doc), AgentPlatform.KUBERNETES, 0), invariant.title).toEqual([]);
    const [, rolePolicy] = resources(doc, "kubernetes_network_policy_v1").find(([, p]) => p.metadata.name === "rapidclaw-role-research-agent-gateway") as [string, Json];
    rolePolicy.spec.egress[0].ports.push({ port: String(gatewayPortOf(spec, "customer_support")), protocol: "TCP" });
    expect(gatewayPortPerRole(spec, doc).join("\n")).toContain("reaches the gateway on");
    rolePolicy.spec.egress.push({ to: [{ pod_selector: { match_labels: { [LABELS_COMPONENT]: REDIS_COMPONENT } } }], ports: [{ port: "6379", protocol: "TCP" }] });
    expect(onlyGatewayAndProxyEventsReachRedis(spec, doc).join("\n")).toContain("openclaw-agent reaches the bundled Redis");
    expect(gatewayPortPerRole(spec, doc).join("\n")).toContain("may reach");
    const [, gatewayPolicy] = resources(doc, "kubernetes_network_policy_v1").find(([, p]) => p.metadata.name === "rapidclaw-tool-gateway") as [string, Json];
    gatewayPolicy.spec.egress.push({ to: [{ ip_block: { cidr: "10.0.0.0/8" } }], ports: [{ port: "443", protocol: "TCP" }] });
    expect(gatewayEgressBounded(spec, doc).join("\n")).toContain("the gateway's egress to 10.0.0.0/8 does not exclude");
    const [gatewayPolicyRef] = resources(doc, "vault_policy").find(([, p]) => p.name === "rapidclaw-tool-gateway") as [string, Json];
    const [, agentLogin] = resources(doc, "vault_kubernetes_auth_backend_role").find(([, l]) => l.role_name !== "rapidclaw-tool-gateway") as [string, Json];
    agentLogin.token_policies.push(`\${vault_policy.${gatewayPolicyRef}.name}`);
    expect(k8sGatewayKeyCustody(spec, doc).join("\n")).toContain("reads gateway-held keys");
  });
});
