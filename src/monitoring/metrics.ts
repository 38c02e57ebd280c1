import { Counter, Gauge, Registry } from "prom-client";
import type { AlertTransition } from "./alert-window-store";
import type { FirewallEvent } from "./events";

/** Label value for a role or tool the firewall description does not name (chosen by an agent, or unknown). */
export const OTHER_LABEL = "_other";

/** A label value: "" for none, the name when the firewall knows it, else OTHER_LABEL. */
export function knownOrOther(value: string | null, known: ReadonlyArray<string>): string {
  if (value === null || value === "") return "";
  return known.includes(value) ? value : OTHER_LABEL;
}

/** Names the firewall knows; anything else is counted under OTHER_LABEL so agents cannot grow the label set. */
export interface KnownNames {
  readonly roles: ReadonlyArray<string>;
  readonly tools: ReadonlyArray<string>;
  /** Event types the gateway and proxy write. */
  readonly eventTypes: ReadonlyArray<string>;
}

/**
 * The firewall's Prometheus metrics. Hosts are never a label: the agent chooses them, and every
 * new host would be a new series.
 */
export class FirewallMetrics {
  readonly registry = new Registry();
  private readonly events: Counter<"event_type" | "role" | "tool">;
  private readonly firing: Gauge<"rule" | "severity" | "role" | "tool">;
  private readonly transitions: Counter<"rule" | "severity" | "status">;
  private readonly deliveryFailures: Counter<"format" | "severity">;
  private readonly dropped: Counter<"reason">;
  private readonly waiting: Gauge;

  constructor(private readonly known: KnownNames) {
    const registers = [this.registry];
    this.events = new Counter({ name: "rapidclaw_firewall_events_total", help: "Firewall events by type, role and tool.", labelNames: ["event_type", "role", "tool"], registers });
    this.firing = new Gauge({ name: "rapidclaw_alerts_firing", help: "1 while an alert fires, 0 once it resolved.", labelNames: ["rule", "severity", "role", "tool"], registers });
    this.transitions = new Counter({ name: "rapidclaw_alert_transitions_total", help: "Alerts that fired or resolved.", labelNames: ["rule", "severity", "status"], registers });
    this.deliveryFailures = new Counter({ name: "rapidclaw_alert_deliveries_failed_total", help: "Alert notifications given up after retries or dropped from a full queue.", labelNames: ["format", "severity"], registers });
    this.dropped = new Counter({ name: "rapidclaw_monitoring_events_dropped_total", help: "Events counted in metrics but never added to the alert windows (the retry buffer was full while Redis was away).", labelNames: ["reason"], registers });
    this.waiting = new Gauge({ name: "rapidclaw_monitoring_events_waiting", help: "Events waiting to be added to the alert windows (Redis away or slow).", registers });
  }

  /**
   * Starts every counter the alert rules read at 0, so that a rate over a window sees the first
   * events of a series (a series that appears mid-window would be extrapolated).
   */
  initialise(eventTypes: ReadonlyArray<string>): void {
    for (const eventType of eventTypes) {
      for (const role of this.known.roles) {
        this.events.inc({ event_type: eventType, role, tool: "" }, 0);
        for (const tool of this.known.tools) this.events.inc({ event_type: eventType, role, tool }, 0);
      }
    }
  }

  countEvent(event: FirewallEvent): void {
    this.events.inc({
      event_type: knownOrOther(event.eventType, this.known.eventTypes),
      role: knownOrOther(event.role, this.known.roles),
      tool: knownOrOther(event.tool, this.known.tools),
    });
  }

  countTransition(transition: AlertTransition): void {
    const { rule, group, status } = transition;
    this.transitions.inc({ rule: rule.eventType, severity: rule.severity, status });
    const labels = { rule: rule.eventType, severity: rule.severity, role: knownOrOther(group.role, this.known.roles), tool: knownOrOther(group.tool, this.known.tools) };
    this.firing.set(labels, status === "firing" ? 1 : 0);
  }

  countDeliveryFailure(format: string, severity: string): void {
    this.deliveryFailures.inc({ format, severity });
  }

  countDropped(reason: string, count = 1): void {
    this.dropped.inc({ reason }, count);
  }

  setWaiting(count: number): void {
    this.waiting.set(count);
  }

  /** The text exposition format, as `/metrics` serves it. */
  async text(): Promise<string> {
    return this.registry.metrics();
  }
}
