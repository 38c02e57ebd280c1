/**
 * Redis's memory cap holds under a flood of refusals: the gateway's scripts declare their flags
 * (`#!lua`), so Redis refuses them before they write while over `maxmemory` (`noeviction`), and
 * the alert windows keep no more entries than their threshold. A real redis-server, the real
 * gateway on real sockets.
 */
import { Agent } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { skipLoudly } from "../e2e/support/prerequisites";
import { until } from "../support/webhook-receiver";
import { gatewayScenario } from "./fixture";
import { ROLE_ADDRESSES, startTestGateway, type TestGateway } from "./support/harness";
import { call, type Answer } from "./support/net";
import { missingRedis, TestRedis } from "./support/redis";
import { selfSignedCertificate, TestUpstream } from "./support/upstream";

const skip = skipLoudly("Redis memory cap against a real redis-server", missingRedis());

const scenario = gatewayScenario({ name: "memtest" });
// A limiter timeout far above any scheduling delay: a timed-out decision would fail open or closed
// by the tool's setting, not by Redis's memory, which is what this file is about.
const spec = { ...scenario, gateway: { ...scenario.gateway, limiterTimeoutMs: 5_000 } };

describe.skipIf(skip)("Redis memory under a flood of refusals", () => {
  let redis: TestRedis;
  let upstream: TestUpstream;
  let gw: TestGateway;
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });

  const usedMemory = async () => Number(/^used_memory:(\d+)/m.exec(await redis.cli("INFO", "memory"))![1]);
  /** A check call of research_agent (no upstream involved): the decision alone. */
  const check = (tool: string, access: string): Promise<Answer> =>
    call({ host: ROLE_ADDRESSES.research_agent.listener, port: gw.rolePort, path: "/v1/check", method: "POST", body: JSON.stringify({ tool, access }), agent });

  beforeAll(async () => {
    redis = await TestRedis.start(["--maxmemory-policy", "noeviction"]);
    const certificate = selfSignedCertificate(["search.tools.test"]);
    upstream = await TestUpstream.start(certificate);
    gw = await startTestGateway(spec, redis.url, upstream, certificate, {}, new Map(), { env: {}, sweepIntervalMs: 100 });
  }, 60_000);

  afterAll(async () => {
    agent.destroy();
    await gw?.gateway.stop();
    await upstream?.stop();
    await redis?.kill();
  });

  it("keeps every alert window at its threshold and used memory under maxmemory while one agent floods refusals", async () => {
    const kinds = [() => check("send_email", "WRITE"), () => check("web_search", "READ"), () => check(`probe-${Math.random().toString(36).slice(2)}`, "READ")];
    // Scripts loaded and connections open (each holds buffers) before the room is measured.
    for (const kind of kinds) await kind();
    // 500 KB of room above what Redis holds with a filler: the flood's events alone would take more.
    await redis.cli("SETRANGE", "filler", String(800_000), "x");
    const cap = (await usedMemory()) + 500_000;
    await redis.cli("CONFIG", "SET", "maxmemory", String(cap));
    const statuses = new Map<number, number>();
    const total = 9_000;
    let sent = 0;
    await Promise.all(Array.from({ length: 16 }, async () => {
      while (sent < total) {
        const answer = await kinds[sent++ % kinds.length]();
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
      }
    }));
    // The first 20 web_search checks are within its limit (one was the warm-up); every other call is refused.
    expect(statuses.get(200)).toBe(19);
    expect((statuses.get(403) ?? 0) + (statuses.get(404) ?? 0) + (statuses.get(429) ?? 0)).toBe(total - 19);
    await until("every event in the windows", async () => Number(/rapidclaw_monitoring_events_waiting (\d+)/.exec(await gw.gateway.monitoring.metrics.text())![1]) === 0);

    const windows = (await redis.cli("KEYS", "memtest:alert:*:w")).split("\n").filter(Boolean).sort();
    expect(windows).toEqual(["memtest:alert:{permission_denied|research_agent|}:w", "memtest:alert:{rate_limited|research_agent|web_search}:w"]);
    expect(Number(await redis.cli("ZCARD", windows[0]))).toBe(3);
    expect(Number(await redis.cli("ZCARD", windows[1]))).toBe(10);
    expect(await usedMemory()).toBeLessThanOrEqual(cap);
    expect(gw.lines.filter((l) => l.includes('"alert_firing"')).length).toBe(2);
  }, 120_000);

  it("refuses limit decisions with 503 limiter_unavailable while Redis is over maxmemory, writes nothing, and recovers when memory is freed", async () => {
    await redis.cli("CONFIG", "SET", "maxmemory", String((await usedMemory()) - 50_000));
    const keysBefore = await redis.cli("DBSIZE");
    const answers = await Promise.all(Array.from({ length: 50 }, () => check("database", "READ")));
    expect(answers.map((a) => a.status)).toEqual(Array(50).fill(503));
    expect(JSON.parse(answers[0].body)).toMatchObject({ error: "limiter_unavailable", tool: "database" });
    expect(gw.events.filter((e) => e.event_type === "limiter_unavailable").every((e) => e.details.reason === "out_of_memory")).toBe(true);
    expect(await redis.cli("EXISTS", "memtest:rl:{research_agent:database}")).toBe("0\n");
    expect(await redis.cli("DBSIZE")).toBe(keysBefore);
    // Resolving only removes: the sweep runs over the cap too.
    await expect(gw.gateway.monitoring.evaluator.sweep()).resolves.toBeDefined();

    await redis.cli("DEL", "filler");
    await redis.cli("CONFIG", "SET", "maxmemory", "0");
    expect((await check("database", "READ")).status).toBe(200);
    expect(await redis.cli("ZCARD", "memtest:rl:{research_agent:database}")).toBe("1\n");
  }, 60_000);
});

