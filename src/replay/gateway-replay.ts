import type { GatewayConfig, GatewayTool } from "../gateway/config";
import { effectivePath } from "../gateway/effective-path";
import { AUDITABLE_REFUSALS, enforcementOf, type AuditableRefusal } from "../gateway/enforcement";
import { decidePermission, requiredAccess } from "../gateway/permissions";
import { SlidingWindowModel } from "../gateway/sliding-window";
import type { FirewallEvent } from "../monitoring/events";
import { Enforcement, ToolAccess } from "../model/types";

import type { ReplayedCall } from "./replayed-call";

/** A gateway layer a call can be refused at. */
type GatewayLayer = "permission" | "rate" | "token_budget";

const LAYER_OF: Record<AuditableRefusal, GatewayLayer> = { permission_denied: "permission", rate_limited: "rate", token_budget_exceeded: "token_budget" };
const ACCESS = new Set<string>([ToolAccess.READ, ToolAccess.WRITE, ToolAccess.EXECUTE]);

/** The recorded refusal of a gateway event that records a call decision (a refusal, or a call shadow mode let through); undefined for other events. */
export function recordedRefusal(event: FirewallEvent): AuditableRefusal | undefined {
  const refusal = event.eventType === "would_deny" ? event.details.refusal : event.eventType;
  return (AUDITABLE_REFUSALS as ReadonlyArray<unknown>).includes(refusal) ? (refusal as AuditableRefusal) : undefined;
}

/**
 * Replays the gateway's recorded call decisions against a candidate configuration, in time order
 * (the caller sorts): each call is decided again by the decision core (permission from the
 * candidate's grants and operations, rate limits by a sliding window over the recorded calls,
 * token budgets only as far as the logs can tell) under the candidate's enforcement.
 */
export class GatewayReplay {
  private readonly windows = new Map<string, SlidingWindowModel>();

  constructor(private readonly candidate: GatewayConfig) {}

  /** The candidate's decision on the call `event` records (one whose `recordedRefusal` is defined). */
  replay(event: FirewallEvent, refusal: AuditableRefusal): ReplayedCall {
    const role = event.role;
    const toolName = event.tool;
    if (role === null || toolName === null) return { replayed: false, reason: "event names no role or tool" };
    const wasAllowed = event.eventType === "would_deny";
    const recordedLayer = LAYER_OF[refusal];
    const tool = this.candidate.tools.get(toolName);
    const outcome = (refusedAt: GatewayLayer | undefined, approximate = false): ReplayedCall => {
      const audited = refusedAt !== undefined && enforcementOf(this.candidate.enforcement, role, toolName) === Enforcement.AUDIT;
      const isAllowed = refusedAt === undefined || audited;
      return { replayed: true, wasAllowed, isAllowed, layer: isAllowed ? recordedLayer : (refusedAt as GatewayLayer), approximate };
    };
    if (tool === undefined) return outcome("permission");
    const required = requiredOf(event, tool);
    if (required === undefined) return { replayed: false, reason: "event records no required access (written by a gateway older than replay)" };
    if (required === null || !decidePermission(this.candidate, role, toolName, required).allowed) return outcome("permission");
    const rate = this.rate(event, tool, role, refusal);
    if (rate !== "pass") return outcome(rate.refused ? "rate" : undefined, rate.approximate);
    if (refusal !== "token_budget_exceeded" || tool.tokenLimit === undefined) return outcome(undefined);
    const { max_tokens: maxTokens, window_sec: windowSec } = event.details;
    if (tool.tokenLimit.maxTokens !== maxTokens || tool.tokenLimit.windowSec !== windowSec) {
      return { replayed: false, reason: "token budget changed: the tokens calls used are not in the logs" };
    }
    return outcome("token_budget");
  }

  /**
   * The candidate's rate limits on the call: the tool's, then its MCP tool's. A recorded rate
   * refusal under the same limit stands (the window was full, with calls the logs may not hold);
   * otherwise the call goes through a sliding window of the recorded calls (approximate).
   */
  private rate(event: FirewallEvent, tool: GatewayTool, role: string, refusal: AuditableRefusal): "pass" | { refused: boolean; approximate: boolean } {
    // A tools/call's MCP tool: named by permission events with their method, by rate events of its own limit alone.
    const { mcp_tool: mcpTool, mcp_method: mcpMethod } = event.details;
    const limits: Array<[string, { maxCalls: number; windowSec: number } | undefined]> = [[tool.name, tool.rateLimit]];
    if (typeof mcpTool === "string" && (mcpMethod === undefined || mcpMethod === "tools/call")) {
      limits.push([`${tool.name}/${mcpTool}`, tool.mcpRateLimits !== undefined && Object.hasOwn(tool.mcpRateLimits, mcpTool) ? tool.mcpRateLimits[mcpTool] : undefined]);
    }
    let approximate = false;
    for (const [key, limit] of limits) {
      if (limit === undefined) continue;
      const recordedHere = refusal === "rate_limited" && (key === tool.name) === (event.details.mcp_tool === undefined);
      if (recordedHere && limit.maxCalls === event.details.max_calls && limit.windowSec === event.details.window_sec) return { refused: true, approximate };
      const windowKey = `${role}\u0000${key}\u0000${limit.maxCalls}/${limit.windowSec}`;
      let window = this.windows.get(windowKey);
      if (window === undefined) this.windows.set(windowKey, (window = new SlidingWindowModel(limit)));
      approximate = true;
      if (!window.take(event.timestampMs)) return { refused: true, approximate };
    }
    return approximate ? { refused: false, approximate } : "pass";
  }
}

/**
 * The access the recorded call needs from the candidate: from its method and path by the
 * candidate's operations (a proxied call), from the candidate's MCP tool list (`tools/call`),
 * else as recorded (the check endpoint, other MCP requests). null when the candidate lists no
 * such MCP tool; undefined when the event records none.
 */
function requiredOf(event: FirewallEvent, tool: GatewayTool): ToolAccess | null | undefined {
  const { method, path, mcp_method: mcpMethod, mcp_tool: mcpTool, required } = event.details;
  if (mcpMethod === "tools/call" && typeof mcpTool === "string" && tool.mcpTools !== undefined) {
    return Object.hasOwn(tool.mcpTools, mcpTool) ? tool.mcpTools[mcpTool] : null;
  }
  if (typeof method === "string" && typeof path === "string" && tool.mcpTools === undefined) {
    const effective = effectivePath(path);
    if (!("problem" in effective)) return requiredAccess(tool, method, effective.segments);
  }
  return typeof required === "string" && ACCESS.has(required) ? (required as ToolAccess) : undefined;
}
