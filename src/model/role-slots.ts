import { byString } from "./order";
import type { RoleSubnetProblem } from "./docker-subnets";

/**
 * Kubernetes: each role's port offset (its proxy port is `proxy.port + slot`, its gateway port
 * `gateway.port + slot`). Recorded slots (`allocations`, including those of roles no longer in
 * the fleet, which stay reserved) are kept; each new role, in name order, takes the lowest slot
 * nobody holds. Without a record that is the role's index in name order; with one, no role ever
 * moves when others are added, removed or renamed.
 */
export function assignRoleSlots(
  roleNames: ReadonlyArray<string>,
  recorded: ReadonlyMap<string, number>,
): { slots: Map<string, number>; problems: RoleSubnetProblem[] } {
  const problems: RoleSubnetProblem[] = [];
  const holders = new Map<number, string>();
  for (const [name, slot] of [...recorded].sort(([a], [b]) => byString(a, b))) {
    const other = holders.get(slot);
    if (other !== undefined) {
      problems.push({ path: ["allocations", name, "slot"], message: `slot ${slot} is already role "${other}"'s; each role needs its own ports, so delete one of the two entries (that role gets new ports)` });
      continue;
    }
    holders.set(slot, name);
  }
  const slots = new Map([...holders].filter(([, name]) => roleNames.includes(name)).map(([slot, name]) => [name, slot]));
  let next = 0;
  for (const name of roleNames) {
    if (slots.has(name)) continue;
    while (holders.has(next)) next++;
    holders.set(next, name);
    slots.set(name, next);
  }
  return { slots, problems };
}
