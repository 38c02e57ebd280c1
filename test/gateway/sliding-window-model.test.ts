/**
 * The in-memory sliding window `rapidclaw replay` uses against the limiter's own Lua script on
 * real Redis: the script's text with its clock (`redis.call('TIME')`) replaced by a time the
 * test gives, everything else as the gateway runs it, decides random call sequences exactly as
 * the model does.
 */
import fc from "fast-check";
import Redis from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { skipLoudly } from "../e2e/support/prerequisites";
import { SLIDING_WINDOW_SCRIPT } from "../../src/gateway/redis-limiter";
import { SlidingWindowModel } from "../../src/gateway/sliding-window";
import { missingRedis, TestRedis } from "./support/redis";

const skip = skipLoudly("the limiter's sliding-window model against its Redis script", missingRedis());

const CLOCK = "local now_parts = redis.call('TIME')";
/** The script on a given clock: ARGV[4] is the time in µs, as TIME's two parts. */
const SCRIPT_ON_GIVEN_TIME = SLIDING_WINDOW_SCRIPT.replace(CLOCK, "local now_parts = { math.floor(tonumber(ARGV[4]) / 1000000), tonumber(ARGV[4]) % 1000000 }");

describe.skipIf(skip)("the sliding window model", () => {
  let redis: TestRedis;
  let client: Redis;

  beforeAll(async () => {
    redis = await TestRedis.start();
    client = new Redis(redis.url);
  });

  afterAll(async () => {
    client?.disconnect();
    await redis?.kill();
  });

  it("replaces only the script's clock", () => {
    expect(SLIDING_WINDOW_SCRIPT).toContain(CLOCK);
    expect(SCRIPT_ON_GIVEN_TIME.split("\n").filter((line, i) => line !== SLIDING_WINDOW_SCRIPT.split("\n")[i])).toHaveLength(1);
  });

  it("decides every call of random sequences as the limiter's script does", async () => {
    let run = 0;
    await fc.assert(fc.asyncProperty(
      fc.integer({ min: 1, max: 5 }),
      fc.integer({ min: 1, max: 10 }),
      // Gaps in ms, zero included (calls at the same time), some crossing the window's edge exactly.
      fc.array(fc.oneof(fc.integer({ min: 0, max: 4_000 }), fc.constantFrom(0, 1_000, 5_000)), { minLength: 1, maxLength: 40 }),
      async (maxCalls, windowSec, gaps) => {
        const key = `model:${run++}`;
        const model = new SlidingWindowModel({ maxCalls, windowSec });
        let now = 1_700_000_000_000;
        for (const [i, gap] of gaps.entries()) {
          now += gap;
          const [allowed] = (await client.eval(SCRIPT_ON_GIVEN_TIME, 1, key, maxCalls, windowSec * 1000, `m${i}`, now * 1000)) as [number, number];
          expect(model.take(now), `call ${i} at +${now - 1_700_000_000_000} ms`).toBe(allowed === 1);
        }
      },
    ), { numRuns: 150 });
  });
});
