/**
 * Monitoring end to end: real Squid (the synthesized config, access log to a file) in a network
 * namespace, two evaluators sharing one real redis-server, each following one proxy replica's
 * log, and webhook receivers on 127.0.0.1. Refused CONNECTs become network_blocked events,
 * every one counted once; the alert fires at the threshold and not one event before, once for
 * both replicas; receivers get one trigger and one resolve per breach; a receiver that answers
 * 503 gets every retry and an alert_delivery_failed event, and counting goes on.
 */
import type { Server } from "node:http";
import type Redis from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { firewallScenario } from "../../examples/firewall-scenario";
import type { FileTailer } from "../../src/monitoring/file-tailer";
import { createMonitoring, type MonitoringRuntime } from "../../src/monitoring/monitoring-runtime";
import { followProxyLog } from "../../src/monitoring/proxy-log-follower";
import { RedisAlertWindowStore } from "../../src/monitoring/redis-alert-window-store";
import { compileFirewall } from "../../src/plan/plan";
import { renderSquidConf, squidRolesForPlan } from "../../src/render/squid-conf";
import { AgentPlatform, WebhookFormat } from "../../src/model/types";
import { RedisServer } from "../support/redis-server";
import { startReceiver, until, type Received } from "../support/webhook-receiver";
import { NetAgent } from "./support/net-agent-client";
import { NetworkNamespace } from "./support/netns";
import { missingPrerequisites, skipLoudly } from "./support/prerequisites";
import { prepareSquidFiles, removeSquidFiles, SquidProcess, type SquidFiles } from "./support/squid";

const SKIP = skipLoudly("monitoring e2e", missingPrerequisites(["ip", "squid", "setpriv", "unshare", "redis-server"], { namespaces: true }));

const THRESHOLD = 5;
const WINDOW_SEC = 4;
const MODEL_HOST = { name: "api.anthropic.com", address: "203.0.113.10" };
const PROXY_PORTS = [3128, 3129];

describe.skipIf(SKIP)("monitoring: Squid's refusals counted, alerted once across replicas, delivered", () => {
  const plan = compileFirewall({
    ...firewallScenario(AgentPlatform.DOCKER),
    monitoring: {
      networkBlocked: { count: THRESHOLD, windowSec: WINDOW_SEC, severity: "critical" },
      webhooks: [
        { severity: "warning", format: WebhookFormat.JSON, urlEnv: "H5_TEST_JSON_URL" },
        { severity: "critical", format: WebhookFormat.PAGERDUTY, urlEnv: "H5_TEST_PD_URL", routingKeyEnv: "H5_TEST_PD_KEY" },
        { severity: "info", format: WebhookFormat.SLACK, urlEnv: "H5_TEST_DOWN_URL" },
      ],
    },
  });
  // Docker: the proxy listens on each role's own network; probes come from research_agent's.
  const roleNetwork = plan.roles.find((r) => r.name === "research_agent")?.docker;
  if (!roleNetwork) throw new Error("research_agent has no Docker network");
  const agentAddress = roleNetwork.ipRange.replace(/\.\d+\/\d+$/, ".200");
  let ns: NetworkNamespace | undefined;
  let upstream: NetAgent | undefined;
  let prober: NetAgent | undefined;
  const squids: SquidProcess[] = [];
  const squidFiles: SquidFiles[] = [];
  let redisServer: RedisServer | undefined;
  const clients: Redis[] = [];
  const tailers: FileTailer[] = [];
  let receiver: { server: Server; url: string } | undefined;
  const received: Received[] = [];
  const lines: string[][] = [[], []];
  const runtimes: MonitoringRuntime[] = [];

  beforeAll(async () => {
    ns = NetworkNamespace.create("rc-h5mon");
    for (const role of plan.roles) ns.addAddress(role.docker?.proxyAddress as string);
    ns.addAddress(agentAddress);
    ns.addAddress(MODEL_HOST.address);
    upstream = await NetAgent.start(ns);
    await upstream.call({ op: "serveTcp", host: MODEL_HOST.address, port: 443, banner: "model" });
    prober = await NetAgent.start(ns);
    for (const port of PROXY_PORTS) {
      const files = prepareSquidFiles(`h5-monitoring-${port}`, [MODEL_HOST]);
      squidFiles.push(files);
      const conf = renderSquidConf({ roles: squidRolesForPlan(plan).map((role) => ({ ...role, port })), allowPlainHttp: false, hostsFile: files.hostsFile, accessLog: `stdio:${files.accessLog}`, cacheLog: files.cacheLog });
      squids.push(await SquidProcess.start(ns, files, conf));
    }
    redisServer = await RedisServer.start();
    receiver = await startReceiver(received);
    const env = { H5_TEST_JSON_URL: `${receiver.url}/json`, H5_TEST_PD_URL: `${receiver.url}/pagerduty`, H5_TEST_PD_KEY: "test-routing-key", H5_TEST_DOWN_URL: `${receiver.url}/down` };
    const prefix = `h5e2e:${process.pid}:`;
    for (const i of [0, 1]) {
      const client = redisServer.client();
      clients.push(client);
      const runtime = createMonitoring({ plan, store: new RedisAlertWindowStore(client, prefix), emit: (line) => lines[i].push(line), env, delivery: { maxAttempts: 3, baseDelayMs: 20 } });
      runtimes.push(runtime);
      runtime.evaluator.start(100);
      tailers.push(followProxyLog(squidFiles[i].accessLog, runtime.evaluator, { onMalformed: (line, reason) => lines[i].push(`MALFORMED ${reason}: ${line}`), onStoreError: (e) => lines[i].push(`STORE ${e.message}`) }, { intervalMs: 50 }));
    }
  });

  afterAll(async () => {
    if (process.env.RAPIDCLAW_E2E_SHOW_LOG) for (const squid of squids) console.log(squid.accessLogLines().join("\n"));
    for (const tailer of tailers) await tailer.stop();
    for (const runtime of runtimes) runtime.evaluator.stop();
    await Promise.all(runtimes.map((r) => r.delivery.idle()));
    for (const client of clients) client.disconnect();
    await redisServer?.stop();
    receiver?.server.close();
    for (const squid of squids) await squid.stop();
    for (const files of squidFiles) removeSquidFiles(files);
    await prober?.stop();
    await upstream?.stop();
    ns?.destroy();
  });

  const events = (type: string) => lines.flat().filter((l) => l.includes(`"event_type":"${type}"`)).map((l) => JSON.parse(l) as { details: Record<string, unknown>; agent_role: string });
  const blockedCounted = async () => {
    let total = 0;
    for (const runtime of runtimes) {
      const metric = (await runtime.metrics.registry.getSingleMetric("rapidclaw_firewall_events_total")?.get())?.values ?? [];
      total += metric.filter((v) => v.labels.event_type === "network_blocked" && v.labels.role === "research_agent").reduce((a, v) => a + v.value, 0);
    }
    return total;
  };
  let sent = 0;
  /** One refused CONNECT through proxy replica `sent % 2`, to a new host each time (a probe). */
  const refuse = async () => {
    const replica = sent % 2;
    const answer = await (prober as NetAgent).proxy({ proxyHost: roleNetwork.proxyAddress, proxyPort: PROXY_PORTS[replica], localAddress: agentAddress, method: "CONNECT", target: `probe-${sent}.example:443`, timeoutMs: 5_000 });
    // Closed unanswered: the proxy decides a CONNECT before answering it.
    expect(answer).toMatchObject({ status: 0, body: "" });
    sent++;
    await until(`${sent} network_blocked events counted`, async () => (await blockedCounted()) === sent);
  };

  it("counts each refused CONNECT once and does not fire one event before the threshold", async () => {
    const allowed = await (prober as NetAgent).proxy({ proxyHost: roleNetwork.proxyAddress, proxyPort: PROXY_PORTS[0], localAddress: agentAddress, method: "CONNECT", target: `${MODEL_HOST.name}:443`, timeoutMs: 5_000 });
    expect(allowed.status).toBe(200);
    for (let i = 0; i < THRESHOLD - 1; i++) await refuse();
    expect(await blockedCounted()).toBe(THRESHOLD - 1);
    // Both replicas' lines are in one window in Redis.
    expect(await clients[0].zcard(`h5e2e:${process.pid}:{network_blocked|research_agent|}:w`)).toBe(THRESHOLD - 1);
    expect(events("alert_firing")).toEqual([]);
    expect(lines.flat().filter((l) => l.startsWith("MALFORMED") || l.startsWith("STORE"))).toEqual([]);
  });

  it("fires once at the threshold, listing the probed hosts, whichever replica saw the last event", async () => {
    await refuse();
    await until("the firing event", () => events("alert_firing").length > 0);
    const firing = events("alert_firing");
    expect(firing).toHaveLength(1);
    expect(firing[0]).toMatchObject({ agent_role: "research_agent", details: { rule: "network_blocked", count: THRESHOLD, threshold: THRESHOLD } });
    expect(firing[0].details.subjects).toEqual(Array.from({ length: THRESHOLD }, (_, i) => `probe-${i}.example`).sort());
    // The replica whose reader counted the fifth line fired; the other did not.
    expect(lines[(THRESHOLD - 1) % 2].some((l) => l.includes('"alert_firing"'))).toBe(true);
    expect(lines[THRESHOLD % 2].some((l) => l.includes('"alert_firing"'))).toBe(false);
    // More events in the same breach fire nothing new.
    await refuse();
    await refuse();
    expect(events("alert_firing")).toHaveLength(1);
  });

  it("resolves once when the window passes, and each receiver gets one trigger and one resolve with the same key", async () => {
    await until("the resolution", () => events("alert_resolved").length > 0, (WINDOW_SEC + 5) * 1000);
    await new Promise((r) => setTimeout(r, 500)); // any second resolution would come within a few sweeps
    expect(events("alert_resolved")).toHaveLength(1);
    await Promise.all(runtimes.map((r) => r.delivery.idle()));
    const json = received.filter((r) => r.path === "/json");
    expect(json.map((r) => r.body.status)).toEqual(["firing", "resolved"]);
    expect(json[1].body.dedup_key).toBe(json[0].body.dedup_key);
    const pagerDuty = received.filter((r) => r.path === "/pagerduty");
    expect(pagerDuty.map((r) => r.body.event_action)).toEqual(["trigger", "resolve"]);
    expect(pagerDuty[0].body).toMatchObject({ routing_key: "test-routing-key", payload: { severity: "critical", source: "rapidclaw", class: "network_blocked", component: "research_agent" } });
    expect(pagerDuty[1].body.dedup_key).toBe(pagerDuty[0].body.dedup_key);
    // Each transition is a metric too, in the replica that made it.
    const transitions: Record<string, number> = {};
    for (const runtime of runtimes) {
      for (const v of (await runtime.metrics.registry.getSingleMetric("rapidclaw_alert_transitions_total")?.get())?.values ?? []) transitions[String(v.labels.status)] = (transitions[String(v.labels.status)] ?? 0) + v.value;
    }
    expect(transitions).toEqual({ firing: 1, resolved: 1 });
  });

  it("retries a receiver that answers 503, then writes alert_delivery_failed, and keeps counting", async () => {
    // 3 attempts for the trigger, 3 for the resolve.
    expect(received.filter((r) => r.path === "/down")).toHaveLength(6);
    const failed = events("alert_delivery_failed");
    expect(failed.map((f) => f.details.status)).toEqual(["firing", "resolved"]);
    expect(failed[0].details).toMatchObject({ attempts: 3, reason: "HTTP 503", webhook: "monitoring.webhooks[2] (slack)" });
    const before = await blockedCounted();
    await refuse();
    expect(await blockedCounted()).toBe(before + 1);
    expect(sent).toBe(THRESHOLD + 3);
  });
});
