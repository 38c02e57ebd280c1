import type Redis from "ioredis";
import { tokenWindowKeys } from "../plan/redis-keys";
import { LimiterScripts } from "./limiter-scripts";
import type { LimitDecision, RedisLimiter } from "./redis-limiter";

/**
 * A sliding window of token counts in one round trip. The sorted set holds one member per
 * counted call, `<unique>:<tokens>`, scored by Redis `TIME` in µs (one clock for every
 * replica); the string key holds their sum, so a check costs only the entries that left the
 * window (or, if the sum was evicted, one recount). ARGV[3] > 0 records that many tokens; every
 * call answers whether the sum is below the budget and, if not, when enough entries leave the
 * window for it to be. `#!lua` (no flags) makes Redis refuse the script up front when out of
 * memory, instead of failing at its first write; both keys share one hash tag.
 *
 * KEYS[1] sorted set, KEYS[2] sum; ARGV[1] max tokens; ARGV[2] window in ms; ARGV[3] tokens to
 * add; ARGV[4] unique member prefix. Returns {1, sum} or {0, retry after in µs}.
 */
export const TOKEN_WINDOW_SCRIPT = `#!lua
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000000 + tonumber(now_parts[2])
local window = tonumber(ARGV[2]) * 1000
local function tokens_of(member) return tonumber(string.match(member, ':(%d+)$')) or 0 end
local sum = tonumber(redis.call('GET', KEYS[2]))
if sum == nil then
  sum = 0
  for _, member in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], now - window, '+inf')) do sum = sum + tokens_of(member) end
else
  for _, member in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - window)) do sum = sum - tokens_of(member) end
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local add = tonumber(ARGV[3])
if add > 0 then
  redis.call('ZADD', KEYS[1], now, ARGV[4] .. ':' .. add)
  sum = sum + add
end
if redis.call('ZCARD', KEYS[1]) == 0 then
  redis.call('DEL', KEYS[1], KEYS[2])
  sum = 0
else
  redis.call('SET', KEYS[2], sum, 'PX', ARGV[2])
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
local max = tonumber(ARGV[1])
if sum < max then return {1, sum} end
local left = sum
for _, entry in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')) do
  if type(entry) == 'string' and string.find(entry, ':') then
    left = left - tokens_of(entry)
  elseif left < max then
    return {0, tonumber(entry) + window - now}
  end
end
return {0, window}
`;

/** A token budget: at most `maxTokens` in any `windowSec` seconds. */
export interface TokenLimit {
  readonly maxTokens: number;
  readonly windowSec: number;
}

interface TokenWindowClient extends Redis {
  tokenWindow(calls: string, sum: string, maxTokens: number, windowMs: number, add: number, member: string): Promise<[number, number]>;
}

/**
 * Token budgets of roles on model tools, on the limiter's Redis connection and firewall: `check` before a
 * call, `record` with the usage its answer reported.
 */
export class RedisTokenBudget extends LimiterScripts<TokenWindowClient> {
  constructor(limiter: RedisLimiter) {
    super(limiter);
    this.client.defineCommand("tokenWindow", { numberOfKeys: 2, lua: TOKEN_WINDOW_SCRIPT });
  }

  /** Whether the role's window on the tool is still below the budget. */
  check(role: string, tool: string, limit: TokenLimit): Promise<LimitDecision> {
    return this.window(role, tool, limit, 0);
  }

  /** Adds `tokens` to the role's window on the tool. */
  async record(role: string, tool: string, limit: TokenLimit, tokens: number): Promise<void> {
    if (tokens > 0) await this.window(role, tool, limit, tokens);
  }

  private async window(role: string, tool: string, limit: TokenLimit, tokens: number): Promise<LimitDecision> {
    const [calls, sum] = tokenWindowKeys(this.firewall, role, tool);
    const reply = await this.run(() => this.client.tokenWindow(calls, sum, limit.maxTokens, limit.windowSec * 1000, tokens, this.uniqueMember()));
    if (reply[0] === 1) return { allowed: true };
    return { allowed: false, retryAfterSec: Math.max(1, Math.ceil(reply[1] / 1_000_000)) };
  }
}
