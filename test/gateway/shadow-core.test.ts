import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { gatewayConfigFromSpec, type GatewayConfig } from "../../src/gateway/config";
import { AUDITABLE_REFUSALS, enforcedRefusal, enforcementOf } from "../../src/gateway/enforcement";
import { decidePermission } from "../../src/gateway/permissions";
import { decideMcpRequest } from "../../src/gateway/mcp-guard";
import { FirewallSpecError } from "../../src/model/errors";
import { Enforcement, ToolAccess, type FirewallSpecProps } from "../../src/model/types";
import { validateFirewallSpec } from "../../src/model/validate";
import { alertRules } from "../../src/monitoring/alert-rules";
import { FIREWALL_EVENT_TYPES, parseEventLine } from "../../src/monitoring/events";
import { FirewallMetrics } from "../../src/monitoring/metrics";
import { compileFirewall } from "../../src/plan/plan";
import { prometheusRuleGroups } from "../../src/render/prometheus-rules";
import { gatewayScenario } from "./fixture";

const base = gatewayScenario();
const ROLES = Object.keys(base.roles);
const TOOLS = Object.keys(base.tools);
const ACCESS = [ToolAccess.DENY, ToolAccess.READ, ToolAccess.WRITE, ToolAccess.EXECUTE];
const mode = fc.option(fc.constantFrom(Enforcement.ENFORCE, Enforcement.AUDIT), { nil: undefined });

/** The scenario with `enforcement` set (or not) on the firewall, each role and each tool. */
const settings = fc.record({
  firewall: mode,
  roles: fc.record(Object.fromEntries(ROLES.map((r) => [r, mode]))),
  tools: fc.record(Object.fromEntries(TOOLS.map((t) => [t, mode]))),
});
type Settings = typeof settings extends fc.Arbitrary<infer T> ? T : never;

function withEnforcement(s: Settings): FirewallSpecProps {
  const pick = <T>(entries: Record<string, T>, modes: Record<string, Enforcement | undefined>) =>
    Object.fromEntries(Object.entries(entries).map(([name, entry]) => [name, modes[name] === undefined ? entry : { ...entry, enforcement: modes[name] }]));
  return { ...base, ...(s.firewall === undefined ? {} : { enforcement: s.firewall }), roles: pick(base.roles, s.roles), tools: pick(base.tools, s.tools) };
}

function validOrNone(spec: FirewallSpecProps): GatewayConfig | undefined {
  try {
    return gatewayConfigFromSpec(validateFirewallSpec(spec));
  } catch (error) {
    if (error instanceof FirewallSpecError) return undefined;
    throw error;
  }
}

const call = fc.record({ role: fc.constantFrom(...ROLES), tool: fc.constantFrom(...TOOLS), required: fc.constantFrom(...ACCESS.slice(1)), refusal: fc.constantFrom(...AUDITABLE_REFUSALS) });

describe("shadow mode in the gateway's decision core", () => {
  it("resolves the most specific setting: the tool's, then the role's, then the firewall's, else enforce", () => {
    fc.assert(fc.property(settings, call, (s, c) => {
      const config = gatewayConfigFromSpec(validateFirewallSpec(withEnforcement(s)));
      expect(enforcementOf(config.enforcement, c.role, c.tool)).toBe(s.tools[c.tool] ?? s.roles[c.role] ?? s.firewall ?? Enforcement.ENFORCE);
    }), { numRuns: 200 });
  });

  it("never refuses under audit: every refusal becomes would_deny naming it", () => {
    fc.assert(fc.property(settings, call, (s, c) => {
      const config = gatewayConfigFromSpec(validateFirewallSpec(withEnforcement(s)));
      fc.pre(enforcementOf(config.enforcement, c.role, c.tool) === Enforcement.AUDIT);
      expect(enforcedRefusal(config, c.role, c.tool, c.refusal)).toEqual({ refused: false, eventType: "would_deny", refusal: c.refusal });
    }), { numRuns: 200 });
  });

  it("leaves enforce decisions as they were: a permission refusal stands exactly when decidePermission refuses, with its own event", () => {
    fc.assert(fc.property(settings, call, fc.constantFrom(...ACCESS), (s, c, granted) => {
      const spec = withEnforcement(s);
      const roles = { ...spec.roles, [c.role]: { ...spec.roles[c.role], tools: { ...spec.roles[c.role].tools, [c.tool]: granted } } };
      const config = validOrNone({ ...spec, roles });
      // A grant validation refuses (EXECUTE on a read-only tool) is no case.
      fc.pre(config !== undefined);
      if (config === undefined) return;
      fc.pre(enforcementOf(config.enforcement, c.role, c.tool) === Enforcement.ENFORCE);
      const decision = decidePermission(config, c.role, c.tool, c.required);
      const plain = validOrNone({ ...base, roles }) as GatewayConfig;
      // The same decision as a description without any enforcement setting.
      expect(decision).toEqual(decidePermission(plain, c.role, c.tool, c.required));
      if (!decision.allowed) expect(enforcedRefusal(config, c.role, c.tool, "permission_denied")).toEqual({ refused: true, eventType: "permission_denied" });
    }), { numRuns: 200 });
  });

  it("leaves every other refusal alone: an MCP bad request is refused whatever the mode", () => {
    const decision = decideMcpRequest({ search: ToolAccess.READ }, ToolAccess.READ, "POST", Buffer.from("[]"));
    expect(decision.allowed ? undefined : decision.event).toBe("bad_request");
    expect(AUDITABLE_REFUSALS).not.toContain("bad_request");
  });

  it("refuses a misspelt enforcement, naming its path and the values", () => {
    const spec = { ...base, enforcement: "shadow", roles: { ...base.roles, research_agent: { ...base.roles.research_agent, enforcement: "warn" } } } as unknown as FirewallSpecProps;
    expect(() => validateFirewallSpec(spec)).toThrow(FirewallSpecError);
    try {
      validateFirewallSpec(spec);
    } catch (error) {
      expect((error as Error).message).toContain('- enforcement: enforcement must be one of "enforce", "audit", got "shadow"');
      expect((error as Error).message).toContain('- roles.research_agent.enforcement: enforcement must be one of "enforce", "audit", got "warn"');
    }
  });

  it("keeps would_deny and the proxy's would_block out of every alert rule: the built-in evaluator's and the Prometheus rules' selectors", () => {
    const spec = { ...base, tools: { ...base.tools, web_search: { ...base.tools.web_search, tokenLimit: { maxTokens: 10, windowSec: 60 } } } };
    const plan = compileFirewall(spec);
    const rules = alertRules(plan.monitoring);
    expect(rules.map((r) => r.eventType)).toEqual(["rate_limited", "permission_denied", "network_blocked", "token_budget_exceeded"]);
    for (const shadow of ["would_deny", "would_block"]) expect(rules.flatMap((r) => r.countedEventTypes)).not.toContain(shadow);
    const selectors = prometheusRuleGroups(plan).flatMap((g) => g.rules.map((r) => /event_type=~?"([^"]+)"/.exec(r.expr)?.[1] ?? ""));
    expect(selectors).toHaveLength(4);
    // Prometheus anchors its regular expressions, as `^(…)$` does here.
    for (const selector of selectors) for (const shadow of ["would_deny", "would_block"]) expect(new RegExp(`^(?:${selector})$`).test(shadow), selector).toBe(false);
  });

  it("counts the proxy's would_block lines under their own event type, not as _other", async () => {
    const metrics = new FirewallMetrics({ roles: ROLES, tools: TOOLS, eventTypes: FIREWALL_EVENT_TYPES });
    const parsed = parseEventLine('{"ts":"2026-12-07T23:04:43.259Z","event":"would_block","client":"172.30.0.2","role":"research_agent","method":"CONNECT","host":"github.com","port":"443","sni":"github.com","status":500,"result":"TCP_TUNNEL","bytes":26}');
    if (!parsed.ok) throw new Error(parsed.reason);
    metrics.countEvent(parsed.event);
    expect(await metrics.text()).toContain('rapidclaw_firewall_events_total{event_type="would_block",role="research_agent",tool=""} 1');
  });
});
