import { Counter, Histogram, type Registry, collectDefaultMetrics } from "prom-client";
import { knownOrOther } from "../monitoring/metrics";

/**
 * The gateway's own Prometheus metrics, registered in the monitoring's registry so that one
 * `/metrics` serves both (events are counted there, by `FirewallMetrics`). Tool names an agent
 * chose (an unknown tool's path) are counted as `_other`, so no agent can add series.
 */
export class GatewayMetrics {
  /** Decisions on calls, by outcome (allowed or the refusal's event kind). */
  private readonly decisions: Counter<"outcome" | "role" | "tool">;
  private readonly upstreamDuration: Histogram<"tool">;
  readonly limiterErrors: Counter<"reason">;
  private readonly tokens: Counter<"role" | "tool" | "kind">;
  /** Calls shadow mode let through, by the refusal enforcement would have given. */
  private readonly wouldDeny: Counter<"refusal" | "role" | "tool">;
  /**
   * Label handles of `decisions` by outcome, role and tool, and of `upstreamDuration` by tool, made
   * once: every call counts a decision and most observe a duration. Keys are the labels after
   * `knownOrOther`, so agents cannot grow these maps.
   */
  private readonly decisionHandles = new Map<string, Map<string, Map<string, Counter.Internal>>>();
  private readonly durationHandles = new Map<string, Histogram.Internal<"tool">>();

  constructor(registry: Registry, private readonly known: { readonly roles: ReadonlyArray<string>; readonly tools: ReadonlyArray<string> }) {
    const registers = [registry];
    this.decisions = new Counter({ name: "rapidclaw_gateway_decisions_total", help: "Gateway decisions on tool calls by outcome, role and tool.", labelNames: ["outcome", "role", "tool"], registers });
    this.upstreamDuration = new Histogram({
      name: "rapidclaw_gateway_upstream_duration_seconds",
      help: "Time from forwarding a call to the upstream's response headers.",
      labelNames: ["tool"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.limiterErrors = new Counter({ name: "rapidclaw_gateway_limiter_errors_total", help: "Rate-limit decisions Redis could not make, by reason.", labelNames: ["reason"], registers });
    this.tokens = new Counter({ name: "rapidclaw_gateway_tokens_total", help: "Model tokens the upstreams reported, by role, tool and kind (input or output).", labelNames: ["role", "tool", "kind"], registers });
    this.wouldDeny = new Counter({
      name: "rapidclaw_gateway_would_deny_total",
      help: "Calls let through in shadow mode (enforcement audit) that enforcement would have refused, by refusal, role and tool.",
      labelNames: ["refusal", "role", "tool"],
      registers,
    });
    collectDefaultMetrics({ register: registry, prefix: "rapidclaw_gateway_" });
  }

  /** Counts the tokens one call's answer reported. */
  countTokens(role: string, tool: string, usage: { readonly input: number; readonly output: number }): void {
    const labels = { role: knownOrOther(role, this.known.roles), tool: knownOrOther(tool, this.known.tools) };
    this.tokens.inc({ ...labels, kind: "input" }, usage.input);
    this.tokens.inc({ ...labels, kind: "output" }, usage.output);
  }

  /** Counts a call shadow mode let through, by the refusal it would have had. */
  countWouldDeny(refusal: string, role: string, tool: string): void {
    this.wouldDeny.inc({ refusal, role: knownOrOther(role, this.known.roles), tool: knownOrOther(tool, this.known.tools) });
  }

  /** Counts a decision: `allowed`, or the refusal's event type. */
  countDecision(outcome: string, role: string | null, tool: string | null): void {
    const roleLabel = knownOrOther(role, this.known.roles);
    const toolLabel = knownOrOther(tool, this.known.tools);
    const byRole = cached(this.decisionHandles, outcome, () => new Map());
    const byTool = cached(byRole, roleLabel, () => new Map());
    cached(byTool, toolLabel, () => this.decisions.labels(outcome, roleLabel, toolLabel)).inc();
  }

  /** Observes the time from forwarding a call of a configured `tool` to its upstream's response headers. */
  observeUpstreamDuration(tool: string, seconds: number): void {
    const toolLabel = knownOrOther(tool, this.known.tools);
    cached(this.durationHandles, toolLabel, () => this.upstreamDuration.labels(toolLabel)).observe(seconds);
  }
}

function cached<V>(map: Map<string, V>, key: string, make: () => V): V {
  let value = map.get(key);
  if (value === undefined) map.set(key, (value = make()));
  return value;
}
