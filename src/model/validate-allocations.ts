import { parseCidr, type Network } from "./addresses";
import { DEFAULTS } from "./defaults";
import { assignRoleSlots } from "./role-slots";
import { AgentPlatform, type RoleAllocation } from "./types";

type Add = (path: ReadonlyArray<PropertyKey>, message: string) => void;

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/** The recorded allocations of a raw or validated description, parsed: Kubernetes slots and Docker subnets (unparsable ones left out). */
export function recordedAllocations(allocations: unknown): { slots: Map<string, number>; subnets: Map<string, Network> } {
  const slots = new Map<string, number>();
  const subnets = new Map<string, Network>();
  for (const [role, entry] of Object.entries(isRecord(allocations) ? allocations : {})) {
    if (!isRecord(entry)) continue;
    const allocation = entry as RoleAllocation;
    if (typeof allocation.slot === "number" && Number.isInteger(allocation.slot) && allocation.slot >= 0) slots.set(role, allocation.slot);
    if (typeof allocation.subnet === "string") {
      const subnet = parseCidr(allocation.subnet);
      if (typeof subnet !== "string" && subnet.version === 4) subnets.set(role, subnet);
    }
  }
  return { slots, subnets };
}

/**
 * Each entry of `allocations` is of the firewall's platform (a slot on Kubernetes, an IPv4 subnet
 * on Docker); on Kubernetes no two roles share a slot and the highest port exists. Docker subnets
 * are checked with the pool (`checkDockerAddresses`).
 */
export function checkAllocations(input: Record<string, unknown>, add: Add): void {
  const platform = input.platform;
  for (const [role, entry] of Object.entries(isRecord(input.allocations) ? input.allocations : {})) {
    if (!isRecord(entry)) continue;
    const path = ["allocations", role];
    const own = platform === AgentPlatform.KUBERNETES ? "slot" : "subnet";
    const other = own === "slot" ? "subnet" : "slot";
    if (entry[other] !== undefined) add([...path, other], `a ${other} is a ${other === "slot" ? "Kubernetes" : "Docker"} allocation and platform is ${String(platform)}; delete this entry (the role gets a new ${own})`);
    else if (entry[own] === undefined) add(path, `the entry records nothing; write its ${own} or delete it`);
    if (own === "subnet" && typeof entry.subnet === "string") {
      const subnet = parseCidr(entry.subnet);
      if (typeof subnet === "string" || subnet.version !== 4) add([...path, "subnet"], `"${entry.subnet}" is not an IPv4 subnet; delete this entry (the role gets a new subnet)`);
    }
  }
  if (platform !== AgentPlatform.KUBERNETES) return;
  const roleNames = Object.keys(isRecord(input.roles) ? input.roles : {}).sort();
  const { slots, problems } = assignRoleSlots(roleNames, recordedAllocations(input.allocations).slots);
  for (const problem of problems) add(problem.path, problem.message);
  const highest = Math.max(-1, ...slots.values());
  const firstPort = isRecord(input.proxy) && typeof input.proxy.port === "number" ? input.proxy.port : DEFAULTS.proxyPort;
  if (firstPort + highest > 65_535) {
    add(["proxy", "port"], `role slots up to ${highest} need proxy ports ${firstPort} to ${firstPort + highest}, past 65535; choose proxy.port ${65_535 - highest} or lower`);
  }
}
