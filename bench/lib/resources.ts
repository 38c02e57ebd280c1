import { ToolAccess, type FirewallSpecProps } from "../../src/model/types";

/** Terraform resources (and ephemeral blocks) in a synthesized stack, by type. */
export interface ResourceCounts {
  readonly total: number;
  readonly byType: { readonly [type: string]: number };
  /** `ephemeral` blocks (random_password in the default key mode): not resources, but evaluated on every plan and apply. */
  readonly ephemeral: number;
}

export function countResources(json: string): ResourceCounts {
  const doc = JSON.parse(json);
  const byType: Record<string, number> = {};
  let total = 0;
  for (const [type, byName] of Object.entries<Record<string, unknown>>(doc.resource ?? {})) {
    byType[type] = Object.keys(byName).length;
    total += byType[type];
  }
  let ephemeral = 0;
  for (const byName of Object.values<Record<string, unknown>>(doc.ephemeral ?? {})) ephemeral += Object.keys(byName).length;
  return { total, byType, ephemeral };
}

/** The sizes of a fleet description that the resource counts depend on, computed from the description alone. */
export interface FleetShape {
  readonly roles: number;
  readonly tools: number;
  readonly keyedTools: number;
  /** Roles holding at least one key (above DENY on a tool with a key): they get a Vault policy and login. */
  readonly rolesWithKeys: number;
  readonly agents: number;
  /** Distinct agent images (Docker pulls each once). */
  readonly agentImages: number;
}

export function describeFleet(spec: FirewallSpecProps): FleetShape {
  const keyed = new Set(Object.entries(spec.tools).filter(([, tool]) => tool.key !== undefined).map(([name]) => name));
  const rolesWithKeys = Object.values(spec.roles).filter((role) =>
    Object.entries(role.tools ?? {}).some(([tool, access]) => access !== ToolAccess.DENY && keyed.has(tool)),
  ).length;
  const agents = spec.agents ?? [];
  return {
    roles: Object.keys(spec.roles).length,
    tools: Object.keys(spec.tools).length,
    keyedTools: keyed.size,
    rolesWithKeys,
    agents: agents.length,
    agentImages: new Set(agents.map((a) => a.image)).size,
  };
}
