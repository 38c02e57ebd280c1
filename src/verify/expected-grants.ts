/**
 * What the firewall description asks each layer to grant, in the words the artifact readers use,
 * and when one grant is covered by an expected one. Compiled from the description by the plan
 * (names, ports, key paths), never from the artifacts.
 */
import { parseCidr, type Network } from "../model/addresses";
import { covers, hostPatternText, parseHostPattern } from "../model/hosts";
import { AgentPlatform, ToolAccess } from "../model/types";
import { accessAllows } from "../model/validate";
import type { FirewallSpec } from "../plan/firewall-spec";
import { gatewayVaultSecrets } from "../plan/gateway-plan";
import { vaultWebhookSecrets } from "../plan/webhook-delivery";
import type { FirewallPlan, PlannedRole } from "../plan/plan";
import { agentToolGrants } from "../render/agent-tool-grants";
import { vaultSecretDataPath } from "../render/vault-policy";
import { mappingText } from "./agent-hooks-reader";
import { labelsText } from "./kubernetes-reader";

/** Hosts through the proxy: model hosts plus the role's allowed hosts. */
export const expectedProxyHosts = (role: PlannedRole): string[] => role.proxyAllowlist.map(hostPatternText);

/** Ports through the proxy: CONNECT to 443, plain HTTP to 80 when asked for. */
export const expectedProxyPorts = (plan: FirewallPlan): string[] => ["CONNECT :443", ...(plan.proxy.allowPlainHttp ? ["HTTP :80"] : [])];

/** Direct egress: Kubernetes `egressCidrs` per port, and a NodeLocal DNSCache on port 53 for a role that opted in to DNS. */
export function expectedDirectEgress(plan: FirewallPlan, role: PlannedRole): string[] {
  if (plan.platform !== AgentPlatform.KUBERNETES) return [];
  const dns = plan.kubernetes.nodeLocalDnsIp === undefined || role.dnsReason === undefined ? [] : ["UDP", "TCP"].map((protocol) => `${plan.kubernetes.nodeLocalDnsIp}/32 :53/${protocol}`);
  return [...role.egressCidrs.flatMap((c) => c.ports.map((port) => `${c.cidr} :${port}/TCP`)), ...dns];
}

/**
 * Other workloads the role's agents reach: none, since agents resolve no names (they reach the
 * proxy and the gateway by address); the cluster DNS on Kubernetes only for a role that opted in
 * (`network.dnsReason`).
 */
export const expectedPeers = (plan: FirewallPlan, role: PlannedRole): string[] =>
  (plan.platform === AgentPlatform.KUBERNETES && role.dnsReason !== undefined ? ["cluster DNS (kube-system/kube-dns) 53/UDP,53/TCP"] : []);

/** Kubernetes: who may connect to agent pods, from `kubernetes.ingress`. */
export function expectedIngress(plan: FirewallPlan): string[] {
  const ingress = plan.kubernetes.ingress;
  if (ingress === undefined) return [];
  return [`from namespaces {${labelsText(Object.fromEntries(ingress.namespaceLabels))}} :${ingress.port}/TCP`];
}

/** The role the gateway takes the role's agents for: their own. */
export const expectedGatewayIdentities = (plan: FirewallPlan, role: PlannedRole): string[] => (plan.gateway === undefined ? [] : [`role ${role.name}`]);

/** Tools at the gateway: the role's access above DENY. */
export const expectedGatewayTools = (role: PlannedRole): string[] => role.access.filter((a) => a.access !== ToolAccess.DENY).map((a) => `${a.tool}:${a.access}`);

/** Key paths: `read` on the data path of each key the role's agents hold. */
export function expectedRoleKeyPaths(plan: FirewallPlan, role: PlannedRole): string[] {
  return role.keyGrants.flatMap((tool) => {
    const secret = plan.tools.find((t) => t.name === tool)?.key?.secretName;
    return secret === undefined ? [] : [`read ${vaultSecretDataPath(plan.vault.mountPath, secret)}`];
  });
}

/** Key paths of the gateway: the keys in its custody, its Redis login and the webhooks read from Vault. */
export function expectedGatewayKeyPaths(plan: FirewallPlan): string[] {
  const gateway = plan.gateway;
  if (gateway === undefined) return [];
  const secrets = [...gateway.custodyTools.flatMap((tool) => plan.tools.find((t) => t.name === tool)?.key?.secretName ?? []), ...gatewayVaultSecrets(gateway)];
  return secrets.map((secret) => `read ${vaultSecretDataPath(plan.vault.mountPath, secret)}`);
}

/** Key paths of proxy-events (Docker): the webhooks read from Vault, nothing else. */
export function expectedProxyEventsKeyPaths(plan: FirewallPlan): string[] {
  if (plan.platform !== AgentPlatform.DOCKER) return [];
  return vaultWebhookSecrets(plan.monitoring.webhooks).map((hook) => `read ${vaultSecretDataPath(plan.vault.mountPath, hook.secretName)}`);
}

/** Who may log in as the role: its Docker subnet, or its Kubernetes ServiceAccount. */
export function expectedLoginBindings(plan: FirewallPlan, role: PlannedRole): string[] {
  if (plan.platform === AgentPlatform.DOCKER) return role.docker ? [`cidr ${role.docker.subnet}`] : [];
  return [`serviceaccount ${plan.namespace}/${role.serviceAccountName}`];
}

/** What an agent's hook lets through: each agent tool of a tool the role holds, with the access it needs. */
export function expectedHookMappings(spec: FirewallSpec, role: PlannedRole, runtime: "openclaw" | "hermes"): string[] {
  return agentToolGrants(spec, role, runtime).filter((g) => g.allowed).map((g) => mappingText(g.agentTool, g.tool, g.access));
}

const ACCESS_RANK: Record<string, number> = { DENY: 0, READ: 1, WRITE: 2, EXECUTE: 3 };

/** `web_search:READ` is covered by `web_search:WRITE`. */
export function toolAccessCovers(expected: string, granted: string): boolean {
  const [et, ea] = expected.split(":");
  const [gt, ga] = granted.split(":");
  return et === gt && ga in ACCESS_RANK && accessAllows(ea as ToolAccess, ga as ToolAccess);
}

/** A hook asking for more access than the tool needs is stricter: `x → t:WRITE` covers `x → t:READ`. */
export function hookMappingCovers(expected: string, granted: string): boolean {
  const split = (text: string) => /^(.*) → (.*):([A-Z]+)$/.exec(text);
  const e = split(expected);
  const g = split(granted);
  return e !== null && g !== null && e[1] === g[1] && e[2] === g[2] && (ACCESS_RANK[g[3]] ?? -1) >= (ACCESS_RANK[e[3]] ?? 99);
}

/** Host patterns: the expected pattern allows every host of the granted one. */
export function hostCovers(expected: string, granted: string): boolean {
  const e = parseHostPattern(expected);
  const g = parseHostPattern(granted);
  return typeof e !== "string" && typeof g !== "string" && covers(e, g);
}

function within(inner: Network, outer: Network): boolean {
  if (inner.version !== outer.version || inner.prefix < outer.prefix) return false;
  const bits = BigInt(outer.version === 4 ? 32 : 128);
  const shift = bits - BigInt(outer.prefix);
  return inner.base >> shift === outer.base >> shift;
}

/** `10.1.0.0/16 :5432/TCP` is covered by `10.0.0.0/8 :5432/TCP`; `cidr 10.0.1.0/24` by `cidr 10.0.0.0/16`. */
export function rangeCovers(expected: string, granted: string): boolean {
  if (expected === granted) return true;
  const e = /^(cidr )?(\S+)( .*)?$/.exec(expected);
  const g = /^(cidr )?(\S+)( .*)?$/.exec(granted);
  if (e === null || g === null || e[1] !== g[1] || e[3] !== g[3]) return false;
  const outer = parseCidr(e[2]);
  const inner = parseCidr(g[2]);
  return typeof outer !== "string" && typeof inner !== "string" && within(inner, outer);
}
