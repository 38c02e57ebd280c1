/**
 * Alert delivery against a real HTTP receiver on 127.0.0.1: payload shapes, retries with
 * backoff, refusals not retried, the bounded queue (oldest dropped), severity routing; and the
 * webhook configuration: validated in the spec, secrets found in env vars or files.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { firewallScenario } from "../examples/firewall-scenario";
import { AlertDelivery, type DeliveryFailure } from "../src/monitoring/alert-delivery";
import { jsonPayload, pagerDutyPayload, slackPayload } from "../src/monitoring/alert-payloads";
import type { AlertRule } from "../src/monitoring/alert-rules";
import type { AlertTransition } from "../src/monitoring/alert-window-store";
import { resolveWebhooks, WebhookConfigError, type ResolvedWebhook } from "../src/monitoring/alert-webhooks";
import { compileFirewall } from "../src/plan/plan";
import { FirewallSpecError } from "../src/model/errors";
import { AgentPlatform, AlertSeverity, WebhookFormat, type AlertWebhookProps } from "../src/model/types";
import { freePort } from "./support/redis-server";

const rule: AlertRule = { eventType: "network_blocked", countedEventTypes: ["network_blocked"], count: 5, windowSec: 300, severity: "critical", grouping: "role" };
const firing: AlertTransition = { status: "firing", rule, group: { role: "research_agent", tool: "" }, count: 5, atMs: Date.parse("2026-11-29T10:41:29.475Z"), firedAtMs: Date.parse("2026-11-29T10:41:29.475Z"), subjects: ["a.example", "b.example"] };
const resolved: AlertTransition = { ...firing, status: "resolved", count: 4, atMs: Date.parse("2026-11-29T10:46:29.415Z"), subjects: [] };

describe("alert payloads", () => {
  it("generic JSON carries the alert and a breach key shared by firing and resolution", () => {
    expect(jsonPayload(firing)).toEqual({
      status: "firing",
      rule: "network_blocked",
      severity: "critical",
      role: "research_agent",
      tool: null,
      count: 5,
      threshold: 5,
      window_sec: 300,
      at: "2026-11-29T10:41:29.475Z",
      fired_at: "2026-11-29T10:41:29.475Z",
      subjects: ["a.example", "b.example"],
      dedup_key: `rapidclaw/network_blocked/research_agent/-/${firing.firedAtMs}`,
      summary: "[CRITICAL] FIRING network_blocked for role research_agent: 5 network_blocked events within 300 s (threshold 5) (hosts: a.example, b.example)",
    });
    expect(jsonPayload(resolved).dedup_key).toBe(jsonPayload(firing).dedup_key);
  });

  it("Slack gets a text message", () => {
    expect(slackPayload(resolved)).toEqual({ text: ":white_check_mark: [CRITICAL] RESOLVED network_blocked for role research_agent: back below 5 network_blocked events within 300 s" });
  });

  it("PagerDuty Events v2: trigger with payload, resolve with the same dedup_key", () => {
    const trigger = pagerDutyPayload(firing, "key");
    expect(trigger).toMatchObject({ routing_key: "key", event_action: "trigger", payload: { source: "rapidclaw", severity: "critical", component: "research_agent", class: "network_blocked", timestamp: "2026-11-29T10:41:29.475Z" } });
    expect(pagerDutyPayload(resolved, "key")).toEqual({ routing_key: "key", event_action: "resolve", dedup_key: trigger.dedup_key });
  });
});

describe("alert delivery to a receiver on 127.0.0.1", () => {
  let server: Server;
  let base: string;
  const requests: Array<{ path: string; body: Record<string, unknown> }> = [];
  /** Answers per path, consumed in order; 202 once they run out. */
  const script = new Map<string, number[]>();
  /** Paths whose answers wait until released. */
  const held: Array<() => void> = [];
  let hold = false;

  beforeAll(async () => {
    server = createServer((req, res) => {
      let text = "";
      req.setEncoding("utf8").on("data", (c: string) => (text += c));
      req.on("end", () => {
        requests.push({ path: req.url ?? "", body: JSON.parse(text) as Record<string, unknown> });
        const answer = () => {
          res.statusCode = script.get(req.url ?? "")?.shift() ?? 202;
          res.end();
        };
        if (hold) held.push(answer);
        else answer();
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(() => server.close());

  const hook = (path: string, format = WebhookFormat.JSON, minimum: "info" | "warning" | "critical" = "info"): ResolvedWebhook => ({ name: path, format, minimum, url: () => `${base}${path}`, routingKey: () => "rk" });
  const sent = (path: string) => requests.filter((r) => r.path === path);

  it("retries 503 and 429 with backoff until accepted, in order", async () => {
    script.set("/flaky", [503, 429]);
    const failures: DeliveryFailure[] = [];
    const delivery = new AlertDelivery([hook("/flaky")], (f) => failures.push(f), { baseDelayMs: 10 });
    delivery.deliver(firing);
    delivery.deliver(resolved);
    await delivery.idle();
    expect(sent("/flaky").map((r) => r.body.status)).toEqual(["firing", "firing", "firing", "resolved"]);
    expect(failures).toEqual([]);
  });

  it("does not retry a refusal (400) and reports it", async () => {
    script.set("/refuses", [400]);
    const failures: DeliveryFailure[] = [];
    const delivery = new AlertDelivery([hook("/refuses")], (f) => failures.push(f), { baseDelayMs: 10 });
    delivery.deliver(firing);
    await delivery.idle();
    expect(sent("/refuses")).toHaveLength(1);
    expect(failures.map((f) => [f.attempts, f.reason])).toEqual([[1, "HTTP 400 (not retried)"]]);
  });

  it("gives up after maxAttempts on a closed port and reports it without the URL", async () => {
    const port = await freePort();
    const failures: DeliveryFailure[] = [];
    const secret = `http://127.0.0.1:${port}/T000/B000/secret-token`;
    const delivery = new AlertDelivery([{ ...hook("/x"), url: () => secret }], (f) => failures.push(f), { maxAttempts: 3, baseDelayMs: 10 });
    delivery.deliver(firing);
    await delivery.idle();
    expect(failures).toHaveLength(1);
    expect(failures[0].attempts).toBe(3);
    expect(failures[0].reason).toContain("ECONNREFUSED");
    expect(failures[0].reason).not.toContain("secret-token");
  });

  it("keeps at most maxQueue waiting and drops the oldest when full", async () => {
    hold = true;
    const failures: DeliveryFailure[] = [];
    const delivery = new AlertDelivery([hook("/slow")], (f) => failures.push(f), { maxQueue: 2 });
    const alerts = [1, 2, 3, 4, 5].map((n) => ({ ...firing, count: n }));
    for (const a of alerts) delivery.deliver(a);
    await new Promise((r) => setTimeout(r, 100));
    hold = false;
    for (;;) {
      const release = held.shift();
      if (release) release();
      else if (sent("/slow").length >= 3) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    await delivery.idle();
    expect(sent("/slow").map((r) => r.body.count)).toEqual([1, 4, 5]);
    expect(failures.map((f) => [f.transition.count, f.reason])).toEqual([
      [2, "queue full (2 waiting): dropped the oldest"],
      [3, "queue full (2 waiting): dropped the oldest"],
    ]);
  });

  it("sends an alert only to webhooks whose severity it reaches", async () => {
    const delivery = new AlertDelivery([hook("/critical-only", WebhookFormat.PAGERDUTY, "critical"), hook("/warning-up", WebhookFormat.SLACK, "warning")], () => {});
    delivery.deliver({ ...firing, rule: { ...rule, severity: "warning" } });
    await delivery.idle();
    expect(sent("/critical-only")).toHaveLength(0);
    expect(sent("/warning-up")).toHaveLength(1);
  });
});

describe("webhook configuration", () => {
  const spec = (webhooks: unknown[]) => ({ ...firewallScenario(AgentPlatform.DOCKER), monitoring: { webhooks } });
  const problems = (webhooks: unknown[]) => {
    try {
      compileFirewall(spec(webhooks));
    } catch (error) {
      if (error instanceof FirewallSpecError) return error.problems.map((p) => `${p.path}: ${p.message}`).sort();
      throw error;
    }
    return [];
  };

  it("reports every webhook problem at once, by path", () => {
    expect(
      problems([
        { severity: "warning", format: "slack", urlEnv: "A", urlFile: "/b" },
        { severity: "warning", format: "json" },
        { severity: "critical", format: "pagerduty" },
        { severity: "info", format: "slack", urlEnv: "SLACK_URL", routingKeyEnv: "K" },
        { severity: "loud", format: "teams", urlEnv: "not a name", urlFile: "relative/path" },
      ]),
    ).toEqual([
      "monitoring.webhooks[0]: give urlEnv or urlFile, not both",
      "monitoring.webhooks[1]: name where the webhook URL comes from: urlEnv (an environment variable), urlFile (e.g. a file Vault Agent renders), on Docker vaultSecret, or on Kubernetes kubernetesSecret",
      "monitoring.webhooks[2]: a pagerduty webhook needs its integration key: routingKeyEnv or routingKeyFile",
      "monitoring.webhooks[3].routingKeyEnv: routingKeyEnv is for format pagerduty only; remove it",
      'monitoring.webhooks[4].format: format must be one of "json", "slack", "pagerduty", got "teams"',
      'monitoring.webhooks[4].severity: severity must be "info", "warning" or "critical", got "loud"',
      "monitoring.webhooks[4].urlEnv: urlEnv must be an environment variable name such as SLACK_WEBHOOK_URL",
      "monitoring.webhooks[4].urlFile: urlFile must be an absolute path such as /vault/secrets/slack-url",
      "monitoring.webhooks[4]: give urlEnv or urlFile, not both",
    ].sort());
  });

  it("accepts env and file sources; the plan holds their names, never a URL", () => {
    const webhooks: AlertWebhookProps[] = [
      { severity: AlertSeverity.WARNING, format: WebhookFormat.SLACK, urlFile: "/vault/secrets/slack-url" },
      { severity: AlertSeverity.CRITICAL, format: WebhookFormat.PAGERDUTY, routingKeyEnv: "PD_KEY" },
    ];
    expect(compileFirewall(spec(webhooks)).monitoring.webhooks).toEqual(webhooks);
  });

  it("finds secrets at start, re-reads files on each send, and lists every missing one", () => {
    const dir = mkdtempSync(join(tmpdir(), "rapidclaw-h5-hooks-"));
    try {
      const file = join(dir, "slack-url");
      writeFileSync(file, "https://hooks.example/one\n");
      const [slack, pd] = resolveWebhooks(
        [
          { severity: AlertSeverity.WARNING, format: WebhookFormat.SLACK, urlFile: file },
          { severity: AlertSeverity.CRITICAL, format: WebhookFormat.PAGERDUTY, routingKeyEnv: "PD_KEY" },
        ],
        { PD_KEY: "abc" },
      );
      expect(slack.url()).toBe("https://hooks.example/one");
      writeFileSync(file, "https://hooks.example/two\n");
      expect(slack.url()).toBe("https://hooks.example/two");
      expect([pd.url(), pd.routingKey()]).toEqual(["https://events.pagerduty.com/v2/enqueue", "abc"]);
      expect(() =>
        resolveWebhooks([
          { severity: AlertSeverity.WARNING, format: WebhookFormat.JSON, urlEnv: "H5_SURELY_UNSET" },
          { severity: AlertSeverity.WARNING, format: WebhookFormat.JSON, urlFile: join(dir, "missing") },
        ], {}),
      ).toThrow(new WebhookConfigError([
        "monitoring.webhooks[0] (json): environment variable H5_SURELY_UNSET (its URL) is not set; export it before starting",
        `monitoring.webhooks[1] (json): cannot read ${join(dir, "missing")} (its URL): ENOENT: no such file or directory, open '${join(dir, "missing")}'`,
      ]));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
