import { randomBytes } from "node:crypto";
import type Redis from "ioredis";
import type { AlertGroup, AlertRule } from "./alert-rules";
import { distinctSubjects, inOrderOfTime, type AlertTransition, type AlertWindowStore } from "./alert-window-store";

/**
 * Shared by both scripts: `now` from Redis TIME (ARGV[3] empty) or the caller's time; resolves
 * a firing alert whose count at `now` is below the threshold (the moment is when entry n - k left
 * the window), then drops entries outside the window. Leaves `resolved` (or false) and `firedAt`.
 * KEYS[1] window (sorted set, score = ms), KEYS[2] state (hash: firedAt).
 * ARGV[1] threshold, ARGV[2] window ms, ARGV[3] time or "".
 */
const RESOLVE_AND_TRIM = `
local k = tonumber(ARGV[1])
local w = tonumber(ARGV[2])
local now
if ARGV[3] == '' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
else
  now = tonumber(ARGV[3])
end
local resolved = false
local resolvedFiredAt = false
local firedAt = redis.call('HGET', KEYS[2], 'firedAt')
if firedAt and redis.call('ZCOUNT', KEYS[1], '(' .. (now - w), '+inf') < k then
  local n = redis.call('ZCARD', KEYS[1])
  local entry = redis.call('ZRANGE', KEYS[1], n - k, n - k, 'WITHSCORES')
  resolved = tonumber(entry[2]) + w
  resolvedFiredAt = tonumber(firedAt)
  redis.call('DEL', KEYS[2])
  firedAt = false
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - w)
`;

/**
 * Reply: { resolvedAt, resolvedFiredAt, firedAt, count, members… } with false for "none".
 * Keeps only the newest k entries: whether the count reaches k, when it falls below k (entry
 * n - k) and the firing's list need no more, so a flood of events holds a window at k entries.
 * Its flags (none) make Redis refuse it before it runs while over `maxmemory`.
 */
const OBSERVE = `#!lua${RESOLVE_AND_TRIM}
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -(k + 1))
local count = redis.call('ZCARD', KEYS[1])
local fired = false
local members = {}
if not firedAt and count >= k then
  redis.call('HSET', KEYS[2], 'firedAt', now)
  fired = now
  members = redis.call('ZRANGE', KEYS[1], 0, -1)
end
-- A firing window must outlive the sweep that resolves it: expiry only collects idle groups.
redis.call('PEXPIRE', KEYS[1], w + 3600000)
redis.call('PEXPIRE', KEYS[2], w + 3600000)
return { resolved, resolvedFiredAt, fired, count, unpack(members) }
`;

/** Only removes: allowed over `maxmemory`, so alerts still resolve while Redis is full. */
const SWEEP = `#!lua flags=allow-oom${RESOLVE_AND_TRIM}
return { resolved, resolvedFiredAt, firedAt ~= false }
`;

/**
 * Removes a group from the firing index only if its score is still the breach the sweep saw: a
 * breach that fired again meanwhile (a new score) stays indexed. One key, so Cluster-safe.
 */
const UNINDEX = `#!lua flags=allow-oom
if redis.call('ZSCORE', KEYS[1], ARGV[1]) == ARGV[2] then redis.call('ZREM', KEYS[1], ARGV[1]) end
return 0
`;

type ScriptReply = Array<number | string | null>;

interface AlertScripts {
  rapidclawAlertObserve(window: string, state: string, k: number, windowMs: number, at: string, member: string): Promise<ScriptReply>;
  rapidclawAlertSweep(window: string, state: string, k: number, windowMs: number, at: string): Promise<ScriptReply>;
  rapidclawAlertUnindex(index: string, member: string, score: string): Promise<number>;
}

/**
 * Windows in Redis, shared by every evaluator (gateway replicas, the proxy log reader): one Lua
 * script per observation decides the count and the transition atomically, so a breach fires in
 * exactly one process however many share it. Time is Redis TIME unless a caller passes event
 * times (replaying a log). Keys of one group share a hash tag (`{rule|role|tool}`), so the
 * script works on Redis Cluster; the index of firing groups (a sorted set, score = when the breach fired) has its own key, for
 * the sweep.
 */
export class RedisAlertWindowStore implements AlertWindowStore {
  private readonly instance = randomBytes(6).toString("hex");
  private sequence = 0;
  private readonly redis: Redis & AlertScripts;

  /** `prefix` (`alertKeyPrefix` of the firewall's name) separates firewalls, and tests, sharing one Redis. */
  constructor(redis: Redis, private readonly prefix: string) {
    if (!("rapidclawAlertObserve" in redis)) {
      redis.defineCommand("rapidclawAlertObserve", { numberOfKeys: 2, lua: OBSERVE });
      redis.defineCommand("rapidclawAlertSweep", { numberOfKeys: 2, lua: SWEEP });
      redis.defineCommand("rapidclawAlertUnindex", { numberOfKeys: 1, lua: UNINDEX });
    }
    this.redis = redis as Redis & AlertScripts;
  }

  private keys(rule: AlertRule, group: AlertGroup): { window: string; state: string } {
    // Role and tool names never hold "|", "{" or "}" (validated names; Squid writes "-" for none).
    const tag = `{${rule.eventType}|${group.role}|${group.tool}}`;
    return { window: `${this.prefix}${tag}:w`, state: `${this.prefix}${tag}:s` };
  }

  private get firingIndex(): string {
    return `${this.prefix}firing`;
  }

  async observe(rule: AlertRule, group: AlertGroup, subject: string, atMs?: number): Promise<AlertTransition[]> {
    const { window, state } = this.keys(rule, group);
    // Unique per observation; the subject rides along for the alert's list.
    const member = `${this.instance}:${this.sequence++}\n${subject}`;
    const reply = await this.redis.rapidclawAlertObserve(window, state, rule.count, rule.windowSec * 1000, atMs === undefined ? "" : String(atMs), member);
    const transitions = this.resolution(rule, group, reply);
    const [, , fired, count, ...members] = reply;
    if (typeof fired === "number") {
      await this.redis.zadd(this.firingIndex, fired, JSON.stringify([rule.eventType, group.role, group.tool]));
      const subjects = distinctSubjects(members.map((m) => String(m).slice(String(m).indexOf("\n") + 1)));
      transitions.push({ status: "firing", rule, group, count: Number(count), atMs: fired, firedAtMs: fired, subjects });
    }
    return transitions;
  }

  async sweep(rules: ReadonlyArray<AlertRule>, atMs?: number): Promise<AlertTransition[]> {
    const transitions: AlertTransition[] = [];
    const index = await this.redis.zrange(this.firingIndex, 0, -1, "WITHSCORES");
    for (let i = 0; i < index.length; i += 2) {
      const [entry, score] = [index[i], index[i + 1]];
      const [eventType, role, tool] = JSON.parse(entry) as [string, string, string];
      const rule = rules.find((r) => r.eventType === eventType);
      if (rule === undefined) continue;
      const group = { role, tool };
      const { window, state } = this.keys(rule, group);
      const reply = await this.redis.rapidclawAlertSweep(window, state, rule.count, rule.windowSec * 1000, atMs === undefined ? "" : String(atMs));
      transitions.push(...this.resolution(rule, group, reply));
      if (reply[2] !== 1) await this.redis.rapidclawAlertUnindex(this.firingIndex, entry, score);
    }
    return inOrderOfTime(transitions);
  }

  private resolution(rule: AlertRule, group: AlertGroup, reply: ScriptReply): AlertTransition[] {
    const [resolvedAt, resolvedFiredAt] = reply;
    if (typeof resolvedAt !== "number") return [];
    return [{ status: "resolved", rule, group, count: rule.count - 1, atMs: resolvedAt, firedAtMs: Number(resolvedFiredAt), subjects: [] }];
  }

  /** Leaves the connection to its owner (the gateway shares it with the limiter). */
  async close(): Promise<void> {}
}
