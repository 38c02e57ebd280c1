import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { skipLoudly } from "../e2e/support/prerequisites";
import { tokenWindowKeys } from "../../src/plan/redis-keys";
import { ToolAccess, type FirewallSpecProps } from "../../src/model/types";
import { gatewayScenario } from "./fixture";
import { ROLE_ADDRESSES, startTestGateway, type TestGateway } from "./support/harness";
import { TestModelUpstream } from "./support/model-upstream";
import { call, untilReady } from "./support/net";
import { missingRedis, TestRedis } from "./support/redis";
import { selfSignedCertificate, TestUpstream, type TestCertificate } from "./support/upstream";

const skip = skipLoudly("token budgets of model APIs through the tool gateway against real Redis", missingRedis());

const ROLE = "research_agent";
const OTHER = "customer_support";
const BUDGET = 1_000;

function modelScenario(): FirewallSpecProps {
  const base = gatewayScenario();
  const models = { anthropic: ToolAccess.WRITE, openai: ToolAccess.WRITE };
  return {
    ...base,
    // The fronted model APIs are reached through the gateway only; the agents keep one other model host.
    modelHosts: ["generativelanguage.googleapis.com"],
    tools: {
      ...base.tools,
      anthropic: { upstream: "https://api.anthropic.com", key: {}, keyHeader: { name: "x-api-key", format: "{key}" }, tokenLimit: { maxTokens: BUDGET, windowSec: 3_600 } },
      openai: { upstream: "https://api.openai.com", key: {}, tokenLimit: { maxTokens: 10_000_000, windowSec: 3_600 } },
    },
    roles: {
      ...base.roles,
      [ROLE]: { ...base.roles[ROLE], tools: { ...base.roles[ROLE].tools, ...models } },
      [OTHER]: { ...base.roles[OTHER], tools: { ...base.roles[OTHER].tools, ...models } },
    },
  };
}

describe.skipIf(skip)("token budgets of model APIs", () => {
  let redis: TestRedis;
  let certificate: TestCertificate;
  let upstream: TestUpstream;
  let model: TestModelUpstream;
  let gw: TestGateway;
  let replica: TestGateway | undefined;
  const spec = modelScenario();

  const ask = (g: TestGateway, role: string, tool: string, path: string, usage: { input: number; output: number; stream?: boolean }) =>
    call({
      host: ROLE_ADDRESSES[role].listener,
      port: g.rolePort,
      path: `/tools/${tool}${path}`,
      method: "POST",
      headers: { "x-test-input": String(usage.input), "x-test-output": String(usage.output) },
      body: JSON.stringify({ model: "m", stream: usage.stream ?? false, ...(usage.stream && tool === "openai" ? { stream_options: { include_usage: true } } : {}) }),
    });

  /** A streamed call whose upstream cuts the stream: resolves with whether the agent got the whole answer (it must not). */
  const askCut = (tool: string, path: string, usage: { input: number; output: number }) =>
    new Promise<boolean>((resolve, reject) => {
      const req = request({
        host: ROLE_ADDRESSES[ROLE].listener, port: gw.rolePort, path: `/tools/${tool}${path}`, method: "POST",
        headers: { "content-type": "application/json", "x-test-input": String(usage.input), "x-test-output": String(usage.output), "x-test-cut": "1" },
      }, (res) => {
        res.on("data", () => undefined);
        res.on("error", () => undefined);
        res.on("close", () => resolve(res.complete));
      });
      req.on("error", reject);
      req.end(JSON.stringify({ model: "m", stream: true }));
    });

  /** The window's sum in Redis, once it reached `expected` (the count is written after the answer ends). */
  async function windowSum(role: string, tool: string, expected: number): Promise<number> {
    const [, sumKey] = tokenWindowKeys("rapidclaw", role, tool);
    let sum = 0;
    for (let i = 0; i < 100; i++) {
      sum = Number(await redis.cli("GET", sumKey));
      if (sum >= expected) return sum;
      await new Promise((r) => setTimeout(r, 50));
    }
    return sum;
  }

  beforeAll(async () => {
    redis = await TestRedis.start();
    certificate = selfSignedCertificate([...new Set(Object.values(spec.tools).flatMap((t) => (t.upstream ? [new URL(t.upstream).hostname] : [])))]);
    upstream = await TestUpstream.start(certificate);
    model = await TestModelUpstream.start(certificate);
    gw = await startTestGateway(spec, redis.url, upstream, certificate, {}, new Map([["anthropic", model.port], ["openai", model.port]]));
    await untilReady(gw.gateway.admin.port);
  });

  afterAll(async () => {
    await replica?.gateway.stop();
    await gw?.gateway.stop();
    await model?.stop();
    await upstream?.stop();
    await redis?.kill();
  });

  it("counts the usage of OpenAI Chat Completions and Responses answers, JSON and SSE, per role and tool", async () => {
    let expected = 0;
    for (const [path, stream, input, output] of [
      ["/v1/chat/completions", false, 11, 7], ["/v1/chat/completions", true, 13, 5], ["/v1/responses", false, 17, 3], ["/v1/responses", true, 19, 2],
    ] as const) {
      const answer = await ask(gw, ROLE, "openai", path, { input, output, stream });
      expect(answer.status).toBe(200);
      expected += input + output;
      expect(await windowSum(ROLE, "openai", expected)).toBe(expected);
    }
    const metrics = await gw.gateway.monitoring.metrics.registry.getSingleMetricAsString("rapidclaw_gateway_tokens_total");
    expect(metrics).toContain(`rapidclaw_gateway_tokens_total{role="${ROLE}",tool="openai",kind="input"} ${11 + 13 + 17 + 19}`);
    expect(metrics).toContain(`rapidclaw_gateway_tokens_total{role="${ROLE}",tool="openai",kind="output"} ${7 + 5 + 3 + 2}`);
  });

  it("counts Anthropic Messages answers, JSON and SSE, and what a stream cut short had reported", async () => {
    expect((await ask(gw, ROLE, "anthropic", "/v1/messages", { input: 100, output: 50 })).status).toBe(200);
    expect(await windowSum(ROLE, "anthropic", 150)).toBe(150);
    expect((await ask(gw, ROLE, "anthropic", "/v1/messages", { input: 120, output: 80, stream: true })).status).toBe(200);
    expect(await windowSum(ROLE, "anthropic", 350)).toBe(350);
    // Cut after message_start (input 30) and the first message_delta (output 20 of 40).
    expect(await askCut("anthropic", "/v1/messages", { input: 30, output: 40 })).toBe(false);
    expect(await windowSum(ROLE, "anthropic", 400)).toBe(400);
    // And an OpenAI stream cut before its usage chunk counts nothing.
    const before = Number(await redis.cli("GET", tokenWindowKeys("rapidclaw", ROLE, "openai")[1]));
    expect(await askCut("openai", "/v1/chat/completions", { input: 1, output: 1 })).toBe(false);
    expect((await ask(gw, ROLE, "openai", "/v1/chat/completions", { input: 2, output: 3 })).status).toBe(200);
    expect(await windowSum(ROLE, "openai", before + 5)).toBe(before + 5);
  });

  it("refuses calls once the window's sum reaches the budget, with 429, Retry-After and an event, on every replica; other roles keep theirs", async () => {
    expect((await ask(gw, ROLE, "anthropic", "/v1/messages", { input: 500, output: 100 })).status).toBe(200);
    expect(await windowSum(ROLE, "anthropic", 1_000)).toBe(1_000);
    const reached = model.paths.length;
    const refused = await ask(gw, ROLE, "anthropic", "/v1/messages", { input: 1, output: 1 });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers["retry-after"])).toBeGreaterThan(3_500);
    expect(JSON.parse(refused.body)).toMatchObject({ error: "token_budget_exceeded", tool: "anthropic" });
    expect(gw.events.at(-1)).toMatchObject({ event_type: "token_budget_exceeded", tool: "anthropic", agent_role: ROLE, details: { max_tokens: BUDGET, window_sec: 3_600 } });
    expect(model.paths.length).toBe(reached);
    // The default alert rule for budgets fires at the first refusal.
    for (let i = 0; i < 100 && !gw.lines.some((l) => l.includes('"alert_firing"')); i++) await new Promise((r) => setTimeout(r, 50));
    expect(gw.lines.map((l) => JSON.parse(l) as { event_type: string; agent_role: string; details: { rule?: string } }).filter((e) => e.event_type === "alert_firing")).toEqual([
      expect.objectContaining({ agent_role: ROLE, details: expect.objectContaining({ rule: "token_budget_exceeded" }) }),
    ]);

    replica = await startTestGateway(spec, redis.url, upstream, certificate, {}, new Map([["anthropic", model.port], ["openai", model.port]]));
    await untilReady(replica.gateway.admin.port);
    expect((await ask(replica, ROLE, "anthropic", "/v1/messages", { input: 1, output: 1 })).status).toBe(429);
    expect((await ask(replica, OTHER, "anthropic", "/v1/messages", { input: 1, output: 1 })).status).toBe(200);
    expect((await ask(replica, ROLE, "openai", "/v1/responses", { input: 1, output: 1 })).status).toBe(200);
    expect(model.paths.length).toBe(reached + 2);
  });

  it("fails closed while Redis is over its memory cap: the budget's script is refused before it writes", async () => {
    const used = Number(/^used_memory:(\d+)/m.exec(await redis.cli("INFO", "memory"))?.[1]);
    await redis.cli("CONFIG", "SET", "maxmemory", String(used - 100_000 > 0 ? used - 100_000 : 1));
    try {
      const before = model.paths.length;
      const answer = await ask(gw, OTHER, "anthropic", "/v1/messages", { input: 1, output: 1 });
      expect(answer.status).toBe(503);
      expect(JSON.parse(answer.body)).toMatchObject({ error: "limiter_unavailable", tool: "anthropic" });
      expect(gw.events.at(-1)).toMatchObject({ event_type: "limiter_unavailable", details: { reason: "out_of_memory", failed_open: false } });
      expect(model.paths.length).toBe(before);
    } finally {
      await redis.cli("CONFIG", "SET", "maxmemory", "0");
    }
  });

  it("keeps its keys in one hash slot, under the firewall's name but for the default one, with the window as expiry", async () => {
    const [calls, sum] = tokenWindowKeys("rapidclaw", ROLE, "anthropic");
    expect([calls, sum]).toEqual([`tb:{${ROLE}:anthropic}:calls`, `tb:{${ROLE}:anthropic}:sum`]);
    expect(tokenWindowKeys("acme", ROLE, "anthropic")).toEqual([`acme:tb:{${ROLE}:anthropic}:calls`, `acme:tb:{${ROLE}:anthropic}:sum`]);
    const ttl = Number(await redis.cli("PTTL", sum));
    expect(ttl).toBeGreaterThan(3_500_000);
    expect(ttl).toBeLessThanOrEqual(3_600_000);
  });
});
