import { DEFAULTS } from "../model/defaults";

/**
 * Names of everything a firewall keeps in Redis, so that firewalls with different names share a
 * Redis without sharing limits, windows or firing state. Every key of one script keeps its hash
 * tag (`{…}`) for Redis Cluster. A firewall with the default name keeps the layout of releases
 * before namespacing (`rl:{role:tool}`, `rapidclaw:alert:…`): an upgrade resets no limit and no
 * window.
 */

/** The sorted set of one role's calls to one tool: `rl:{role:tool}` by default, `<firewall>:rl:{role:tool}` otherwise. */
export function limiterKey(firewall: string, role: string, tool: string): string {
  return `${firewall === DEFAULTS.name ? "" : `${firewall}:`}rl:{${role}:${tool}}`;
}

/** One role's token window on one tool (its calls, and their sum): `tb:{role:tool}:calls` and `:sum`, under `<firewall>:` but for the default name. */
export function tokenWindowKeys(firewall: string, role: string, tool: string): [string, string] {
  const key = `${firewall === DEFAULTS.name ? "" : `${firewall}:`}tb:{${role}:${tool}}`;
  return [`${key}:calls`, `${key}:sum`];
}

/**
 * One role's tasks: `tk:{role}:open` (open tasks by lease expiry), `tk:{role}:calls` (the role's
 * window of counted tool calls) and `tk:{role}:task:<id>` (one task's counts), under
 * `<firewall>:` but for the default name. One hash tag per role, so one script touches them all.
 */
export function taskKeys(firewall: string, role: string, task: string): [open: string, calls: string, counts: string] {
  const key = `${firewall === DEFAULTS.name ? "" : `${firewall}:`}tk:{${role}}`;
  return [`${key}:open`, `${key}:calls`, `${key}:task:${task}`];
}

/** Prefix of a firewall's alert windows, firing state and firing index: `<firewall>:alert:` (`rapidclaw:alert:` by default). */
export function alertKeyPrefix(firewall: string): string {
  return `${firewall}:alert:`;
}
