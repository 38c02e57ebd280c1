/**
 * Kinds of events the gateway raises: every refusal, calls let through when the limiter failed
 * open, answers in which it wrote over the tool's key (`key_reflected`), and calls shadow mode
 * let through that enforcement would have refused (`would_deny`, the refusal in `details.refusal`).
 */
export const GATEWAY_EVENT_TYPES = [
  "rate_limited", "permission_denied", "limiter_unavailable", "unknown_caller", "unknown_tool", "key_unavailable", "bad_request", "upstream_error",
  "role_busy", "key_reflected", "token_budget_exceeded", "task_limit_exceeded", "concurrent_tasks_exceeded", "would_deny",
] as const;
export type GatewayEventType = (typeof GATEWAY_EVENT_TYPES)[number];

/** One firewall event, in the schema the egress proxy's events share. (A type, not an interface: it is read as a plain record.) */
export type GatewayEvent = {
  /** ISO-8601 UTC. */
  readonly timestamp: string;
  readonly event_type: GatewayEventType;
  readonly tool: string | null;
  readonly agent_role: string | null;
  readonly details: Readonly<Record<string, string | number | boolean | null>>;
};

/** Builds an event stamped now. */
export function firewallEvent(
  eventType: GatewayEventType,
  tool: string | null,
  role: string | null,
  details: GatewayEvent["details"] = {},
  now: Date = new Date(),
): GatewayEvent {
  return { timestamp: now.toISOString(), event_type: eventType, tool, agent_role: role, details };
}

/** Listeners of events (the stdout writer, metrics, an alert evaluator). */
export class EventSink {
  private readonly listeners: Array<(event: GatewayEvent) => void> = [];

  /** Calls `listener` with every event from now on. */
  onEvent(listener: (event: GatewayEvent) => void): void {
    this.listeners.push(listener);
  }

  emit(event: GatewayEvent): void {
    for (const listener of this.listeners) listener(event);
  }
}
