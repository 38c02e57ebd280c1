import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { skipLoudly } from "../e2e/support/prerequisites";
import { DEFAULTS } from "../../src/model/defaults";
import { RedisLimiter } from "../../src/gateway/redis-limiter";
import { RedisTasks } from "../../src/gateway/redis-tasks";
import { parseTaskId, taskLimitsOf, type TaskLimits } from "../../src/gateway/task-limits";
import { missingRedis, TestRedis } from "./support/redis";

const limit = (max: number) => fc.option(fc.integer({ min: 1, max }), { nil: undefined });

describe("task limits as the gateway compiles them", () => {
  it("backs each per-task limit with a role window of limit × maxConcurrentTasks, only when both are set", () => {
    fc.assert(fc.property(limit(1_000_000), limit(100_000_000), limit(10_000), (calls, tokens, concurrent) => {
      const limits = taskLimitsOf({ maxToolCallsPerTask: calls, maxTokensPerTask: tokens, maxConcurrentTasks: concurrent });
      if (calls === undefined && tokens === undefined && concurrent === undefined) {
        expect(limits).toBeUndefined();
        return;
      }
      expect(limits).toEqual({
        maxCallsPerTask: calls,
        maxTokensPerTask: tokens,
        maxConcurrentTasks: concurrent,
        leaseSec: DEFAULTS.gateway.taskLeaseSec,
        windowSec: DEFAULTS.gateway.taskWindowSec,
        roleCalls: calls !== undefined && concurrent !== undefined ? calls * concurrent : undefined,
        roleTokens: tokens !== undefined && concurrent !== undefined ? tokens * concurrent : undefined,
      });
    }));
  });

  it("takes task ids the runtimes send (UUIDs, sess_… ids) and refuses what could leave a Redis key or an event", () => {
    for (const id of ["0b3c9f1e-8d2a-4c4e-9a57-3f1e2d5c6b7a", "sess_abc123", "run:42.1", "a".repeat(128)]) expect(parseTaskId(id)).toEqual({ task: id });
    expect(parseTaskId(undefined)).toEqual({});
    expect(parseTaskId("")).toEqual({});
    for (const bad of ["a".repeat(129), "-x", "a b", "a}b", "{x}", "x\n", 42, null, ["x"]]) expect(parseTaskId(bad)).toHaveProperty("problem");
    fc.assert(fc.property(fc.string(), (id) => {
      const parsed = parseTaskId(id);
      if ("task" in parsed && parsed.task !== undefined) expect(parsed.task).toMatch(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/);
    }));
  });
});

const skip = skipLoudly("the task script against real Redis", missingRedis());

type Op = { readonly op: "start" | "check" | "end"; readonly task?: string };

/** What the limits allow, kept by hand: the script must decide exactly so (no lease lapses and no window ends within a run). */
class Oracle {
  private readonly open = new Set<string>();
  private readonly calls = new Map<string, number>();
  private roleCalls = 0;
  constructor(private readonly limits: TaskLimits) {}

  decide({ op, task }: Op): string | undefined {
    if (op === "end") { if (task !== undefined) this.open.delete(task); return undefined; }
    if (task !== undefined && !this.open.has(task) && this.limits.maxConcurrentTasks !== undefined && this.open.size >= this.limits.maxConcurrentTasks) return "concurrent_tasks_exceeded";
    const counted = op === "check";
    if (counted && task !== undefined && this.limits.maxCallsPerTask !== undefined && (this.calls.get(task) ?? 0) >= this.limits.maxCallsPerTask) return "tool_calls";
    if (counted && this.limits.roleCalls !== undefined && this.roleCalls >= this.limits.roleCalls) return "role_tool_calls";
    if (task !== undefined) this.open.add(task);
    if (counted && task !== undefined) this.calls.set(task, (this.calls.get(task) ?? 0) + 1);
    if (counted && this.limits.roleCalls !== undefined) this.roleCalls++;
    return undefined;
  }
}

describe.skipIf(skip)("the task script against real Redis", () => {
  let redis: TestRedis;
  let limiter: RedisLimiter;
  let tasks: RedisTasks;

  beforeAll(async () => {
    redis = await TestRedis.start();
    limiter = new RedisLimiter({ url: redis.url, firewall: "prop", timeoutMs: 2_000 });
    for (let i = 0; i < 100 && !(await limiter.ready()); i++) await new Promise((r) => setTimeout(r, 20));
    tasks = new RedisTasks(limiter);
  });

  afterAll(async () => {
    await limiter?.close();
    await redis?.kill();
  });

  it("decides every sequence of starts, checks and ends exactly as the limits say: no minted id, reused id or end gets past them", async () => {
    const ops = fc.array(
      fc.record({ op: fc.constantFrom<Op["op"]>("start", "check", "check", "check", "end"), task: fc.option(fc.constantFrom("a", "b", "c", "d", "e", "f", "g", "h"), { nil: undefined, freq: 6 }) }),
      { maxLength: 60 },
    );
    await fc.assert(fc.asyncProperty(limit(4), limit(4), ops, async (calls, concurrent, sequence) => {
      const limits = taskLimitsOf({ maxToolCallsPerTask: calls, maxConcurrentTasks: concurrent }) ?? taskLimitsOf({ maxConcurrentTasks: 1 }) as TaskLimits;
      await redis.cli("FLUSHALL");
      const oracle = new Oracle(limits);
      let allowedChecks = 0;
      for (const op of sequence) {
        const expected = oracle.decide(op);
        if (op.op === "end") {
          if (op.task !== undefined) await tasks.end("role", op.task);
          continue;
        }
        if (op.task === undefined && op.op === "start") continue;
        const refusal = await tasks.admit("role", op.task, limits, { countCall: op.op === "check", checkTokens: false });
        expect(refusal === undefined ? undefined : refusal.kind === "concurrent_tasks_exceeded" ? refusal.kind : refusal.limit).toBe(expected);
        if (refusal === undefined && op.op === "check") allowedChecks++;
        expect(Number(await redis.cli("ZCARD", "prop:tk:{role}:open"))).toBeLessThanOrEqual(limits.maxConcurrentTasks ?? Infinity);
      }
      expect(allowedChecks).toBeLessThanOrEqual(limits.roleCalls ?? Infinity);
    }), { numRuns: 40 });
  });

  it("counts a task's tokens and refuses its next call once they reach maxTokensPerTask", async () => {
    const limits = taskLimitsOf({ maxTokensPerTask: 100 }) as TaskLimits;
    await redis.cli("FLUSHALL");
    expect(await tasks.admit("role", "t", limits, { countCall: false, checkTokens: true })).toBeUndefined();
    await tasks.recordTokens("role", "t", limits, 99);
    expect(await tasks.admit("role", "t", limits, { countCall: false, checkTokens: true })).toBeUndefined();
    await tasks.recordTokens("role", "t", limits, 1);
    expect(await tasks.admit("role", "t", limits, { countCall: false, checkTokens: true })).toEqual({ kind: "task_limit_exceeded", limit: "tokens", used: 100, max: 100 });
    // Ending and reusing the id starts where it left.
    await tasks.end("role", "t");
    expect(await tasks.admit("role", "t", limits, { countCall: false, checkTokens: true })).toMatchObject({ limit: "tokens" });
  });
});
