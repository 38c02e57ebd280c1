import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App } from "cdktf";
import fc from "fast-check";
import { EXAMPLE_PROXY_IMAGE } from "../examples/firewall-scenario";
import { afterAll, describe, expect, it } from "vitest";
import { AgentPlatform, RapidClawStack, ToolAccess, type FirewallSpecProps, type RapidClawStackOptions } from "../src";
import { resourceName } from "../src/model/names";
import { failureOf } from "./support/spec-error";
import { synthesize } from "./support/synth";

const dir = mkdtempSync(join(tmpdir(), "rapidclaw-allocations-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const freshFile = () => join(dir, `allocations-${files++}.json`);

/**
 * A fleet of roles, each with one agent of its own image, all using a tool the gateway fronts (so
 * every agent's environment carries its gateway URL). Docker roles share a pool of 16 subnets, so
 * that hashed slots collide often and the probing is exercised.
 */
function fleet(platform: AgentPlatform, roles: ReadonlyArray<string>): FirewallSpecProps {
  return {
    platform,
    modelHosts: ["api.anthropic.com"],
    tools: { search: { permissions: ["search:read"], upstream: "https://api.search.example" } },
    roles: Object.fromEntries(roles.map((role) => [role, { tools: { search: ToolAccess.READ } }])),
    agents: roles.map((role) => ({ name: `${role}-bot`, image: `example/${role}:1`, role })),
    ...(platform === AgentPlatform.DOCKER ? { docker: { subnet: "10.77.0.0/20", roleSubnetPrefix: 24 } } : { proxy: { image: EXAMPLE_PROXY_IMAGE } }),
  };
}

function synthesized(spec: FirewallSpecProps, options: RapidClawStackOptions = {}) {
  return synthesize(new RapidClawStack(new App(), "firewall", { ...spec, ...options })).doc;
}

/**
 * A role's agent resources, by logical id, as JSON text: everything whose id names the role or
 * its agent (its network, agents, profile files, service account, policies, Vault login).
 */
function roleResources(doc: Record<string, any>, role: string): Map<string, string> {
  const names = new Set([resourceName(role), `role-${resourceName(role)}`, `role-${resourceName(role)}-egress`, resourceName(`${role}-bot`)]);
  const found = new Map<string, string>();
  for (const [type, resources] of Object.entries<Record<string, unknown>>(doc.resource ?? {})) {
    for (const [id, resource] of Object.entries(resources)) {
      if (id.split("_").some((token) => names.has(token))) found.set(`${type}.${id}`, JSON.stringify(resource));
    }
  }
  return found;
}

// Three letters at least: the logical ids drop shorter path parts, and roles are found by their ids here.
const roleNamesArb = fc.uniqueArray(fc.stringMatching(/^[a-z]{3,6}$/), { minLength: 2, maxLength: 7 });

describe.each([AgentPlatform.DOCKER, AgentPlatform.KUBERNETES])("stable allocations on %s", (platform) => {
  it("adding a role, then removing another, leaves every other role's agent resources byte-identical (with the allocation file)", () => {
    fc.assert(
      fc.property(roleNamesArb, fc.stringMatching(/^[a-z]{3,6}$/), fc.nat(), (roles, added, pick) => {
        fc.pre(!roles.includes(added));
        const allocationFile = freshFile();
        const before = synthesized(fleet(platform, roles), { allocationFile });
        const grown = [...roles, added];
        const after = synthesized(fleet(platform, grown), { allocationFile });
        for (const role of roles) {
          const resources = roleResources(before, role);
          expect(resources.size).toBeGreaterThanOrEqual(2);
          expect(roleResources(after, role)).toEqual(resources);
        }
        const removed = grown[pick % grown.length];
        const shrunk = grown.filter((role) => role !== removed);
        const last = synthesized(fleet(platform, shrunk), { allocationFile });
        for (const role of shrunk) expect(roleResources(last, role)).toEqual(roleResources(after, role));
      }),
      { numRuns: 8 },
    );
  });

  it("records what it handed out, keeps a removed role's entry reserved, and gives it back when the role returns", () => {
    const allocationFile = freshFile();
    synthesized(fleet(platform, ["alpha", "beta", "gamma"]), { allocationFile });
    const first = JSON.parse(readFileSync(allocationFile, "utf8"));
    expect(Object.keys(first)).toEqual(["alpha", "beta", "gamma"]);
    synthesized(fleet(platform, ["alpha", "gamma"]), { allocationFile });
    expect(JSON.parse(readFileSync(allocationFile, "utf8"))).toEqual(first);
    const renamed = synthesized(fleet(platform, ["alpha", "gamma", "delta"]), { allocationFile });
    const record = JSON.parse(readFileSync(allocationFile, "utf8"));
    // A rename is a removal and an addition: the new name never gets the reserved entry.
    expect(Object.values(record).map((a) => JSON.stringify(a))).toHaveLength(new Set(Object.values(record).map((a) => JSON.stringify(a))).size);
    expect(record.beta).toEqual(first.beta);
    synthesized(fleet(platform, ["alpha", "beta", "gamma", "delta"]), { allocationFile });
    expect(JSON.parse(readFileSync(allocationFile, "utf8"))).toEqual(record);
    expect(roleResources(renamed, "alpha").size).toBeGreaterThanOrEqual(2);
  });
});

describe("allocations without a record", () => {
  it("Docker: every role's gateway listener is on gateway.port at the role's own address, so adding a role changes no other agent's environment", () => {
    const before = synthesized(fleet(AgentPlatform.DOCKER, ["billing", "support"]));
    const after = synthesized(fleet(AgentPlatform.DOCKER, ["analytics", "billing", "support"]));
    const env = (doc: Record<string, any>, agent: string) => Object.values<any>(doc.resource.docker_container).find((c) => c.name === agent).env;
    for (const agent of ["billing-bot", "support-bot"]) {
      expect(env(after, agent)).toEqual(env(before, agent));
      expect(env(after, agent).find((e: string) => e.startsWith("RAPIDCLAW_GATEWAY_URL="))).toMatch(/:8080$/);
    }
  });

  it("Docker: a fleet of 200 roles synthesizes with the default settings, each role on its own subnet", () => {
    const roles = Array.from({ length: 200 }, (_, i) => `role_${String(i).padStart(3, "0")}`);
    const spec: FirewallSpecProps = { platform: AgentPlatform.DOCKER, modelHosts: ["api.anthropic.com"], tools: {}, roles: Object.fromEntries(roles.map((r) => [r, {}])) };
    const doc = synthesized(spec);
    const subnets = Object.values<any>(doc.resource.docker_network).filter((n) => n.name.startsWith("rapidclaw-agents-")).map((n) => n.ipam_config[0].subnet);
    expect(subnets).toHaveLength(200);
    expect(new Set(subnets).size).toBe(200);
  });
});

describe("allocation records that disagree with the description", () => {
  it("names every entry that cannot be kept and says how to fix it", () => {
    const docker = fleet(AgentPlatform.DOCKER, ["alpha", "beta"]);
    const error = failureOf(() => synthesized({ ...docker, allocations: { alpha: { subnet: "10.99.0.0/24" }, beta: { slot: 1 } } }));
    expect(error.problems.map((p) => p.path)).toEqual(expect.arrayContaining(["allocations.alpha.subnet", "allocations.beta.slot"]));
    expect(error.message).toContain("is not a /24 of the pool 10.77.0.0/20");
    const kubernetes = fleet(AgentPlatform.KUBERNETES, ["alpha", "beta"]);
    const clash = failureOf(() => synthesized({ ...kubernetes, allocations: { alpha: { slot: 3 }, beta: { slot: 3 } } }));
    expect(clash.problems).toEqual([{ construct: "firewall", path: "allocations.beta.slot", message: expect.stringContaining("slot 3 is already role \"alpha\"'s") }]);
  });

  it("refuses a file that is not a JSON object, and both allocations and allocationFile", () => {
    const allocationFile = freshFile();
    writeFileSync(allocationFile, "[1, 2]");
    expect(failureOf(() => synthesized(fleet(AgentPlatform.KUBERNETES, ["alpha"]), { allocationFile })).problems[0].path).toBe("allocationFile");
    writeFileSync(allocationFile, "{}");
    const both = failureOf(() => synthesized({ ...fleet(AgentPlatform.KUBERNETES, ["alpha"]), allocations: {} }, { allocationFile }));
    expect(both.problems[0].path).toBe("allocations");
  });
});
