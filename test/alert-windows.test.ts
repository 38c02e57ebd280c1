/**
 * The alert windows: the in-memory store and the Redis store (a real redis-server) give the same
 * transitions, at the same moments, on random event sequences; fired once at the threshold and
 * not one event before; resolved when the count falls back below.
 */
import fc from "fast-check";
import type Redis from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AlertRule } from "../src/monitoring/alert-rules";
import { MemoryAlertWindowStore, type AlertTransition, type AlertWindowStore } from "../src/monitoring/alert-window-store";
import { RedisAlertWindowStore } from "../src/monitoring/redis-alert-window-store";
import { onPath, skipLoudly } from "./e2e/support/prerequisites";
import { RedisServer } from "./support/redis-server";

const SKIP_REDIS = skipLoudly("alert windows in Redis", onPath("redis-server") ? undefined : "redis-server is not installed (apt-get install redis-server)");

const rule = (count: number, windowSec: number): AlertRule => ({ eventType: "network_blocked", countedEventTypes: ["network_blocked"], count, windowSec, severity: "critical", grouping: "role" });

/** An event: which role, and how many ms after the previous one. */
const eventArb = fc.record({ role: fc.constantFrom("a", "b"), gapMs: fc.oneof(fc.integer({ min: 0, max: 3000 }), fc.constant(0), fc.constant(1000)), host: fc.constantFrom("x.example", "y.example", "z.example") });
const scenarioArb = fc.record({
  count: fc.integer({ min: 1, max: 5 }),
  windowSec: fc.integer({ min: 1, max: 5 }),
  events: fc.array(eventArb, { maxLength: 40 }),
  sweeps: fc.array(fc.boolean(), { maxLength: 40 }),
});

type Scenario = { count: number; windowSec: number; events: Array<{ role: string; gapMs: number; host: string }>; sweeps: boolean[] };

/** Runs a scenario from t0 with event times, sweeping after events where `sweeps` says so and once at the end. */
async function run(store: AlertWindowStore, scenario: Scenario, t0: number): Promise<AlertTransition[]> {
  const r = rule(scenario.count, scenario.windowSec);
  const out: AlertTransition[] = [];
  let t = t0;
  for (const [i, event] of scenario.events.entries()) {
    t += event.gapMs;
    out.push(...(await store.observe(r, { role: event.role, tool: "" }, event.host, t)));
    if (scenario.sweeps[i]) out.push(...(await store.sweep([r], t)));
  }
  out.push(...(await store.sweep([r], t + scenario.windowSec * 1000)));
  return out.map((x) => ({ ...x, rule: r }));
}

/** The definition, computed directly: firing at t iff the count in (t - w, t] >= k. */
function expectedFirings(scenario: Scenario, t0: number): Array<{ role: string; atMs: number }> {
  const firings: Array<{ role: string; atMs: number }> = [];
  const w = scenario.windowSec * 1000;
  const times: Record<string, number[]> = {};
  let t = t0;
  const firing: Record<string, boolean> = {};
  for (const event of scenario.events) {
    t += event.gapMs;
    const list = (times[event.role] ??= []);
    // Between events the count only falls: was it below k just before this event?
    const before = list.filter((x) => x > t - w).length;
    if (before < scenario.count) firing[event.role] = false;
    list.push(t);
    if (!firing[event.role] && before + 1 >= scenario.count) {
      firing[event.role] = true;
      firings.push({ role: event.role, atMs: t });
    }
  }
  return firings;
}

describe("alert windows in memory", () => {
  it("fires at the threshold and not one event before, once per breach, and resolves when the count falls below", async () => {
    const store = new MemoryAlertWindowStore();
    const r = rule(3, 60);
    const g = { role: "research_agent", tool: "" };
    expect(await store.observe(r, g, "a.example", 0)).toEqual([]);
    expect(await store.observe(r, g, "b.example", 1000)).toEqual([]);
    const fired = await store.observe(r, g, "a.example", 2000);
    expect(fired).toMatchObject([{ status: "firing", count: 3, atMs: 2000, firedAtMs: 2000, subjects: ["a.example", "b.example"] }]);
    expect(await store.observe(r, g, "c.example", 3000)).toEqual([]);
    // Events at 0, 1000, 2000, 3000: the count falls to 2 when the event at 1000 leaves, at 61000.
    expect(await store.sweep([r], 60_999)).toEqual([]);
    expect(await store.sweep([r], 61_000)).toMatchObject([{ status: "resolved", atMs: 61_000, firedAtMs: 2000, count: 2 }]);
    expect(await store.sweep([r], 200_000)).toEqual([]);
  });

  it("fires as often as the definition says, at the same moments (property)", async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb, async (scenario) => {
        const got = (await run(new MemoryAlertWindowStore(), scenario, 1_000_000)).filter((x) => x.status === "firing");
        expect(got.map((x) => ({ role: x.group.role, atMs: x.atMs }))).toEqual(expectedFirings(scenario, 1_000_000));
      }),
      { numRuns: 300 },
    );
  });
});

describe.skipIf(SKIP_REDIS)("alert windows in Redis agree with memory", () => {
  let server: RedisServer;
  let redis: Redis;
  beforeAll(async () => {
    server = await RedisServer.start();
    redis = server.client();
  });
  afterAll(async () => {
    redis?.disconnect();
    await server?.stop();
  });

  it("gives the same transitions on random event sequences (property)", async () => {
    let runNo = 0;
    await fc.assert(
      fc.asyncProperty(scenarioArb, async (scenario) => {
        const t0 = 1_700_000_000_000;
        const memory = await run(new MemoryAlertWindowStore(), scenario, t0);
        const shared = await run(new RedisAlertWindowStore(redis, `h5test:${process.pid}:${runNo++}:`), scenario, t0);
        expect(shared).toEqual(memory);
      }),
      { numRuns: 150 },
    );
  });

  it("two stores on one Redis share the count at Redis TIME: the breach fires once, in the store whose event reached the threshold", async () => {
    const prefix = `h5test:${process.pid}:shared:`;
    const [a, b] = [new RedisAlertWindowStore(redis, prefix), new RedisAlertWindowStore(redis, prefix)];
    const r = rule(4, 300);
    const g = { role: "research_agent", tool: "" };
    const transitions: Array<[string, AlertTransition[]]> = [];
    for (const [i, store] of [a, b, a, b, a, b].entries()) transitions.push([i % 2 ? "b" : "a", await store.observe(r, g, `h${i}.example`)]);
    expect(transitions.map(([, t]) => t.length)).toEqual([0, 0, 0, 1, 0, 0]);
    expect(transitions[3][1][0]).toMatchObject({ status: "firing", count: 4, subjects: ["h0.example", "h1.example", "h2.example", "h3.example"] });
    // Resolution is found by either store's sweep, once.
    const [timeS] = await redis.time();
    const now = Number(timeS) * 1000;
    expect(await b.sweep([r], now + 300_000 + 1000)).toMatchObject([{ status: "resolved" }]);
    expect(await a.sweep([r], now + 300_000 + 1000)).toEqual([]);
  });
});
