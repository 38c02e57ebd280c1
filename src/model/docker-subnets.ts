import { createHash } from "node:crypto";
import { ipv4InNetwork, ipv4ToText, type Network } from "./addresses";
import { DEFAULTS } from "./defaults";

/** Pool the egress subnet of a firewall with its own `name` is hashed into: the /16 around the default one. */
const EGRESS_POOL: Network = { version: 4, base: 0xac1f0000n, prefix: 16, text: "172.31.0.0/16" };

/**
 * The text a role's (or a firewall's) slot is hashed from. Under the default firewall name it is
 * the role name alone, so existing deployments keep their subnets; under any other name the name
 * salts it, so two firewalls with the same role names on one engine land on different subnets
 * (different, not guaranteed disjoint: give each firewall its own `docker.subnet` for that).
 */
function slotKey(firewallName: string, name: string): string {
  return firewallName === DEFAULTS.name ? name : `${firewallName}/${name}`;
}

function hashSlot(key: string, slots: bigint): bigint {
  return BigInt("0x" + createHash("sha256").update(key).digest("hex").slice(0, 12)) % slots;
}

/**
 * Default subnet of the proxy's egress network: `DEFAULTS.egressSubnet` under the default name,
 * else a /24 of 172.31.0.0/16 picked by a hash of the firewall's name.
 */
export function defaultEgressSubnet(firewallName: string): string {
  if (firewallName === DEFAULTS.name) return DEFAULTS.egressSubnet;
  return slotNetwork(EGRESS_POOL, 24, hashSlot(firewallName, 256n)).text;
}

/**
 * Default subnet of the tool gateway's networks: `DEFAULTS.gatewaySubnet` under the default name,
 * else the /24 of 172.31.0.0/16 opposite the name's egress subnet (slot + 128, modulo 256), so
 * that the two never meet.
 */
export function defaultGatewaySubnet(firewallName: string): string {
  if (firewallName === DEFAULTS.name) return DEFAULTS.gatewaySubnet;
  return slotNetwork(EGRESS_POOL, 24, (hashSlot(firewallName, 256n) + 128n) % 256n).text;
}

/** One of the tool gateway's own networks: a quarter of the gateway subnet. */
export interface GatewayNetworkLayout {
  readonly subnet: Network;
  /** First address: reserved by the engine's IPAM, not given to the bridge. */
  readonly gateway: bigint;
  /** Second address: the tool gateway (or, on the Vault network, its Vault Agent). */
  readonly toolGateway: bigint;
  /** Third address: the peer, the proxy's gateway listener or the bundled Redis. */
  readonly peer: bigint;
}

/**
 * The tool gateway's networks: to the proxy, to Redis, to Vault (quarters one to three of
 * `subnet`); the fourth is proxy-events' own network to its bundled Redis, when it has one.
 */
export function gatewayNetworksLayout(subnet: Network): { proxy: GatewayNetworkLayout; redis: GatewayNetworkLayout; vault: GatewayNetworkLayout; events: GatewayNetworkLayout } {
  const quarter = (i: bigint): GatewayNetworkLayout => {
    const network = slotNetwork(subnet, subnet.prefix + 2, i);
    return { subnet: network, gateway: network.base + 1n, toolGateway: network.base + 2n, peer: network.base + 3n };
  };
  return { proxy: quarter(0n), redis: quarter(1n), vault: quarter(2n), events: quarter(3n) };
}

/** Where things sit inside one role's subnet. */
export interface RoleSubnetLayout {
  readonly subnet: Network;
  /** First address: Docker's IPAM reserves it, but the bridge does not get it (`inhibit_ipv4`). */
  readonly gateway: bigint;
  /** Second address: the proxy's listener for this role. */
  readonly proxy: bigint;
  /** Third address: the tool gateway's listener for this role. */
  readonly toolGateway: bigint;
  /** Pinned agent addresses: the lower half after the tool gateway. */
  readonly pinnedFirst: bigint;
  readonly pinnedLast: bigint;
  /** The upper half, from which the engine hands out addresses (`ip_range`). */
  readonly dynamicRange: Network;
}

export function roleSubnetLayout(subnet: Network): RoleSubnetLayout {
  const half = 1n << BigInt(31 - subnet.prefix);
  const rangeBase = subnet.base + half;
  return {
    subnet,
    gateway: subnet.base + 1n,
    proxy: subnet.base + 2n,
    toolGateway: subnet.base + 3n,
    pinnedFirst: subnet.base + 4n,
    pinnedLast: rangeBase - 1n,
    dynamicRange: { version: 4, base: rangeBase, prefix: subnet.prefix + 1, text: `${ipv4ToText(rangeBase)}/${subnet.prefix + 1}` },
  };
}

function overlaps(a: Network, b: Network): boolean {
  return ipv4InNetwork(a.base, b) || ipv4InNetwork(b.base, a);
}

function slotNetwork(pool: Network, prefix: number, slot: bigint): Network {
  const base = pool.base + (slot << BigInt(32 - prefix));
  return { version: 4, base, prefix, text: `${ipv4ToText(base)}/${prefix}` };
}

/** Why a recorded or pinned role subnet cannot be used, at its path. */
export interface RoleSubnetProblem {
  readonly path: ReadonlyArray<string>;
  readonly message: string;
}

/**
 * Each role's subnet. Pinned ones (`docker.roleSubnets`) first, then recorded ones
 * (`allocations`, including roles no longer in the fleet, whose subnets stay reserved); then each
 * new role, in name order, at slot `sha256(name) mod slots` of the pool (the name salted by the
 * firewall's own name, see `slotKey`) or, when that slot is held, the next free slot after it.
 * With a record of every earlier allocation no role ever moves: a new role only takes a free slot.
 * Without one, a role moves only when a role taking its slot is added before it in name order;
 * the record is what makes this impossible.
 */
export function assignRoleSubnets(
  roleNames: ReadonlyArray<string>,
  pool: Network,
  prefix: number,
  pinned: ReadonlyMap<string, Network>,
  firewallName: string = DEFAULTS.name,
  recorded: ReadonlyMap<string, Network> = new Map(),
): { subnets: Map<string, Network>; problems: RoleSubnetProblem[] } {
  const slots = 1n << BigInt(prefix - pool.prefix);
  const problems: RoleSubnetProblem[] = [];
  const held = new Map<string, Network>();
  const holder = (candidate: Network) => [...held].find(([, n]) => overlaps(candidate, n))?.[0];
  for (const [name, subnet] of pinned) if (roleNames.includes(name)) held.set(name, subnet);
  for (const [name, subnet] of [...recorded].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const path = ["allocations", name, "subnet"];
    const pin = pinned.get(name);
    if (pin !== undefined && roleNames.includes(name)) {
      if (pin.text !== subnet.text) problems.push({ path, message: `the record gives role ${name} ${subnet.text}, but docker.roleSubnets pins it to ${pin.text}; delete this entry to move the role to its pin (its network is replaced), or remove the pin` });
      continue;
    }
    if (subnet.prefix !== prefix || !ipv4InNetwork(subnet.base, pool)) {
      problems.push({ path, message: `${subnet.text} is not a /${prefix} of the pool ${pool.text} (docker.subnet and docker.roleSubnetPrefix changed since it was recorded); restore them, or delete the allocations to hand out new subnets (every role network is replaced)` });
      continue;
    }
    const other = holder(subnet);
    if (other !== undefined) {
      problems.push({ path, message: `${subnet.text} overlaps the subnet of role "${other}" (${held.get(other)?.text}); each role needs its own, so delete one of the two entries (that role gets a new subnet)` });
      continue;
    }
    held.set(name, subnet);
  }
  const subnets = new Map([...held].filter(([name]) => roleNames.includes(name)));
  for (const name of roleNames) {
    if (subnets.has(name)) continue;
    const first = hashSlot(slotKey(firewallName, name), slots);
    let placed: Network | undefined;
    for (let step = 0n; step < slots && placed === undefined; step++) {
      const candidate = slotNetwork(pool, prefix, (first + step) % slots);
      if (holder(candidate) === undefined) placed = candidate;
    }
    if (placed === undefined) {
      problems.push({ path: ["roles", name], message: `the pool ${pool.text} has no free /${prefix} left for role ${name}; give a larger docker.subnet or a longer docker.roleSubnetPrefix, or delete allocations of removed roles` });
      continue;
    }
    held.set(name, placed);
    subnets.set(name, placed);
  }
  return { subnets, problems };
}
