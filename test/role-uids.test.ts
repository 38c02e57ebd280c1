/**
 * One uid per role on Docker: the nproc limit counts per uid across the host, so roles that
 * shared one (10001) shared one process budget. The Docker e2e suite runs a fork storm.
 */
import { App } from "cdktf";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AgentPlatform, RapidClawStack } from "../src";
import { ROLE_UID_RANGE, roleUids } from "../src/plan/role-uids";
import { firewallScenario } from "../examples/firewall-scenario";
import { synthesize } from "./support/synth";

describe("Docker agents run under their role's own uid", () => {
  it("gives each role's agents one uid, different roles different uids, never root", () => {
    const stack = new RapidClawStack(new App(), "agent-firewall", firewallScenario(AgentPlatform.DOCKER));
    const containers = synthesize(stack).resources("docker_container");
    const byRole = new Map<string, Set<string>>();
    for (const agent of stack.spec.props.agents ?? []) {
      const user = containers.find((c) => c.name === agent.name)!.user as string;
      expect(user).toMatch(/^(\d+):\1$/);
      byRole.set(agent.role, new Set([...(byRole.get(agent.role) ?? []), user]));
    }
    for (const users of byRole.values()) expect(users.size).toBe(1);
    const all = [...byRole.values()].map((users) => [...users][0]);
    expect(new Set(all).size).toBe(byRole.size);
    for (const user of all) expect(Number(user.split(":")[0])).toBeGreaterThanOrEqual(ROLE_UID_RANGE.first);
  });

  it("keeps an agent's own user", () => {
    const spec = firewallScenario(AgentPlatform.DOCKER);
    const [first, ...rest] = spec.agents ?? [];
    const stack = new RapidClawStack(new App(), "agent-firewall", { ...spec, agents: [{ ...first, user: "4242:4242" }, ...rest] });
    expect(synthesize(stack).resources("docker_container").find((c) => c.name === first.name)!.user).toBe("4242:4242");
  });

  it("derives uids from the names alone: stable when roles come and go, distinct, in range (property)", () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.stringMatching(/^[a-z][a-z0-9_]{0,12}$/), { minLength: 1, maxLength: 12 }), fc.stringMatching(/^[a-z]{1,8}$/), (roles, firewall) => {
        const uids = roleUids(firewall, roles);
        expect(new Set(uids.values()).size).toBe(roles.length);
        for (const uid of uids.values()) expect(uid >= ROLE_UID_RANGE.first && uid < ROLE_UID_RANGE.first + ROLE_UID_RANGE.size).toBe(true);
        // Each role's uid is its own name's (no collision probed here), so dropping a role moves no other.
        const alone = roles.every((role) => roleUids(firewall, [role]).get(role) === uids.get(role));
        const fewer = roleUids(firewall, roles.slice(1));
        if (alone) for (const [role, uid] of fewer) expect(uid).toBe(uids.get(role));
      }),
      { numRuns: 200 },
    );
  });
});
