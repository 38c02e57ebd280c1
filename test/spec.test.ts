import { describe, expect, it } from "vitest";
import { AgentPlatform, FirewallSpecError, ToolAccess } from "../src";
import { compileFirewall } from "../src/plan/plan";
import { hostPatternText, normaliseHostPatterns, parseHostPattern, type HostPattern } from "../src/model/hosts";
import { firewallScenario } from "../examples/firewall-scenario";

function problemsOf(input: unknown): string[] {
  try {
    compileFirewall(input);
  } catch (error) {
    if (error instanceof FirewallSpecError) return error.problems.map((p) => `${p.path}: ${p.message}`);
    throw error;
  }
  return [];
}

const seed = firewallScenario(AgentPlatform.DOCKER);

describe("host patterns", () => {
  it.each([
    ["api.example.com", "api.example.com"],
    ["API.Example.COM.", "api.example.com"],
    ["*.example.com", "*.example.com"],
    ["*.example.co.uk", "*.example.co.uk"],
  ])("accepts %s as %s", (raw, normal) => {
    const parsed = parseHostPattern(raw);
    expect(typeof parsed).toBe("object");
    expect(hostPatternText(parsed as HostPattern)).toBe(normal);
  });

  it.each(["*", "*.com", "*.co.uk", "**.x.com", "x.*.com", "10.0.0.1", "2130706433", "::1", "https://api.x.com", "api.x.com:443", "a b.com", "", "localhost", "*.github.io"])(
    "refuses %j",
    (raw) => {
      expect(typeof parseHostPattern(raw)).toBe("string");
    },
  );

  it("removes patterns covered by others so no Squid list overlaps", () => {
    const list = ["a.x.com", "*.x.com", "x.com", "*.b.x.com", "y.com", "y.com"].map((h) => parseHostPattern(h) as HostPattern);
    expect(normaliseHostPatterns(list).map(hostPatternText)).toEqual(["*.x.com", "x.com", "y.com"]);
  });
});

describe("spec validation", () => {
  it("accepts the seed scenario", () => {
    expect(problemsOf(seed)).toEqual([]);
  });

  it("names an unknown tool by its path and suggests the likely one", () => {
    const bad = { ...seed, roles: { research_agent: { tools: { web_serch: ToolAccess.READ } } }, agents: [] };
    expect(problemsOf(bad)).toContain('roles.research_agent.tools.web_serch: unknown tool "web_serch"; did you mean "web_search"?');
  });

  it("reports every problem at once", () => {
    const bad = {
      ...seed,
      modelHosts: ["*"],
      tools: { ...seed.tools, web_search: { rateLimit: { maxCalls: 0, windowSec: 60 } } },
      agents: [{ name: "a", image: "x", role: "nobody" }],
    };
    const problems = problemsOf(bad);
    expect(problems.some((p) => p.startsWith("modelHosts[0]:"))).toBe(true);
    expect(problems.some((p) => p.startsWith("tools.web_search.rateLimit.maxCalls:"))).toBe(true);
    expect(problems.some((p) => p.startsWith("agents[0].role:"))).toBe(true);
  });

  it("refuses names that collide after normalisation", () => {
    const bad = { ...seed, tools: { ...seed.tools, "web-search": {} } };
    expect(problemsOf(bad).join("\n")).toMatch(/both become "web-search"/);
  });

  it("refuses WRITE on a tool whose key is read-only", () => {
    const bad = { ...seed, roles: { ...seed.roles, research_agent: { tools: { database: ToolAccess.WRITE } } } };
    expect(problemsOf(bad).join("\n")).toMatch(/roles\.research_agent\.tools\.database: WRITE on tool "database" whose key is read-only/);
  });
});

describe("plan", () => {
  const plan = compileFirewall(seed);

  it("gives each role the model hosts plus its own hosts only when egress is allowed", () => {
    const support = plan.roles.find((r) => r.name === "customer_support")!;
    const research = plan.roles.find((r) => r.name === "research_agent")!;
    expect(support.proxyAllowlist.map(hostPatternText)).toEqual(["api.anthropic.com", "api.openai.com"]);
    expect(research.proxyAllowlist.map(hostPatternText)).toEqual(["*.bing.com", "*.google.com", "api.anthropic.com", "api.github.com", "api.openai.com", "arxiv.org"]);
  });

  it("leaves Docker agent addresses to the engine unless pinned, gives each role its own network, and makes names DNS-safe", () => {
    expect(plan.agents.map((a) => [a.name, a.ipv4Address])).toEqual([
      ["hermes-agent", undefined],
      ["openclaw-agent", undefined],
    ]);
    expect(plan.roles.map((r) => [r.name, r.docker?.subnet, r.docker?.proxyAddress])).toEqual([
      ["customer_support", "172.30.76.0/24", "172.30.76.2"],
      ["research_agent", "172.30.16.0/24", "172.30.16.2"],
    ]);
    expect(plan.tools.map((t) => t.resourceName)).toContain("web-search");
  });

  it("grants keys only for tools above DENY that have a key", () => {
    const grants = Object.fromEntries(plan.roles.map((r) => [r.name, r.keyGrants]));
    expect(grants).toEqual({ customer_support: ["send_email"], research_agent: ["database", "web_search"] });
  });

  it("gives each Kubernetes role its own proxy port", () => {
    const k8s = compileFirewall(firewallScenario(AgentPlatform.KUBERNETES));
    expect(k8s.roles.map((r) => r.proxyPort)).toEqual([3128, 3129]);
  });
});
