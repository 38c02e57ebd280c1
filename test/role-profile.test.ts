import fc from "fast-check";
import { parseDocument, visit } from "yaml";
import { describe, expect, it } from "vitest";
import { firewallScenario } from "../examples/firewall-scenario";
import { compileFirewall } from "../src/plan/plan";
import {
  buildRoleProfiles,
  renderRoleProfileYaml,
  renderRoleProfileJson,
  roleProfileDocument,
  type RoleProfile,
} from "../src/render/role-profile";
import { parseRoleProfileJson, parseRoleProfileYaml } from "../src/render/role-profile-parse";
import { AgentPlatform, ToolAccess, type FirewallSpecProps } from "../src/model/types";
import { anyFirewallSpecArb } from "./support/arbitraries";

/** Both forms parse back to exactly the model; the JSON is the model's snake_case document. */
function expectRoundTrips(profiles: RoleProfile[]): void {
  expect(parseRoleProfileYaml(renderRoleProfileYaml(profiles))).toStrictEqual(profiles);
  for (const profile of profiles) {
    expect(JSON.parse(renderRoleProfileJson(profile))).toStrictEqual(roleProfileDocument(profile));
    expect(parseRoleProfileJson(renderRoleProfileJson(profile))).toStrictEqual(profile);
  }
}

/** The same description with every map's keys in reverse order. */
function reversedKeys<T>(value: T): T {
  if (Array.isArray(value)) return value.map(reversedKeys) as T;
  if (typeof value !== "object" || value === null) return value;
  return Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, reversedKeys(v)])) as T;
}

describe("role profiles", () => {
  const seedProfiles = buildRoleProfiles(compileFirewall(firewallScenario(AgentPlatform.DOCKER)));
  const profileOf = (role: string) => seedProfiles.find((p) => p.role === role) as RoleProfile;

  it("lists customer_support's tools with access, limits and permissions, and denies the rest", () => {
    const support = profileOf("customer_support");
    expect(support.tools.allowed).toStrictEqual([
      { tool: "knowledge_base", access: ToolAccess.READ, permissions: [] },
      { tool: "send_email", access: ToolAccess.EXECUTE, permissions: ["email:send"], rateLimit: { maxCalls: 5, windowSec: 300, maxRpm: 1 } },
      { tool: "ticket_system", access: ToolAccess.WRITE, permissions: [] },
    ]);
    expect(support.tools.denied).toEqual(["database", "file_upload", "web_search"]);
    expect(support.limits).toStrictEqual({ maxConcurrentTasks: 3, maxTokensPerTask: 20_000, maxToolCallsPerTask: 50 });
    expect(support.network).toStrictEqual({ allowEgress: false, allowedHosts: ["api.anthropic.com", "api.openai.com"], egressCidrs: [] });
    expect(support.vault).toStrictEqual({ mount: "agent-keys", secretPaths: { send_email: "agent-keys/data/tools/send-email" } });
  });

  it("gives research_agent its own hosts besides the model hosts, and its two keys", () => {
    const research = profileOf("research_agent");
    expect(research.network.allowedHosts).toEqual(["*.bing.com", "*.google.com", "api.anthropic.com", "api.github.com", "api.openai.com", "arxiv.org"]);
    expect(research.tools.allowed.map((t) => [t.tool, t.access])).toEqual([["database", "READ"], ["knowledge_base", "READ"], ["web_search", "READ"]]);
    expect(research.vault.secretPaths).toStrictEqual({ database: "agent-keys/data/tools/database", web_search: "agent-keys/data/tools/web-search" });
    expect(research.alerts).toStrictEqual({
      rateLimited: { count: 10, windowSec: 300, severity: "warning" },
      permissionDenied: { count: 3, windowSec: 60, severity: "critical" },
      networkBlocked: { count: 5, windowSec: 300, severity: "critical" },
    });
  });

  it("writes the YAML document as profiles.<role> with tools, limits and network", () => {
    const document = parseDocument(renderRoleProfileYaml(seedProfiles)).toJS();
    expect(Object.keys(document)).toEqual(["profiles"]);
    expect(Object.keys(document.profiles)).toEqual(["customer_support", "research_agent"]);
    expect(Object.keys(document.profiles.customer_support)).toEqual(["tools", "limits", "network", "allow_file_system", "alerts", "vault"]);
    expect(document.profiles.customer_support.tools.denied).toEqual(["database", "file_upload", "web_search"]);
  });

  it("round-trips the seed through YAML and JSON", () => {
    expectRoundTrips(seedProfiles);
  });

  it("writes shared values out in full, without YAML anchors or aliases", () => {
    let aliases = 0;
    visit(parseDocument(renderRoleProfileYaml(seedProfiles)), { Alias: () => void aliases++ });
    expect(aliases).toBe(0);
  });

  it("refuses a document that is not a profile document", () => {
    expect(() => parseRoleProfileYaml("roles: {}\n")).toThrow(/profiles/);
    const extra = renderRoleProfileYaml(seedProfiles).replace("allow_file_system: false", "allow_file_system: false\n    sudo: true");
    expect(() => parseRoleProfileYaml(extra)).toThrow(/sudo/);
    expect(() => parseRoleProfileJson(JSON.stringify({ ...roleProfileDocument(seedProfiles[0]), role: 7 }))).toThrow(/role/);
  });

  it("refuses to put one role twice into a document", () => {
    expect(() => renderRoleProfileYaml([seedProfiles[0], seedProfiles[0]])).toThrow(/twice/);
  });

  it("round-trips generated fleets, and does not depend on the order the spec lists things", () => {
    fc.assert(
      fc.property(anyFirewallSpecArb, (spec: FirewallSpecProps) => {
        const profiles = buildRoleProfiles(compileFirewall(spec));
        expectRoundTrips(profiles);
        const reordered = buildRoleProfiles(compileFirewall(reversedKeys(spec)));
        expect(renderRoleProfileYaml(reordered)).toBe(renderRoleProfileYaml(profiles));
        expect(reordered.map(renderRoleProfileJson)).toEqual(profiles.map(renderRoleProfileJson));
        for (const profile of profiles) {
          const allowed = profile.tools.allowed.map((t) => t.tool);
          expect([...allowed, ...profile.tools.denied].sort()).toEqual(Object.keys(spec.tools).sort());
          for (const entry of profile.tools.allowed) expect(entry.access).toBe(spec.roles[profile.role].tools?.[entry.tool]);
        }
      }),
      { numRuns: 200 },
    );
  });
});
