import { createHash } from "node:crypto";
import { byString } from "../model/order";

/**
 * Docker: the uid (and gid) each role's agents run as unless an agent names its own `user`. The
 * nproc ulimit (`processLimit`, the only process cap provider-docker 3.6 can set) counts processes
 * per uid across every container of the host: with one uid per role, a role's fork storm spends
 * its own budget and no other role's.
 *
 * Derived from the firewall's and the role's names alone, so a uid never moves when roles are
 * added or removed: sha256 of `<firewall>/<role>` into `ROLE_UID_RANGE` (a million ids, far from
 * login users, system users and the usual subuid ranges of user namespaces at 100000-165535).
 * Two roles that hash to one uid (about 1 in 20,000 for ten roles) are told apart by taking the
 * next free uid, in role-name order.
 */
export const ROLE_UID_RANGE = { first: 2_000_000, size: 1_000_000 } as const;

/** The uid of each role's agents, by role name. */
export function roleUids(firewallName: string, roleNames: ReadonlyArray<string>): Map<string, number> {
  const taken = new Set<number>();
  const uids = new Map<string, number>();
  for (const role of [...roleNames].sort(byString)) {
    const hash = createHash("sha256").update(`${firewallName}/${role}`).digest().readUInt32BE(0);
    let offset = hash % ROLE_UID_RANGE.size;
    while (taken.has(offset)) offset = (offset + 1) % ROLE_UID_RANGE.size;
    taken.add(offset);
    uids.set(role, ROLE_UID_RANGE.first + offset);
  }
  return uids;
}
