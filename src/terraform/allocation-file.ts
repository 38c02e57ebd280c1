import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { FirewallSpecError } from "../model/errors";
import type { RoleAllocation } from "../model/types";

type Allocations = { readonly [roleName: string]: RoleAllocation };

/** The record in `path` (`{}` when the file does not exist yet); FirewallSpecError when it is not a JSON object. */
export function readAllocationFile(path: string): Allocations {
  if (!existsSync(path)) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new FirewallSpecError([{ path: "allocationFile", message: `${path} is not JSON (${(error as Error).message}); restore it from version control, or delete it to hand out every role's ports and subnets anew` }]);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new FirewallSpecError([{ path: "allocationFile", message: `${path} must hold a JSON object of allocations by role name, such as {"research_agent": {"slot": 0}}` }]);
  }
  return parsed as Allocations;
}

/** Writes the record, one role a line, when it differs from what `path` holds. */
export function writeAllocationFile(path: string, allocations: Allocations): void {
  const lines = Object.entries(allocations).map(([role, allocation]) => `  ${JSON.stringify(role)}: ${JSON.stringify(allocation)}`);
  const text = lines.length === 0 ? "{}\n" : `{\n${lines.join(",\n")}\n}\n`;
  if (existsSync(path) && readFileSync(path, "utf8") === text) return;
  writeFileSync(path, text);
}
