/**
 * The proxy log follower loses no line while Redis is away: it retries the same line until the
 * store answers, then goes on in order; the metric counts each line once.
 */
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { firewallScenario } from "../examples/firewall-scenario";
import { createMonitoring } from "../src/monitoring/monitoring-runtime";
import { followProxyLog } from "../src/monitoring/proxy-log-follower";
import { RedisAlertWindowStore } from "../src/monitoring/redis-alert-window-store";
import { compileFirewall } from "../src/plan/plan";
import { AgentPlatform } from "../src/model/types";
import { onPath, skipLoudly } from "./e2e/support/prerequisites";
import { RedisServer } from "./support/redis-server";

const SKIP = skipLoudly("proxy log follower with Redis", onPath("redis-server") ? undefined : "redis-server is not installed (apt-get install redis-server)");
const dir = mkdtempSync(join(tmpdir(), "rapidclaw-h5-follow-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const blocked = (i: number) => JSON.stringify({ ts: new Date().toISOString(), event: "network_blocked", client: "172.30.0.11", role: "research_agent", method: "CONNECT", host: `p${i}.example`, port: "443", status: 403, result: "TCP_DENIED", bytes: 3401 });

async function until(what: string, check: () => Promise<boolean> | boolean): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.skipIf(SKIP)("followProxyLog", () => {
  it("waits while Redis is down and counts every line once it is back", async () => {
    let server = await RedisServer.start();
    const client = server.client();
    client.on("error", () => {});
    const file = join(dir, "access.log");
    writeFileSync(file, "");
    const plan = compileFirewall({ ...firewallScenario(AgentPlatform.DOCKER), monitoring: { networkBlocked: { count: 3, windowSec: 300, severity: "critical" } } });
    const lines: string[] = [];
    const storeErrors: string[] = [];
    const { evaluator, metrics } = createMonitoring({ plan, store: new RedisAlertWindowStore(client, `h5follow:${process.pid}:`), emit: (l) => lines.push(l), env: {} });
    const tailer = followProxyLog(file, evaluator, { onMalformed: (l) => lines.push(`MALFORMED ${l}`), onStoreError: (e) => storeErrors.push(e.message) }, { intervalMs: 50, retryMs: 100 });
    const counted = async () => (await metrics.registry.getSingleMetric("rapidclaw_firewall_events_total")?.get())?.values.filter((v) => v.labels.event_type === "network_blocked").reduce((a, v) => a + v.value, 0) ?? 0;
    try {
      appendFileSync(file, blocked(0) + "\n");
      await until("the first line", async () => (await counted()) === 1);
      await server.stop();
      appendFileSync(file, [1, 2, 3].map(blocked).join("\n") + "\n");
      await until("a store error", () => storeErrors.length > 0);
      server = await RedisServer.start(server.port);
      // The restarted server has no persistence: the window holds the three lines written while it was down.
      await until("the waiting lines in Redis", async () => (await client.zcard(`h5follow:${process.pid}:{network_blocked|research_agent|}:w`).catch(() => 0)) === 3);
      // The counter moves after the window write, so wait for it too rather than race it.
      await until("every line counted", async () => (await counted()) >= 4);
      expect(await counted()).toBe(4);
      // The alert is emitted once its firing state is stored, after the count: wait for it too.
      await until("the alert", () => lines.some((l) => l.includes('"alert_firing"')));
      expect(lines.filter((l) => l.includes('"alert_firing"'))).toHaveLength(1);
      expect(lines.filter((l) => l.startsWith("MALFORMED"))).toEqual([]);
    } finally {
      await tailer.stop();
      client.disconnect();
      await server.stop();
    }
  });
});
