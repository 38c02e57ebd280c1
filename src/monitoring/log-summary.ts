import { byString } from "../model/order";
import type { FirewallEvent } from "./events";

/** Counts of events, overall and by event type. */
export interface EventCounts {
  readonly total: number;
  /** By event type, sorted by name. */
  readonly byEvent: Readonly<Record<string, number>>;
}

/** What `rapidclaw logs` prints: counts by event, role, tool and host, and over time. */
export interface LogSummary {
  readonly events: number;
  /** First and last event time (ISO), or null without events. */
  readonly first: string | null;
  readonly last: string | null;
  readonly byEvent: Readonly<Record<string, number>>;
  /** `(none)` for events without a role, tool or host. */
  readonly byRole: Readonly<Record<string, EventCounts>>;
  readonly byTool: Readonly<Record<string, EventCounts>>;
  readonly byHost: Readonly<Record<string, EventCounts>>;
  /** Buckets of `bucketSec`, from the first event's bucket to the last's, empty ones included. */
  readonly bucketSec: number;
  readonly overTime: ReadonlyArray<{ readonly start: string } & EventCounts>;
}

export const NONE = "(none)";

class Tally {
  private readonly counts = new Map<string, Map<string, number>>();

  add(key: string, eventType: string): void {
    const inner = this.counts.get(key) ?? new Map<string, number>();
    inner.set(eventType, (inner.get(eventType) ?? 0) + 1);
    this.counts.set(key, inner);
  }

  countsOf(key: string): EventCounts {
    const inner = this.counts.get(key) ?? new Map<string, number>();
    const byEvent = Object.fromEntries([...inner].sort(([a], [b]) => byString(a, b)));
    return { total: [...inner.values()].reduce((a, b) => a + b, 0), byEvent };
  }

  /** Keys by total, most first, then by name. */
  table(): Record<string, EventCounts> {
    const keys = [...this.counts.keys()].sort((a, b) => this.countsOf(b).total - this.countsOf(a).total || byString(a, b));
    return Object.fromEntries(keys.map((k) => [k, this.countsOf(k)]));
  }
}

/** Summarises events (any order). */
export function summariseEvents(events: ReadonlyArray<FirewallEvent>, bucketSec: number): LogSummary {
  const byEvent = new Tally();
  const byRole = new Tally();
  const byTool = new Tally();
  const byHost = new Tally();
  const buckets = new Tally();
  const bucketMs = bucketSec * 1000;
  let first = Infinity;
  let last = -Infinity;
  for (const e of events) {
    byEvent.add("all", e.eventType);
    byRole.add(e.role ?? NONE, e.eventType);
    byTool.add(e.tool ?? NONE, e.eventType);
    byHost.add(e.host ?? NONE, e.eventType);
    buckets.add(String(Math.floor(e.timestampMs / bucketMs) * bucketMs), e.eventType);
    first = Math.min(first, e.timestampMs);
    last = Math.max(last, e.timestampMs);
  }
  const overTime: Array<{ start: string } & EventCounts> = [];
  if (events.length > 0) {
    for (let start = Math.floor(first / bucketMs) * bucketMs; start <= last; start += bucketMs) {
      overTime.push({ start: new Date(start).toISOString(), ...buckets.countsOf(String(start)) });
    }
  }
  return {
    events: events.length,
    first: events.length > 0 ? new Date(first).toISOString() : null,
    last: events.length > 0 ? new Date(last).toISOString() : null,
    byEvent: byEvent.countsOf("all").byEvent,
    byRole: byRole.table(),
    byTool: byTool.table(),
    byHost: byHost.table(),
    bucketSec,
    overTime,
  };
}

const breakdown = (counts: EventCounts) => Object.entries(counts.byEvent).map(([event, n]) => `${event} ${n}`).join(", ");

/** Most rows a table prints in text (JSON has them all). */
export const TEXT_ROWS = 10;

function table(title: string, rows: Readonly<Record<string, EventCounts>>): string[] {
  const entries = Object.entries(rows);
  const width = Math.max(...entries.slice(0, TEXT_ROWS).map(([k]) => k.length), 4);
  const out = [title, ...entries.slice(0, TEXT_ROWS).map(([key, c]) => `  ${key.padEnd(width)}  ${String(c.total).padStart(6)}  ${breakdown(c)}`)];
  if (entries.length > TEXT_ROWS) out.push(`  … ${entries.length - TEXT_ROWS} more (--json lists all)`);
  return out;
}

/** The summary as text for people. */
export function formatLogSummary(summary: LogSummary): string {
  if (summary.events === 0) return "no events\n";
  const width = Math.max(...Object.keys(summary.byEvent).map((k) => k.length));
  const out = [
    `${summary.events} events from ${summary.first} to ${summary.last}`,
    "",
    "by event",
    ...Object.entries(summary.byEvent).map(([event, n]) => `  ${event.padEnd(width)}  ${String(n).padStart(6)}`),
    "",
    ...table("by role", summary.byRole),
    "",
    ...table("by tool", summary.byTool),
    "",
    ...table("by host", summary.byHost),
    "",
    `over time (${summary.bucketSec} s buckets)`,
    ...summary.overTime.map((b) => `  ${b.start}  ${String(b.total).padStart(6)}  ${breakdown(b)}`),
  ];
  return out.map((line) => line.trimEnd()).join("\n") + "\n";
}

/** One event as a line for people (`--follow`). */
export function formatEvent(event: FirewallEvent): string {
  const parts = [new Date(event.timestampMs).toISOString(), event.eventType, `role=${event.role ?? NONE}`];
  if (event.tool !== null) parts.push(`tool=${event.tool}`);
  if (event.host !== null) parts.push(`host=${event.host}`);
  return parts.join(" ");
}
