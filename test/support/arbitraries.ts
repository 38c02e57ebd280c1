import fc from "fast-check";
import { EXAMPLE_PROXY_IMAGE } from "../../examples/firewall-scenario";
import { isPublicNetwork, metadataEndpointIn, parseCidr, type Network } from "../../src/model/addresses";
import { MAX_NAME_LENGTH, NAME_PATTERN } from "../../src/model/schema";
import {
  AgentPlatform,
  AlertSeverity,
  KeyMode,
  ToolAccess,
  type AgentProps,
  type EgressCidrProps,
  type FirewallSpecProps,
  type RoleProps,
  type ToolProps,
} from "../../src/model/types";

/**
 * fast-check generators of VALID firewall specs, small enough to synthesize hundreds of times:
 * 1 to 4 tools, 1 to 4 roles, 0 to 4 agents. Values come from pools chosen to run into the
 * interesting cases: names that differ only by `_`/`-` elsewhere in the spec, names made of the
 * words the constructs use for generated names (image, files, service-account, egress, proxy),
 * names at the length limit, host patterns that cover each other (`*.example.com` and
 * `api.example.com`) in mixed case with trailing dots, IPv4 and IPv6 CIDRs, fixed agent
 * addresses, every key mode, and both platforms' own options.
 */

/** Kubernetes names of the spec's tools, roles and agents: `web_search` becomes `web-search`. */
export const normalisedName = (name: string): string => name.replace(/_/g, "-");

/** Words names are built from; several are parts of generated names, so generated names can meet them. */
const NAME_WORDS = [
  "web", "search", "send", "email", "db", "kb", "ops", "research", "support", "agent", "image", "files",
  "service", "account", "proxy", "egress", "rapidclaw", "role", "auth", "config", "key", "secret", "rotation",
  "dns", "deny", "login", "policy", "x", "0", "1", "2",
  // Words YAML would read as booleans or null if a profile document wrote them unquoted.
  "null", "true", "false", "no", "on", "off", "y",
];
const FIRST_WORDS = NAME_WORDS.filter((word) => /^[a-z]/.test(word));

const isValidName = (name: string) => NAME_PATTERN.test(name) && name.length <= MAX_NAME_LENGTH;

/** A valid name: words joined by `-` or `_`, a short random word, or a name at the length limit. */
export const nameArb: fc.Arbitrary<string> = fc
  .oneof(
    {
      weight: 4,
      arbitrary: fc
        .tuple(fc.constantFrom(...FIRST_WORDS), fc.array(fc.tuple(fc.constantFrom("-", "_"), fc.constantFrom(...NAME_WORDS)), { maxLength: 3 }))
        .map(([first, rest]) => first + rest.map(([separator, word]) => separator + word).join("")),
    },
    { weight: 2, arbitrary: fc.stringMatching(/^[a-z][a-z0-9]{0,5}$/) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.constantFrom(...FIRST_WORDS), fc.integer({ min: MAX_NAME_LENGTH - 6, max: MAX_NAME_LENGTH }))
        .map(([word, length]) => `${word}-${"x".repeat(MAX_NAME_LENGTH)}`.slice(0, length)),
    },
  )
  .filter(isValidName);

/** Agent names: at least two characters (Docker container names), and not the prefix of the firewall's own workloads. */
const isValidAgentName = (name: string) => name.length >= 2 && !normalisedName(name).startsWith("rapidclaw-");

/** Names unique after normalisation, as validation requires. */
const uniqueNames = (minLength: number, maxLength: number, extra: (name: string) => boolean = () => true) =>
  fc.uniqueArray(nameArb.filter(extra), { minLength, maxLength, selector: normalisedName });

const PERMISSIONS = ["search:read", "db:read", "email:send", "files:write", "crm:*", "tickets:read"];

const toolArb: fc.Arbitrary<ToolProps> = fc.record(
  {
    permissions: fc.subarray(PERMISSIONS),
    rateLimit: fc.record({ maxCalls: fc.integer({ min: 1, max: 1_000_000 }), windowSec: fc.integer({ min: 1, max: 86_400 }) }),
    key: fc.record({ rotationHours: fc.integer({ min: 1, max: 8_760 }), length: fc.integer({ min: 16, max: 256 }) }, { requiredKeys: [] }),
  },
  { requiredKeys: [] },
);

/** Whether every permission scope of a tool ends in `:read` (then no role may hold WRITE or EXECUTE). */
export const isReadOnlyTool = (tool: ToolProps): boolean => (tool.permissions ?? []).length > 0 && (tool.permissions ?? []).every((p) => p.endsWith(":read"));

/** Registrable domains (none is a public suffix), and labels to put in front of them. */
const DOMAINS = ["example.com", "example.org", "anthropic.com", "openai.com", "example.net", "example.co.uk", "rapidclaw.dev"];
const SUBDOMAIN_LABELS = ["api", "www", "a", "b", "eu"];

/** A valid host pattern, sometimes in upper case or with a trailing dot (both are normalised away). */
export const hostPatternArb: fc.Arbitrary<string> = fc
  .record({
    wildcard: fc.boolean(),
    labels: fc.array(fc.constantFrom(...SUBDOMAIN_LABELS), { maxLength: 2 }),
    domain: fc.constantFrom(...DOMAINS),
    upperCase: fc.boolean(),
    trailingDot: fc.boolean(),
  })
  .map(({ wildcard, labels, domain, upperCase, trailingDot }) => {
    const host = [...(wildcard ? ["*"] : []), ...labels, domain].join(".") + (trailingDot ? "." : "");
    return upperCase ? host.toUpperCase() : host;
  });

/** An IPv4 network with no host bits set, from /8 on (broader ones need allowBroad), never holding a metadata endpoint. */
const ipv4NetworkArb: fc.Arbitrary<string> = fc
  .tuple(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 8, max: 32 }))
  .map(([address, prefix]) => {
    const base = Math.floor(address / 2 ** (32 - prefix)) * 2 ** (32 - prefix);
    return `${[24, 16, 8, 0].map((shift) => Math.floor(base / 2 ** shift) % 256).join(".")}/${prefix}`;
  })
  .filter((cidr) => metadataEndpointIn(parseCidr(cidr) as Network) === undefined);

const CIDR_POOL = ["10.0.0.0/8", "10.20.0.0/16", "192.168.1.0/24", "172.16.5.0/24", "fd12:3456::/48", "fd00:1::/64", "2001:db8::/32"];

/** A CIDR entry; a public range carries its acknowledgement, as validation demands. */
const egressCidrArb: fc.Arbitrary<EgressCidrProps> = fc
  .record({
    cidr: fc.oneof(fc.constantFrom(...CIDR_POOL), ipv4NetworkArb),
    // Duplicates and any order: the plan sorts and de-duplicates ports.
    ports: fc.array(fc.oneof(fc.constantFrom(443, 5432, 8443), fc.integer({ min: 1, max: 65_535 })), { minLength: 1, maxLength: 3 }),
  })
  .map((entry) => (isPublicNetwork(parseCidr(entry.cidr) as Network) ? { ...entry, allowPublic: true } : entry));

function roleArb(tools: Record<string, ToolProps>, platform: AgentPlatform): fc.Arbitrary<RoleProps> {
  // Only Kubernetes routes CIDR egress (NetworkPolicy); Docker refuses egressCidrs.
  const cidrsArb = platform === AgentPlatform.KUBERNETES ? fc.array(egressCidrArb, { maxLength: 2 }) : fc.constant<EgressCidrProps[]>([]);
  const toolNames = Object.keys(tools);
  const accessArb = (tool: string) => fc.constantFrom(...(isReadOnlyTool(tools[tool]) ? [ToolAccess.DENY, ToolAccess.READ] : Object.values(ToolAccess)));
  const grantsArb = fc
    .subarray(toolNames)
    .chain((listed) => fc.tuple(...listed.map(accessArb)).map((levels) => Object.fromEntries(listed.map((tool, i) => [tool, levels[i]]))));
  const networkArb = fc.oneof(
    fc.record({ allowEgress: fc.constant(false), egressCidrs: cidrsArb }, { requiredKeys: [] }),
    fc.record(
      { allowEgress: fc.constant(true), allowedHosts: fc.array(hostPatternArb, { maxLength: 3 }), egressCidrs: cidrsArb },
      { requiredKeys: ["allowEgress"] },
    ),
  );
  return fc.record(
    {
      tools: grantsArb,
      limits: fc.record(
        {
          maxTokensPerTask: fc.integer({ min: 1, max: 100_000_000 }),
          maxToolCallsPerTask: fc.integer({ min: 1, max: 1_000_000 }),
          maxConcurrentTasks: fc.integer({ min: 1, max: 10_000 }),
        },
        { requiredKeys: [] },
      ),
      network: networkArb,
      allowFileSystem: fc.boolean(),
    },
    { requiredKeys: [] },
  );
}

const ENV_NAMES = ["LOG_LEVEL", "MODEL", "TZ", "FEATURE_FLAGS", "_PRIVATE", "lower_case"];
/** Environment values, including a Terraform-escaped `$${` that must stay literal. */
const ENV_VALUES = ["info", "claude-sonnet", "UTC", "1", "a b c", "$${HOME}", "100%", ""];

const envArb = fc.uniqueArray(fc.tuple(fc.constantFrom(...ENV_NAMES), fc.constantFrom(...ENV_VALUES)), { maxLength: 3, selector: ([name]) => name }).map(Object.fromEntries);

const agentBaseArb = (roles: string[]) =>
  fc.record(
    {
      image: fc.constantFrom("openclaw/agent:latest", "nousresearch/hermes-agent:1.2", "ghcr.io/acme/agent@sha256:" + "ab".repeat(32), "registry.local:5000/agent"),
      role: fc.constantFrom(...roles),
      memory: fc.constantFrom("512M", "1G", "2Gi", "256Mi", "1.5G", "64M"),
      cpus: fc.constantFrom(0.01, 0.25, 0.5, 1, 2),
      env: envArb,
    },
    { requiredKeys: ["image", "role"] },
  );

/**
 * Docker address plans: the default pool, a /16 pool of /26 role subnets, and every role pinned
 * to its own /28 (in role-name order of generation), where agents may also pin addresses.
 */
type DockerLayout = "default" | "pool" | "pinned";
const DOCKER_LAYOUTS: DockerLayout[] = ["default", "pool", "pinned"];

const ipv4 = (value: number) => [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join(".");
/** Role number i's pinned /28 in the "pinned" layout. */
const pinnedRoleBase = (i: number) => (192 * 2 ** 24) + (168 * 2 ** 16) + (40 * 2 ** 8) + 16 * i;

function dockerOptions(layout: DockerLayout, roles: string[]): FirewallSpecProps["docker"] | undefined {
  if (layout === "pool") return { subnet: "10.77.0.0/16", roleSubnetPrefix: 26 };
  if (layout === "pinned") return { roleSubnets: Object.fromEntries(roles.map((role, i) => [role, `${ipv4(pinnedRoleBase(i))}/28`])) };
  return undefined;
}

function dockerAgentsArb(roles: string[], layout: DockerLayout): fc.Arbitrary<AgentProps[]> {
  return fc
    .tuple(
      uniqueNames(0, 4, isValidAgentName),
      // Pinnable offsets of a /28: after the network address, the gateway, the proxy and the tool gateway, below the engine's upper half.
      fc.uniqueArray(fc.integer({ min: 4, max: 7 }), { maxLength: 4 }),
    )
    .chain(([names, offsets]) =>
      fc.tuple(...names.map(() => agentBaseArb(roles)), fc.array(fc.boolean(), { minLength: names.length, maxLength: names.length })).map((parts) => {
        const fixed = parts[names.length] as boolean[];
        let next = 0;
        return names.map((name, i) => {
          const agent: AgentProps = { name, ...(parts[i] as Omit<AgentProps, "name">) };
          if (layout !== "pinned" || !fixed[i] || next >= offsets.length) return agent;
          return { ...agent, ipv4Address: ipv4(pinnedRoleBase(roles.indexOf(agent.role)) + offsets[next++]) };
        });
      }),
    );
}

function kubernetesAgentsArb(roles: string[]): fc.Arbitrary<AgentProps[]> {
  return uniqueNames(0, 4, isValidAgentName).chain((names) =>
    fc.tuple(...names.map(() => fc.tuple(agentBaseArb(roles), fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined })))).map((parts) =>
      parts.map(([agent, replicas], i) => ({ name: names[i], ...agent, ...(replicas === undefined ? {} : { replicas }) })),
    ),
  );
}

const vaultArb = fc.record(
  {
    keyMode: fc.constantFrom(KeyMode.EPHEMERAL, KeyMode.MANAGED, KeyMode.EXTERNAL),
    mountPath: fc.constantFrom("agent-keys", "secrets/agents", "kv"),
    tokenTtlSeconds: fc.integer({ min: 60, max: 86_400 }),
    authPath: fc.constantFrom("agents-auth", "auth-agents/prod"),
    existingAuthMount: fc.boolean(),
  },
  { requiredKeys: [] },
);


const thresholdArb = fc.record({
  count: fc.integer({ min: 1, max: 1_000_000 }),
  windowSec: fc.integer({ min: 1, max: 86_400 }),
  severity: fc.constantFrom(...Object.values(AlertSeverity)),
});

const monitoringArb = fc.record({ rateLimited: thresholdArb, permissionDenied: thresholdArb, networkBlocked: thresholdArb }, { requiredKeys: [] });

/** Proxy options both platforms take: extra forbidden ranges, the connection cap and the request start timeout. */
const proxyHardeningArb = {
  forbiddenCidrs: fc.subarray(["203.0.113.0/24", "2001:db8:42::/48", "198.51.100.7/32"]),
  maxConnectionsPerClient: fc.integer({ min: 16, max: 100_000 }),
  requestStartTimeoutSec: fc.integer({ min: 5, max: 600 }),
};

/** A valid firewall spec for `platform`. */
export function firewallSpecArb(platform: AgentPlatform): fc.Arbitrary<FirewallSpecProps> {
  return fc
    .record({
      toolNames: uniqueNames(1, 4),
      roleNames: uniqueNames(1, 4),
      modelHosts: fc.array(hostPatternArb, { minLength: 1, maxLength: 3 }),
      layout: fc.constantFrom(...DOCKER_LAYOUTS),
    })
    .chain(({ toolNames, roleNames, modelHosts, layout }) =>
      fc.tuple(...toolNames.map(() => toolArb)).chain((toolList) => {
        const tools = Object.fromEntries(toolNames.map((name, i) => [name, toolList[i]]));
        const common = {
          roles: fc.tuple(...roleNames.map(() => roleArb(tools, platform))).map((roleList) => Object.fromEntries(roleNames.map((name, i) => [name, roleList[i]]))),
          vault: vaultArb,
          monitoring: monitoringArb,
        };
        if (platform === AgentPlatform.DOCKER) {
          return fc
            .record(
              {
                ...common,
                agents: dockerAgentsArb(roleNames, layout),
                proxy: fc.record({ port: fc.integer({ min: 1025, max: 65_000 }), allowPlainHttp: fc.boolean(), ...proxyHardeningArb }, { requiredKeys: [] }),
                dnsServers: fc.subarray(["10.0.0.53", "1.1.1.1"]),
              },
              { requiredKeys: ["roles", "agents"] },
            )
            .map(({ dnsServers, ...rest }): FirewallSpecProps => {
              const docker = { ...dockerOptions(layout, roleNames), ...(dnsServers && dnsServers.length > 0 ? { dnsServers } : {}) };
              return { platform, modelHosts, tools, ...rest, ...(Object.keys(docker).length > 0 ? { docker } : {}) };
            });
        }
        return fc
          .record(
            {
              ...common,
              agents: kubernetesAgentsArb(roleNames),
              namespace: fc.constantFrom("ai-agents", "agents-prod", "rc"),
              // Kubernetes cannot build the proxy image: it always names one.
              proxy: fc.record({ image: fc.constant(EXAMPLE_PROXY_IMAGE), port: fc.integer({ min: 1025, max: 65_000 }), allowPlainHttp: fc.boolean(), replicas: fc.integer({ min: 1, max: 20 }), ...proxyHardeningArb }, { requiredKeys: ["image"] }),
              kubernetes: fc.record(
                {
                  existingNamespace: fc.boolean(),
                  nodeLocalDnsIp: fc.constant("169.254.20.10"),
                  ingress: fc.record({
                    namespaceLabels: fc
                      .subarray([["kubernetes.io/metadata.name", "frontend"], ["team", "web"], ["tier", "edge"]] as [string, string][], { minLength: 1 })
                      .map(Object.fromEntries),
                    port: fc.integer({ min: 1, max: 65_535 }),
                  }),
                },
                { requiredKeys: [] },
              ),
            },
            { requiredKeys: ["roles", "agents", "proxy"] },
          )
          .map((rest): FirewallSpecProps => ({ platform, modelHosts, tools, ...rest }));
      }),
    );
}

/** A small deterministic random number generator (mulberry32), so a reordering is reproducible from its seed. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffled<T>(items: ReadonlyArray<T>, random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/**
 * The same spec with its map keys (top level, tools, roles, role.tools, env, namespace labels and
 * every nested option object) and its set-like lists (agents, host patterns, CIDRs, ports,
 * permissions) in another order, chosen by `seed`. Seed 0 keeps the order. Lists whose order
 * means something (DNS servers) keep it.
 */
export function reorderSpec(spec: FirewallSpecProps, seed: number): FirewallSpecProps {
  if (seed === 0) return structuredClone(spec);
  const random = mulberry32(seed);
  const ORDER_MEANINGFUL = new Set(["dnsServers"]);
  const visit = (value: unknown, key: string | undefined): unknown => {
    if (Array.isArray(value)) {
      const items = value.map((item) => visit(item, undefined));
      return key !== undefined && ORDER_MEANINGFUL.has(key) ? items : shuffled(items, random);
    }
    if (typeof value === "object" && value !== null) {
      return Object.fromEntries(shuffled(Object.entries(value), random).map(([k, v]) => [k, visit(v, k)]));
    }
    return value;
  };
  return visit(spec, undefined) as FirewallSpecProps;
}

/** A spec and a seed for `reorderSpec` (0 about one time in five: the very same order). */
export function specWithReorderingArb(platform: AgentPlatform): fc.Arbitrary<{ spec: FirewallSpecProps; reorderSeed: number }> {
  return fc.record({ spec: firewallSpecArb(platform), reorderSeed: fc.oneof({ weight: 1, arbitrary: fc.constant(0) }, { weight: 4, arbitrary: fc.integer({ min: 1, max: 2 ** 31 - 1 }) }) });
}

/** A valid firewall spec for either platform. */
export const anyFirewallSpecArb: fc.Arbitrary<FirewallSpecProps> = fc.constantFrom(AgentPlatform.DOCKER, AgentPlatform.KUBERNETES).chain(firewallSpecArb);
