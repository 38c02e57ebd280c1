/**
 * Agents resolve no names (issue: DNS carries data out). Docker agents get a resolver address that
 * goes nowhere, VM agent users get no port 53 (loopback resolvers included), and every opt-in
 * needs a reason and prints a warning. Kubernetes is covered in kubernetes.test.ts (no port 53 in
 * any agent policy, `dnsPolicy: None`). The real resolvers are in test/e2e/dns-exfiltration.test.ts.
 */
import { App, TerraformStack } from "cdktf";
import type { IConstruct } from "constructs";
import { describe, expect, it } from "vitest";
import { AgentPlatform, HostEgressFirewall, RapidClawStack, type FirewallSpecProps } from "../src";
import { renderHostFirewallRuleset } from "../src/render/host-firewall/ruleset";
import { firewallScenario } from "../examples/firewall-scenario";
import { synthesize } from "./support/synth";

const REASON = "the vendor SDK resolves its license server";

function warnings(scope: IConstruct): string[] {
  return scope.node.findAll().flatMap((c) => c.node.metadata.filter((m) => m.type === "@cdktf/warn").map((m) => String(m.data)));
}

function withDns(role: string, base: FirewallSpecProps): FirewallSpecProps {
  const current = base.roles[role];
  return { ...base, roles: { ...base.roles, [role]: { ...current, network: { ...current.network, dnsReason: REASON } } } };
}

describe("Docker agents resolve nothing", () => {
  it("give every agent the unreachable resolver, so the engine's resolver forwards nowhere", () => {
    const stack = new RapidClawStack(new App(), "agent-firewall", firewallScenario(AgentPlatform.DOCKER));
    const agents = synthesize(stack).resources("docker_container").filter((c) => !c.name.startsWith("rapidclaw-")); // agents, not the proxy or proxy-events
    expect(agents.length).toBeGreaterThan(0);
    for (const agent of agents) expect(agent.dns, agent.name).toEqual(["127.0.0.1"]);
    expect(warnings(stack)).toEqual([]);
  });

  it("leave the engine's resolver to a role that opts in, and warn", () => {
    const stack = new RapidClawStack(new App(), "agent-firewall", withDns("research_agent", firewallScenario(AgentPlatform.DOCKER)));
    const plan = stack.spec;
    const containers = synthesize(stack).resources("docker_container");
    for (const agent of plan.props.agents ?? []) {
      const container = containers.find((c) => c.name === agent.name)!;
      expect(container.dns, agent.name).toEqual(agent.role === "research_agent" ? undefined : ["127.0.0.1"]);
    }
    expect(warnings(stack).join("\n")).toMatch(/Agents of role "research_agent" may query DNS \(the engine's resolver\).*DNS tunnelling.*license server/);
  });
});

describe("VM agent users resolve nothing unless the firewall opts in", () => {
  const BASE = { users: ["agent"], proxyEndpoints: [{ address: "10.0.0.3", port: 3128 }] };

  it("refuse port 53 on loopback before the loopback allowance, for UDP and TCP, in both families", () => {
    for (const version of [4, 6] as const) {
      const lines = renderHostFirewallRuleset(BASE, version).split("\n");
      const loopback = lines.findIndex((l) => / -o lo -d /.test(l) && l.endsWith("-j RETURN"));
      for (const protocol of ["udp", "tcp"]) {
        const refusal = lines.findIndex((l) => l.includes(`-o lo -p ${protocol} -m ${protocol} --dport 53`) && /REJECT/.test(l));
        expect(refusal, `${protocol} v${version}`).toBeGreaterThan(-1);
        expect(refusal, `${protocol} v${version}`).toBeLessThan(loopback);
      }
      expect(lines.some((l) => l.includes("--dport 53") && l.endsWith("-j RETURN"))).toBe(false);
    }
  });

  it("need a reason for dnsResolvers, and then allow them and the loopback resolver", () => {
    expect(() => renderHostFirewallRuleset({ ...BASE, dnsResolvers: ["10.0.0.2"] }, 4)).toThrow(/dnsResolvers: agents that may query a resolver can carry data out .* give dnsReason/);
    expect(() => renderHostFirewallRuleset({ ...BASE, dnsReason: "x" }, 4)).toThrow(/dnsReason: the reason must be 10 to 200 characters/);
    expect(() => renderHostFirewallRuleset({ ...BASE, dnsReason: `${REASON}\nsecond line` }, 4)).toThrow(/dnsReason: the reason must be one line/);
    const rules = renderHostFirewallRuleset({ ...BASE, dnsResolvers: ["10.0.0.2"], dnsReason: REASON }, 4);
    expect(rules).toContain("-d 10.0.0.2/32 -p udp -m udp --dport 53 -j RETURN");
    expect(rules).not.toMatch(/-o lo -p udp -m udp --dport 53/);
  });

  it("warn at synthesis with what the opt-in opens and the reason", () => {
    const stack = new TerraformStack(new App(), "vm");
    new HostEgressFirewall(stack, "closed", BASE);
    expect(warnings(stack)).toEqual([]);
    new HostEgressFirewall(stack, "open", { ...BASE, dnsResolvers: ["10.0.0.2"], dnsReason: REASON });
    expect(warnings(stack).join("\n")).toMatch(/Agent users agent may query DNS \(10\.0\.0\.2, a resolver on loopback\).*DNS tunnelling.*license server/);
  });
});
