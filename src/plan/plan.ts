import { ipv4ToText, parseCidr, parseIpv4, type Network } from "../model/addresses";
import { assignRoleSubnets, DEFAULT_AGENT_SUBNET, DEFAULT_EGRESS_SUBNET, DEFAULT_ROLE_SUBNET_PREFIX, roleSubnetLayout } from "../model/docker-subnets";
import { hostPatternText, normaliseHostPatterns, parseHostPattern, type HostPattern } from "../model/hosts";
import { AgentPlatform, KeyMode, ToolAccess, type AlertWebhookProps, type FirewallSpecProps } from "../model/types";
import { memoryMiB, resourceName, validateFirewallSpec } from "../model/validate";
import { FORBIDDEN_DESTINATIONS } from "../model/forbidden-destinations";
import { byString } from "../model/order";

/** Label keys every generated workload carries; policies select on them. */
export const LABELS = {
  component: "rapidclaw.dev/component",
  role: "rapidclaw.dev/role",
  agent: "rapidclaw.dev/agent",
  managedBy: "app.kubernetes.io/managed-by",
  /** Marks a Kubernetes namespace the firewall created. */
  firewall: "rapidclaw.dev/firewall",
} as const;

export interface PlannedRateLimit {
  readonly maxCalls: number;
  readonly windowSec: number;
  /** Calls per minute, rounded down (at least 1), for readers that expect the seed's `max_rpm`. */
  readonly maxRpm: number;
}

export interface PlannedTool {
  readonly name: string;
  readonly resourceName: string;
  readonly permissions: string[];
  /** Every permission scope ends in `:read`. */
  readonly readOnly: boolean;
  readonly rateLimit?: PlannedRateLimit;
  readonly key?: { readonly rotationHours: number; readonly length: number; readonly secretName: string };
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
  readonly allowFileSystem: boolean;
  /** Kubernetes: the role's own proxy port. Docker: the proxy port, on the role's own proxy address. */
  readonly proxyPort: number;
  /** Tools whose key the role may read: access above DENY and a key. */
  readonly keyGrants: string[];
  /** Docker: the role's own network, by which the proxy recognises the role. */
  readonly docker?: PlannedRoleNetwork;
  /** Name of the role's Vault policy. */
  readonly policyName: string;
  /** Kubernetes: the ServiceAccount the role's agents run as (the Vault binding's subject). */
  readonly serviceAccountName: string;
}

/** Docker: one role's `internal` network, holding only the role's agents and the proxy. */
export interface PlannedRoleNetwork {
  /** Docker network name, `rapidclaw-agents-<role>`. */
  readonly networkName: string;
  /** Linux name of the bridge (`rclaw-` and the subnet's address in hex): host rules match `rclaw-+`. */
  readonly bridgeName: string;
  readonly subnet: string;
  /** Reserved by the engine's IPAM; not assigned to the bridge. */
  readonly gateway: string;
  /** Where the proxy listens for this role and nowhere else. */
  readonly proxyAddress: string;
  /** The upper half of the subnet, from which the engine addresses agents. */
  readonly ipRange: string;
}

export interface PlannedAgent {
  readonly name: string;
  readonly resourceName: string;
  readonly image: string;
  readonly role: string;
  readonly memoryMiB: number;
  readonly cpus: number;
  readonly replicas: number;
  /** Docker: the pinned address on the role's network, if the agent has one. */
  readonly ipv4Address?: string;
  /** Docker: the user the container runs as. */
  readonly user: string;
  /** Docker: the container's process limit. */
  readonly processLimit: number;
  /** Sorted by name. */
  readonly env: ReadonlyArray<readonly [string, string]>;
}

export interface PlannedThreshold {
  readonly count: number;
  readonly windowSec: number;
  readonly severity: string;
}

/** Everything the renderers and constructs need, resolved, defaulted and in a stable order. */
export interface FirewallPlan {
  readonly platform: AgentPlatform;
  readonly namespace: string;
  readonly modelHosts: HostPattern[];
  readonly tools: PlannedTool[];
  readonly roles: PlannedRole[];
  readonly agents: PlannedAgent[];
  readonly proxy: {
    readonly image: string;
    readonly port: number;
    readonly allowPlainHttp: boolean;
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
  readonly docker: { readonly subnet: string; readonly egressSubnet: string; readonly dnsServers: string[]; readonly egressNetworkName: string };
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
  };
  readonly monitoring: PlannedMonitoring;
}

/** Alert thresholds per event kind, and where alerts go (in the order given). */
export interface PlannedMonitoring {
  readonly rateLimited: PlannedThreshold;
  readonly permissionDenied: PlannedThreshold;
  readonly networkBlocked: PlannedThreshold;
  readonly webhooks: ReadonlyArray<AlertWebhookProps>;
}

export const DEFAULTS = {
  namespace: "ai-agents",
  proxyImage: "ubuntu/squid:6.6-24.04_edge",
  proxyPort: 3128,
  proxyReplicas: 2,
  maxConnectionsPerClient: 512,
  requestStartTimeoutSec: 60,
  memory: "1G",
  cpus: 1,
  /** Docker agents: never root unless asked; the uid Kubernetes agents run as too. */
  agentUser: "10001:10001",
  agentProcessLimit: 512,
  proxyMemory: "512M",
  proxyCpus: 1,
  proxyProcessLimit: 256,
  rotationHours: 24,
  keyLength: 48,
  mountPath: "agent-keys",
  kubernetesHost: "https://kubernetes.default.svc",
  tokenTtlSeconds: 900,
  monitoring: {
    rateLimited: { count: 10, windowSec: 300, severity: "warning" },
    permissionDenied: { count: 3, windowSec: 60, severity: "critical" },
    networkBlocked: { count: 5, windowSec: 300, severity: "critical" },
  },
} as const;

function hostPatterns(hosts: ReadonlyArray<string>): HostPattern[] {
  // Validation has already refused every pattern parseHostPattern rejects.
  return hosts.map((h) => parseHostPattern(h) as HostPattern);
}

/**
 * Validates a firewall description and compiles it into a plan. Pure: no cdktf, no I/O. Throws
 * FirewallSpecError listing every problem when the description is invalid.
 */
export function compileFirewall(input: unknown, source?: string): FirewallPlan {
  const spec = validateFirewallSpec(input, source);
  const platform = spec.platform;
  const toolNames = Object.keys(spec.tools).sort(byString);
  const roleNames = Object.keys(spec.roles).sort(byString);
  const proxyPort = spec.proxy?.port ?? DEFAULTS.proxyPort;
  const modelHosts = normaliseHostPatterns(hostPatterns(spec.modelHosts));

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
      },
    };
  });
  const toolByName = new Map(tools.map((t) => [t.name, t]));

  const pool = parseCidr(spec.docker?.subnet ?? DEFAULT_AGENT_SUBNET) as Network;
  const roleNetworks = platform === AgentPlatform.DOCKER ? planRoleNetworks(spec, roleNames, pool) : new Map<string, PlannedRoleNetwork>();
  const agents = planAgents(spec, platform);

  const roles: PlannedRole[] = roleNames.map((name, index) => {
    const role = spec.roles[name];
    const allowEgress = role.network?.allowEgress ?? false;
    const own = allowEgress ? normaliseHostPatterns(hostPatterns(role.network?.allowedHosts ?? [])) : [];
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
      egressCidrs: (role.network?.egressCidrs ?? [])
        .map((c) => {
          const network = parseCidr(c.cidr) as Network;
          return { cidr: network.text, version: network.version, ports: [...new Set(c.ports)].sort((a, b) => a - b) };
        })
        // By CIDR, then by ports: two entries for one CIDR must not keep the order they were written in.
        .sort((a, b) => byString(a.cidr, b.cidr) || byString(a.ports.join(","), b.ports.join(","))),
      allowFileSystem: role.allowFileSystem ?? false,
      proxyPort: platform === AgentPlatform.KUBERNETES ? proxyPort + index : proxyPort,
      keyGrants: access.filter((a) => a.access !== ToolAccess.DENY && toolByName.get(a.tool)?.key).map((a) => a.tool),
      docker: roleNetworks.get(name),
      policyName: `rapidclaw-${rn}`,
      serviceAccountName: `${rn}-agent`,
    };
  });

  const mon = spec.monitoring ?? {};
  return {
    platform,
    namespace: spec.namespace ?? DEFAULTS.namespace,
    modelHosts,
    tools,
    roles,
    agents,
    proxy: {
      image: spec.proxy?.image ?? DEFAULTS.proxyImage,
      port: proxyPort,
      allowPlainHttp: spec.proxy?.allowPlainHttp ?? false,
      noProxy: [...new Set((spec.proxy?.noProxy ?? []).map((h) => h.toLowerCase().replace(/\.$/, "")))].sort(byString),
      replicas: spec.proxy?.replicas ?? DEFAULTS.proxyReplicas,
      forbiddenCidrs: [...new Set([...FORBIDDEN_DESTINATIONS, ...(spec.proxy?.forbiddenCidrs ?? []).map((c) => (parseCidr(c) as Network).text).sort(byString)])],
      maxConnectionsPerClient: spec.proxy?.maxConnectionsPerClient ?? DEFAULTS.maxConnectionsPerClient,
      requestStartTimeoutSec: spec.proxy?.requestStartTimeoutSec ?? DEFAULTS.requestStartTimeoutSec,
      memoryMiB: memoryMiB(spec.proxy?.memory ?? DEFAULTS.proxyMemory) as number,
      cpus: spec.proxy?.cpus ?? DEFAULTS.proxyCpus,
      processLimit: spec.proxy?.processLimit ?? DEFAULTS.proxyProcessLimit,
    },
    docker: {
      subnet: pool.text,
      egressSubnet: (parseCidr(spec.docker?.egressSubnet ?? DEFAULT_EGRESS_SUBNET) as Network).text,
      egressNetworkName: "rapidclaw-egress",
      dnsServers: [...(spec.docker?.dnsServers ?? [])],
    },
    kubernetes: {
      existingNamespace: spec.kubernetes?.existingNamespace ?? false,
      nodeLocalDnsIp: spec.kubernetes?.nodeLocalDnsIp,
      ingress: spec.kubernetes?.ingress && {
        namespaceLabels: Object.entries(spec.kubernetes.ingress.namespaceLabels).sort(([a], [b]) => byString(a, b)),
        port: spec.kubernetes.ingress.port,
      },
    },
    vault: {
      mountPath: spec.vault?.mountPath ?? DEFAULTS.mountPath,
      keyMode: spec.vault?.keyMode ?? KeyMode.EPHEMERAL,
      authPath: spec.vault?.authPath ?? (platform === AgentPlatform.KUBERNETES ? "kubernetes" : "approle"),
      existingAuthMount: spec.vault?.existingAuthMount ?? false,
      kubernetesHost: spec.vault?.kubernetesHost ?? DEFAULTS.kubernetesHost,
      tokenTtlSeconds: spec.vault?.tokenTtlSeconds ?? DEFAULTS.tokenTtlSeconds,
    },
    monitoring: {
      rateLimited: mon.rateLimited ?? DEFAULTS.monitoring.rateLimited,
      permissionDenied: mon.permissionDenied ?? DEFAULTS.monitoring.permissionDenied,
      networkBlocked: mon.networkBlocked ?? DEFAULTS.monitoring.networkBlocked,
      webhooks: mon.webhooks ?? [],
    },
  };
}

/** Docker: each role's network in its own subnet (see `assignRoleSubnets`: stable per role name). */
function planRoleNetworks(spec: FirewallSpecProps, roleNames: string[], pool: Network): Map<string, PlannedRoleNetwork> {
  const pinned = new Map(Object.entries(spec.docker?.roleSubnets ?? {}).map(([role, text]) => [role, parseCidr(text) as Network]));
  const { subnets } = assignRoleSubnets(roleNames, pool, spec.docker?.roleSubnetPrefix ?? DEFAULT_ROLE_SUBNET_PREFIX, pinned);
  return new Map(
    [...subnets].map(([role, subnet]) => {
      const layout = roleSubnetLayout(subnet);
      return [role, {
        networkName: `rapidclaw-agents-${resourceName(role)}`,
        bridgeName: `rclaw-${subnet.base.toString(16).padStart(8, "0")}`,
        subnet: subnet.text,
        gateway: ipv4ToText(layout.gateway),
        proxyAddress: ipv4ToText(layout.proxy),
        ipRange: layout.dynamicRange.text,
      }];
    }),
  );
}

/** Agents in name order. Docker addresses are pinned or left to the engine: adding an agent never moves another. */
function planAgents(spec: FirewallSpecProps, platform: AgentPlatform): PlannedAgent[] {
  const sorted = [...(spec.agents ?? [])].sort((a, b) => byString(a.name, b.name));
  return sorted.map((agent) => ({
    name: agent.name,
    resourceName: resourceName(agent.name),
    image: agent.image,
    role: agent.role,
    memoryMiB: memoryMiB(agent.memory ?? DEFAULTS.memory) as number,
    cpus: agent.cpus ?? DEFAULTS.cpus,
    replicas: agent.replicas ?? 1,
    ipv4Address: platform === AgentPlatform.DOCKER && agent.ipv4Address ? ipv4ToText(parseIpv4(agent.ipv4Address) as bigint) : undefined,
    user: agent.user ?? DEFAULTS.agentUser,
    processLimit: agent.processLimit ?? DEFAULTS.agentProcessLimit,
    env: Object.entries(agent.env ?? {}).sort(([a], [b]) => byString(a, b)),
  }));
}
