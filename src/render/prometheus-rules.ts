/**
 * Prometheus alerting rules rendered from the firewall's alert thresholds, for those who scrape
 * the gateway's `/metrics`. Pure text; `promtool check rules` and `promtool test rules` accept
 * the result (see the tests). One rule per event kind, with the built-in evaluator's semantics:
 * the count of events of a group within the window (sum over every gateway replica) reaches the
 * threshold. `increase` over a counter sampled at the window's start and end is that count
 * exactly; the gateway starts its counters at 0 so that a series exists from the start.
 */
import type { FirewallPlan } from "../plan/plan";
import { alertRules, type AlertRule } from "../monitoring/alert-rules";
import { AgentPlatform } from "../model/types";

/** Group of the rendered rules. */
export const PROMETHEUS_RULE_GROUP = "rapidclaw-firewall";

/** `rate_limited` → `RapidClawRateLimited`. */
export function prometheusAlertName(eventType: string): string {
  return "RapidClaw" + eventType.split("_").map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join("");
}

/** Labels each alert carries: the rule's group, plus the namespace on Kubernetes (two firewalls, two namespaces). */
export function prometheusGroupLabels(rule: AlertRule, platform: AgentPlatform): string[] {
  return [...(platform === AgentPlatform.KUBERNETES ? ["namespace"] : []), "role", ...(rule.grouping === "role_tool" ? ["tool"] : [])];
}

/** The PromQL expression of one rule. */
export function prometheusExpression(rule: AlertRule, plan: Pick<FirewallPlan, "platform" | "namespace">): string {
  const eventTypes = rule.countedEventTypes.length === 1 ? `event_type="${rule.eventType}"` : `event_type=~"${rule.countedEventTypes.join("|")}"`;
  const selector = [eventTypes, ...(plan.platform === AgentPlatform.KUBERNETES ? [`namespace="${plan.namespace}"`] : [])].join(",");
  const by = prometheusGroupLabels(rule, plan.platform).join(", ");
  return `sum by (${by}) (increase(rapidclaw_firewall_events_total{${selector}}[${rule.windowSec}s])) >= ${rule.count}`;
}

/** Annotations of one rule (no `$value`: the count is in the expression's result). */
export function prometheusAnnotations(rule: AlertRule): { summary: string; description: string } {
  const tool = rule.grouping === "role_tool" ? ", tool {{ $labels.tool }}" : "";
  return {
    summary: `Rapid Claw: ${rule.eventType} for role {{ $labels.role }}${tool}`,
    description: `At least ${rule.count} ${rule.countedEventTypes.join(" or ")} events within ${rule.windowSec} s (all gateway replicas together).`,
  };
}

/** One alerting rule, in the shape of a Prometheus rule file (and of a `PrometheusRule`'s `spec.groups[].rules[]`). */
export interface PrometheusAlertingRule {
  /** Alert name, e.g. `RapidClawRateLimited`. */
  readonly alert: string;
  /** PromQL expression; the alert fires while it returns series. */
  readonly expr: string;
  /** Labels added to the alert: `severity` and `rule` (the event type). */
  readonly labels: { readonly [name: string]: string };
  /** `summary` and `description`. */
  readonly annotations: { readonly [name: string]: string };
}

/** A named group of alerting rules. */
export interface PrometheusRuleGroup {
  /** Group name, unique within a rule file. */
  readonly name: string;
  /** The group's rules, one per event kind with a threshold. */
  readonly rules: PrometheusAlertingRule[];
}

/** The rule groups for a plan: the model both the rule file and the Kubernetes `PrometheusRule` are made from. */
export function prometheusRuleGroups(plan: FirewallPlan): PrometheusRuleGroup[] {
  const rules = alertRules(plan.monitoring).map((rule) => ({
    alert: prometheusAlertName(rule.eventType),
    expr: prometheusExpression(rule, plan),
    labels: { severity: rule.severity, rule: rule.eventType },
    annotations: prometheusAnnotations(rule),
  }));
  return [{ name: PROMETHEUS_RULE_GROUP, rules }];
}

/** The rule file (YAML) for a plan. */
export function renderPrometheusRules(plan: FirewallPlan): string {
  const { stringify } = require("yaml") as typeof import("yaml");
  return "# Rapid Claw alerting rules, generated from the firewall spec: edit the spec, not this file.\n" + stringify({ groups: prometheusRuleGroups(plan) }, { lineWidth: 0 });
}
