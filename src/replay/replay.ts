import type { GatewayConfig } from "../gateway/config";
import type { FirewallEvent } from "../monitoring/events";
import { byString } from "../model/order";
import type { FirewallPlan } from "../plan/plan";
import { GatewayReplay, recordedRefusal } from "./gateway-replay";
import { ProxyReplay } from "./proxy-replay";
import type { ReplayedCall, ReplayLayer } from "./replayed-call";

/** The candidate firewall, as the gateway and the proxy would enforce it. */
export interface ReplayCandidate {
  readonly config: GatewayConfig;
  readonly plan: FirewallPlan;
}

/** Where a replay reports changes: `gateway_permission`, `gateway_rate`, `gateway_token_budget`, `proxy_host`. */
export type ReplayChangeLayer = `gateway_${Exclude<ReplayLayer, "host">}` | "proxy_host";

/** Recorded calls of one layer, role and tool (or host) whose outcome the candidate changes. */
export interface ReplayChange {
  readonly layer: ReplayChangeLayer;
  readonly role: string;
  /** The tool (gateway) or host (proxy). */
  readonly subject: string;
  /** Calls that were allowed (let through, shadowed included) and the candidate refuses. */
  readonly wouldRefuse: number;
  /** Calls that were refused and the candidate allows. */
  readonly wouldAllow: number;
  /** Time of the first such call (ISO-8601). */
  readonly first: string;
  /** Some were decided by a sliding window of the recorded calls alone. */
  readonly approximate: boolean;
}

/** The outcome of a replay. */
export interface ReplayReport {
  /** Recorded call decisions read (gateway refusals and `would_deny` events, proxy decision lines). */
  readonly calls: number;
  /** Of them, decided again. */
  readonly replayed: number;
  /** Of them, whose outcome changes. */
  readonly changed: number;
  readonly changes: ReadonlyArray<ReplayChange>;
  /** Calls the replay cannot decide, by reason. */
  readonly notReplayed: ReadonlyArray<{ readonly reason: string; readonly count: number }>;
}

/** Replays the recorded call decisions among `events` against `candidate`, in time order. */
export function replayEvents(events: ReadonlyArray<FirewallEvent>, candidate: ReplayCandidate): ReplayReport {
  const gateway = new GatewayReplay(candidate.config);
  const proxy = new ProxyReplay(candidate.plan);
  const changes = new Map<string, { -readonly [K in keyof ReplayChange]: ReplayChange[K] }>();
  const notReplayed = new Map<string, number>();
  let calls = 0;
  let replayed = 0;
  let changed = 0;
  // Stable: lines of one time keep their order in the input.
  for (const event of [...events].sort((a, b) => a.timestampMs - b.timestampMs)) {
    let outcome: ReplayedCall;
    const refusal = event.source === "gateway" ? recordedRefusal(event) : undefined;
    if (refusal !== undefined) outcome = gateway.replay(event, refusal);
    else if (ProxyReplay.records(event)) outcome = proxy.replay(event);
    else continue;
    calls++;
    if (!outcome.replayed) {
      notReplayed.set(outcome.reason, (notReplayed.get(outcome.reason) ?? 0) + 1);
      continue;
    }
    replayed++;
    if (outcome.wasAllowed === outcome.isAllowed) continue;
    changed++;
    const layer: ReplayChangeLayer = outcome.layer === "host" ? "proxy_host" : `gateway_${outcome.layer}`;
    const role = event.role ?? "";
    const subject = (event.source === "proxy" ? event.host : event.tool) ?? "";
    const key = `${layer}\u0000${role}\u0000${subject}`;
    let change = changes.get(key);
    if (change === undefined) changes.set(key, (change = { layer, role, subject, wouldRefuse: 0, wouldAllow: 0, first: new Date(event.timestampMs).toISOString(), approximate: false }));
    if (outcome.isAllowed) change.wouldAllow++;
    else change.wouldRefuse++;
    change.approximate ||= outcome.approximate;
  }
  const order = (a: ReplayChange, b: ReplayChange) => byString(a.layer, b.layer) || byString(a.role, b.role) || byString(a.subject, b.subject);
  return {
    calls,
    replayed,
    changed,
    changes: [...changes.values()].sort(order),
    notReplayed: [...notReplayed].map(([reason, count]) => ({ reason, count })).sort((a, b) => byString(a.reason, b.reason)),
  };
}
