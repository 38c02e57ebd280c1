import { ipv4ToText, type Network } from "../model/addresses";
import { assignRoleSlots } from "../model/role-slots";
import { recordedAllocations } from "../model/validate-allocations";
import { DEFAULTS } from "../model/defaults";
import { assignRoleSubnets, roleSubnetLayout } from "../model/docker-subnets";
import { parseFirewallSpec, type FirewallModel } from "../model/firewall-model";
import { hostPatternText, normaliseHostPatterns, type HostPattern } from "../model/hosts";
import { AgentPlatform, type AgentRuntime, Enforcement, KeyDelivery, KeyMode, ToolAccess, type AlertWebhookProps, type FirewallSpecProps, type RoleAllocation } from "../model/types";
import { agentWorkloadName, proxyName, resourceName, scopedName } from "../model/names";
import { FORBIDDEN_DESTINATIONS } from "../model/forbidden-destinations";
import { byString } from "../model/order";
import { keyDeliveryOf, planGateway, type PlannedGateway } from "./gateway-plan";
import { planProxyEvents, type PlannedProxyEvents } from "./proxy-events-plan";
import { roleUids } from "./role-uids";

/** Label keys every generated workload carries; policies select on them. */
export const LABELS = {
  component: "rapidclaw.dev/component",
  role: "rapidclaw.dev/role",
  agent: "rapidclaw.dev/agent",
  managedBy: "app.kubernetes.io/managed-by",
  /** Marks a Kubernetes namespace the firewall created (value `"true"`). */
  firewall: "rapidclaw.dev/firewall",
  /** The firewall's name, on its workloads and in its selectors, under any name but the default. */
  firewallName: "rapidclaw.dev/firewall-name",
} as const;

export interface PlannedRateLimit {
  readonly maxCalls: number;
  readonly windowSec: number;
  /** Calls per minute, rounded down (at least 1), for readers that expect a per-minute `max_rpm`. */
  readonly maxRpm: number;
}

export interface PlannedTool {
  readonly name: string;
  readonly resourceName: string;
  readonly permissions: string[];
  /** Every permission scope ends in `:read`. */
  readonly readOnly: boolean;
  readonly rateLimit?: PlannedRateLimit;
  readonly key?: {
    readonly rotationHours: number;
    readonly length: number;
    readonly secretName: string;
    /** Who reads the key: the gateway alone, or the agents of the roles that may use the tool. */
    readonly delivery: KeyDelivery;
  };
  /** Where the gateway forwards the tool's calls, as written. */
  readonly upstream?: string;
}

export interface PlannedCidr {
  readonly cidr: string;
  readonly version: 4 | 6;
  readonly ports: number[];
}

export interface PlannedRole {
  readonly name: string;
  readonly resourceName: string;
  /** Access per tool, every tool of the fleet, in tool-name order (unlisted tools are DENY). */
  readonly access: ReadonlyArray<{ readonly tool: string; readonly access: ToolAccess }>;
  readonly limits: { readonly maxTokensPerTask?: number; readonly maxToolCallsPerTask?: number; readonly maxConcurrentTasks?: number };
  readonly allowEgress: boolean;
  /** The role's own host patterns (normal text, sorted), empty unless `allowEgress`. */
  readonly allowedHosts: string[];
  /** What the proxy allows this role: model hosts plus `allowedHosts`, overlaps removed, sorted. */
  readonly proxyAllowlist: HostPattern[];
  readonly egressCidrs: PlannedCidr[];
  /** Why the role's agents may query DNS (`network.dnsReason`); undefined: they resolve nothing. */
  readonly dnsReason?: string;
  readonly allowFileSystem: boolean;
  /** Kubernetes: the role's own proxy port, `proxy.port + slot`. Docker: the proxy port, on the role's own proxy address. */
  readonly proxyPort: number;
  /** Kubernetes: the role's port offset (recorded in `allocations`, else the lowest free one); 0 on Docker. */
  readonly slot: number;
  /** Tools whose key the role's agents read: access above DENY and a key delivered to agents (`KeyDelivery.AGENT`). */
  readonly keyGrants: string[];
  /** Docker: the role's own network, by which the proxy recognises the role. */
  readonly docker?: PlannedRoleNetwork;
  /** Name of the role's Vault policy and of its Vault login role, `<firewall>-<role>`. */
  readonly policyName: string;
  /** Kubernetes: the ServiceAccount the role's agents run as (the Vault binding's subject). */
  readonly serviceAccountName: string;
  /** Kubernetes: the ConfigMap of the role's agent files. */
  readonly filesConfigMapName: string;
  /** Kubernetes: the NetworkPolicy of the role's egress, `<firewall>-role-<role>-egress`. */
  readonly egressPolicyName: string;
}

/** Docker: one role's `internal` network, holding only the role's agents and the proxy. */
export interface PlannedRoleNetwork {
  /** Docker network name, `<firewall>-agents-<role>`. */
  readonly networkName: string;
  /** Linux name of the bridge (`rclaw-` and the subnet's address in hex): host rules match `rclaw-+`. */
  readonly bridgeName: string;
  readonly subnet: string;
  /** Reserved by the engine's IPAM; not assigned to the bridge. */
  readonly gateway: string;
  /** Where the proxy listens for this role and nowhere else. */
  readonly proxyAddress: string;
  /** Where the tool gateway listens for this role, when one is deployed (reserved either way). */
  readonly toolGatewayAddress: string;
  /** The upper half of the subnet, from which the engine addresses agents. */
  readonly ipRange: string;
}

export interface PlannedAgent {
  readonly name: string;
  readonly resourceName: string;
  /** Name of the agent's container (Docker) or Deployment (Kubernetes). */
  readonly workloadName: string;
  readonly image: string;
  readonly role: string;
  readonly memoryMiB: number;
  readonly cpus: number;
  readonly replicas: number;
  /** Docker: the pinned address on the role's network, if the agent has one. */
  readonly ipv4Address?: string;
  /** Docker: the user the container runs as: the agent's `user`, else its role's own uid (`roleUids`). */
  readonly user: string;
  /** Docker: the container's process limit. */
  readonly processLimit: number;
  /** Sorted by name. */
  readonly env: ReadonlyArray<readonly [string, string]>;
  /** The agent program whose configuration is mounted, if any. */
  readonly runtime?: AgentRuntime;
}

export interface PlannedThreshold {
  readonly count: number;
  readonly windowSec: number;
  readonly severity: string;
}

/**
 * Names of the firewall's own objects outside Terraform, all derived from its `name` (names of
 * per-role and per-agent objects are on the role and the agent).
 */
export interface PlannedNames {
  /** The firewall's name. */
  readonly firewall: string;
  /** The proxy: Docker container; Kubernetes Deployment, Service, PodDisruptionBudget and NetworkPolicy. */
  readonly proxy: string;
  /** Kubernetes: the ConfigMap holding squid.conf. */
  readonly proxyConfigMap: string;
  /** Docker: the proxy's egress network. */
  readonly egressNetwork: string;
  /** Kubernetes: the NetworkPolicies over every agent pod. */
  readonly agentsDefaultDenyPolicy: string;
  readonly agentsIngressPolicy: string;
  /** Kubernetes: the PrometheusRule, also named after the namespace. */
  readonly alertRules: string;
}

/** Everything the renderers and constructs need, resolved, defaulted and in a stable order. */
export interface FirewallPlan {
  readonly platform: AgentPlatform;
  readonly names: PlannedNames;
  readonly namespace: string;
  readonly modelHosts: HostPattern[];
  readonly tools: PlannedTool[];
  readonly roles: PlannedRole[];
  readonly agents: PlannedAgent[];
  readonly proxy: {
    /** `proxy.image`; undefined: Docker builds `images/egress-proxy` (Kubernetes requires one, `proxyImageProblems`). */
    readonly image?: string;
    readonly port: number;
    readonly allowPlainHttp: boolean;
    /** Shadow mode: hosts outside a role's allowlist pass, logged `would_block`. */
    readonly audit: boolean;
    /** Hosts agents reach directly (NO_PROXY), lower case, sorted, without duplicates. */
    readonly noProxy: string[];
    readonly replicas: number;
    /** Every range the proxy refuses: the special-purpose blocks, then `proxy.forbiddenCidrs` (canonical, new ones only). */
    readonly forbiddenCidrs: string[];
    readonly maxConnectionsPerClient: number;
    readonly requestStartTimeoutSec: number;
    /** Docker: limits of the proxy container. */
    readonly memoryMiB: number;
    readonly cpus: number;
    readonly processLimit: number;
  };
  /** Docker: the pool role subnets come from, the proxy's egress subnet, resolvers. Role networks are on each role. */
  readonly docker: { readonly subnet: string; readonly egressSubnet: string; readonly dnsServers: string[] };
  readonly kubernetes: {
    /** Adopt the namespace instead of creating it. */
    readonly existingNamespace: boolean;
    readonly nodeLocalDnsIp?: string;
    readonly ingress?: { readonly namespaceLabels: ReadonlyArray<readonly [string, string]>; readonly port: number };
  };
  readonly vault: {
    readonly mountPath: string;
    readonly keyMode: KeyMode;
    readonly authPath: string;
    /** Reuse the auth backend at `authPath` instead of creating it. */
    readonly existingAuthMount: boolean;
    readonly kubernetesHost: string;
    readonly tokenTtlSeconds: number;
    /** Vault's URL for the gateway's Vault Agent. */
    readonly address?: string;
  };
  readonly monitoring: PlannedMonitoring;
  /** The deployed tool gateway; undefined when no tool has an upstream and `gateway` is unset. */
  readonly gateway?: PlannedGateway;
  /** `rapidclaw proxy-events` beside the proxy (Docker: a container; Kubernetes: a sidecar of each proxy replica), feeding `network_blocked` into the alert windows. */
  readonly proxyEvents?: PlannedProxyEvents;
  /** What is handed out to each role (Kubernetes slots, Docker subnets), with the recorded entries of removed roles: the record to keep for the next synthesis. */
  readonly allocations: { readonly [roleName: string]: RoleAllocation };
}

/** Alert thresholds per event kind, and where alerts go (in the order given). */
export interface PlannedMonitoring {
  readonly rateLimited: PlannedThreshold;
  readonly permissionDenied: PlannedThreshold;
  readonly networkBlocked: PlannedThreshold;
  /** Set when some tool has a token budget. */
  readonly tokenBudgetExceeded?: PlannedThreshold;
  readonly webhooks: ReadonlyArray<AlertWebhookProps>;
}


/**
 * Validates a firewall description and compiles it into a plan. Pure: no cdktf, no I/O. Throws
 * FirewallSpecError listing every problem when the description is invalid.
 */
export function compileFirewall(input: unknown, source?: string): FirewallPlan {
  const model = parseFirewallSpec(input, source);
  const spec = model.props;
  const platform = spec.platform;
  const firewallName = model.name;
  const namespace = spec.namespace ?? DEFAULTS.namespace;
  const toolNames = Object.keys(spec.tools).sort(byString);
  const roleNames = Object.keys(spec.roles).sort(byString);
  const proxyPort = spec.proxy?.port ?? DEFAULTS.proxyPort;
  const modelHosts = normaliseHostPatterns(model.modelHosts);

  const tools: PlannedTool[] = toolNames.map((name) => {
    const tool = spec.tools[name];
    const permissions = [...(tool.permissions ?? [])].sort(byString);
    const rn = resourceName(name);
    return {
      name,
      resourceName: rn,
      permissions,
      readOnly: permissions.length > 0 && permissions.every((p) => p.endsWith(":read")),
      rateLimit: tool.rateLimit && {
        maxCalls: tool.rateLimit.maxCalls,
        windowSec: tool.rateLimit.windowSec,
        maxRpm: Math.max(1, Math.floor((tool.rateLimit.maxCalls * 60) / tool.rateLimit.windowSec)),
      },
      key: tool.key && {
        rotationHours: tool.key.rotationHours ?? DEFAULTS.rotationHours,
        length: tool.key.length ?? DEFAULTS.keyLength,
        secretName: `tools/${rn}`,
        delivery: keyDeliveryOf(tool.key, tool.upstream),
      },
      upstream: tool.upstream,
    };
  });
  const toolByName = new Map(tools.map((t) => [t.name, t]));

  const recorded = recordedAllocations(spec.allocations);
  const roleNetworks = platform === AgentPlatform.DOCKER ? planRoleNetworks(model, roleNames, recorded.subnets) : new Map<string, PlannedRoleNetwork>();
  const slots = platform === AgentPlatform.KUBERNETES ? assignRoleSlots(roleNames, recorded.slots).slots : new Map<string, number>();
  const agents = planAgents(model, roleUids(firewallName, roleNames));

  const roles: PlannedRole[] = roleNames.map((name) => {
    const slot = slots.get(name) ?? 0;
    const role = spec.roles[name];
    const allowEgress = role.network?.allowEgress ?? DEFAULTS.allowEgress;
    const parsedNetwork = model.roleNetworks.get(name);
    const own = normaliseHostPatterns(parsedNetwork?.allowedHosts ?? []);
    const access = toolNames.map((tool) => ({ tool, access: role.tools?.[tool] ?? ToolAccess.DENY }));
    const rn = resourceName(name);
    return {
      name,
      resourceName: rn,
      access,
      limits: { ...role.limits },
      allowEgress,
      allowedHosts: own.map(hostPatternText),
      proxyAllowlist: normaliseHostPatterns([...modelHosts, ...own]),
      egressCidrs: (parsedNetwork?.egressCidrs ?? [])
        .map(({ network, ports }) => ({ cidr: network.text, version: network.version, ports: [...new Set(ports)].sort((a, b) => a - b) }))
        // By CIDR, then by ports: two entries for one CIDR must not keep the order they were written in.
        .sort((a, b) => byString(a.cidr, b.cidr) || byString(a.ports.join(","), b.ports.join(","))),
      dnsReason: role.network?.dnsReason?.trim(),
      allowFileSystem: role.allowFileSystem ?? DEFAULTS.allowFileSystem,
      proxyPort: proxyPort + slot,
      slot,
      keyGrants: access.filter((a) => a.access !== ToolAccess.DENY && toolByName.get(a.tool)?.key?.delivery === KeyDelivery.AGENT).map((a) => a.tool),
      docker: roleNetworks.get(name),
      policyName: `${firewallName}-${rn}`,
      serviceAccountName: scopedName(firewallName, `${rn}-agent`),
      filesConfigMapName: scopedName(firewallName, `${rn}-agent-files`),
      egressPolicyName: `${firewallName}-role-${rn}-egress`,
    };
  });

  const mon = spec.monitoring ?? {};
  const plan: Omit<FirewallPlan, "proxyEvents"> = {
    platform,
    names: {
      firewall: firewallName,
      proxy: proxyName(firewallName),
      proxyConfigMap: `${proxyName(firewallName)}-squid-conf`,
      egressNetwork: `${firewallName}-egress`,
      agentsDefaultDenyPolicy: `${firewallName}-agents-default-deny`,
      agentsIngressPolicy: `${firewallName}-agents-ingress`,
      alertRules: `${firewallName}-alerts-${namespace}`,
    },
    namespace,
    modelHosts,
    tools,
    roles,
    agents,
    proxy: {
      image: spec.proxy?.image,
      port: proxyPort,
      allowPlainHttp: spec.proxy?.allowPlainHttp ?? DEFAULTS.allowPlainHttp,
      audit: (spec.proxy?.enforcement ?? DEFAULTS.enforcement) === Enforcement.AUDIT,
      noProxy: [...new Set((spec.proxy?.noProxy ?? []).map((h) => h.toLowerCase().replace(/\.$/, "")))].sort(byString),
      replicas: spec.proxy?.replicas ?? DEFAULTS.proxyReplicas,
      forbiddenCidrs: [...new Set([...FORBIDDEN_DESTINATIONS, ...model.forbiddenCidrs.map((c) => c.text).sort(byString)])],
      maxConnectionsPerClient: spec.proxy?.maxConnectionsPerClient ?? DEFAULTS.maxConnectionsPerClient,
      requestStartTimeoutSec: spec.proxy?.requestStartTimeoutSec ?? DEFAULTS.requestStartTimeoutSec,
      memoryMiB: model.proxyMemoryMiB,
      cpus: spec.proxy?.cpus ?? DEFAULTS.proxyCpus,
      processLimit: spec.proxy?.processLimit ?? DEFAULTS.proxyProcessLimit,
    },
    docker: {
      subnet: model.docker.pool.text,
      egressSubnet: model.docker.egressSubnet.text,
      dnsServers: [...(spec.docker?.dnsServers ?? [])],
    },
    kubernetes: {
      existingNamespace: spec.kubernetes?.existingNamespace ?? DEFAULTS.existingNamespace,
      nodeLocalDnsIp: spec.kubernetes?.nodeLocalDnsIp,
      ingress: spec.kubernetes?.ingress && {
        namespaceLabels: Object.entries(spec.kubernetes.ingress.namespaceLabels).sort(([a], [b]) => byString(a, b)),
        port: spec.kubernetes.ingress.port,
      },
    },
    vault: {
      mountPath: spec.vault?.mountPath ?? scopedName(firewallName, DEFAULTS.mountPath),
      keyMode: spec.vault?.keyMode ?? DEFAULTS.keyMode,
      authPath: spec.vault?.authPath ?? scopedName(firewallName, DEFAULTS.authPath[platform]),
      existingAuthMount: spec.vault?.existingAuthMount ?? DEFAULTS.existingAuthMount,
      kubernetesHost: spec.vault?.kubernetesHost ?? DEFAULTS.kubernetesHost,
      tokenTtlSeconds: spec.vault?.tokenTtlSeconds ?? DEFAULTS.tokenTtlSeconds,
      address: spec.vault?.address,
    },
    monitoring: {
      rateLimited: mon.rateLimited ?? DEFAULTS.monitoring.rateLimited,
      permissionDenied: mon.permissionDenied ?? DEFAULTS.monitoring.permissionDenied,
      networkBlocked: mon.networkBlocked ?? DEFAULTS.monitoring.networkBlocked,
      tokenBudgetExceeded: Object.values(spec.tools).some((tool) => tool.tokenLimit !== undefined) ? mon.tokenBudgetExceeded ?? DEFAULTS.monitoring.tokenBudgetExceeded : undefined,
      webhooks: mon.webhooks ?? [],
    },
    allocations: allocationRecord(spec.allocations, roles),
  };
  const gateway = planGateway(plan, model);
  return { ...plan, gateway, proxyEvents: planProxyEvents(plan, model, gateway) };
}

/** The record after this synthesis: every recorded entry (removed roles' too), each role's allocation in its place, sorted by role. */
function allocationRecord(recorded: FirewallSpecProps["allocations"], roles: ReadonlyArray<PlannedRole>): { [roleName: string]: RoleAllocation } {
  const record: { [roleName: string]: RoleAllocation } = { ...recorded };
  for (const role of roles) record[role.name] = role.docker === undefined ? { slot: role.slot } : { subnet: role.docker.subnet };
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => byString(a, b)));
}

/** Docker: each role's network in its own subnet (see `assignRoleSubnets`: recorded, pinned, or hashed and probed). */
function planRoleNetworks(model: FirewallModel, roleNames: string[], recorded: ReadonlyMap<string, Network>): Map<string, PlannedRoleNetwork> {
  const firewallName = model.name;
  const { subnets } = assignRoleSubnets(roleNames, model.docker.pool, model.docker.roleSubnetPrefix, model.docker.roleSubnets, firewallName, recorded);
  return new Map(
    [...subnets].map(([role, subnet]) => {
      const layout = roleSubnetLayout(subnet);
      return [role, {
        networkName: `${firewallName}-agents-${resourceName(role)}`,
        bridgeName: `rclaw-${subnet.base.toString(16).padStart(8, "0")}`,
        subnet: subnet.text,
        gateway: ipv4ToText(layout.gateway),
        proxyAddress: ipv4ToText(layout.proxy),
        toolGatewayAddress: ipv4ToText(layout.toolGateway),
        ipRange: layout.dynamicRange.text,
      }];
    }),
  );
}

/** Agents in name order. Docker addresses are pinned or left to the engine: adding an agent never moves another. */
function planAgents(model: FirewallModel, uids: ReadonlyMap<string, number>): PlannedAgent[] {
  const sorted = [...model.agents].sort((a, b) => byString(a.props.name, b.props.name));
  return sorted.map(({ props: agent, memoryMiB, ipv4Address }) => ({
    name: agent.name,
    resourceName: resourceName(agent.name),
    workloadName: agentWorkloadName(model.name, agent.name),
    image: agent.image,
    role: agent.role,
    memoryMiB,
    cpus: agent.cpus ?? DEFAULTS.cpus,
    replicas: agent.replicas ?? DEFAULTS.replicas,
    ipv4Address: model.props.platform === AgentPlatform.DOCKER ? ipv4Address : undefined,
    user: agent.user ?? (model.props.platform === AgentPlatform.DOCKER ? `${uids.get(agent.role)}:${uids.get(agent.role)}` : DEFAULTS.agentUser),
    processLimit: agent.processLimit ?? DEFAULTS.agentProcessLimit,
    env: Object.entries(agent.env ?? {}).sort(([a], [b]) => byString(a, b)),
    runtime: agent.runtime,
  }));
}
