/**
 * The gateway's events in the shared alert windows: two gateway processes on one real Redis fire
 * the permission_denied alert once (not one refusal early), deliver one trigger and one resolve,
 * write the alert lines on stdout; `rapidclaw proxy-events` counts Squid's lines in the same
 * Redis; a receiver that is down gets retries and an alert_delivery_failed line while the gateway
 * serves; Redis away never blocks a request and counts each event once when it is back; agents
 * cannot add metric series; missing webhook secrets stop both commands with exit 2.
 */
import { randomBytes } from "node:crypto";
import { appendFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { skipLoudly } from "../e2e/support/prerequisites";
import { AlertSeverity, WebhookFormat, type FirewallSpecProps } from "../../src/model/types";
import { startReceiver, until, type Received } from "../support/webhook-receiver";
import { gatewayScenario } from "./fixture";
import { CliProcess } from "./support/cli";
import { ROLE_ADDRESSES, startTestGateway, withTestListeners, writeKeys } from "./support/harness";
import { call } from "./support/net";
import { missingRedis, TestRedis } from "./support/redis";
import { selfSignedCertificate, TestUpstream, type TestCertificate } from "./support/upstream";

const skip = skipLoudly("gateway monitoring against real Redis and webhook receivers", missingRedis());

const URL_ENV = "H7_TEST_WEBHOOK_URL";
/** Short windows, so that resolution comes within the test. */
const spec: FirewallSpecProps = gatewayScenario({
  monitoring: {
    permissionDenied: { count: 3, windowSec: 2, severity: AlertSeverity.CRITICAL },
    networkBlocked: { count: 3, windowSec: 60, severity: AlertSeverity.CRITICAL },
    webhooks: [{ severity: AlertSeverity.CRITICAL, format: WebhookFormat.JSON, urlEnv: URL_ENV }],
  },
});
const WINDOW_KEY = (prefix: string, rule: string) => `${prefix}{${rule}|research_agent|}:w`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const parseLines = (text: string) => text.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as { event_type: string; agent_role: string | null; tool: string | null; details: Record<string, unknown> });
/** research_agent has no access to send_email: a permission_denied refusal. */
const refuse = (port: number) => call({ host: ROLE_ADDRESSES.research_agent.listener, port, path: "/v1/check", method: "POST", body: JSON.stringify({ tool: "send_email", access: "WRITE" }) });
const check = (port: number, tool: string) => call({ host: ROLE_ADDRESSES.research_agent.listener, port, path: "/v1/check", method: "POST", body: JSON.stringify({ tool, access: "READ" }) });
const scrape = async (port: number) => (await call({ host: "127.0.0.1", port, path: "/metrics" })).body;

describe.skipIf(skip)("gateway monitoring", () => {
  let redis: TestRedis;
  let receiver: { server: Server; url: string };
  const received: Received[] = [];
  let certificate: TestCertificate;
  let upstream: TestUpstream;
  const files: string[] = [];

  beforeAll(async () => {
    redis = await TestRedis.start();
    receiver = await startReceiver(received);
    certificate = selfSignedCertificate(["search.tools.test"]);
    upstream = await TestUpstream.start(certificate);
  });

  afterAll(async () => {
    await upstream?.stop();
    await new Promise((r) => receiver?.server.close(r));
    await redis?.kill();
    for (const file of files) rmSync(file, { recursive: true, force: true });
  });

  /** A firewall file with the test's listeners, for a CLI process. */
  async function firewallFile(name: string): Promise<{ file: string; rolePort: number; keyDir: string }> {
    const { spec: withListeners, rolePort } = await withTestListeners(spec);
    const { dir } = writeKeys(spec);
    const file = join(dir, `h7-${process.pid}-${name}.json`);
    writeFileSync(file, JSON.stringify(withListeners));
    files.push(dir);
    return { file, rolePort, keyDir: dir };
  }

  it("two gateway processes and the proxy log reader share the windows: one firing, not one event early, one trigger and one resolve, alert lines on stdout", async () => {
    const env = { [URL_ENV]: `${receiver.url}/replicas` };
    const replicas = await Promise.all([0, 1].map(async (i) => {
      const { file, rolePort, keyDir } = await firewallFile(`replica-${i}`);
      const cli = new CliProcess(["gateway", "--config", file, "--key-dir", keyDir, "--redis", redis.url, "--listen-host", "127.0.0.1", "--admin-port", "0", "--admin-host", "127.0.0.1"], { env });
      return { process: cli, rolePort };
    }));
    const { file: proxyConfig, keyDir } = await firewallFile("proxy-events");
    const log = join(keyDir, "access.log");
    writeFileSync(log, "");
    const reader = new CliProcess(["proxy-events", "--config", proxyConfig, "--log", log, "--redis", redis.url, "--admin-port", "0", "--admin-host", "127.0.0.1"], { env });
    const everyone = [...replicas.map((r) => r.process), reader];
    try {
      await Promise.all([...replicas.map((r) => r.process.waitFor("listening")), reader.waitFor("following")]);
      const window = WINDOW_KEY("rapidclaw:alert:", "permission_denied");
      // Every evaluator on the windows sweeps them: a resolution comes from whichever sweeps first, the proxy log reader included.
      const lines = () => everyone.flatMap((p) => parseLines(p.stdout));
      const ofType = (type: string) => lines().filter((e) => e.event_type === type);
      const inWindow = async () => Number(await redis.cli("ZCARD", window));

      // Refusals split across both replicas: the first two do not fire.
      expect((await refuse(replicas[0].rolePort)).status).toBe(403);
      await until("the first refusal in the shared window", async () => (await inWindow()) === 1);
      expect((await refuse(replicas[1].rolePort)).status).toBe(403);
      await until("the second refusal in the shared window", async () => (await inWindow()) === 2);
      expect(ofType("alert_firing")).toEqual([]);
      expect(await redis.cli("EXISTS", `rapidclaw:alert:{permission_denied|research_agent|}:s`)).toBe("0\n");
      expect(received.filter((r) => r.path === "/replicas")).toEqual([]);

      // The third, on the first replica again, reaches the threshold: one firing for both.
      expect((await refuse(replicas[0].rolePort)).status).toBe(403);
      await until("the alert line", () => ofType("alert_firing").length > 0);
      await until("the trigger", () => received.some((r) => r.path === "/replicas"));
      const [firing, ...more] = ofType("alert_firing");
      expect(more).toEqual([]);
      expect(firing).toMatchObject({ agent_role: "research_agent", tool: null, details: { rule: "permission_denied", severity: "critical", count: 3, threshold: 3, window_sec: 2, subjects: ["send_email"] } });
      expect(ofType("permission_denied")).toHaveLength(3);

      // The window (2 s) passes: one resolution, by whichever process swept first.
      await until("the resolution", () => ofType("alert_resolved").length > 0, 10_000);
      await until("the resolve", () => received.filter((r) => r.path === "/replicas").length >= 2);
      await sleep(1_500); // one more sweep of each replica: nothing more may come
      expect(ofType("alert_resolved")).toHaveLength(1);
      expect(ofType("alert_resolved")[0].details.dedup_key).toBe(firing.details.dedup_key);
      const notifications = received.filter((r) => r.path === "/replicas").map((r) => r.body);
      expect(notifications.map((n) => [n.status, n.rule, n.dedup_key])).toEqual([
        ["firing", "permission_denied", firing.details.dedup_key],
        ["resolved", "permission_denied", firing.details.dedup_key],
      ]);

      // Squid's lines, followed by `rapidclaw proxy-events`, count in the same Redis and alert through the same webhook.
      const blocked = (i: number) => JSON.stringify({ ts: new Date().toISOString(), event: "network_blocked", client: "172.30.0.11", role: "research_agent", method: "CONNECT", host: `p${i}.example`, port: "443", status: 403, result: "TCP_DENIED", bytes: 3401 });
      appendFileSync(log, `${blocked(0)}\n${blocked(1)}\n`);
      await until("two proxy lines in the shared window", async () => Number(await redis.cli("ZCARD", WINDOW_KEY("rapidclaw:alert:", "network_blocked"))) === 2);
      const networkAlerts = () => parseLines(reader.stdout).filter((e) => e.details.rule === "network_blocked");
      expect(networkAlerts()).toEqual([]);
      appendFileSync(log, `${blocked(2)}\n`);
      await until("the network_blocked alert", () => networkAlerts().length > 0);
      expect(networkAlerts()).toEqual([expect.objectContaining({ event_type: "alert_firing", agent_role: "research_agent", details: expect.objectContaining({ rule: "network_blocked", count: 3, subjects: ["p0.example", "p1.example", "p2.example"] }) })]);
      await until("the network_blocked trigger", () => received.some((r) => r.body.rule === "network_blocked"));
      const adminPort = Number(/admin on [\d.]+:(\d+)/.exec(reader.stderr)?.[1]);
      expect(await scrape(adminPort)).toContain('rapidclaw_firewall_events_total{event_type="network_blocked",role="research_agent",tool=""} 3');
      expect((await call({ host: "127.0.0.1", port: adminPort, path: "/readyz" })).status).toBe(200);
    } finally {
      await Promise.all(everyone.map((p) => p.stop()));
    }
  });

  it("delivers to a receiver that is down with retries and an alert_delivery_failed line, while the gateway keeps answering", async () => {
    const gw = await startTestGateway(spec, redis.url, upstream, certificate, {}, new Map(), {
      env: { [URL_ENV]: `${receiver.url}/down` },
      delivery: { maxAttempts: 3, baseDelayMs: 300 },
      keyPrefix: `h7:${process.pid}:down:`,
    });
    try {
      for (let i = 0; i < 3; i++) expect((await refuse(gw.rolePort)).status).toBe(403);
      await until("the first attempt", () => received.some((r) => r.path === "/down"));
      // Answered while the notification is being retried.
      const during = await Promise.all(Array.from({ length: 10 }, () => check(gw.rolePort, "knowledge_base")));
      expect(during.map((a) => a.status)).toEqual(Array(10).fill(200));
      const failed = () => gw.lines.map((l) => JSON.parse(l)).filter((e) => e.event_type === "alert_delivery_failed");
      await until("the alert_delivery_failed line", () => failed().length > 0);
      expect(received.filter((r) => r.path === "/down" && r.body.status === "firing")).toHaveLength(3);
      expect(failed()[0]).toMatchObject({ agent_role: "research_agent", details: { rule: "permission_denied", status: "firing", attempts: 3, reason: "HTTP 503" } });
      expect(gw.lines.join("\n")).not.toContain(receiver.url);
      expect(await scrape(gw.gateway.admin.port)).toContain('rapidclaw_alert_deliveries_failed_total{format="json",severity="critical"} 1');
      expect((await check(gw.rolePort, "knowledge_base")).status).toBe(200);
    } finally {
      await gw.gateway.stop();
    }
  });

  it("counts probing (unknown tools, requests it cannot route) toward the permission_denied alert", async () => {
    const gw = await startTestGateway(spec, redis.url, upstream, certificate, {}, new Map(), { env: { [URL_ENV]: `${receiver.url}/probing` }, keyPrefix: `h7:${process.pid}:probing:` });
    try {
      const { listener } = ROLE_ADDRESSES.research_agent;
      expect((await call({ host: listener, port: gw.rolePort, path: "/tools/no_such_tool/x" })).status).toBe(404);
      expect((await call({ host: listener, port: gw.rolePort, path: "/tools/web_search/a/../b" })).status).toBe(400);
      expect((await call({ host: listener, port: gw.rolePort, path: "/v1/check", method: "POST", body: "not json" })).status).toBe(400);
      await until("the alert line", () => gw.lines.some((l) => l.includes('"alert_firing"')));
      const firing = gw.lines.map((l) => JSON.parse(l)).filter((e) => e.event_type === "alert_firing");
      expect(firing).toEqual([expect.objectContaining({ agent_role: "research_agent", details: expect.objectContaining({ rule: "permission_denied", count: 3, subjects: ["no_such_tool"] }) })]);
    } finally {
      await gw.gateway.stop();
    }
  });

  it("serves one registry on /metrics, where an agent calling made-up tools adds no series", async () => {
    const gw = await startTestGateway(spec, redis.url, upstream, certificate, {}, new Map(), { env: { [URL_ENV]: `${receiver.url}/labels` }, keyPrefix: `h7:${process.pid}:labels:` });
    try {
      const made = () => `t${randomBytes(6).toString("hex")}`;
      const madeUp = async () => {
        const name = made();
        expect((await call({ host: ROLE_ADDRESSES.research_agent.listener, port: gw.rolePort, path: `/tools/${name}/x` })).status).toBe(404);
        expect((await check(gw.rolePort, made())).status).toBe(404);
        return name;
      };
      const series = (text: string) => text.split("\n").filter((l) => /^rapidclaw_(firewall_events_total|gateway_decisions_total|alerts_firing)\{/.test(l)).map((l) => l.replace(/ [^ ]+$/, "")).sort();
      // Made-up tools are probing: they fire the permission_denied alert, whose series exists from then on.
      await madeUp();
      await madeUp();
      await until("the probing alert", async () => (await scrape(gw.gateway.admin.port)).includes('rapidclaw_alerts_firing{rule="permission_denied",severity="critical",role="research_agent",tool=""} 1'));
      const before = series(await scrape(gw.gateway.admin.port));
      const names = await Promise.all(Array.from({ length: 40 }, madeUp));
      const text = await scrape(gw.gateway.admin.port);
      expect(series(text)).toEqual(before);
      for (const name of names) expect(text).not.toContain(name);
      expect(text).toContain('rapidclaw_firewall_events_total{event_type="unknown_tool",role="research_agent",tool="_other"} 42');
      expect(text).toContain('rapidclaw_gateway_decisions_total{outcome="unknown_tool",role="research_agent",tool="_other"} 42');
      // One definition of the events counter; the gateway's and the monitoring's metrics side by side.
      expect(text.match(/^# TYPE rapidclaw_firewall_events_total counter$/gm)).toHaveLength(1);
      for (const name of ["rapidclaw_gateway_decisions_total", "rapidclaw_gateway_limiter_errors_total", "rapidclaw_gateway_upstream_duration_seconds", "rapidclaw_alerts_firing", "rapidclaw_alert_transitions_total", "rapidclaw_monitoring_events_dropped_total", "rapidclaw_monitoring_events_waiting"]) {
        expect(text, name).toMatch(new RegExp(`^# TYPE ${name} `, "m"));
      }
    } finally {
      await gw.gateway.stop();
    }
  });

  it("keeps answering while Redis is stalled or gone (limited tools fail closed) and counts each waiting event once when it is back", async () => {
    const own = await TestRedis.start();
    const prefix = `h7:${process.pid}:away:`;
    // Without task limits, so that its checks of a tool without a rate limit need no Redis (a role with them counts every check there).
    const unlimited = { ...spec, roles: { ...spec.roles, research_agent: { ...spec.roles.research_agent, limits: undefined } } };
    const gw = await startTestGateway(unlimited, own.url, upstream, certificate, {}, new Map(), { env: { [URL_ENV]: `${receiver.url}/away` }, keyPrefix: prefix });
    try {
      await until("the limiter", async () => (await check(gw.rolePort, "web_search")).status === 200);
      const window = WINDOW_KEY(prefix, "permission_denied");

      // Stalled (SIGSTOP): answers go on; the window commands wait (no timeout) and count once when Redis resumes.
      own.signal("SIGSTOP");
      for (let i = 0; i < 2; i++) expect((await refuse(gw.rolePort)).status).toBe(403);
      expect((await check(gw.rolePort, "web_search")).status).toBe(503);
      own.signal("SIGCONT");
      await until("the stalled refusals in the window", async () => Number(await own.cli("ZCARD", window)) === 2);
      await sleep(1_200);
      expect(Number(await own.cli("ZCARD", window))).toBe(2);

      // Gone (killed, restarted empty): refusals wait in the buffer and are retried on the ticks.
      await own.kill();
      for (let i = 0; i < 3; i++) expect((await refuse(gw.rolePort)).status).toBe(403);
      const limited = await check(gw.rolePort, "web_search");
      expect(limited.status).toBe(503);
      expect(JSON.parse(limited.body).error).toBe("limiter_unavailable");
      expect((await check(gw.rolePort, "knowledge_base")).status).toBe(200);
      await until("the refusals waiting", async () => (await scrape(gw.gateway.admin.port)).includes("rapidclaw_monitoring_events_waiting 3"));
      expect(await scrape(gw.gateway.admin.port)).toContain('rapidclaw_firewall_events_total{event_type="permission_denied",role="research_agent",tool="send_email"} 5');
      expect(gw.lines.some((l) => l.includes('"alert_firing"'))).toBe(false);

      await own.restart();
      await until("the waiting refusals in the window", async () => Number(await own.cli("ZCARD", window)) === 3);
      await until("the alert line", () => gw.lines.some((l) => l.includes('"alert_firing"')));
      await until("the limiter back", async () => (await check(gw.rolePort, "web_search")).status === 200);
      await sleep(1_200); // another tick: nothing is added twice
      expect(Number(await own.cli("ZCARD", window))).toBe(3);
      expect(gw.lines.filter((l) => l.includes('"alert_firing"'))).toHaveLength(1);
      const after = await scrape(gw.gateway.admin.port);
      expect(after).toContain('rapidclaw_firewall_events_total{event_type="permission_denied",role="research_agent",tool="send_email"} 5');
      expect(after).toContain("rapidclaw_monitoring_events_waiting 0");
      expect(after).not.toMatch(/rapidclaw_monitoring_events_dropped_total\{/);
    } finally {
      await gw.gateway.stop();
      await own.kill();
    }
  });

  it("while Redis is gone, shares the waiting buffer fairly: one role's flood pushes out its own events, not another role's", async () => {
    const own = await TestRedis.start();
    const prefix = `h7:${process.pid}:fair:`;
    const gw = await startTestGateway(spec, own.url, upstream, certificate, {}, new Map(), { env: { [URL_ENV]: `${receiver.url}/fair` }, keyPrefix: prefix, maxWaiting: 50, sweepIntervalMs: 3_000 });
    try {
      await until("the limiter", async () => (await check(gw.rolePort, "web_search")).status === 200);
      await own.kill();
      // Retries come every 3 s: none between the refusals below, which all wait.
      // customer_support has no access to web_search: three refusals, the first to wait.
      const denied = () => call({ host: ROLE_ADDRESSES.customer_support.listener, port: gw.rolePort, path: "/v1/check", method: "POST", body: JSON.stringify({ tool: "web_search", access: "READ" }) });
      for (let i = 0; i < 3; i++) expect((await denied()).status).toBe(403);
      // Then research_agent floods four times the buffer's size.
      for (let i = 0; i < 200; i++) expect((await refuse(gw.rolePort)).status).toBe(403);
      const waiting = await scrape(gw.gateway.admin.port);
      expect(waiting).toContain("rapidclaw_monitoring_events_waiting 50");
      expect(waiting).toContain('rapidclaw_monitoring_events_dropped_total{reason="buffer_full"} 153');

      await own.restart();
      await until("customer_support's refusals in its window", async () => Number(await own.cli("ZCARD", `${prefix}{permission_denied|customer_support|}:w`)) === 3);
      await until("both roles' alerts", () => gw.lines.filter((l) => l.includes('"alert_firing"')).length === 2);
      const roles = gw.lines.map((l) => JSON.parse(l)).filter((e) => e.event_type === "alert_firing").map((e) => e.agent_role).sort();
      expect(roles).toEqual(["customer_support", "research_agent"]);
    } finally {
      await gw.gateway.stop();
      await own.kill();
    }
  });

  it("refuses to start, with exit code 2 and every missing webhook secret listed, in both commands; proxy-events also on a bad firewall file", async () => {
    const { file, keyDir } = await firewallFile("no-webhook-env");
    const gateway = new CliProcess(["gateway", "--config", file, "--key-dir", keyDir, "--redis", redis.url, "--listen-host", "127.0.0.1", "--admin-port", "0"]);
    const reader = new CliProcess(["proxy-events", "--config", file, "--log", join(keyDir, "access.log"), "--redis", redis.url, "--admin-port", "0"]);
    const badFile = join(keyDir, "bad-firewall.json");
    writeFileSync(badFile, JSON.stringify({ ...spec, roles: { research_agent: { tools: { web_serch: "READ" } } } }));
    const badReader = new CliProcess(["proxy-events", "--config", badFile, "--log", join(keyDir, "access.log"), "--redis", redis.url, "--admin-port", "0"]);
    expect(await gateway.exited).toBe(2);
    expect(await reader.exited).toBe(2);
    for (const p of [gateway, reader]) {
      expect(p.stderr).toContain("alert webhooks are not usable");
      expect(p.stderr).toContain(`monitoring.webhooks[0] (json): environment variable ${URL_ENV} (its URL) is not set`);
      expect(p.stdout).toBe("");
    }
    expect(await badReader.exited).toBe(2);
    expect(badReader.stderr).toContain('did you mean "web_search"');
  });
});
