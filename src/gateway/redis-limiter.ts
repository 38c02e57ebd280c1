import { randomBytes } from "node:crypto";
import Redis, { type RedisOptions } from "ioredis";
import { limiterKey } from "../plan/redis-keys";
import type { RedisCredentials } from "./redis-credentials";

/**
 * An exact sliding window in one round trip: trims the caller's sorted set to the window by Redis
 * time, counts, adds the call only when it fits, and refreshes the expiry. Scores are Redis
 * `TIME` in microseconds, so every gateway replica shares one clock. A refused call learns when
 * the oldest entry leaves the window.
 *
 * KEYS[1] sorted set; ARGV[1] max calls; ARGV[2] window in ms; ARGV[3] unique member.
 * Returns {1, count after} or {0, retry after in µs}.
 *
 * The `#!lua` line (Redis >= 7.0) declares the script's flags: none, so it may write and is
 * refused with OOM before it runs while Redis is over `maxmemory`. Without it Redis checks memory
 * only up to the first write, and the ZREMRANGEBYSCORE below would let every ZADD past the cap.
 */
export const SLIDING_WINDOW_SCRIPT = `#!lua
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000000 + tonumber(now_parts[2])
local window = tonumber(ARGV[2]) * 1000
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
if count < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {1, count + 1}
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {0, tonumber(oldest[2]) + window - now}
`;

/** Outcome of one limiter decision. */
export type LimitDecision =
  | { readonly allowed: true }
  | { readonly allowed: false; readonly retryAfterSec: number };

/** Why the limiter could not decide. */
export class LimiterUnavailableError extends Error {
  constructor(readonly reason: "timeout" | "disconnected" | "out_of_memory" | "error", cause: unknown) {
    super(`rate limiter unavailable (${reason})`, { cause });
    this.name = "LimiterUnavailableError";
  }
}

/** Why a script's call failed, from its error and the connection's status. */
export function limiterUnavailable(error: unknown, status: string): LimiterUnavailableError {
  const reason = /timed out/i.test(String(error)) ? "timeout" : /^(ReplyError: )?OOM\b/.test(String(error)) ? "out_of_memory" : status === "ready" ? "error" : "disconnected";
  return new LimiterUnavailableError(reason, error);
}

interface SlidingWindowClient extends Redis {
  slidingWindow(key: string, maxCalls: number, windowMs: number, member: string): Promise<[number, number]>;
}

/** Options of `RedisLimiter`. */
export interface RedisLimiterOptions {
  /** `redis://host:port/db` or `rediss://…`. */
  readonly url: string;
  /** Name of the firewall (`FirewallSpecProps.name`): its keys are apart from other firewalls' on one Redis. */
  readonly firewall: string;
  /** Longest wait for a decision, in ms; past it the decision fails. */
  readonly timeoutMs: number;
  /** ACL user and password. @default - none (a Redis without AUTH) */
  readonly credentials?: RedisCredentials;
}

/**
 * The sliding-window limiter on Redis. Fails fast instead of queueing while Redis is away (no
 * offline queue, a command timeout), and reconnects by itself.
 */
export class RedisLimiter {
  private readonly client: SlidingWindowClient;
  /** Unique per process, so members from two replicas at the same microsecond never collide. */
  private readonly memberPrefix = randomBytes(6).toString("hex");
  private sequence = 0;

  constructor(private readonly options: RedisLimiterOptions) {
    const redisOptions: RedisOptions = {
      commandTimeout: options.timeoutMs,
      connectTimeout: Math.max(options.timeoutMs, 1_000),
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: (attempt) => Math.min(50 * attempt, 1_000),
      lazyConnect: false,
      ...options.credentials,
    };
    this.client = new Redis(options.url, redisOptions) as SlidingWindowClient;
    // Without a listener ioredis prints every connection error; the gateway reports them as events.
    this.client.on("error", () => undefined);
    this.client.defineCommand("slidingWindow", { numberOfKeys: 1, lua: SLIDING_WINDOW_SCRIPT });
  }

  /** Counts one call of `role` to `tool` against its limit, if it fits. */
  async take(role: string, tool: string, limit: { maxCalls: number; windowSec: number }): Promise<LimitDecision> {
    if (this.client.status !== "ready") throw new LimiterUnavailableError("disconnected", this.client.status);
    const member = `${this.memberPrefix}:${(this.sequence++).toString(36)}`;
    let reply: [number, number];
    try {
      reply = await this.client.slidingWindow(limiterKey(this.options.firewall, role, tool), limit.maxCalls, limit.windowSec * 1000, member);
    } catch (error) {
      throw limiterUnavailable(error, this.client.status);
    }
    if (reply[0] === 1) return { allowed: true };
    return { allowed: false, retryAfterSec: Math.max(1, Math.ceil(reply[1] / 1_000_000)) };
  }

  /** The connection, for other scripts that share its fail-fast settings (the token budgets). */
  get connection(): Redis {
    return this.client;
  }

  /** The firewall whose keys this limiter keeps. */
  get firewall(): string {
    return this.options.firewall;
  }

  /** Whether Redis answers a PING within the timeout. */
  async ready(): Promise<boolean> {
    if (this.client.status !== "ready") return false;
    try {
      return (await this.client.ping()) === "PONG";
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    this.client.disconnect();
  }
}
