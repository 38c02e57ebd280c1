import type { PlannedMonitoring, PlannedThreshold } from "../plan/plan";
import type { FirewallEvent } from "./events";

/** Severities from least to most urgent. */
export const SEVERITIES = ["info", "warning", "critical"] as const;
export type Severity = (typeof SEVERITIES)[number];

/**
 * What one alert counts: `role` counts a role's events whatever the tool or host (the tools or
 * hosts are listed in the alert), `role_tool` counts each tool of a role apart.
 */
export type AlertGrouping = "role" | "role_tool";

/** One alert rule: `count` events of `countedEventTypes` for one group within `windowSec`. */
export interface AlertRule {
  /** The rule's name: the event type it is about. */
  readonly eventType: string;
  /** Every event type it counts: `eventType` first, then the kinds that count as the same behaviour. */
  readonly countedEventTypes: ReadonlyArray<string>;
  readonly count: number;
  readonly windowSec: number;
  readonly severity: Severity;
  readonly grouping: AlertGrouping;
}

/** The role and tool an alert is about; "" where there is none (or the writer did not know it). */
export interface AlertGroup {
  readonly role: string;
  readonly tool: string;
}

const rule = (eventType: string, threshold: PlannedThreshold, grouping: AlertGrouping, alsoCounted: ReadonlyArray<string> = []): AlertRule => ({
  eventType,
  countedEventTypes: [eventType, ...alsoCounted],
  count: threshold.count,
  windowSec: threshold.windowSec,
  severity: threshold.severity as Severity,
  grouping,
});

/**
 * The rules of a plan. Rate limiting is counted per role and tool: each tool has its own limit,
 * and a flood on one tool is that tool's alert. Denied permissions and blocked destinations are
 * counted per role: they are what an injected agent produces while probing, and a probe that
 * tries a different tool or host each time must still trip the alert (per tool or per host it
 * never would); the alert lists the tools or hosts it saw. Probing counts as denied permissions:
 * asking for tools that do not exist (`unknown_tool`) and sending what the gateway refuses to
 * route (`bad_request`) are what such an agent tries besides the tools it may not use.
 */
export function alertRules(monitoring: PlannedMonitoring): AlertRule[] {
  return [
    rule("rate_limited", monitoring.rateLimited, "role_tool"),
    rule("permission_denied", monitoring.permissionDenied, "role", ["unknown_tool", "bad_request"]),
    rule("network_blocked", monitoring.networkBlocked, "role"),
    // Each tool has its own budget, as its own rate limit.
    ...(monitoring.tokenBudgetExceeded === undefined ? [] : [rule("token_budget_exceeded", monitoring.tokenBudgetExceeded, "role_tool")]),
  ];
}

/** The group an event counts in under a rule, or undefined when the rule does not count it. */
export function alertGroupOf(rule: AlertRule, event: FirewallEvent): AlertGroup | undefined {
  if (!rule.countedEventTypes.includes(event.eventType)) return undefined;
  return { role: event.role ?? "", tool: rule.grouping === "role_tool" ? (event.tool ?? "") : "" };
}

/** What an event adds to an alert's list of seen subjects: its host or tool, when counted per role. */
export function subjectOf(rule: AlertRule, event: FirewallEvent): string {
  if (rule.grouping !== "role") return "";
  return (event.host ?? event.tool ?? "").slice(0, MAX_SUBJECT_LENGTH);
}

/** Hosts are chosen by the agent: bound what one entry can hold. */
export const MAX_SUBJECT_LENGTH = 255;

/** Whether an alert of `severity` reaches a webhook that takes `minimum` and above. */
export function severityReaches(severity: Severity, minimum: Severity): boolean {
  return SEVERITIES.indexOf(severity) >= SEVERITIES.indexOf(minimum);
}
