import { isIP } from "node:net";
import type { NetworkPolicyV1, NetworkPolicyV1SpecEgress, NetworkPolicyV1SpecIngress } from "@cdktf/provider-kubernetes/lib/network-policy-v1";
import type { Construct } from "constructs";
import { LABELS, type FirewallPlan, type PlannedRole } from "../plan/plan";
import { COMPONENTS, firewallLabels, workloadLabels } from "../terraform/labels";
import { kubernetesClasses } from "./provider-classes";

/**
 * Shared pieces of the firewall's NetworkPolicies: pod selectors, peers and rules. Peers have the
 * same shape in an ingress `from` and an egress `to`, so one builder serves both.
 */

/** A label selector by exact labels. */
export interface LabelSelector {
  /** Labels a selected pod or namespace carries, all of them. */
  readonly matchLabels: { [key: string]: string };
}

/**
 * One NetworkPolicy peer. Selectors in ONE peer are ANDed (pods matching `podSelector` in
 * namespaces matching `namespaceSelector`); separate peers in a list are ORed.
 */
export interface PolicyPeer {
  /** Pods; without `namespaceSelector`, in the policy's own namespace. */
  readonly podSelector?: LabelSelector;
  /** Namespaces. */
  readonly namespaceSelector?: LabelSelector;
  /** An address range, minus `except`. */
  readonly ipBlock?: { readonly cidr: string; readonly except?: string[] };
}

/** One port of a rule; `port` is a string because the provider takes an int-or-string. */
export interface PolicyPort {
  /** `TCP` or `UDP`. */
  readonly protocol: string;
  /** The port number as text. */
  readonly port: string;
}

/** Pods of one component (`agent`, `egress-proxy`) of the firewall named `firewall`. */
export function componentSelector(firewall: string, component: string): LabelSelector {
  return { matchLabels: { [LABELS.component]: component, ...firewallLabels(firewall) } };
}

/** Agent pods of the firewall named `firewall`: all of them, or those of one role. */
export function agentPodSelector(firewall: string, role?: PlannedRole): LabelSelector {
  const labels: { [key: string]: string } = componentSelector(firewall, COMPONENTS.agent).matchLabels;
  if (role) labels[LABELS.role] = role.resourceName;
  return { matchLabels: labels };
}

/** TCP ports, in the order given. */
export function tcpPorts(ports: ReadonlyArray<number>): PolicyPort[] {
  return ports.map((port) => ({ protocol: "TCP", port: String(port) }));
}

/** Label Kubernetes sets on every namespace (1.21+): its own name. */
const NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name";

/**
 * The cluster DNS as one AND-peer: kube-dns pods in kube-system. Two separate peers would let
 * pods reach every pod in kube-system, and any namespace's pods labelled kube-dns.
 */
export const CLUSTER_DNS_PEER: PolicyPeer = {
  namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: "kube-system" } },
  podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
};

/** DNS egress to the cluster DNS (and the NodeLocal DNSCache, when the plan names one), UDP and TCP 53. */
export function dnsEgressRule(plan: FirewallPlan): NetworkPolicyV1SpecEgress {
  const to: PolicyPeer[] = [CLUSTER_DNS_PEER];
  if (plan.kubernetes.nodeLocalDnsIp) to.push({ ipBlock: { cidr: `${plan.kubernetes.nodeLocalDnsIp}/32` } });
  return { to, ports: [{ protocol: "UDP", port: "53" }, { protocol: "TCP", port: "53" }] };
}

/** The public internet, IPv4 and IPv6: everything but the ranges the proxy refuses (`plan.proxy.forbiddenCidrs`). */
export function publicInternetPeers(plan: FirewallPlan): PolicyPeer[] {
  const forbidden = (version: 4 | 6) => plan.proxy.forbiddenCidrs.filter((cidr) => cidr.includes(":") === (version === 6));
  return [
    { ipBlock: { cidr: "0.0.0.0/0", except: forbidden(4) } },
    { ipBlock: { cidr: "::/0", except: forbidden(6) } },
  ];
}

/** A service outside the policy's pods, as NetworkPolicy can name it: peers and one TCP port. */
export interface ServicePeers {
  readonly peers: PolicyPeer[];
  readonly port: number;
}

/** Ports of URL schemes that name none. */
const DEFAULT_PORTS: { [scheme: string]: number } = { "http:": 80, "https:": 443, "redis:": 6379, "rediss:": 6379 };

/**
 * The service at `url` as NetworkPolicy peers, since a policy cannot name a host:
 * - an IP address: that address alone (`/32` or `/128`; a Service's cluster IP does not work,
 *   policies see the pods behind it);
 * - a cluster Service name, `<service>.<namespace>.svc` with or without the cluster domain: every
 *   pod of that namespace (a policy here cannot know the labels of pods there);
 * - a bare Service name (`vault`): every pod of `namespace`, the agents' own, by its name label;
 * - any other host name: its addresses are unknown at synthesis, so the public internet as the
 *   proxy sees it (`publicInternetPeers`: no private, link-local or metadata range). A service at
 *   a private address by name needs its CIDRs given instead.
 * The port is the URL's, else the scheme's (80, 443, 6379). Throws on a URL without a host.
 */
export function servicePeers(url: string, plan: FirewallPlan, namespace: string): ServicePeers {
  const parsed = new URL(url);
  const host = parsed.hostname.replace(/^\[|\]$/g, "").toLowerCase();
  if (host === "") throw new Error(`"${url}" names no host; write e.g. https://vault.example.com:8200`);
  const port = parsed.port === "" ? DEFAULT_PORTS[parsed.protocol] : Number(parsed.port);
  if (port === undefined) throw new Error(`"${url}" names no port and ${parsed.protocol} has no usual one; add the port`);
  const version = isIP(host);
  if (version !== 0) return { peers: [{ ipBlock: { cidr: `${host}/${version === 4 ? 32 : 128}` } }], port };
  const labels = host.split(".");
  const svc = labels.indexOf("svc");
  const serviceNamespace = svc === 2 ? labels[1] : labels.length === 1 ? namespace : undefined;
  if (serviceNamespace !== undefined) return { peers: [{ namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: serviceNamespace } } }], port };
  return { peers: publicInternetPeers(plan), port };
}

/** What one firewall NetworkPolicy selects and allows. */
export interface FirewallPolicyProps {
  /** Name of the firewall whose policy this is (labels the policy). */
  readonly firewall: string;
  /** Namespace of the policy and of the pods it selects. */
  readonly namespace: string;
  /** Policy name. */
  readonly name: string;
  /** The pods the policy isolates. */
  readonly podSelector: LabelSelector;
  /** Directions the policy isolates; a direction listed without rules denies everything. */
  readonly policyTypes: ReadonlyArray<"Ingress" | "Egress">;
  /** @default - none */
  readonly ingress?: NetworkPolicyV1SpecIngress[];
  /** @default - none */
  readonly egress?: NetworkPolicyV1SpecEgress[];
}

/** A NetworkPolicy of the firewall, labelled as such. Rule lists are left out when empty, never sent as `{}` (allow all). */
export function firewallPolicy(scope: Construct, id: string, props: FirewallPolicyProps): NetworkPolicyV1 {
  return new kubernetesClasses.NetworkPolicyV1(scope, id, {
    metadata: { name: props.name, namespace: props.namespace, labels: workloadLabels(props.firewall, "network-policy") },
    spec: {
      podSelector: props.podSelector,
      policyTypes: [...props.policyTypes],
      ingress: props.ingress && props.ingress.length > 0 ? props.ingress : undefined,
      egress: props.egress && props.egress.length > 0 ? props.egress : undefined,
    },
  });
}
