/**
 * The rendered Prometheus rules, checked by the real promtool: `check rules` accepts them, and
 * `promtool test rules` agrees with the built-in evaluator (the in-memory window store) on
 * series that cross each threshold, series that stay just under it, and random event sequences,
 * on both platforms' label sets. Events fall on the scrape grid (one sample a minute), where
 * `increase` over the window is the exact count; between scrapes Prometheus sees an event at
 * the next scrape, the one place the two can differ. Every series is 0 at minute 0, before its
 * events, as the gateway's counters are (it starts them at 0): a series whose first sample
 * already counts events would be extrapolated.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { firewallScenario } from "../examples/firewall-scenario";
import { alertGroupOf, alertRules, subjectOf } from "../src/monitoring/alert-rules";
import { MemoryAlertWindowStore } from "../src/monitoring/alert-window-store";
import type { FirewallEvent } from "../src/monitoring/events";
import { compileFirewall, type FirewallPlan } from "../src/plan/plan";
import { prometheusAlertName, prometheusAnnotations, prometheusGroupLabels, renderPrometheusRules } from "../src/render/prometheus-rules";
import { AgentPlatform } from "../src/model/types";
import { skipLoudly } from "./e2e/support/prerequisites";
import { promtool, PROMTOOL_MISSING } from "./support/promtool";

const SKIP = skipLoudly("Prometheus rules under promtool", PROMTOOL_MISSING);

const dir = mkdtempSync(join(tmpdir(), "rapidclaw-h5-promtool-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PLATFORMS = [AgentPlatform.DOCKER, AgentPlatform.KUBERNETES];
const plans = PLATFORMS.map((platform) => compileFirewall({ ...firewallScenario(platform), monitoring: { rateLimited: { count: 4, windowSec: 300, severity: "warning" }, permissionDenied: { count: 3, windowSec: 60, severity: "critical" }, networkBlocked: { count: 5, windowSec: 180, severity: "critical" } } }));

/** An event at a whole minute, counted by one of two replicas. */
interface GridEvent {
  readonly eventType: string;
  readonly role: string;
  readonly tool: string;
  readonly minute: number;
  readonly replica: number;
}

/** Labels Prometheus adds when it scrapes a replica: pod and namespace on Kubernetes, instance and job on Docker. */
function scrapeLabels(plan: FirewallPlan, replica: number): Record<string, string> {
  return plan.platform === AgentPlatform.KUBERNETES ? { namespace: plan.namespace, pod: `rapidclaw-gateway-${replica}`, job: "rapidclaw" } : { instance: `gateway-${replica}:9464`, job: "rapidclaw" };
}

const selector = (labels: Record<string, string>) => `rapidclaw_firewall_events_total{${Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(",")}}`;

/** When each alert of the built-in evaluator fires, as [from, to) minute ranges per rule and group. */
async function evaluatorAlerts(plan: FirewallPlan, events: ReadonlyArray<GridEvent>) {
  const rules = alertRules(plan.monitoring);
  const store = new MemoryAlertWindowStore();
  const open = new Map<string, { rule: string; labels: Record<string, string>; fromMs: number }>();
  const ranges: Array<{ rule: string; labels: Record<string, string>; fromMs: number; toMs: number }> = [];
  const sorted = [...events].sort((a, b) => a.minute - b.minute);
  const record = (transitions: Awaited<ReturnType<MemoryAlertWindowStore["observe"]>>) => {
    for (const t of transitions) {
      const key = JSON.stringify([t.rule.eventType, t.group]);
      if (t.status === "firing") {
        const labels: Record<string, string> = { role: t.group.role, ...(t.group.tool ? { tool: t.group.tool } : {}) };
        open.set(key, { rule: t.rule.eventType, labels, fromMs: t.atMs });
      } else {
        ranges.push({ ...(open.get(key) as { rule: string; labels: Record<string, string>; fromMs: number }), toMs: t.atMs });
        open.delete(key);
      }
    }
  };
  for (const e of sorted) {
    const event: FirewallEvent = { timestampMs: e.minute * 60_000, eventType: e.eventType, role: e.role, tool: e.tool || null, host: null, source: "gateway", details: {} };
    for (const rule of rules) {
      const group = alertGroupOf(rule, event);
      if (group) record(await store.observe(rule, group, subjectOf(rule, event), event.timestampMs));
    }
  }
  record(await store.sweep(rules, Number.MAX_SAFE_INTEGER / 2));
  return ranges;
}

/** A promtool test file: the events as counter series of two replicas, and the evaluator's alerts at every minute. */
async function promtoolTestFile(plan: FirewallPlan, ruleFile: string, events: ReadonlyArray<GridEvent>, horizon: number): Promise<string> {
  const series = new Map<string, number[]>();
  for (const e of events) {
    const name = selector({ event_type: e.eventType, role: e.role, ...(e.tool ? { tool: e.tool } : {}), ...scrapeLabels(plan, e.replica) });
    const values = series.get(name) ?? new Array<number>(horizon + 1).fill(0);
    for (let m = e.minute; m <= horizon; m++) values[m]++;
    series.set(name, values);
  }
  const ranges = await evaluatorAlerts(plan, events);
  const rules = alertRules(plan.monitoring);
  const alertTests = [];
  for (let minute = 0; minute <= horizon; minute++) {
    for (const rule of rules) {
      const firing = ranges.filter((r) => r.rule === rule.eventType && r.fromMs <= minute * 60_000 && minute * 60_000 < r.toMs);
      alertTests.push({
        eval_time: `${minute}m`,
        alertname: prometheusAlertName(rule.eventType),
        exp_alerts: firing.map((r) => {
          const labels: Record<string, string> = { ...r.labels, ...(plan.platform === AgentPlatform.KUBERNETES ? { namespace: plan.namespace } : {}) };
          const grouped = Object.fromEntries(prometheusGroupLabels(rule, plan.platform).map((l) => [l, labels[l]]));
          const annotations = prometheusAnnotations(rule);
          const fill = (text: string) => text.replace("{{ $labels.role }}", labels.role).replace("{{ $labels.tool }}", labels.tool ?? "");
          return { exp_labels: { ...grouped, severity: rule.severity, rule: rule.eventType }, exp_annotations: { summary: fill(annotations.summary), description: annotations.description } };
        }),
      });
    }
  }
  return stringify({
    rule_files: [ruleFile],
    evaluation_interval: "1m",
    tests: [{ interval: "1m", input_series: [...series].map(([name, values]) => ({ series: name, values: values.join(" ") })), alert_rule_test: alertTests }],
  });
}

async function runPromtoolTest(plan: FirewallPlan, events: ReadonlyArray<GridEvent>, horizon: number, label: string): Promise<void> {
  const ruleFile = join(dir, `${plan.platform}.rules.yml`);
  writeFileSync(ruleFile, renderPrometheusRules(plan));
  const testFile = join(dir, `${plan.platform}-${label}.test.yml`);
  writeFileSync(testFile, await promtoolTestFile(plan, ruleFile, events, horizon));
  const result = promtool(["test", "rules", testFile]);
  expect(result.status, `${testFile}\n${result.output}`).toBe(0);
}

describe.skipIf(SKIP).each(plans.map((plan) => ({ plan, platform: plan.platform })))("Prometheus rules on $platform", ({ plan }) => {
  it("pass promtool check rules", () => {
    const file = join(dir, `${plan.platform}.check.yml`);
    writeFileSync(file, renderPrometheusRules(plan));
    const result = promtool(["check", "rules", file]);
    expect(result.status, result.output).toBe(0);
    expect(result.output).toContain("SUCCESS: 3 rules found");
  });

  it("fire on series that reach each threshold across two replicas, and not on series that stay just under it", async () => {
    const events: GridEvent[] = [];
    const add = (eventType: string, role: string, tool: string, minutes: number[]) => minutes.forEach((minute, i) => events.push({ eventType, role, tool, minute, replica: i % 2 }));
    // rate_limited 4 in 300 s per role and tool: 4 within 4 minutes for web_search; 3, then 3 more after the first left, for database.
    add("rate_limited", "research_agent", "web_search", [1, 2, 3, 4]);
    add("rate_limited", "research_agent", "database", [1, 2, 3, 6, 7, 8]);
    // permission_denied 3 in 60 s per role, whatever the tool: 3 tools in one minute; and 2 a minute apart.
    add("permission_denied", "customer_support", "database", [10]);
    add("permission_denied", "customer_support", "web_search", [10]);
    add("permission_denied", "customer_support", "send_email", [10]);
    add("permission_denied", "research_agent", "send_email", [10, 11, 12]);
    // Probing counts as denied permissions: one refusal, one unknown tool and one bad request in a minute fire it.
    add("permission_denied", "research_agent", "send_email", [13]);
    add("unknown_tool", "research_agent", "_other", [13]);
    add("bad_request", "research_agent", "", [13]);
    // Probing alone fires it too; other refusals never do.
    add("unknown_tool", "customer_support", "_other", [13, 13]);
    add("bad_request", "customer_support", "", [13]);
    add("limiter_unavailable", "customer_support", "send_email", [13, 13, 13]);
    // network_blocked 5 in 180 s per role: 5 within 3 minutes; and 4, 4, 4 spaced so the window never holds 5.
    add("network_blocked", "research_agent", "", [2, 3, 3, 4, 4]);
    add("network_blocked", "customer_support", "", [1, 1, 1, 1, 4, 4, 4, 4, 7, 7, 7, 7]);
    const ranges = await evaluatorAlerts(plan, events);
    // The built-in evaluator itself fires exactly for the crossing series.
    expect(ranges.map((r) => `${r.rule} ${r.labels.role} ${r.labels.tool ?? ""}`.trim()).sort()).toEqual([
      "network_blocked research_agent",
      "permission_denied customer_support",
      "permission_denied customer_support",
      "permission_denied research_agent",
      "rate_limited research_agent web_search",
    ]);
    await runPromtoolTest(plan, events, 14, "thresholds");
  });

  it("agree with the built-in evaluator on random event sequences (property)", async () => {
    const rule = fc.constantFrom(
      { eventType: "rate_limited", tools: ["web_search", "database"] },
      { eventType: "permission_denied", tools: ["web_search", "send_email", "database"] },
      { eventType: "network_blocked", tools: [""] },
      { eventType: "unknown_tool", tools: ["_other"] },
      { eventType: "bad_request", tools: ["", "web_search"] },
    );
    const event = fc.record({ kind: rule, role: fc.constantFrom("research_agent", "customer_support"), toolIndex: fc.nat(2), minute: fc.integer({ min: 1, max: 9 }), replica: fc.nat(1) });
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(event, { minLength: 10, maxLength: 50 }), async (drawn) => {
        const events = drawn.map((e) => ({ eventType: e.kind.eventType, role: e.role, tool: e.kind.tools[e.toolIndex % e.kind.tools.length], minute: e.minute, replica: e.replica }));
        await runPromtoolTest(plan, events, 16, `random-${run++}`);
      }),
      { numRuns: 20 },
    );
  });
});
