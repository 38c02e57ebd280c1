import { EXAMPLE_PROXY_IMAGE } from "../examples/firewall-scenario";
import { AgentPlatform, ToolAccess, type FirewallSpecProps, type RoleProps, type ToolProps } from "../src/model/types";

/** Tools in every generated fleet (the brief: 50 tools). */
export const FLEET_TOOL_COUNT = 50;
/** Agents per role in every generated fleet. */
export const AGENTS_PER_ROLE = 2;
/** Tools each role lists (the other tools are DENY by omission). */
const TOOLS_PER_ROLE = 6;

const pad = (n: number, width: number) => String(n).padStart(width, "0");

/** `tool_07` style names, sorted the same way as the numbers. */
export function toolName(index: number): string {
  return `tool_${pad(index, 2)}`;
}

export function roleName(index: number): string {
  return `role_${pad(index, 4)}`;
}

/**
 * Tool number `i`: every second tool has a key (so half the tools cost Vault resources), every
 * third a rate limit; tools whose index is a multiple of 5 are read-only (`…:read` scopes only),
 * the others also write.
 */
function fleetTool(i: number): ToolProps {
  const readOnly = i % 5 === 0;
  return {
    permissions: readOnly ? [`resource${i}:read`] : [`resource${i}:read`, `resource${i}:write`],
    rateLimit: i % 3 === 0 ? { maxCalls: 10 + i, windowSec: i % 2 === 0 ? 60 : 300 } : undefined,
    key: i % 2 === 0 ? { rotationHours: 24 + (i % 4) * 24 } : undefined,
  };
}

/**
 * Role number `r`: six tools picked by a stride over the tools, at READ, WRITE or EXECUTE (READ on
 * read-only tools); every fifth role only tools without a key; every third role no egress beyond
 * the model hosts, the others three hosts of their own (one exact host, one wildcard shared by a
 * few roles, one shared by all).
 */
function fleetRole(r: number, toolCount: number): RoleProps {
  const tools: { [tool: string]: ToolAccess } = {};
  // Every fifth role uses only tools without a key (odd numbers): it gets no Vault policy or login.
  const keyless = r % 5 === 4;
  for (let k = 0; k < TOOLS_PER_ROLE; k++) {
    const stride = r * 7 + k * 11;
    const t = keyless ? (2 * (stride % Math.floor(toolCount / 2)) + 1) % toolCount : stride % toolCount;
    const levels = [ToolAccess.READ, ToolAccess.WRITE, ToolAccess.EXECUTE];
    tools[toolName(t)] = t % 5 === 0 ? ToolAccess.READ : levels[(r + k) % 3];
  }
  const allowEgress = r % 3 !== 0;
  return {
    tools,
    limits: { maxTokensPerTask: 10_000 + r, maxToolCallsPerTask: 50 + (r % 50), maxConcurrentTasks: 1 + (r % 5) },
    network: allowEgress
      ? { allowEgress: true, allowedHosts: [`api.service-${r}.example.com`, `*.team-${r % 40}.example.org`, "api.github.com"] }
      : { allowEgress: false },
  };
}

/**
 * A generated fleet: `roles` roles, `toolCount` tools, `AGENTS_PER_ROLE` agents per role. On
 * Docker every role is pinned to its own /24 of 10.64.0.0/10: a thousand hashed role subnets would
 * collide somewhere in any pool.
 */
export function fleetSpec(platform: AgentPlatform, roles: number, toolCount = FLEET_TOOL_COUNT): FirewallSpecProps {
  const tools: { [name: string]: ToolProps } = {};
  for (let i = 0; i < toolCount; i++) tools[toolName(i)] = fleetTool(i);
  const roleProps: { [name: string]: RoleProps } = {};
  const agents: NonNullable<FirewallSpecProps["agents"]> = [];
  const images = ["openclaw/agent:latest", "nousresearch/hermes-agent:latest", "openclaw/agent:2.1"];
  for (let r = 0; r < roles; r++) {
    roleProps[roleName(r)] = fleetRole(r, toolCount);
    for (let a = 0; a < AGENTS_PER_ROLE; a++) {
      agents.push({ name: `agent-${pad(r, 4)}-${a}`, image: images[(r + a) % images.length], role: roleName(r), memory: a === 0 ? "1G" : "512M", cpus: a === 0 ? 1 : 0.5 });
    }
  }
  return {
    platform,
    modelHosts: ["api.anthropic.com", "api.openai.com"],
    tools,
    roles: roleProps,
    agents,
    ...(platform === AgentPlatform.DOCKER ? { docker: { roleSubnets: Object.fromEntries(Object.keys(roleProps).map((name, r) => [name, `10.${64 + (r >> 8)}.${r % 256}.0/24`])) } } : {}),
    // Kubernetes cannot build the proxy image: the fleets name the example's pushed one.
    ...(platform === AgentPlatform.KUBERNETES ? { proxy: { image: EXAMPLE_PROXY_IMAGE } } : {}),
  };
}
