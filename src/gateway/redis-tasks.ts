import type Redis from "ioredis";
import { taskKeys } from "../plan/redis-keys";
import { LimiterScripts } from "./limiter-scripts";
import type { RedisLimiter } from "./redis-limiter";
import type { TaskLimits, TaskRefusal } from "./task-limits";

/**
 * One decision on a role's tasks in one round trip, by Redis `TIME` in µs (one clock for every
 * replica). Checks everything first and writes only when all pass, so a refused call counts
 * nowhere:
 * 1. with a task id: leases past their end are dropped from the role's open set; a task not in it
 *    opens only while fewer than `max concurrent` are open; with `max calls`, the task's count of
 *    calls must be below it; with `max tokens`, its count of tokens must be below it;
 * 2. with `count a call` and a role window: the role's calls in the window must be below its max.
 * Then the task's lease is renewed (opened if need be), the call counted in the task and in the
 * role's window. `#!lua` (no flags) makes Redis refuse the script up front when out of memory.
 *
 * KEYS[1] open tasks (sorted set: task → lease end), KEYS[2] the role's window of calls, KEYS[3]
 * the task's counts (hash: calls, tokens). ARGV[1] task id ('' for none), ARGV[2] max concurrent
 * (0: none), ARGV[3] lease ms, ARGV[4] max calls per task (0: none), ARGV[5] max tokens per task
 * (0: not checked), ARGV[6] max calls of the role in the window (0: none), ARGV[7] window ms,
 * ARGV[8] unique member, ARGV[9] 1 to count a call, ARGV[10] how long a task's counts are kept, ms.
 * Returns {1, open tasks} or {0, reason, a}: 1 too many open (a: µs until the first lease ends),
 * 2 task's calls used (a: count), 3 task's tokens used (a: count), 4 role window full (a: µs).
 */
export const TASK_ADMIT_SCRIPT = `#!lua
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000000 + tonumber(now_parts[2])
local task = ARGV[1]
local count_call = ARGV[9] == '1'
local open = 0
if task ~= '' then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
  open = redis.call('ZCARD', KEYS[1])
  local max_open = tonumber(ARGV[2])
  if max_open > 0 and not redis.call('ZSCORE', KEYS[1], task) then
    if open >= max_open then
      local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
      return {0, 1, tonumber(first[2]) - now}
    end
    open = open + 1
  end
  local max_calls = tonumber(ARGV[4])
  if count_call and max_calls > 0 then
    local calls = tonumber(redis.call('HGET', KEYS[3], 'calls')) or 0
    if calls >= max_calls then return {0, 2, calls} end
  end
  local max_tokens = tonumber(ARGV[5])
  if max_tokens > 0 then
    local tokens = tonumber(redis.call('HGET', KEYS[3], 'tokens')) or 0
    if tokens >= max_tokens then return {0, 3, tokens} end
  end
end
local role_max = tonumber(ARGV[6])
local window = tonumber(ARGV[7]) * 1000
if count_call and role_max > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - window)
  if redis.call('ZCARD', KEYS[2]) >= role_max then
    local oldest = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
    return {0, 4, tonumber(oldest[2]) + window - now}
  end
  redis.call('ZADD', KEYS[2], now, ARGV[8])
  redis.call('PEXPIRE', KEYS[2], ARGV[7])
end
if task ~= '' then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]) * 1000, task)
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  if count_call then redis.call('HINCRBY', KEYS[3], 'calls', 1) end
  redis.call('HSETNX', KEYS[3], 'tokens', 0)
  redis.call('PEXPIRE', KEYS[3], ARGV[10])
end
return {1, open}
`;

/**
 * Adds tokens to a task's count and keeps its counts for ARGV[2] ms more. KEYS[1] the task's
 * counts; ARGV[1] tokens. Returns the task's tokens.
 */
export const TASK_TOKENS_SCRIPT = `#!lua
local tokens = redis.call('HINCRBY', KEYS[1], 'tokens', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return tokens
`;

interface TaskClient extends Redis {
  taskAdmit(open: string, calls: string, counts: string, ...args: Array<string | number>): Promise<number[]>;
  taskTokens(counts: string, tokens: number, keepMs: number): Promise<number>;
}

/** What one task decision asks: count a tool call, and/or check the task's tokens (a model call). */
export interface TaskAdmission {
  readonly countCall: boolean;
  readonly checkTokens: boolean;
}

/**
 * Roles' tasks in Redis, on the limiter's connection and firewall (its fail-fast settings, its
 * namespace): `admit` before a check or a call, `end` when the runtime ends a task, `recordTokens`
 * with the usage a task's call reported.
 */
export class RedisTasks extends LimiterScripts<TaskClient> {
  constructor(limiter: RedisLimiter) {
    super(limiter);
    this.client.defineCommand("taskAdmit", { numberOfKeys: 3, lua: TASK_ADMIT_SCRIPT });
    this.client.defineCommand("taskTokens", { numberOfKeys: 1, lua: TASK_TOKENS_SCRIPT });
  }

  /** Opens or renews `task` (when given) and counts what `admission` says; undefined when allowed, else why not. */
  async admit(role: string, task: string | undefined, limits: TaskLimits, admission: TaskAdmission): Promise<TaskRefusal | undefined> {
    const [open, calls, counts] = taskKeys(this.firewall, role, task ?? "");
    const reply = await this.run(() => this.client.taskAdmit(open, calls, counts,
      task ?? "",
      limits.maxConcurrentTasks ?? 0,
      limits.leaseSec * 1000,
      limits.maxCallsPerTask ?? 0,
      admission.checkTokens ? limits.maxTokensPerTask ?? 0 : 0,
      admission.countCall ? limits.roleCalls ?? 0 : 0,
      limits.windowSec * 1000,
      this.uniqueMember(),
      admission.countCall ? 1 : 0,
      this.keepMs(limits),
    ));
    if (reply[0] === 1) return undefined;
    const seconds = (us: number) => Math.max(1, Math.ceil(us / 1_000_000));
    switch (reply[1]) {
      case 1: return { kind: "concurrent_tasks_exceeded", open: limits.maxConcurrentTasks ?? 0, retryAfterSec: seconds(reply[2]) };
      case 2: return { kind: "task_limit_exceeded", limit: "tool_calls", used: reply[2], max: limits.maxCallsPerTask ?? 0 };
      case 3: return { kind: "task_limit_exceeded", limit: "tokens", used: reply[2], max: limits.maxTokensPerTask ?? 0 };
      default: return { kind: "task_limit_exceeded", limit: "role_tool_calls", max: limits.roleCalls ?? 0, retryAfterSec: seconds(reply[2]) };
    }
  }

  /** Ends `task`: its slot is free at once. Its counts stay (for the task window), so an ended id that comes back starts where it left. */
  async end(role: string, task: string): Promise<boolean> {
    const [open] = taskKeys(this.firewall, role, task);
    return (await this.run(() => this.client.zrem(open, task))) === 1;
  }

  /** Adds `tokens` to the task's count. */
  async recordTokens(role: string, task: string, limits: TaskLimits, tokens: number): Promise<void> {
    if (tokens <= 0) return;
    const [, , counts] = taskKeys(this.firewall, role, task);
    await this.run(() => this.client.taskTokens(counts, tokens, this.keepMs(limits)));
  }

  /** A task's counts are kept for the role window after their last use, so an id reused within it starts where it left. */
  private keepMs(limits: TaskLimits): number {
    return Math.max(limits.leaseSec, limits.windowSec) * 1000;
  }
}
