/**
 * `rapidclaw verify`'s core: reads a synthesized stack's artifacts, derives what each role can do
 * at each layer, and compares it with the firewall description. Pure: no files, no cdktf.
 */
import { hostPatternText } from "../model/hosts";
import { AgentPlatform, type FirewallSpecProps } from "../model/types";
import { FirewallSpec, planOf } from "../plan/firewall-spec";
import type { FirewallPlan, PlannedRole } from "../plan/plan";
import { SQUID_GATEWAY_PORT_NAME } from "../render/squid-conf";
import { readAgentHooks, type AgentHooks } from "./agent-hooks-reader";
import { cannotExpress } from "./cannot-express";
import { readDockerReach } from "./docker-reader";
import {
  expectedDirectEgress, expectedGatewayIdentities, expectedIngress, expectedGatewayKeyPaths, expectedProxyEventsKeyPaths, expectedGatewayTools, expectedHookMappings, expectedLoginBindings,
  expectedPeers, expectedProxyHosts, expectedProxyPorts, expectedRoleKeyPaths, hookMappingCovers, hostCovers, rangeCovers, toolAccessCovers,
} from "./expected-grants";
import { compareGrants, LayerStatus, type Grant, type LayerCheck } from "./findings";
import { readGatewayFile, type GatewayFile } from "./gateway-file-reader";
import { readKubernetesReach } from "./kubernetes-reader";
import type { ReachedListener, RoleReach } from "./role-reach";
import { parseSquidConf, type SquidConfig, type SquidListener } from "./squid-conf-reader";
import { TerraformDocument } from "./terraform-document";
import { checkToolRules } from "./tool-rules";
import { readVaultLogins, type VaultLogin } from "./vault-reader";

/** The result of verifying one stack. */
export interface VerifyReport {
  readonly platform: AgentPlatform;
  /** Where the description came from: the `--config` file, or the gateway's firewall file in the artifacts. */
  readonly description: string;
  readonly checks: LayerCheck[];
  /** Rules a layer cannot express (enforced by another). */
  readonly cannotExpress: string[];
  /** What was not read, and why. */
  readonly notes: string[];
}

/** A stack that cannot be verified (no description, no recognisable artifacts). */
export class VerifyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "VerifyError";
  }
}

/** Number of checks that found a layer wider than the description. */
export const widerCount = (report: VerifyReport) => report.checks.filter((c) => c.status === LayerStatus.WIDER).length;

/**
 * Verifies a stack's Terraform JSON against `description`, or against the description the stack
 * ships to its gateway when none is given (then the gateway file itself is taken as true).
 */
export function verifyArtifacts(json: Record<string, any>, description?: { readonly props: FirewallSpecProps; readonly source: string }): VerifyReport {
  const doc = new TerraformDocument(json);
  const gatewayFile = readGatewayFile(doc);
  const notes: string[] = [];
  const wanted = description ?? (gatewayFile && { props: gatewayFile.props, source: `${gatewayFile.where} (embedded: a change to that file itself is not seen; pass --config to check it too)` });
  if (wanted === undefined) throw new VerifyError("the stack ships no gateway firewall file to take the description from; pass the firewall description with --config");
  const spec = FirewallSpec.fromProps(wanted.props);
  const plan = planOf(spec);
  const providers = Object.keys(json.provider ?? {});
  if (!providers.includes(plan.platform)) throw new VerifyError(`the description is for platform ${plan.platform} but the stack has no ${plan.platform} provider (it has ${providers.join(", ") || "none"}); pass the description this stack was synthesized from`);
  const squidFile = doc.files().find((f) => /(^|\/)squid\.conf$/.test(f.path));
  const squid = squidFile ? parseSquidConf(squidFile.content, { audit: plan.proxy.audit }) : undefined;
  if (!squid) notes.push("no squid.conf in the stack: proxy hosts are not checked");
  if (squid && plan.proxy.audit) notes.push("the proxy is in audit mode (proxy.enforcement audit): its would_block rules let every role reach hosts outside its allowlist on port 443; the enforced rules are checked");
  const roleNames = plan.roles.map((r) => r.resourceName);
  const reach = plan.platform === AgentPlatform.DOCKER
    ? readDockerReach(doc, roleNames, squid?.listeners ?? [], gatewayFile)
    : readKubernetesReach(doc, roleNames, squid?.listeners ?? [], gatewayFile);
  const logins = readVaultLogins(doc);
  const hooks = readAgentHooks(doc);
  const checks: LayerCheck[] = [];
  for (const role of plan.roles) {
    const roleReach = reach.get(role.resourceName) as RoleReach;
    checks.push(...networkChecks(plan, role, roleReach, squid, squidFile?.where ?? ""));
    if (plan.gateway !== undefined && gatewayFile !== undefined) checks.push(gatewayToolsCheck(role, roleReach, gatewayFile));
    checks.push(...keyChecks(plan, role, logins.find((l) => l.roleName === role.policyName)));
    checks.push(...hookChecks(spec, role, hooks.filter((h) => h.role === role.resourceName)));
  }
  checks.push(...gatewayPrincipalChecks(plan, squid, squidFile?.where ?? "", logins));
  if (gatewayFile !== undefined && description !== undefined) {
    checks.push(checkToolRules(description.props, gatewayFile));
  }
  const events = plan.proxyEvents;
  const eventsLogin = events === undefined ? undefined : logins.find((l) => l.roleName === events.name);
  const eventsPaths = expectedProxyEventsKeyPaths(plan);
  if (eventsPaths.length > 0 || eventsLogin !== undefined) checks.push(compareGrants("(proxy-events)", "keys", "key paths", eventsPaths, eventsLogin?.grants ?? []));
  const known = new Set([...plan.roles.map((r) => r.policyName), ...(plan.gateway ? [plan.gateway.name] : []), ...(eventsLogin ? [eventsLogin.roleName] : [])]);
  for (const login of logins.filter((l) => !known.has(l.roleName))) notes.push(`Vault login ${login.roleName} (${login.resource.address}) belongs to no role of the description: not checked`);
  for (const [name, output] of Object.entries((json.output ?? {}) as Record<string, { value?: unknown }>)) {
    if (name.endsWith("_apply_script") && typeof output.value === "string") notes.push(`host firewall script in output ${name}: its rules name VM users, not roles of the description, so it is not compared`);
  }
  if (plan.platform === AgentPlatform.KUBERNETES) notes.push("the gateway's NetworkPolicy is not checked (its upstreams' hosts are, at the proxy's gateway listener)");
  return { platform: plan.platform, description: wanted.source, checks, cannotExpress: cannotExpress(plan, wanted.props), notes };
}

function proxyGrants(squid: SquidConfig | undefined, where: string, reached: ReadonlyArray<ReachedListener<SquidListener>>) {
  const hosts: Grant[] = [];
  const ports: Grant[] = [];
  for (const { listener, via } of reached) {
    for (const allowance of squid?.allowances(listener) ?? []) {
      const rule = `${allowance.rule} (listener ${listener.name}, reached ${via})`;
      if (allowance.hosts === "any") hosts.push({ item: "any host", artifact: where, rule });
      else hosts.push(...allowance.hosts.map((h) => ({ item: hostPatternText(h), artifact: where, rule })));
      hosts.push(...allowance.otherDestinations.map((item) => ({ item, artifact: where, rule })));
      ports.push(...allowance.ports.map((item) => ({ item, artifact: where, rule })));
    }
  }
  return { hosts, ports };
}

function networkChecks(plan: FirewallPlan, role: PlannedRole, reach: RoleReach, squid: SquidConfig | undefined, where: string): LayerCheck[] {
  const { hosts, ports } = proxyGrants(squid, where, reach.proxyListeners);
  return [
    compareGrants(role.name, "network", "proxy hosts", expectedProxyHosts(role), hosts, hostCovers),
    compareGrants(role.name, "network", "proxy ports", expectedProxyPorts(plan), ports),
    compareGrants(role.name, "network", "direct egress", expectedDirectEgress(plan, role), reach.direct, rangeCovers),
    compareGrants(role.name, "network", "peers", expectedPeers(plan, role), reach.peers),
    compareGrants(role.name, "network", "gateway identity", expectedGatewayIdentities(plan, role), reach.gatewayListeners
      .filter((l) => l.identity !== undefined)
      .map((l) => ({ item: `role ${l.identity}`, artifact: l.artifact, rule: `${l.rule} (reached ${l.via})` }))),
    ...(reach.ingress === undefined ? [] : [compareGrants(role.name, "network", "ingress", expectedIngress(plan), reach.ingress)]),
  ];
}

function gatewayToolsCheck(role: PlannedRole, reach: RoleReach, file: GatewayFile): LayerCheck {
  const grants = reach.gatewayListeners.flatMap((l): Grant[] => {
    if (l.identity === undefined) return [];
    const tools = file.props.roles?.[l.identity]?.tools ?? {};
    return Object.entries(tools).filter(([, access]) => access !== "DENY").map(([tool, access]) => ({ item: `${tool}:${access}`, artifact: l.artifact, rule: `roles.${l.identity}.tools.${tool} (listener reached ${l.via})` }));
  });
  return compareGrants(role.name, "gateway", "tools", expectedGatewayTools(role), grants, toolAccessCovers);
}

function keyChecks(plan: FirewallPlan, role: PlannedRole, login: VaultLogin | undefined): LayerCheck[] {
  return [
    compareGrants(role.name, "keys", "key paths", expectedRoleKeyPaths(plan, role), login?.grants ?? []),
    ...(login === undefined ? [] : [compareGrants(role.name, "keys", "login binding", expectedLoginBindings(plan, role), login.bindings, rangeCovers)]),
  ];
}

function hookChecks(spec: FirewallSpec, role: PlannedRole, hooks: ReadonlyArray<AgentHooks>): LayerCheck[] {
  return (["openclaw", "hermes"] as const).flatMap((runtime) => {
    const mine = hooks.filter((h) => h.runtime === runtime);
    if (mine.length === 0) return [];
    const grants = mine.flatMap((h) => [...h.mappings, ...h.bypasses]);
    return [compareGrants(role.name, "hooks", `${runtime} hook`, expectedHookMappings(spec, role, runtime), grants, hookMappingCovers)];
  });
}

function gatewayPrincipalChecks(plan: FirewallPlan, squid: SquidConfig | undefined, where: string, logins: VaultLogin[]): LayerCheck[] {
  const gateway = plan.gateway;
  if (gateway === undefined) return [];
  const checks: LayerCheck[] = [];
  const listeners = squid?.listeners.filter((l) => l.name === SQUID_GATEWAY_PORT_NAME) ?? [];
  // The gateway's way out on both platforms: its own listener of the proxy.
  const via = plan.platform === AgentPlatform.DOCKER ? "the gateway's egress network" : "the proxy Service's gateway port";
  const { hosts } = proxyGrants(squid, where, listeners.map((listener) => ({ listener, via })));
  checks.push(compareGrants("(gateway)", "network", "proxy hosts", gateway.upstreamHosts, hosts, hostCovers));
  const login = logins.find((l) => l.roleName === gateway.name);
  if (gateway.readsVault || login !== undefined) checks.push(compareGrants("(gateway)", "keys", "key paths", expectedGatewayKeyPaths(plan), login?.grants ?? []));
  return checks;
}
