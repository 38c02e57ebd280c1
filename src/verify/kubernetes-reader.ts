/**
 * Kubernetes: what each role's agent pods reach, from the NetworkPolicies that select them
 * (egress) and, for pods of the namespace, the policies that select the other end (ingress):
 * traffic between two pods needs both. Peers in a `to` list are OR; a namespace and a pod
 * selector in one peer are AND.
 */
import { LABELS } from "../plan/plan";
import type { GatewayFile } from "./gateway-file-reader";
import type { Grant } from "./findings";
import type { RoleReach } from "./role-reach";
import type { SquidListener } from "./squid-conf-reader";
import { blocks, type TerraformDocument, type TerraformResource } from "./terraform-document";

type Labels = Record<string, string>;

interface Pod {
  readonly resource: TerraformResource;
  readonly labels: Labels;
  /** Container ports by name, for policies that name ports. */
  readonly namedPorts: Map<string, number>;
}

interface Policy {
  readonly resource: TerraformResource;
  readonly selector: any;
  readonly types: string[];
  readonly egress: any[];
  readonly ingress: any[];
}

const WORKLOAD_TYPES = ["kubernetes_deployment_v1", "kubernetes_deployment", "kubernetes_stateful_set_v1", "kubernetes_daemon_set_v1"];
const POLICY_TYPES = ["kubernetes_network_policy_v1", "kubernetes_network_policy"];

/** Whether a label selector (`match_labels`, `match_expressions`) selects `labels`; an empty one selects all. */
export function selects(selector: any, labels: Labels): boolean {
  const s = blocks(selector)[0] ?? {};
  const matchLabels = (s.match_labels ?? {}) as Labels;
  if (!Object.entries(matchLabels).every(([k, v]) => labels[k] === v)) return false;
  return blocks(s.match_expressions).every((e: any) => {
    const values: string[] = e.values ?? [];
    switch (e.operator) {
      case "In": return values.includes(labels[e.key]);
      case "NotIn": return !values.includes(labels[e.key]);
      case "Exists": return e.key in labels;
      case "DoesNotExist": return !(e.key in labels);
      default: return true;
    }
  });
}

function podsOf(doc: TerraformDocument): Pod[] {
  return WORKLOAD_TYPES.flatMap((type) => doc.resources(type)).map((resource) => {
    const template = blocks(blocks(resource.body.spec)[0]?.template)[0] ?? {};
    const containers = blocks(blocks(template.spec)[0]?.container);
    const namedPorts = new Map(containers.flatMap((c: any) => blocks(c.port)).filter((p: any) => p?.name).map((p: any) => [String(p.name), Number(p.container_port)] as [string, number]));
    return { resource, labels: (blocks(template.metadata)[0]?.labels ?? {}) as Labels, namedPorts };
  });
}

function policiesOf(doc: TerraformDocument): Policy[] {
  return POLICY_TYPES.flatMap((type) => doc.resources(type)).map((resource) => {
    const spec = blocks(resource.body.spec)[0] ?? {};
    const egress = blocks(spec.egress);
    const ingress = blocks(spec.ingress);
    const types: string[] = spec.policy_types ?? ["Ingress", ...(egress.length > 0 ? ["Egress"] : [])];
    return { resource, selector: spec.pod_selector, types, egress, ingress };
  });
}

/** Ports of a rule as numbers on `pod` (named ports resolved); undefined: every port. */
function rulePorts(rule: any, pod: Pod | undefined): { port: number | undefined; protocol: string }[] | undefined {
  const ports = blocks(rule.ports);
  if (ports.length === 0) return undefined;
  return ports.map((p: any) => {
    const text = p.port === undefined ? undefined : String(p.port);
    const port = text === undefined ? undefined : /^\d+$/.test(text) ? Number(text) : pod?.namedPorts.get(text);
    return { port, protocol: p.protocol ?? "TCP" };
  });
}

const portText = (ports: { port: number | undefined; protocol: string }[] | undefined) =>
  ports === undefined ? "any port" : ports.map((p) => `${p.port ?? "any"}/${p.protocol}`).join(",");

/** Whether the pod accepts traffic from `from` on `port` (no policy isolating its ingress: yes). */
function admits(policies: Policy[], pod: Pod, from: Labels, port: number): boolean {
  const isolating = policies.filter((p) => p.types.includes("Ingress") && selects(p.selector, pod.labels));
  if (isolating.length === 0) return true;
  return isolating.some((p) => p.ingress.some((rule: any) => {
    const ports = rulePorts(rule, pod);
    const peers = blocks(rule.from);
    const portOk = ports === undefined || ports.some((q) => q.port === undefined || q.port === port);
    const peerOk = peers.length === 0 || peers.some((peer: any) => peer.pod_selector !== undefined && peer.namespace_selector === undefined && peer.ip_block === undefined && selects(peer.pod_selector, from));
    return portOk && peerOk;
  }));
}

const isKubeDns = (peer: any) => {
  const ns = blocks(peer.namespace_selector)[0]?.match_labels ?? {};
  const pods = blocks(peer.pod_selector)[0]?.match_labels ?? {};
  return ns["kubernetes.io/metadata.name"] === "kube-system" && pods["k8s-app"] === "kube-dns";
};

/** `k=v,k2=v2`, sorted: a label selector's `match_labels` as text that compares. */
export const labelsText = (labels: Record<string, string>) => Object.entries(labels).map(([k, v]) => `${k}=${v}`).sort().join(",");

function peerText(peer: any): string {
  if (peer.ip_block !== undefined) return `addresses ${blocks(peer.ip_block)[0]?.cidr}`;
  const namespaces = peer.namespace_selector === undefined ? undefined : blocks(peer.namespace_selector)[0]?.match_labels ?? {};
  const podLabels = peer.pod_selector === undefined ? undefined : blocks(peer.pod_selector)[0]?.match_labels ?? {};
  const expressions = [peer.namespace_selector, peer.pod_selector].some((s) => blocks(s)[0]?.match_expressions !== undefined) ? " (with match expressions)" : "";
  if (namespaces !== undefined) return `namespaces {${labelsText(namespaces)}}${podLabels ? ` pods {${labelsText(podLabels)}}` : ""}${expressions}`;
  return `pods of the namespace {${labelsText(podLabels ?? {})}}${expressions}`;
}

/** Who may connect to pods with `labels`: one grant per peer and port of every ingress rule of the policies isolating them. */
function ingressOf(policies: Policy[], labels: Labels, artifact: string): Grant[] {
  const isolating = policies.filter((p) => p.types.includes("Ingress") && selects(p.selector, labels));
  if (isolating.length === 0) return [{ item: "from anywhere (no NetworkPolicy isolates the pods' ingress)", artifact, rule: "no policy with policyTypes Ingress selects them" }];
  return isolating.flatMap((policy) => policy.ingress.flatMap((rule: any, i: number) => {
    const peers = blocks(rule.from);
    const ports = rulePorts(rule, undefined)?.map((p) => `:${p.port ?? "any"}/${p.protocol}`) ?? [":any port"];
    return (peers.length === 0 ? ["anywhere"] : peers.map(peerText)).flatMap((from) => ports.map((port) => ({ item: `from ${from} ${port}`, artifact: policy.resource.address, rule: `ingress[${i}]` })));
  }));
}

/** What the agent pods of each role (by resource name) reach. */
export function readKubernetesReach(doc: TerraformDocument, roleResourceNames: ReadonlyArray<string>, squidListeners: ReadonlyArray<SquidListener>, gateway: GatewayFile | undefined): Map<string, RoleReach> {
  const pods = podsOf(doc);
  const policies = policiesOf(doc);
  const reach = new Map<string, RoleReach>();
  for (const role of roleResourceNames) {
    const agentPods = pods.filter((p) => p.labels[LABELS.component] === "agent" && p.labels[LABELS.role] === role);
    const labels = agentPods[0]?.labels ?? { [LABELS.component]: "agent", [LABELS.role]: role };
    const artifact = agentPods[0]?.resource.address ?? `pods labelled ${LABELS.role}=${role}`;
    const result: RoleReach = { proxyListeners: [], gatewayListeners: [], direct: [], peers: [], ingress: ingressOf(policies, labels, artifact) };
    const egressPolicies = policies.filter((p) => p.types.includes("Egress") && selects(p.selector, labels));
    if (egressPolicies.length === 0) result.direct.push({ item: "every destination (no NetworkPolicy isolates the pods' egress)", artifact, rule: "no policy with policyTypes Egress selects them" });
    for (const policy of egressPolicies) {
      policy.egress.forEach((rule: any, i: number) => {
        const where = `${policy.resource.address} egress[${i}]`;
        const peers = blocks(rule.to);
        if (peers.length === 0) { result.direct.push({ item: `every destination ${portText(rulePorts(rule, undefined))}`, artifact: policy.resource.address, rule: `${where}: no "to"` }); return; }
        for (const peer of peers) {
          if (peer.ip_block !== undefined) {
            const block = blocks(peer.ip_block)[0] ?? {};
            const except = (block.except ?? []) as string[];
            for (const p of rulePorts(rule, undefined) ?? [{ port: undefined, protocol: "any" }]) {
              result.direct.push({ item: `${block.cidr} :${p.port ?? "any"}/${p.protocol}`, artifact: policy.resource.address, rule: `${where} ipBlock ${block.cidr}${except.length > 0 ? ` except ${except.length} ranges` : ""}` });
            }
          } else if (peer.namespace_selector !== undefined) {
            const item = isKubeDns(peer) ? `cluster DNS (kube-system/kube-dns) ${portText(rulePorts(rule, undefined))}` : `pods of other namespaces (${JSON.stringify(peer.namespace_selector)}) ${portText(rulePorts(rule, undefined))}`;
            result.peers.push({ item, artifact: policy.resource.address, rule: where });
          } else {
            for (const pod of pods.filter((p) => selects(peer.pod_selector, p.labels))) {
              const component = pod.labels[LABELS.component];
              if (component === "agent" && pod.labels[LABELS.role] === role) continue;
              const ports = rulePorts(rule, pod);
              const candidatePorts = ports === undefined ? [...pod.namedPorts.values()] : ports.flatMap((p) => (p.port === undefined ? [...pod.namedPorts.values()] : [p.port]));
              const admitted = candidatePorts.filter((port) => admits(policies, pod, labels, port));
              if (component === "egress-proxy") {
                for (const port of admitted) for (const listener of squidListeners.filter((l) => l.port === port)) result.proxyListeners.push({ listener, via: `${where} → ${pod.resource.address}:${port}` });
              } else if (component === "tool-gateway" && gateway !== undefined) {
                for (const port of admitted) for (const listener of gateway.listeners.filter((l) => l.port === port)) {
                  result.gatewayListeners.push({ identity: gateway.identity(listener, undefined), via: `${where} → ${pod.resource.address}:${port}`, artifact: gateway.where, rule: listener.rule });
                }
              } else if (admitted.length > 0 || (ports === undefined && pod.namedPorts.size === 0)) {
                result.peers.push({ item: `${pod.resource.address} (${component ?? "unlabelled"}${pod.labels[LABELS.role] ? ` ${pod.labels[LABELS.role]}` : ""}) ${admitted.join(",") || "any port"}`, artifact: policy.resource.address, rule: where });
              }
            }
          }
        }
      });
    }
    reach.set(role, result);
  }
  return reach;
}
