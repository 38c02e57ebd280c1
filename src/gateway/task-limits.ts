import { DEFAULTS } from "../model/defaults";
import type { RoleLimitsProps } from "../model/types";

/**
 * A role's task limits as the gateway enforces them. A task is one run of an agent (OpenClaw's
 * run, Hermes' task), named by the id its hook sends; the gateway trusts that id no further than
 * the role-wide windows below allow, so an agent that mints ids gains nothing.
 */
export interface TaskLimits {
  /** Checks carrying one task id, at most (`maxToolCallsPerTask`). */
  readonly maxCallsPerTask?: number;
  /** Tokens the answers of one task's model calls reported, at most; the call that crosses it finishes (`maxTokensPerTask`). */
  readonly maxTokensPerTask?: number;
  /** Tasks open at once (`maxConcurrentTasks`). */
  readonly maxConcurrentTasks?: number;
  /** A task that no check or call renewed for this long is no longer open. */
  readonly leaseSec: number;
  /** The role-wide windows' length; a task's counts are kept as long after its last use. */
  readonly windowSec: number;
  /**
   * Checks of the role, with or without a task id, in any `windowSec`: `maxCallsPerTask ×
   * maxConcurrentTasks`; undefined without both.
   */
  readonly roleCalls?: number;
  /**
   * Tokens the role's proxied calls report, with or without a task id, in any `windowSec`:
   * `maxTokensPerTask × maxConcurrentTasks`; undefined without both.
   */
  readonly roleTokens?: number;
}

/** The tool name of a role's token window on tasks in Redis: not a tool name (`*` is no name's), so it meets no tool's window. */
export const ROLE_TASK_TOKENS = "*tasks";

/** Whether a role has task limits: its agents' hooks then open and end tasks. */
export function hasTaskLimits(limits: RoleLimitsProps | undefined): boolean {
  return limits?.maxToolCallsPerTask !== undefined || limits?.maxTokensPerTask !== undefined || limits?.maxConcurrentTasks !== undefined;
}

/** The task limits of a role, or undefined when it has none. */
export function taskLimitsOf(limits: RoleLimitsProps | undefined): TaskLimits | undefined {
  if (limits === undefined || !hasTaskLimits(limits)) return undefined;
  const { maxToolCallsPerTask: calls, maxTokensPerTask: tokens, maxConcurrentTasks: concurrent } = limits;
  const windowSec = DEFAULTS.gateway.taskWindowSec;
  return {
    maxCallsPerTask: calls,
    maxTokensPerTask: tokens,
    maxConcurrentTasks: concurrent,
    leaseSec: DEFAULTS.gateway.taskLeaseSec,
    windowSec,
    roleCalls: calls === undefined || concurrent === undefined ? undefined : calls * concurrent,
    roleTokens: tokens === undefined || concurrent === undefined ? undefined : tokens * concurrent,
  };
}

/** Task ids hooks send: the runtimes' run ids (UUIDs, `sess_…`), at most 128 characters a Redis key and an event can carry. */
const TASK_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/** Header that ties a proxied call (a model call) to a task; never forwarded upstream. */
export const TASK_HEADER = "x-rapidclaw-task";

/** A task id as sent (a check's `task`, the header): the id, undefined when none was sent, or a problem. */
export function parseTaskId(value: unknown): { readonly task?: string } | { readonly problem: string } {
  if (value === undefined || value === "") return {};
  if (typeof value !== "string" || !TASK_ID.test(value)) return { problem: "a task id is 1 to 128 letters, digits and . _ : - starting with a letter or digit" };
  return { task: value };
}

/** Why a task call was refused, from the task script's answer. */
export type TaskRefusal =
  | { readonly kind: "concurrent_tasks_exceeded"; readonly open: number; readonly retryAfterSec: number }
  | { readonly kind: "task_limit_exceeded"; readonly limit: "tool_calls" | "tokens"; readonly used: number; readonly max: number }
  | { readonly kind: "task_limit_exceeded"; readonly limit: "role_tool_calls" | "role_tokens"; readonly max: number; readonly retryAfterSec: number };

/** What a refusal answers and raises: status 429, the JSON body and event details. */
export function taskRefusalAnswer(role: string, task: string | undefined, refusal: TaskRefusal): {
  readonly body: Record<string, unknown>;
  readonly details: Record<string, string | number>;
  readonly retryAfterSec?: number;
} {
  const taskDetails: Record<string, string> = task === undefined ? {} : { task };
  if (refusal.kind === "concurrent_tasks_exceeded") {
    return {
      body: { error: refusal.kind, agent_role: role, ...taskDetails, open_tasks: refusal.open, retry_after_sec: refusal.retryAfterSec, message: `role ${role} has ${refusal.open} tasks open, the most it may; end one, or retry after ${refusal.retryAfterSec} s when an idle one's lease lapses` },
      details: { ...taskDetails, open_tasks: refusal.open, retry_after_sec: refusal.retryAfterSec },
      retryAfterSec: refusal.retryAfterSec,
    };
  }
  if (!("used" in refusal)) {
    const what = refusal.limit === "role_tokens" ? "tokens" : "tool calls";
    const message = `role ${role} has used the ${refusal.max} ${what} its concurrent tasks may use together in ${DEFAULTS.gateway.taskWindowSec} s; retry after ${refusal.retryAfterSec} s`;
    return {
      body: { error: refusal.kind, agent_role: role, ...taskDetails, limit: refusal.limit, max: refusal.max, retry_after_sec: refusal.retryAfterSec, message },
      details: { ...taskDetails, limit: refusal.limit, max: refusal.max, retry_after_sec: refusal.retryAfterSec },
      retryAfterSec: refusal.retryAfterSec,
    };
  }
  const what = refusal.limit === "tokens" ? "tokens" : "tool calls";
  return {
    body: { error: refusal.kind, agent_role: role, ...taskDetails, limit: refusal.limit, used: refusal.used, max: refusal.max, message: `task ${task} of role ${role} has used its ${refusal.max} ${what}; start a new task` },
    details: { ...taskDetails, limit: refusal.limit, used: refusal.used, max: refusal.max },
  };
}
