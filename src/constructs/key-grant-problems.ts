import { Token } from "cdktf";
import type { SpecProblem } from "../model/errors";
import { closest, unknownName } from "../model/suggest";
import type { FirewallPlan } from "../plan/plan";
import { POLICY_PATH_SEGMENTS } from "../render/vault-policy";

/** Vault policy names: what the firewall's own policy names are made of. */
const POLICY_NAME = /^[a-z0-9][a-z0-9._-]*$/;

/**
 * Every problem of a `grantRead` call, each at its path: the grantee's name must be a policy name,
 * and each tool a tool of the firewall that has a key (a tool without a key has nothing to read).
 */
export function keyGrantProblems(plan: FirewallPlan, granteeName: string, tools: ReadonlyArray<string>, secrets: ReadonlyArray<string> = []): SpecProblem[] {
  const problems: SpecProblem[] = [];
  if (!Token.isUnresolved(granteeName) && !POLICY_NAME.test(granteeName)) {
    problems.push({ path: "grantee.keyGranteeName", message: `"${granteeName}" is not a Vault policy name; use lower-case letters, digits, ".", "_" and "-", such as billing-service` });
  }
  if (tools.length === 0 && secrets.length === 0) problems.push({ path: "tools", message: "grants nothing; list the tools whose keys the grantee reads" });
  secrets.forEach((name, index) => {
    if (!POLICY_PATH_SEGMENTS.test(name)) problems.push({ path: `options.secrets[${index}]`, message: `"${name}" is not a secret name in the mount; use lower-case segments of letters, digits, _ and - joined by "/", such as redis/gateway` });
  });
  const keyed = plan.tools.filter((tool) => tool.key !== undefined).map((tool) => tool.name);
  tools.forEach((name, index) => {
    const tool = plan.tools.find((t) => t.name === name);
    if (tool === undefined) {
      problems.push({ path: `tools[${index}]`, message: unknownName("tool", name, plan.tools.map((t) => t.name)) });
    } else if (tool.key === undefined) {
      const guess = closest(name, keyed);
      const hint = guess !== undefined ? `did you mean "${guess}"?` : keyed.length > 0 ? `tools with a key: ${keyed.join(", ")}` : "no tool has a key";
      problems.push({ path: `tools[${index}]`, message: `tool "${name}" has no key to grant; give it key: {} in the firewall description, or ${hint}` });
    }
  });
  return problems;
}
