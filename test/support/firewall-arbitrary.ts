import fc from "fast-check";
import { AgentPlatform, ToolAccess, type FirewallSpecProps, type RoleProps, type ToolProps } from "../../src/spec/types";

// Name pools include words YAML would read as booleans or null if they were written unquoted.
const TOOL_NAMES = ["web_search", "send_email", "database", "file_upload", "null", "true", "no", "on", "y", "kb-1"];
const ROLE_NAMES = ["customer_support", "research_agent", "false", "off", "ops", "a"];
const PERMISSIONS = ["search:read", "db:read", "email:send", "files:write", "crm:*"];
const HOSTS = ["*.google.com", "arxiv.org", "api.github.com", "*.example.co.uk", "API.Example.com", "a.b.example.org", "api.anthropic.com"];
const MODEL_HOSTS = ["api.anthropic.com", "api.openai.com", "*.openai.com"];
const CIDRS = [
  { cidr: "10.0.0.0/8", ports: [443, 5432] },
  { cidr: "fd12:3456::/32", ports: [443] },
  { cidr: "192.168.1.0/24", ports: [80, 80] },
];

const optional = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });

/** Drops keys whose value is undefined, as a user writing the props would. */
function defined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

const toolArb: fc.Arbitrary<ToolProps> = fc
  .record({
    permissions: optional(fc.subarray(PERMISSIONS)),
    rateLimit: optional(fc.record({ maxCalls: fc.integer({ min: 1, max: 1_000_000 }), windowSec: fc.integer({ min: 1, max: 86_400 }) })),
    key: optional(fc.record({ rotationHours: optional(fc.integer({ min: 1, max: 8_760 })), length: optional(fc.integer({ min: 16, max: 256 })) }).map(defined)),
  })
  .map(defined);

const readOnly = (tool: ToolProps) => (tool.permissions ?? []).length > 0 && (tool.permissions ?? []).every((p) => p.endsWith(":read"));

function roleArb(tools: Record<string, ToolProps>, platform: AgentPlatform): fc.Arbitrary<RoleProps> {
  const names = Object.keys(tools);
  return fc
    .record({
      tools: optional(
        fc.subarray(names).chain((listed) =>
          fc.tuple(...listed.map((name) => fc.constantFrom(...(readOnly(tools[name]) ? [ToolAccess.DENY, ToolAccess.READ] : Object.values(ToolAccess))))).map(
            (levels) => Object.fromEntries(listed.map((name, i) => [name, levels[i]])),
          ),
        ),
      ),
      limits: optional(
        fc
          .record({
            maxTokensPerTask: optional(fc.integer({ min: 1, max: 100_000_000 })),
            maxToolCallsPerTask: optional(fc.integer({ min: 1, max: 1_000_000 })),
            maxConcurrentTasks: optional(fc.integer({ min: 1, max: 10_000 })),
          })
          .map(defined),
      ),
      network: optional(
        fc.boolean().chain((allowEgress) =>
          fc
            .record({
              allowEgress: fc.constant(allowEgress),
              allowedHosts: allowEgress ? optional(fc.subarray(HOSTS)) : fc.constant(undefined),
              // Only Kubernetes routes CIDR egress (NetworkPolicy); Docker refuses egressCidrs.
              egressCidrs: platform === AgentPlatform.KUBERNETES ? optional(fc.subarray(CIDRS)) : fc.constant(undefined),
            })
            .map(defined),
        ),
      ),
      allowFileSystem: optional(fc.boolean()),
    })
    .map(defined);
}

const threshold = fc.record({
  count: fc.integer({ min: 1, max: 1_000_000 }),
  windowSec: fc.integer({ min: 1, max: 86_400 }),
  severity: fc.constantFrom("info", "warning", "critical"),
});

/** Valid firewall descriptions (no agents): every one compiles. */
export const firewallSpecArb: fc.Arbitrary<FirewallSpecProps> = fc
  .record({
    platform: fc.constantFrom(AgentPlatform.DOCKER, AgentPlatform.KUBERNETES),
    modelHosts: fc.subarray(MODEL_HOSTS, { minLength: 1 }),
    toolNames: fc.subarray(TOOL_NAMES),
    roleNames: fc.subarray(ROLE_NAMES),
    mountPath: optional(fc.constantFrom("agent-keys", "secrets/agents", "kv")),
    monitoring: optional(fc.record({ rateLimited: optional(threshold), permissionDenied: optional(threshold), networkBlocked: optional(threshold) }).map(defined)),
  })
  .chain(({ platform, modelHosts, toolNames, roleNames, mountPath, monitoring }) =>
    fc.tuple(...toolNames.map(() => toolArb)).chain((toolList) => {
      const tools = Object.fromEntries(toolNames.map((name, i) => [name, toolList[i]]));
      return fc.tuple(...roleNames.map(() => roleArb(tools, platform))).map((roleList): FirewallSpecProps =>
        defined({
          platform,
          modelHosts,
          tools,
          roles: Object.fromEntries(roleNames.map((name, i) => [name, roleList[i]])),
          vault: mountPath === undefined ? undefined : { mountPath },
          monitoring,
        }),
      );
    }),
  );
