import { eventFromGatewayLine, type FirewallEvent } from "../monitoring/events";
import type { SharedMonitoring } from "../monitoring/shared-monitoring";
import type { GatewayEvent } from "./events";
import { FairBuffer } from "./fair-buffer";

/** Bounds of the gateway's hand-over of events to the alert windows. */
export interface EventMonitorOptions {
  /** Events evaluated at once (Redis commands in flight). @default 64 */
  readonly maxInFlight?: number;
  /**
   * Events waiting while Redis is away or slow, shared fairly by the roles: when full, the oldest
   * event of the role holding the most is dropped and counted. @default 1000
   */
  readonly maxWaiting?: number;
  /** Sweep (resolve alerts whose events aged out) and retry of waiting events, every this many ms. @default 1000 */
  readonly sweepIntervalMs?: number;
  /** Told when the windows become unreachable and when they are back (the CLI writes it on stderr). */
  readonly onStoreChange?: (available: boolean, error?: Error) => void;
}

/**
 * Hands the gateway's events to the alert evaluator without ever making a request wait on it:
 * each event is counted in the metrics at once (exactly once), then added to the shared windows
 * in the background (`evaluate`, which does not count again). While Redis is away, events wait
 * in a bounded buffer and are retried on the next sweep tick; past the bound the role holding
 * the most loses its oldest (so one role's flood cannot push out the others' events), counted in
 * `rapidclaw_monitoring_events_dropped_total`.
 */
export class GatewayEventMonitor {
  private readonly waiting: FairBuffer<FirewallEvent>;
  private inFlight = 0;
  /** Set after a store failure: nothing is sent until the next tick tries again. */
  private paused = false;
  private available = true;
  private ticking = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly maxInFlight: number;

  constructor(private readonly monitoring: SharedMonitoring, private readonly options: EventMonitorOptions = {}) {
    this.maxInFlight = options.maxInFlight ?? 64;
    this.waiting = new FairBuffer(options.maxWaiting ?? 1000, (event) => event.role ?? "");
  }

  /** Takes one event; never throws, never waits. */
  accept(gatewayEvent: GatewayEvent): void {
    // The gateway's own events always parse: their time is ISO-8601 UTC and their type non-empty.
    const parsed = eventFromGatewayLine(gatewayEvent);
    if (!parsed.ok) return;
    this.monitoring.metrics.countEvent(parsed.event);
    // Only what a rule counts waits: a flood of other events (limiter_unavailable while Redis is away) must not push it out.
    if (!this.monitoring.evaluator.counts(parsed.event)) return;
    if (this.waiting.push(parsed.event) !== undefined) this.monitoring.metrics.countDropped("buffer_full");
    this.pump();
  }

  /** Starts the sweep and retry ticks. */
  start(): void {
    this.timer ??= setInterval(() => void this.tick(), this.options.sweepIntervalMs ?? 1_000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * For shutdown: one more tick, then waits until no event is in flight, so the alerts they fire
   * are queued for delivery before the caller waits for the deliveries.
   */
  async flush(): Promise<void> {
    await this.tick();
    while (this.inFlight > 0) await new Promise((r) => setTimeout(r, 10));
  }

  /** Retries waiting events, then sweeps; one tick at a time (a stalled Redis must not pile them up). */
  async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      this.paused = false;
      this.pump();
      await this.monitoring.evaluator.sweep();
      this.storeAnswered();
    } catch (error) {
      this.storeFailed(error as Error);
    } finally {
      this.ticking = false;
    }
  }

  private pump(): void {
    while (!this.paused && this.inFlight < this.maxInFlight && this.waiting.size > 0) {
      const event = this.waiting.shift() as FirewallEvent;
      this.inFlight++;
      this.monitoring.evaluator.evaluate(event).then(
        () => this.storeAnswered(),
        (error: Error) => {
          // Back to the front, tried again on the next tick; its metric is already counted.
          if (!this.waiting.unshift(event)) this.monitoring.metrics.countDropped("buffer_full");
          this.storeFailed(error);
        },
      ).finally(() => {
        this.inFlight--;
        this.monitoring.metrics.setWaiting(this.waiting.size + this.inFlight);
        this.pump();
      });
    }
    this.monitoring.metrics.setWaiting(this.waiting.size + this.inFlight);
  }

  private storeAnswered(): void {
    if (this.available) return;
    this.available = true;
    this.options.onStoreChange?.(true);
  }

  private storeFailed(error: Error): void {
    this.paused = true;
    if (!this.available) return;
    this.available = false;
    this.options.onStoreChange?.(false, error);
  }
}
