import { breachKey } from "./alert-payloads";
import { alertGroupOf, subjectOf, type AlertRule } from "./alert-rules";
import type { AlertDelivery, DeliveryFailure } from "./alert-delivery";
import type { AlertTransition, AlertWindowStore } from "./alert-window-store";
import { formatGatewayEventLine, type FirewallEvent } from "./events";
import type { FirewallMetrics } from "./metrics";

/** What an evaluator works with. Metrics and delivery are optional (offline evaluation has neither). */
export interface AlertEvaluatorProps {
  readonly rules: ReadonlyArray<AlertRule>;
  readonly store: AlertWindowStore;
  /** Receives each event line the evaluator writes (alert_firing, alert_resolved, alert_delivery_failed). */
  readonly emit: (line: string) => void;
  readonly metrics?: FirewallMetrics;
  readonly delivery?: AlertDelivery;
  /**
   * Count events at their own time (replaying a log) instead of the store's clock (live).
   * @default false
   */
  readonly useEventTime?: boolean;
}

/** The event line of an alert transition. */
export function transitionEvent(transition: AlertTransition): FirewallEvent {
  const { rule, group } = transition;
  return {
    timestampMs: transition.atMs,
    eventType: transition.status === "firing" ? "alert_firing" : "alert_resolved",
    role: group.role || null,
    tool: group.tool || null,
    host: null,
    source: "gateway",
    details: {
      rule: rule.eventType,
      severity: rule.severity,
      count: transition.count,
      threshold: rule.count,
      window_sec: rule.windowSec,
      fired_at: new Date(transition.firedAtMs).toISOString(),
      subjects: transition.subjects,
      dedup_key: breachKey(transition),
    },
  };
}

/**
 * Counts every firewall event (metrics) and runs it through the alert rules. Each transition
 * becomes an event line, a metric and a notification; a sweep resolves alerts whose events aged
 * out while nothing new arrived.
 */
export class AlertEvaluator {
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly props: AlertEvaluatorProps) {}

  /** Counts the event (metrics) and evaluates it; when the store fails, retry with `evaluate` so the metric counts it once. */
  async observe(event: FirewallEvent): Promise<AlertTransition[]> {
    this.props.metrics?.countEvent(event);
    return this.evaluate(event);
  }

  /** Whether any rule counts this event (the others never touch the store). */
  counts(event: FirewallEvent): boolean {
    return this.props.rules.some((rule) => alertGroupOf(rule, event) !== undefined);
  }

  /** Runs the event through the alert rules only. */
  async evaluate(event: FirewallEvent): Promise<AlertTransition[]> {
    const transitions: AlertTransition[] = [];
    for (const rule of this.props.rules) {
      const group = alertGroupOf(rule, event);
      if (group === undefined) continue;
      const at = this.props.useEventTime ? event.timestampMs : undefined;
      transitions.push(...(await this.props.store.observe(rule, group, subjectOf(rule, event), at)));
    }
    this.publish(transitions);
    return transitions;
  }

  async sweep(atMs?: number): Promise<AlertTransition[]> {
    const transitions = await this.props.store.sweep(this.props.rules, atMs);
    this.publish(transitions);
    return transitions;
  }

  /** Sweeps every `intervalMs` until stop(); a failed sweep (Redis away) is retried on the next tick. */
  start(intervalMs: number, onError: (error: Error) => void = () => {}): void {
    this.timer ??= setInterval(() => void this.sweep().catch(onError), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Writes the `alert_delivery_failed` event line of a notification given up. */
  deliveryFailed(failure: DeliveryFailure): void {
    const { transition, webhook } = failure;
    this.props.metrics?.countDeliveryFailure(webhook.format, transition.rule.severity);
    this.props.emit(
      formatGatewayEventLine({
        timestampMs: Date.now(),
        eventType: "alert_delivery_failed",
        role: transition.group.role || null,
        tool: transition.group.tool || null,
        details: { webhook: webhook.name, status: transition.status, rule: transition.rule.eventType, dedup_key: breachKey(transition), attempts: failure.attempts, reason: failure.reason },
      }),
    );
  }

  private publish(transitions: ReadonlyArray<AlertTransition>): void {
    for (const transition of transitions) {
      this.props.emit(formatGatewayEventLine(transitionEvent(transition)));
      this.props.metrics?.countTransition(transition);
      this.props.delivery?.deliver(transition);
    }
  }
}
