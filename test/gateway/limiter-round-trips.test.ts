import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { skipLoudly } from "../e2e/support/prerequisites";
import { RedisLimiter } from "../../src/gateway/redis-limiter";
import { missingRedis, TestRedis } from "./support/redis";

const skip = skipLoudly("the limiter's round trips, against real Redis", missingRedis());

/** How many EVALSHA calls Redis has run, from INFO commandstats. */
async function evalshaCalls(redis: TestRedis): Promise<number> {
  return Number(/^cmdstat_evalsha:calls=(\d+)/m.exec(await redis.cli("INFO", "commandstats"))?.[1] ?? 0);
}

/**
 * Issue #19 kept the limiter at one round trip per decision while its script gained the `#!lua`
 * flags: each decision, allowed or refused, is one EVALSHA of the sliding-window script and
 * nothing else (the first one after a start is resent as EVAL, which the warm-up takes).
 */
describe.skipIf(skip)("the limiter's round trips", () => {
  let redis: TestRedis;
  let limiter: RedisLimiter;

  beforeAll(async () => {
    redis = await TestRedis.start();
    limiter = new RedisLimiter({ url: redis.url, firewall: "trips", timeoutMs: 2_000 });
    for (let i = 0; i < 100 && !(await limiter.ready()); i++) await new Promise((r) => setTimeout(r, 20));
  });

  afterAll(async () => {
    await limiter?.close();
    await redis?.kill();
  });

  it("sends one command per decision, allowed or refused", async () => {
    const limit = { maxCalls: 5, windowSec: 60 };
    await limiter.take("warm_up", "web_search", limit);
    const before = await evalshaCalls(redis);
    // Every command the limiter's connection sends, as it leaves the client.
    const sent = vi.spyOn(limiter.connection, "sendCommand");
    const decisions = [];
    for (let i = 0; i < 12; i++) decisions.push(await limiter.take("research_agent", "web_search", limit));
    const names = sent.mock.calls.map(([command]) => (command as unknown as { name: string }).name);
    sent.mockRestore();
    expect(decisions.map((d) => d.allowed)).toEqual([...Array(5).fill(true), ...Array(7).fill(false)]);
    expect(names).toEqual(Array(12).fill("evalsha"));
    expect((await evalshaCalls(redis)) - before).toBe(12);
  });
});
