import { byString } from "../model/order";
import type { AlertGroup, AlertRule } from "./alert-rules";

/** An alert that fired or resolved. */
export interface AlertTransition {
  readonly status: "firing" | "resolved";
  readonly rule: AlertRule;
  readonly group: AlertGroup;
  /** Events in the window at that moment: the threshold when firing, one less when resolving. */
  readonly count: number;
  /** When it fired or resolved, in ms since the epoch. */
  readonly atMs: number;
  /** When the breach began; with the rule and group, a stable name for the breach. */
  readonly firedAtMs: number;
  /** Distinct hosts or tools of the window when firing (rules counted per role), sorted; at most MAX_SUBJECTS. */
  readonly subjects: ReadonlyArray<string>;
}

/** Most subjects an alert lists. */
export const MAX_SUBJECTS = 20;

/**
 * Rolling windows of alert rules and their firing state. Semantics, the same in every store: at
 * time t the count of a group is the number of its events with time in (t - window, t]; an
 * alert fires when an event brings the count to the threshold, and resolves at the moment the
 * count falls back below it (reported by the next observation or sweep of that group, with the
 * exact moment as `atMs`).
 */
export interface AlertWindowStore {
  /**
   * Counts one event of a group at `atMs` (default: the store's clock) and returns what it
   * changed: a resolution of a breach that ended before it, and a firing.
   */
  observe(rule: AlertRule, group: AlertGroup, subject: string, atMs?: number): Promise<AlertTransition[]>;
  /** Resolves every firing alert of these rules whose count is below its threshold at `atMs` (default: now). */
  sweep(rules: ReadonlyArray<AlertRule>, atMs?: number): Promise<AlertTransition[]>;
  close(): Promise<void>;
}

/** Distinct non-empty subjects, sorted, capped. */
export function distinctSubjects(subjects: Iterable<string>): string[] {
  return [...new Set([...subjects].filter((s) => s !== ""))].sort().slice(0, MAX_SUBJECTS);
}

/** Transitions in the order they happened (then by rule, role, tool): stores list sweeps in this order. */
export function inOrderOfTime(transitions: AlertTransition[]): AlertTransition[] {
  const key = (t: AlertTransition) => [t.rule.eventType, t.group.role, t.group.tool].join("\u0000");
  return transitions.sort((a, b) => a.atMs - b.atMs || byString(key(a), key(b)));
}

interface Entry {
  readonly atMs: number;
  readonly subject: string;
}

interface GroupWindow {
  readonly rule: AlertRule;
  readonly group: AlertGroup;
  /** Sorted by time. */
  readonly entries: Entry[];
  firedAtMs?: number;
}

/** Windows in this process's memory: for one evaluator alone, and for offline evaluation of logs. */
export class MemoryAlertWindowStore implements AlertWindowStore {
  private readonly windows = new Map<string, GroupWindow>();

  constructor(private readonly clock: () => number = Date.now) {}

  async observe(rule: AlertRule, group: AlertGroup, subject: string, atMs?: number): Promise<AlertTransition[]> {
    const now = atMs ?? this.clock();
    const key = JSON.stringify([rule.eventType, group.role, group.tool]);
    let window = this.windows.get(key);
    if (window === undefined || window.rule !== rule) {
      window = { rule, group, entries: [] };
      this.windows.set(key, window);
    }
    const transitions = resolveAndTrim(window, now);
    insertSorted(window.entries, { atMs: now, subject });
    // The newest `count` entries decide firing and resolving alike: a flood holds a window at that.
    window.entries.splice(0, Math.max(0, window.entries.length - rule.count));
    if (window.firedAtMs === undefined && window.entries.length >= rule.count) {
      window.firedAtMs = now;
      transitions.push({
        status: "firing",
        rule,
        group,
        count: window.entries.length,
        atMs: now,
        firedAtMs: now,
        subjects: distinctSubjects(window.entries.map((e) => e.subject)),
      });
    }
    return transitions;
  }

  async sweep(rules: ReadonlyArray<AlertRule>, atMs?: number): Promise<AlertTransition[]> {
    const now = atMs ?? this.clock();
    const transitions: AlertTransition[] = [];
    for (const [key, window] of this.windows) {
      if (!rules.includes(window.rule)) continue;
      transitions.push(...resolveAndTrim(window, now));
      if (window.entries.length === 0) this.windows.delete(key);
    }
    return inOrderOfTime(transitions);
  }

  async close(): Promise<void> {
    this.windows.clear();
  }
}

/** Resolves the window's alert if its count is below the threshold at `now`, then drops entries outside the window. */
function resolveAndTrim(window: GroupWindow, now: number): AlertTransition[] {
  const { rule, entries } = window;
  const windowMs = rule.windowSec * 1000;
  const inside = entries.findIndex((e) => e.atMs > now - windowMs);
  const kept = inside === -1 ? entries.length : inside;
  const transitions: AlertTransition[] = [];
  if (window.firedAtMs !== undefined && entries.length - kept < rule.count) {
    // The count fell below the threshold when entry n - count left the window.
    const resolvedAtMs = entries[entries.length - rule.count].atMs + windowMs;
    transitions.push({ status: "resolved", rule, group: window.group, count: rule.count - 1, atMs: resolvedAtMs, firedAtMs: window.firedAtMs, subjects: [] });
    window.firedAtMs = undefined;
  }
  entries.splice(0, kept);
  return transitions;
}

function insertSorted(entries: Entry[], entry: Entry): void {
  let i = entries.length;
  while (i > 0 && entries[i - 1].atMs > entry.atMs) i--;
  entries.splice(i, 0, entry);
}
