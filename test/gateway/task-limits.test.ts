import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { skipLoudly } from "../e2e/support/prerequisites";
import { taskKeys, tokenWindowKeys } from "../../src/plan/redis-keys";
import { ROLE_TASK_TOKENS } from "../../src/gateway/task-limits";
import { DEFAULTS } from "../../src/model/defaults";
import { ToolAccess, type FirewallSpecProps } from "../../src/model/types";
import { gatewayScenario } from "./fixture";
import { ROLE_ADDRESSES, startGatewayEnvironment, startTestGateway, stopGatewayEnvironment, type GatewayEnvironment, type TestGateway } from "./support/harness";
import type { TestModelUpstream } from "./support/model-upstream";
import { call, untilReady } from "./support/net";
import { missingRedis, type TestRedis } from "./support/redis";

const skip = skipLoudly("the seed's role task limits through the tool gateway against real Redis", missingRedis());

const ROLE = "customer_support";
const OTHER = "research_agent";
const CALLS = 3;
const TOKENS = 100;
const CONCURRENT = 2;

function taskScenario(): FirewallSpecProps {
  const base = gatewayScenario();
  return {
    ...base,
    modelHosts: ["generativelanguage.googleapis.com"],
    tools: { ...base.tools, anthropic: { upstream: "https://api.anthropic.com", key: {}, keyHeader: { name: "x-api-key", format: "{key}" } } },
    roles: {
      ...base.roles,
      [OTHER]: { ...base.roles[OTHER], limits: undefined },
      [ROLE]: { ...base.roles[ROLE], tools: { ...base.roles[ROLE].tools, anthropic: ToolAccess.WRITE }, limits: { maxToolCallsPerTask: CALLS, maxTokensPerTask: TOKENS, maxConcurrentTasks: CONCURRENT } },
    },
  };
}

describe.skipIf(skip)("the seed's role task limits", () => {
  let env: GatewayEnvironment;
  let redis: TestRedis;
  let model: TestModelUpstream;
  let gw: TestGateway;
  let replica: TestGateway;
  const spec = taskScenario();
  const tool = "knowledge_base";

  const post = (g: TestGateway, path: string, body: unknown, role = ROLE) =>
    call({ host: ROLE_ADDRESSES[role].listener, port: g.rolePort, path, method: "POST", body: JSON.stringify(body) });
  const check = (task: string | undefined, g = gw, role = ROLE) => post(g, "/v1/check", { tool, access: ToolAccess.READ, ...(task === undefined ? {} : { task }) }, role);
  const modelCall = (task: string | undefined, input: number, output: number) =>
    call({
      host: ROLE_ADDRESSES[ROLE].listener, port: gw.rolePort, path: "/tools/anthropic/v1/messages", method: "POST",
      headers: { "x-test-input": String(input), "x-test-output": String(output), ...(task === undefined ? {} : { "x-rapidclaw-task": task }) },
      body: JSON.stringify({ model: "m" }),
    });
  /** The task's tokens in Redis once they reached `expected` (they are written after the answer ends). */
  async function taskTokens(task: string, expected: number): Promise<number> {
    let tokens = 0;
    for (let i = 0; i < 100 && tokens < expected; i++, await new Promise((r) => setTimeout(r, 50))) tokens = Number(await redis.cli("HGET", taskKeys("rapidclaw", ROLE, task)[2], "tokens"));
    return tokens;
  }

  /** The role's window of tokens once it reached `expected`. */
  async function roleTokens(expected: number): Promise<number> {
    let tokens = 0;
    for (let i = 0; i < 100 && tokens < expected; i++, await new Promise((r) => setTimeout(r, 50))) tokens = Number(await redis.cli("GET", tokenWindowKeys("rapidclaw", ROLE, ROLE_TASK_TOKENS)[1]));
    return tokens;
  }

  beforeAll(async () => {
    env = await startGatewayEnvironment(spec, ["anthropic"]);
    ({ redis, gw } = env);
    model = env.model as TestModelUpstream;
    replica = await startTestGateway(spec, redis.url, env.upstream, env.certificate, {}, env.upstreamPorts);
    await untilReady(gw.gateway.admin.port);
    await untilReady(replica.gateway.admin.port);
  });

  beforeEach(async () => {
    await redis.cli("FLUSHALL");
  });

  afterAll(async () => {
    await replica?.gateway.stop();
    await stopGatewayEnvironment(env ?? {});
  });

  it("counts checks carrying a task id: the one past maxToolCallsPerTask is refused with 429 and an event, on every replica; other tasks keep theirs", async () => {
    for (let i = 0; i < CALLS; i++) expect((await check("run-a", i % 2 === 0 ? gw : replica)).status).toBe(200);
    const refused = await check("run-a", replica);
    expect(refused.status).toBe(429);
    expect(refused.headers["retry-after"]).toBeUndefined();
    expect(JSON.parse(refused.body)).toMatchObject({ error: "task_limit_exceeded", agent_role: ROLE, task: "run-a", limit: "tool_calls", used: CALLS, max: CALLS, tool });
    expect(replica.events.at(-1)).toMatchObject({ event_type: "task_limit_exceeded", tool, agent_role: ROLE, details: { task: "run-a", limit: "tool_calls", used: CALLS, max: CALLS } });
    expect(await replica.gateway.monitoring.metrics.registry.getSingleMetricAsString("rapidclaw_gateway_decisions_total")).toContain(`outcome="task_limit_exceeded",role="${ROLE}",tool="${tool}"} 1`);
    expect((await check("run-b")).status).toBe(200);
    // A role without limits ignores task ids.
    for (let i = 0; i < CALLS + 1; i++) expect((await post(gw, "/v1/check", { tool: "web_search", access: ToolAccess.READ, task: "run-a" }, OTHER)).status).toBe(200);
  });

  it("opens at most maxConcurrentTasks tasks: the next is refused at start and at its first check until one ends or its lease lapses", async () => {
    expect(JSON.parse((await post(gw, "/v1/tasks/start", { task: "run-1" })).body)).toEqual({ task: "run-1", agent_role: ROLE, open: true, lease_sec: DEFAULTS.gateway.taskLeaseSec });
    expect((await check("run-2", replica)).status).toBe(200);
    const refused = await post(replica, "/v1/tasks/start", { task: "run-3" });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers["retry-after"])).toBeGreaterThan(DEFAULTS.gateway.taskLeaseSec - 10);
    expect(JSON.parse(refused.body)).toMatchObject({ error: "concurrent_tasks_exceeded", agent_role: ROLE, task: "run-3", open_tasks: CONCURRENT });
    expect(replica.events.at(-1)).toMatchObject({ event_type: "concurrent_tasks_exceeded", tool: null, agent_role: ROLE, details: { task: "run-3", open_tasks: CONCURRENT } });
    expect((await check("run-3")).status).toBe(429);
    // Open tasks go on.
    expect((await check("run-1")).status).toBe(200);
    expect(JSON.parse((await post(gw, "/v1/tasks/end", { task: "run-1" })).body)).toEqual({ task: "run-1", agent_role: ROLE, ended: true });
    expect((await check("run-3")).status).toBe(200);
    // A crashed agent's task: its lease lapses (here: ends now, as Redis TIME will have passed it) and frees its slot.
    const [open] = taskKeys("rapidclaw", ROLE, "run-2");
    expect(Number(await redis.cli("PTTL", open))).toBeLessThanOrEqual(DEFAULTS.gateway.taskLeaseSec * 1000);
    expect((await check("run-4")).status).toBe(429);
    await redis.cli("ZADD", open, "XX", "1", "run-2");
    expect((await check("run-4")).status).toBe(200);
  });

  it("gives an agent that mints task ids nothing: every check counts in the role's window of maxToolCallsPerTask × maxConcurrentTasks", async () => {
    let allowed = 0;
    for (let i = 0; i < 3 * CALLS * CONCURRENT; i++) {
      const task = `minted-${i}`;
      if ((await check(task, i % 2 === 0 ? gw : replica)).status === 200) allowed++;
      await post(gw, "/v1/tasks/end", { task });
    }
    expect(allowed).toBe(CALLS * CONCURRENT);
    for (const task of [undefined, "another"]) {
      const refused = await check(task);
      expect(refused.status).toBe(429);
      expect(Number(refused.headers["retry-after"])).toBeGreaterThan(DEFAULTS.gateway.taskWindowSec - 10);
      expect(JSON.parse(refused.body)).toMatchObject({ error: "task_limit_exceeded", limit: "role_tool_calls", max: CALLS * CONCURRENT });
    }
  });

  it("ties model calls to a task by its header (never forwarded): past maxTokensPerTask the task's next POST is refused; all the role's tokens count in its window", async () => {
    expect((await modelCall("run-m", 60, 50)).status).toBe(200);
    expect(model.headers.at(-1)?.["x-rapidclaw-task"]).toBeUndefined();
    expect(await taskTokens("run-m", 110)).toBe(110);
    const reached = model.paths.length;
    const refused = await modelCall("run-m", 1, 1);
    expect(refused.status).toBe(429);
    expect(JSON.parse(refused.body)).toMatchObject({ error: "task_limit_exceeded", task: "run-m", limit: "tokens", used: 110, max: TOKENS, tool: "anthropic" });
    expect(model.paths.length).toBe(reached);
    // Without a task id, or with a fresh one, the role's window (100 × 2 tokens an hour) still holds.
    expect((await modelCall(undefined, 45, 40)).status).toBe(200);
    expect(await roleTokens(195)).toBe(195);
    expect((await modelCall("run-n", 5, 5)).status).toBe(200);
    expect(await roleTokens(205)).toBe(205);
    const full = await modelCall("run-n", 1, 1);
    expect(full.status).toBe(429);
    expect(JSON.parse(full.body)).toMatchObject({ error: "task_limit_exceeded", limit: "role_tokens", max: TOKENS * CONCURRENT });
    expect(Number(full.headers["retry-after"])).toBeGreaterThan(DEFAULTS.gateway.taskWindowSec - 10);
    // Only POSTs (model calls) are held to tokens: the spent task's GET of another tool goes through.
    const read = await call({ host: ROLE_ADDRESSES[ROLE].listener, port: gw.rolePort, path: "/tools/knowledge_base/articles", headers: { "x-rapidclaw-task": "run-m" } });
    expect(read.status).toBe(200);
  });

  it("refuses bad task ids with 400, and keeps one role's task keys in one hash slot under the firewall's name", async () => {
    const bad = await post(gw, "/v1/check", { tool, access: ToolAccess.READ, task: "../x" });
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body)).toMatchObject({ error: "bad_request" });
    expect((await post(gw, "/v1/tasks/end", {})).status).toBe(400);
    expect((await modelCall("a b", 1, 1)).status).toBe(400);
    expect(taskKeys("rapidclaw", ROLE, "t")).toEqual([`tk:{${ROLE}}:open`, `tk:{${ROLE}}:calls`, `tk:{${ROLE}}:task:t`]);
    expect(taskKeys("acme", ROLE, "t")[0]).toBe(`acme:tk:{${ROLE}}:open`);
    expect((await check("run-k")).status).toBe(200);
    expect((await redis.cli("KEYS", "*tk:*")).trim().split("\n").sort()).toEqual([`tk:{${ROLE}}:calls`, `tk:{${ROLE}}:open`, `tk:{${ROLE}}:task:run-k`]);
    expect(Number(await redis.cli("PTTL", `tk:{${ROLE}}:task:run-k`))).toBeGreaterThan((DEFAULTS.gateway.taskWindowSec - 10) * 1000);
  });

  it("fails closed while Redis is away: task requests, and every check of a role with task limits (a tool without a rate limit too), get 503 limiter_unavailable", async () => {
    await redis.kill();
    try {
      const answer = await post(gw, "/v1/tasks/start", { task: "run-x" });
      expect(answer.status).toBe(503);
      expect(JSON.parse(answer.body)).toMatchObject({ error: "limiter_unavailable" });
      for (const task of ["run-x", undefined]) expect(JSON.parse((await check(task)).body)).toMatchObject({ error: "limiter_unavailable", tool });
      // ticket_system fails open: the check passes, with the event.
      expect((await post(gw, "/v1/check", { tool: "ticket_system", access: ToolAccess.READ })).status).toBe(200);
      expect(gw.events.at(-1)).toMatchObject({ event_type: "limiter_unavailable", tool: "ticket_system", details: { failed_open: true } });
    } finally {
      await redis.restart();
      await untilReady(gw.gateway.admin.port);
    }
  });
});
