/**
 * Rules of the description that some layer cannot express, so only another layer enforces them:
 * listed by `rapidclaw verify` next to its table, so nobody mistakes them for gaps nor assumes
 * the network or Vault enforces them.
 */
import { AgentPlatform, ToolAccess } from "../model/types";
import type { FirewallSpecProps } from "../model/types";
import type { FirewallPlan } from "../plan/plan";

export function cannotExpress(plan: FirewallPlan, props: FirewallSpecProps): string[] {
  const out: string[] = [];
  for (const [name, tool] of Object.entries(props.tools)) {
    for (const op of tool.executeOperations ?? []) {
      out.push(`network, keys: "${op.method} ${op.path}" of tool ${name} needs EXECUTE; the proxy sees a host and Vault a key, not a method or path: the gateway alone decides it`);
    }
    if (tool.rateLimit) out.push(`network, keys, hooks: the rate limit of tool ${name} (${tool.rateLimit.maxCalls} per ${tool.rateLimit.windowSec}s) is counted by the gateway alone`);
    if ((tool.permissions ?? []).length > 0) out.push(`every layer: the permission scopes of tool ${name} (${tool.permissions?.join(", ")}) describe its key; no synthesized layer checks them`);
  }
  for (const role of plan.roles) {
    const reads = role.access.filter((a) => a.access !== ToolAccess.DENY && a.access !== ToolAccess.EXECUTE && plan.gateway?.frontedTools.includes(a.tool));
    if (reads.length > 0) out.push(`network: role ${role.name} holds ${reads.map((a) => `${a.access} on ${a.tool}`).join(", ")}; the gateway's egress allows every method to the upstream host, so only the gateway tells the access levels apart`);
    if (Object.values(role.limits).some((v) => v !== undefined)) out.push(`every layer: the task limits of role ${role.name} (tokens, tool calls, concurrency per task) are carried in its profile for the agent runtime; no synthesized layer enforces them`);
    if (role.dnsReason !== undefined) out.push(`network: role ${role.name} may query DNS (${role.dnsReason}); the names it asks for leave through the resolver, which no layer checks`);
    if (plan.platform === AgentPlatform.KUBERNETES && role.egressCidrs.length > 0) out.push(`network: the egressCidrs of role ${role.name} bypass the proxy: no host name check and no log line for them`);
    for (const direct of props.roles[role.name].network?.directToolHosts ?? []) {
      out.push(`gateway: role ${role.name} reaches ${direct.host} directly (acknowledged: ${direct.reason}); those calls skip the gateway's checks`);
    }
  }
  return out;
}
