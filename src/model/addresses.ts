import { isIPv4, isIPv6 } from "node:net";

/** An IP network in canonical form. */
export interface Network {
  readonly version: 4 | 6;
  /** Network address as a number (IPv4) or bigint bits (both kept as bigint for one code path). */
  readonly base: bigint;
  readonly prefix: number;
  /** Canonical text, e.g. `10.0.0.0/8`. */
  readonly text: string;
}

function ipv4ToBigInt(address: string): bigint {
  return address.split(".").reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
}

function ipv6ToBigInt(address: string): bigint {
  const [head, tail] = address.includes("::") ? address.split("::") : [address, undefined];
  const headParts = head === "" ? [] : head.split(":");
  const tailParts = tail === undefined || tail === "" ? [] : tail.split(":");
  const expand = (parts: string[]): string[] =>
    parts.flatMap((p) => (p.includes(".") ? [((ipv4ToBigInt(p) >> 16n) & 0xffffn).toString(16), (ipv4ToBigInt(p) & 0xffffn).toString(16)] : [p]));
  const h = expand(headParts);
  const t = expand(tailParts);
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill("0"), ...t];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

export function ipv4ToText(value: bigint): string {
  return [24n, 16n, 8n, 0n].map((s) => ((value >> s) & 0xffn).toString()).join(".");
}

function ipv6ToText(value: bigint): string {
  const groups = [112n, 96n, 80n, 64n, 48n, 32n, 16n, 0n].map((s) => Number((value >> s) & 0xffffn));
  // Compress the longest run of zero groups (RFC 5952).
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) { bestStart = i; bestLength = j - i; }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(":");
  return `${hex.slice(0, bestStart).join(":")}::${hex.slice(bestStart + bestLength).join(":")}`;
}

/** Parses an IPv4 address to a bigint, or undefined when it is not one. */
export function parseIpv4(address: string): bigint | undefined {
  return isIPv4(address) ? ipv4ToBigInt(address) : undefined;
}

/**
 * Parses `address/prefix`. Returns a problem message instead when it is malformed or has host
 * bits set (the message names the network that was probably meant).
 */
export function parseCidr(text: string): Network | string {
  const match = /^([^/\s]+)\/(\d{1,3})$/.exec(text);
  if (!match) return `"${text}" is not in CIDR notation; write an address and a prefix length, like 10.20.0.0/16`;
  const [, address, prefixText] = match;
  const prefix = Number(prefixText);
  const version = isIPv4(address) ? 4 : isIPv6(address) ? 6 : undefined;
  if (version === undefined) return `"${address}" is not an IPv4 or IPv6 address`;
  const bits = version === 4 ? 32 : 128;
  if (prefix > bits) return `prefix /${prefix} is longer than an IPv${version} address (/${bits} at most)`;
  const value = version === 4 ? ipv4ToBigInt(address) : ipv6ToBigInt(address);
  const mask = prefix === 0 ? 0n : ((1n << BigInt(prefix)) - 1n) << BigInt(bits - prefix);
  const base = value & mask;
  const toText = version === 4 ? ipv4ToText : ipv6ToText;
  const canonical = `${toText(base)}/${prefix}`;
  if (base !== value) return `"${text}" has host bits set; did you mean "${canonical}"?`;
  return { version, base, prefix, text: canonical };
}

/** Whether an IPv4 address lies inside an IPv4 network. */
export function ipv4InNetwork(address: bigint, network: Network): boolean {
  const size = 1n << BigInt(32 - network.prefix);
  return address >= network.base && address < network.base + size;
}

/** Whether a string is an IP literal in any spelling a resolver might accept (dotted, decimal, hex, IPv6). */
export function looksLikeIpLiteral(host: string): boolean {
  if (isIPv4(host) || isIPv6(host.replace(/^\[|\]$/g, ""))) return true;
  // inet_aton also accepts 1 to 4 parts in decimal, octal or hex: 2130706433, 0x7f.1, 0177.0.0.1.
  return /^((0x[0-9a-f]*|[0-9]+)\.){0,3}(0x[0-9a-f]*|[0-9]+)\.?$/i.test(host);
}

/** Whether `outer` holds every address of `inner` (same IP version, prefix at least as long). */
export function networkContains(outer: Network, inner: Network): boolean {
  if (outer.version !== inner.version || inner.prefix < outer.prefix) return false;
  const shift = BigInt((outer.version === 4 ? 32 : 128) - outer.prefix);
  return inner.base >> shift === outer.base >> shift;
}

const networks = (texts: ReadonlyArray<string>) => texts.map((text) => parseCidr(text) as Network);

/**
 * Cloud metadata and credential endpoints: an agent that reaches one gets the node's or the task's
 * cloud credentials. No option may name a range that holds one.
 */
export const METADATA_ENDPOINTS: ReadonlyArray<{ readonly address: string; readonly what: string }> = [
  { address: "169.254.169.254", what: "the instance metadata service of AWS, GCP, Azure, Oracle Cloud and others" },
  { address: "fd00:ec2::254", what: "the AWS instance metadata service over IPv6" },
  { address: "169.254.170.2", what: "the AWS ECS task metadata and credentials endpoint" },
  { address: "169.254.170.23", what: "the AWS EKS Pod Identity agent" },
  { address: "fd00:ec2::23", what: "the AWS EKS Pod Identity agent over IPv6" },
  { address: "100.100.100.200", what: "the Alibaba Cloud metadata service" },
  { address: "168.63.129.16", what: "the Azure WireServer (platform and extension configuration)" },
];

// IPv4 endpoints also in their IPv4-mapped IPv6 spelling (::ffff:169.254.169.254).
const METADATA_NETWORKS = METADATA_ENDPOINTS.flatMap((endpoint) =>
  (endpoint.address.includes(":") ? [`${endpoint.address}/128`] : [`${endpoint.address}/32`, `::ffff:${endpoint.address}/128`]).map((cidr) => ({
    ...endpoint,
    network: parseCidr(cidr) as Network,
  })),
);

/** The metadata endpoint `network` holds, if it holds one. */
export function metadataEndpointIn(network: Network): { readonly address: string; readonly what: string } | undefined {
  return METADATA_NETWORKS.find((endpoint) => networkContains(network, endpoint.network));
}

/**
 * Ranges that are not globally reachable (IANA special-purpose registries): private, shared,
 * loopback, link-local, documentation, benchmarking, unique local. A range inside one of them
 * is internal; any other range holds public internet addresses.
 */
const NON_PUBLIC_NETWORKS = networks([
  "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24",
  "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "240.0.0.0/4",
  "::1/128", "100::/64", "2001:db8::/32", "3fff::/20", "fc00::/7", "fe80::/10",
]);

/** Whether `network` holds addresses of the public internet. */
export function isPublicNetwork(network: Network): boolean {
  return !NON_PUBLIC_NETWORKS.some((internal) => networkContains(internal, network));
}

/** Shortest prefix accepted without `allowBroad`: /8 for IPv4, /32 for IPv6. */
export const BROADEST_PREFIX = { 4: 8, 6: 32 } as const;

/** A CIDR entry's acknowledgements (`EgressCidrProps`). */
export interface CidrAcknowledgements {
  readonly allowPublic?: unknown;
  readonly allowBroad?: unknown;
}

/**
 * Why a direct-egress range is refused, if it is: the whole internet always; a range broader
 * than /8 (IPv4) or /32 (IPv6) unless `allowBroad`; one holding a metadata endpoint always; a
 * public range unless `allowPublic`. `text` is the range as the user wrote it.
 */
export function egressRangeProblem(text: string, network: Network, acks: CidrAcknowledgements): string | undefined {
  if (network.prefix === 0) return `"${text}" is the whole internet; send web traffic through the proxy (allowedHosts) and keep direct egress for internal backends`;
  const broadest = BROADEST_PREFIX[network.version];
  if (network.prefix < broadest && acks.allowBroad !== true) {
    return `"${text}" spans more than a /${broadest}; list your backends' ranges, or set allowBroad: true on this entry if you mean it`;
  }
  const metadata = metadataEndpointIn(network);
  if (metadata) return `"${text}" contains ${metadata.address}, ${metadata.what}, which hands out cloud credentials; choose a range of your backends that leaves it out`;
  if (isPublicNetwork(network) && acks.allowPublic !== true) {
    return `"${text}" holds public internet addresses, which direct egress would reach without the proxy; send them through the proxy (allowedHosts), or set allowPublic: true on this entry if it is your own range`;
  }
  return undefined;
}

/** Why a single address option is refused, if it names a metadata endpoint. */
export function metadataAddressProblem(address: string): string | undefined {
  const network = parseCidr(`${address}/${address.includes(":") ? 128 : 32}`);
  if (typeof network === "string") return undefined;
  const metadata = metadataEndpointIn(network);
  return metadata && `${address} is ${metadata.what}, which hands out cloud credentials; agents must never reach it directly`;
}
