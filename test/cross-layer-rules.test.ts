import { describe, expect, it } from "vitest";
import { firewallScenario } from "../examples/firewall-scenario";
import { compileFirewall } from "../src/plan/plan";
import { AgentPlatform, ToolAccess, type FirewallSpecProps } from "../src/model/types";
import { failureOf } from "./support/spec-error";

type Spec = { -readonly [K in keyof FirewallSpecProps]: any };

/**
 * The example: research_agent lists the host of web_search, which the gateway fronts.
 * Model hosts exclude api.anthropic.com so that only the case under test is refused.
 */
function searchFronted(change: (spec: Spec) => void = () => {}): Spec {
  const seed = firewallScenario(AgentPlatform.DOCKER);
  const spec: Spec = structuredClone({
    ...seed,
    modelHosts: ["api.openai.com"],
    tools: { ...seed.tools, web_search: { ...seed.tools.web_search, upstream: "https://api.search.example.com/v1" } },
  });
  change(spec);
  return spec;
}

const problemsOf = (spec: Spec) => failureOf(() => compileFirewall(spec)).problems.map((p) => `${p.path}: ${p.message}`);

describe("a host the gateway fronts is not reachable directly", () => {
  it("refuses an allowed host equal to a tool's upstream host, naming the path, the tool and both fixes", () => {
    const problems = problemsOf(searchFronted((s) => { s.roles.research_agent.network.allowedHosts.push("api.search.example.com"); }));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^roles\.research_agent\.network\.allowedHosts\[4\]: "api\.search\.example\.com" is api\.search\.example\.com, which the tool gateway fronts for tool "web_search"/);
    expect(problems[0]).toContain("remove it");
    expect(problems[0]).toContain('roles.research_agent.network.directToolHosts: [{ host: "api.search.example.com", reason: "…" }]');
  });

  it("refuses a wildcard that covers the host, and a model host that does, listing the roles that do not acknowledge it", () => {
    const problems = problemsOf(searchFronted((s) => {
      s.roles.research_agent.network.allowedHosts.push("*.example.com");
      s.modelHosts.push("API.SEARCH.EXAMPLE.COM.");
    }));
    expect(problems).toEqual([
      expect.stringMatching(/^modelHosts\[1\]: "api\.search\.example\.com" lets every agent reach api\.search\.example\.com directly.* of customer_support, research_agent$/),
      expect.stringMatching(/^roles\.research_agent\.network\.allowedHosts\[4\]: "\*\.example\.com" covers api\.search\.example\.com.*narrow the wildcard/),
    ]);
  });

  it("accepts the host when the role acknowledges it with a reason, and only for that role", () => {
    const acknowledged = searchFronted((s) => {
      s.roles.research_agent.network.allowedHosts.push("*.example.com");
      s.roles.research_agent.network.directToolHosts = [{ host: "api.search.example.com", reason: "the vendor SDK pins its own endpoint" }];
    });
    const plan = compileFirewall(acknowledged);
    expect(plan.roles.find((r) => r.name === "research_agent")?.allowedHosts).toContain("*.example.com");
    // A model host reaches every role: one role's acknowledgement is not enough.
    const problems = problemsOf({ ...acknowledged, modelHosts: ["api.openai.com", "api.search.example.com"] });
    expect(problems).toEqual([expect.stringMatching(/^modelHosts\[1\]: .* of customer_support$/)]);
  });

  it("refuses acknowledgements that name no fronted host, are unused, repeated, or give no reason", () => {
    const problems = problemsOf(searchFronted((s) => {
      s.roles.research_agent.network.directToolHosts = [
        { host: "api.serch.example.com", reason: "typo" },
        { host: "api.search.example.com", reason: " " },
        { host: "api.search.example.com", reason: "twice" },
      ];
      s.roles.customer_support.network.directToolHosts = [{ host: "api.search.example.com", reason: "not reached" }];
    }));
    expect(problems).toEqual([
      expect.stringMatching(/^roles\.customer_support\.network\.directToolHosts\[0\]\.host: role customer_support does not reach api\.search\.example\.com .*unused; remove it$/),
      expect.stringMatching(/^roles\.research_agent\.network\.directToolHosts\[0\]\.host: .*did you mean "api\.search\.example\.com"\?$/),
      expect.stringMatching(/^roles\.research_agent\.network\.directToolHosts\[1\]\.host: role research_agent does not reach/),
      expect.stringMatching(/^roles\.research_agent\.network\.directToolHosts\[1\]\.reason: reason is empty/),
      expect.stringMatching(/^roles\.research_agent\.network\.directToolHosts\[2\]\.host: .* acknowledged twice/),
    ]);
  });

  it("refuses a fronted host in proxy.noProxy, where agents would bypass the proxy and the gateway", () => {
    expect(problemsOf(searchFronted((s) => { s.proxy = { noProxy: ["api.search.example.com"] }; }))).toEqual([
      expect.stringMatching(/^proxy\.noProxy\[0\]: "api\.search\.example\.com" is the upstream host of tool "web_search".*remove it/),
    ]);
  });

  it("refuses a way through the proxy to the gateway's Redis, where the rate-limit windows are", () => {
    const problems = problemsOf(searchFronted((s) => {
      s.vault = { address: "http://vault:8200" };
      s.gateway = { redis: { url: "rediss://limits.example.com:443" } };
      s.roles.research_agent.network.allowedHosts.push("*.example.com");
      s.proxy = { noProxy: ["limits.example.com"] };
    }));
    expect(problems).toEqual([
      expect.stringMatching(/^proxy\.noProxy\[0\]: "limits\.example\.com" lets agents reach limits\.example\.com, the gateway's Redis/),
      expect.stringMatching(/^roles\.research_agent\.network\.allowedHosts\[4\]: "\*\.example\.com" covers api\.search\.example\.com/),
      expect.stringMatching(/^roles\.research_agent\.network\.allowedHosts\[4\]: "\*\.example\.com" lets agents reach limits\.example\.com, the gateway's Redis .*narrow the wildcard/),
    ]);
    // On a port the proxy never opens, the host is out of the agents' reach anyway.
    expect(() => compileFirewall(searchFronted((s) => {
      s.vault = { address: "http://vault:8200" };
      s.gateway = { redis: { url: "rediss://limits.example.com:6380" } };
      s.roles.research_agent.network.allowedHosts.push("*.limits.example.com", "limits.example.com");
    }))).not.toThrow();
  });

  it("leaves hosts that merely share a domain alone (the apex of a wildcard, a sibling host)", () => {
    const spec = searchFronted((s) => {
      s.roles.research_agent.network.allowedHosts.push("*.search.example.com.cdn.net", "search.example.com", "other.example.com");
      s.roles.research_agent.tools = { ...s.roles.research_agent.tools, web_search: ToolAccess.READ };
    });
    expect(() => compileFirewall(spec)).not.toThrow();
  });
});
