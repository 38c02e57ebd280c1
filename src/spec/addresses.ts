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
