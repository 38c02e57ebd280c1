import { Counter, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { GatewayEvent } from "./events";

/** The gateway's Prometheus metrics, in a registry of their own. */
export class GatewayMetrics {
  readonly registry = new Registry();
  /** Every firewall event, by kind, role and tool ("" when none). */
  readonly events = new Counter({
    name: "rapidclaw_firewall_events_total",
    help: "Firewall events by kind, role and tool.",
    labelNames: ["event_type", "role", "tool"] as const,
    registers: [this.registry],
  });
  /** Decisions on calls, by outcome (allowed or the refusal's event kind). */
  readonly decisions = new Counter({
    name: "rapidclaw_gateway_decisions_total",
    help: "Gateway decisions on tool calls by outcome, role and tool.",
    labelNames: ["outcome", "role", "tool"] as const,
    registers: [this.registry],
  });
  readonly upstreamDuration = new Histogram({
    name: "rapidclaw_gateway_upstream_duration_seconds",
    help: "Time from forwarding a call to the upstream's response headers.",
    labelNames: ["tool"] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly limiterErrors = new Counter({
    name: "rapidclaw_gateway_limiter_errors_total",
    help: "Rate-limit decisions Redis could not make, by reason.",
    labelNames: ["reason"] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: "rapidclaw_gateway_" });
  }

  /** Counts an event. */
  record(event: GatewayEvent): void {
    this.events.inc({ event_type: event.event_type, role: event.agent_role ?? "", tool: event.tool ?? "" });
  }
}
