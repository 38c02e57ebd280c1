/**
 * One event model for the two kinds of lines the firewall writes: the gateway's event lines
 * and the egress proxy's (Squid's) access log lines. Pure: no I/O.
 */
import { GATEWAY_EVENT_TYPES } from "../gateway/events";

/** Event types the gateway, the proxy and the evaluator write. */
export const FIREWALL_EVENT_TYPES = [...GATEWAY_EVENT_TYPES, "network_blocked", "egress_allowed", "would_block", "alert_firing", "alert_resolved", "alert_delivery_failed"] as const;

/** Where an event line came from. */
export type EventSource = "gateway" | "proxy";

/** A firewall event, whichever program wrote it. */
export interface FirewallEvent {
  /** When it happened, in milliseconds since the epoch (UTC). */
  readonly timestampMs: number;
  /** `rate_limited`, `permission_denied`, `network_blocked`, `egress_allowed`, `alert_firing`, … */
  readonly eventType: string;
  /** Role of the agent, or null when the writer did not know it (Squid logs `-`). */
  readonly role: string | null;
  /** Tool the event is about, or null. */
  readonly tool: string | null;
  /** Destination host (proxy lines, or a gateway event that names one), or null. */
  readonly host: string | null;
  /** Proxy lines: the TLS server name the client's ClientHello carried, or null when it named none (or sent none). */
  readonly sni?: string | null;
  readonly source: EventSource;
  /** Everything else the line carried. */
  readonly details: Readonly<Record<string, unknown>>;
}

/** A parsed line: the event, or why the line is not one. */
export type ParsedEventLine = { readonly ok: true; readonly event: FirewallEvent } | { readonly ok: false; readonly reason: string };

/** The gateway's event line, as it prints it on stdout. */
export interface GatewayEventLine {
  readonly timestamp: string;
  readonly event_type: string;
  readonly tool: string | null;
  readonly agent_role: string | null;
  readonly details: Record<string, unknown>;
}

/** Builds a gateway-shaped event line (one JSON object, no newline). */
export function formatGatewayEventLine(event: Omit<FirewallEvent, "source" | "host">): string {
  const line: GatewayEventLine = {
    timestamp: new Date(event.timestampMs).toISOString(),
    event_type: event.eventType,
    tool: event.tool,
    agent_role: event.role,
    details: { ...event.details },
  };
  return JSON.stringify(line);
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);
const optionalString = (value: unknown): string | null => (typeof value === "string" && value !== "" && value !== "-" ? value : null);

function parseTime(value: unknown): number | undefined {
  if (typeof value !== "string") return undefined;
  // ISO-8601 with a zone only: a zone-less time would be read in the reader's local zone.
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

/** A gateway event line's object (parsed from its JSON, or the gateway's own event) as an event. */
export function eventFromGatewayLine(line: Readonly<Record<string, unknown>>): ParsedEventLine {
  const timestampMs = parseTime(line.timestamp);
  if (timestampMs === undefined) return { ok: false, reason: "timestamp is not an ISO-8601 time with a zone" };
  if (typeof line.event_type !== "string" || line.event_type === "") return { ok: false, reason: "event_type is not a non-empty string" };
  const details = isRecord(line.details) ? line.details : {};
  return {
    ok: true,
    event: {
      timestampMs,
      eventType: line.event_type,
      role: optionalString(line.agent_role),
      tool: optionalString(line.tool),
      host: optionalString(details.host),
      source: "gateway",
      details,
    },
  };
}

function fromProxy(line: Record<string, unknown>): ParsedEventLine {
  const timestampMs = parseTime(line.ts);
  if (timestampMs === undefined) return { ok: false, reason: "ts is not an ISO-8601 time with a zone" };
  if (typeof line.event !== "string" || line.event === "") return { ok: false, reason: "event is not a non-empty string" };
  const { ts: _ts, event: _event, role, host, sni, ...details } = line;
  return {
    ok: true,
    event: { timestampMs, eventType: line.event, role: optionalString(role), tool: null, host: optionalString(host), sni: optionalString(sni), source: "proxy", details },
  };
}

/**
 * The fields Squid writes first and the agent cannot choose (time, decision, client, role), read
 * from a proxy line that is not valid JSON: a host with bytes the log format does not escape must
 * not let a refused request escape counting.
 */
const PROXY_LINE_HEAD = /^\{"ts":"([^"\\]+)","event":"([a-z_]+)","client":"([^"\\]*)","role":"([^"\\]*)",/;

function salvageProxyLine(text: string, reason: string): ParsedEventLine | undefined {
  const head = PROXY_LINE_HEAD.exec(text);
  const timestampMs = head ? parseTime(head[1]) : undefined;
  if (!head || timestampMs === undefined) return undefined;
  return {
    ok: true,
    event: { timestampMs, eventType: head[2], role: optionalString(head[4]), tool: null, host: null, source: "proxy", details: { client: head[3], unparsed: reason } },
  };
}

/**
 * Parses one line of either shape. Lines that are not JSON objects, or miss the time or the
 * event name, are refused with the reason; a proxy line whose tail is not valid JSON still counts,
 * without its host, with the reason in `details.unparsed`.
 */
export function parseEventLine(text: string): ParsedEventLine {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const reason = `not JSON (${(error as Error).message})`;
    return salvageProxyLine(text, reason) ?? { ok: false, reason };
  }
  if (!isRecord(value)) return { ok: false, reason: "not a JSON object" };
  if ("event_type" in value) return eventFromGatewayLine(value);
  if ("event" in value && "ts" in value) return fromProxy(value);
  return { ok: false, reason: "neither a gateway event (event_type) nor a proxy line (ts, event)" };
}
