import type { AlertTransition } from "./alert-window-store";
import { WebhookFormat } from "../model/types";

/** The same name for a breach's firing and its resolution (PagerDuty's dedup_key). */
export function breachKey(transition: AlertTransition): string {
  const { rule, group, firedAtMs } = transition;
  return `rapidclaw/${rule.eventType}/${group.role || "-"}/${group.tool || "-"}/${firedAtMs}`;
}

/** One line for people: what, who, how many. */
export function alertSummary(transition: AlertTransition): string {
  const { rule, group, status, count, subjects } = transition;
  const who = `role ${group.role || "(unknown)"}${group.tool ? `, tool ${group.tool}` : ""}`;
  const seen = subjects.length > 0 ? ` (${rule.eventType === "network_blocked" ? "hosts" : "tools"}: ${subjects.join(", ")})` : "";
  const verb = status === "firing" ? `${count} ${rule.eventType} events within ${rule.windowSec} s (threshold ${rule.count})` : `back below ${rule.count} ${rule.eventType} events within ${rule.windowSec} s`;
  return `[${rule.severity.toUpperCase()}] ${status === "firing" ? "FIRING" : "RESOLVED"} ${rule.eventType} for ${who}: ${verb}${seen}`;
}

/** Rapid Claw's own payload. */
export function jsonPayload(transition: AlertTransition): Record<string, unknown> {
  const { rule, group } = transition;
  return {
    status: transition.status,
    rule: rule.eventType,
    severity: rule.severity,
    role: group.role || null,
    tool: group.tool || null,
    count: transition.count,
    threshold: rule.count,
    window_sec: rule.windowSec,
    at: new Date(transition.atMs).toISOString(),
    fired_at: new Date(transition.firedAtMs).toISOString(),
    subjects: transition.subjects,
    dedup_key: breachKey(transition),
    summary: alertSummary(transition),
  };
}

/** Slack incoming webhook: a `text` message. */
export function slackPayload(transition: AlertTransition): Record<string, unknown> {
  return { text: `${transition.status === "firing" ? ":rotating_light:" : ":white_check_mark:"} ${alertSummary(transition)}` };
}

/** PagerDuty Events API v2: `trigger` when firing, `resolve` with the same dedup_key when resolved. */
export function pagerDutyPayload(transition: AlertTransition, routingKey: string): Record<string, unknown> {
  const dedupKey = breachKey(transition);
  if (transition.status === "resolved") return { routing_key: routingKey, event_action: "resolve", dedup_key: dedupKey };
  const { rule, group } = transition;
  return {
    routing_key: routingKey,
    event_action: "trigger",
    dedup_key: dedupKey,
    payload: {
      summary: alertSummary(transition).slice(0, 1024),
      source: "rapidclaw",
      severity: rule.severity,
      timestamp: new Date(transition.atMs).toISOString(),
      component: group.role || "unknown-role",
      group: group.tool || undefined,
      class: rule.eventType,
      custom_details: { count: transition.count, threshold: rule.count, window_sec: rule.windowSec, subjects: transition.subjects },
    },
  };
}

/** The body a webhook of `format` receives. */
export function webhookPayload(format: WebhookFormat, transition: AlertTransition, routingKey = ""): Record<string, unknown> {
  switch (format) {
    case WebhookFormat.SLACK:
      return slackPayload(transition);
    case WebhookFormat.PAGERDUTY:
      return pagerDutyPayload(transition, routingKey);
    default:
      return jsonPayload(transition);
  }
}
