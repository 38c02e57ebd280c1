import { parse as parseHcl } from "@cdktf/hcl2json";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { firewallScenario } from "../examples/firewall-scenario";
import { compileFirewall, type FirewallPlan } from "../src/plan/plan";
import { buildRoleProfile } from "../src/render/role-profile";
import { renderVaultPolicy, vaultPolicyForRole } from "../src/render/vault-policy";
import { AgentPlatform, ToolAccess, type FirewallSpecProps } from "../src/model/types";
import { anyFirewallSpecArb } from "./support/arbitraries";

/**
 * The paths a policy grants, read from the real HCL parser's structure. Fails unless every block
 * is `path "<p>" { capabilities = ["read"] }`, once per path, with nothing else in the policy.
 */
async function readOnlyPaths(policy: string): Promise<string[]> {
  const parsed = await parseHcl("policy.hcl", policy);
  expect(Object.keys(parsed).filter((key) => key !== "path")).toEqual([]);
  const paths: Record<string, unknown[]> = parsed.path ?? {};
  for (const [path, blocks] of Object.entries(paths)) {
    expect(blocks, `blocks of ${path}`).toHaveLength(1);
    expect(blocks[0], `block of ${path}`).toStrictEqual({ capabilities: ["read"] });
    expect(path).not.toMatch(/[*+]/);
  }
  return Object.keys(paths).sort();
}

/** Expected grants computed from the spec itself, not from the plan's keyGrants. */
function expectedPaths(spec: FirewallSpecProps, role: string): string[] {
  const mount = spec.vault?.mountPath ?? "agent-keys";
  return Object.entries(spec.tools)
    .filter(([tool, props]) => props.key !== undefined && (spec.roles[role].tools?.[tool] ?? ToolAccess.DENY) !== ToolAccess.DENY)
    .map(([tool]) => `${mount}/data/tools/${tool.replace(/_/g, "-")}`)
    .sort();
}

const roleNamed = (plan: FirewallPlan, name: string) => {
  const role = plan.roles.find((r) => r.name === name);
  if (role === undefined) throw new Error(`no role ${name}`);
  return role;
};

describe("Vault policies", () => {
  const plan = compileFirewall(firewallScenario(AgentPlatform.DOCKER));

  it("grants customer_support read on send_email's key only", async () => {
    expect(await readOnlyPaths(vaultPolicyForRole(plan, roleNamed(plan, "customer_support")))).toEqual(["agent-keys/data/tools/send-email"]);
  });

  it("grants research_agent read on web_search's and database's keys only", async () => {
    expect(await readOnlyPaths(vaultPolicyForRole(plan, roleNamed(plan, "research_agent")))).toEqual([
      "agent-keys/data/tools/database",
      "agent-keys/data/tools/web-search",
    ]);
  });

  it("gives a role without keys a non-empty policy that grants nothing", async () => {
    const spec = firewallScenario(AgentPlatform.KUBERNETES);
    const keyless = compileFirewall({ ...spec, roles: { ...spec.roles, reader: { tools: { knowledge_base: ToolAccess.READ, web_search: ToolAccess.DENY } } } });
    const policy = vaultPolicyForRole(keyless, roleNamed(keyless, "reader"));
    // Vault refuses an empty policy text ("'policy' parameter not supplied or empty").
    expect(policy.trim()).not.toBe("");
    expect(await parseHcl("policy.hcl", policy)).toStrictEqual({});
  });

  it("sorts, removes duplicates, and uses the mount path given", async () => {
    const policy = renderVaultPolicy("kv/agents", ["tools/b", "tools/a", "tools/b"]);
    expect(await readOnlyPaths(policy)).toEqual(["kv/agents/data/tools/a", "kv/agents/data/tools/b"]);
    expect(policy.indexOf("tools/a")).toBeLessThan(policy.indexOf("tools/b"));
  });

  it.each([["tools/*"], ["tools/web+"], ["tools/a\"b"], ["tools/${x}"], ["tools/"], ["/tools/a"], ["Tools/A"], [""]])("refuses secret name %j", (name) => {
    expect(() => renderVaultPolicy("agent-keys", [name])).toThrow(/secret name/);
  });

  it.each([["agent-*"], ["a/+/b"], ["agent-keys/"], [""]])("refuses mount path %j", (mount) => {
    expect(() => renderVaultPolicy(mount, ["tools/a"])).toThrow(/mount path/);
  });

  it("grants exactly the keyed tools above DENY for generated fleets, as each profile lists them", async () => {
    await fc.assert(
      fc.asyncProperty(anyFirewallSpecArb, async (spec) => {
        const generated = compileFirewall(spec);
        for (const role of generated.roles) {
          const granted = await readOnlyPaths(vaultPolicyForRole(generated, role));
          expect(granted).toEqual(expectedPaths(spec, role.name));
          expect(granted).toEqual(Object.values(buildRoleProfile(generated, role).vault.secretPaths).sort());
        }
      }),
      { numRuns: 100 },
    );
  });
});
