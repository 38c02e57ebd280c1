import { BlockList, isIP } from "node:net";
import { egressRangeProblem, metadataAddressProblem, parseCidr, type Network } from "./addresses";
import { dnsReasonProblem } from "./dns-opt-in";
import { formatPath, HostFirewallError, type SpecProblem } from "./errors";
import { HOST_FIREWALL_DEFAULTS, HostFirewallAction, type HostFirewallEndpoint, type HostFirewallOptions } from "./host-firewall-types";

/** Host firewall options after validation: canonical addresses, defaults filled in, duplicates removed. */
export interface ResolvedHostFirewall {
  readonly users: string[];
  readonly chain: string;
  readonly resolvers: Network[];
  /** The opt-in to DNS (`dnsReason`, trimmed); undefined: port 53 is refused, on loopback too. */
  readonly dnsReason?: string;
  readonly endpoints: ReadonlyArray<{ readonly network: Network; readonly port: number }>;
  /** Endpoints only their users may reach; their users are also in `users`. */
  readonly reserved: ReadonlyArray<ReservedEndpoint>;
  readonly cidrs: ReadonlyArray<{ readonly network: Network; readonly ports: number[] }>;
  readonly allowLoopback: boolean;
  readonly logPrefix: string;
  readonly logRatePerMinute: number;
  readonly logBurst: number;
  readonly action: HostFirewallAction;
  readonly namePrefix: string;
  readonly scriptDirectory: string;
}

/** An endpoint only its users may reach. */
export interface ReservedEndpoint {
  readonly network: Network;
  readonly port: number;
  /**
   * On a loopback address: reserved on every address of this host, in both IP versions, since a
   * listener on a wildcard address answers on all of them.
   */
  readonly loopback: boolean;
  readonly users: string[];
}

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet("127.0.0.0", 8, "ipv4");
LOOPBACK.addAddress("::1", "ipv6");

// Debian/shadow user names (plus upper case and dots, which systemd and LDAP allow); a trailing
// `$` marks Samba machine accounts. Never all digits, so a name cannot be mistaken for a uid.
export const USER_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,30}\$?$/;
const MAX_UID = 4_294_967_294; // (uid_t)-1 means "no user"
const NAME_PREFIX = /^[A-Za-z][A-Za-z0-9_-]{0,20}$/;
const LOG_PREFIX = /^[A-Za-z0-9 _.:=/\[\]-]{1,29}$/;
const CHAIN_SUFFIX = "-EGRESS";
// Absolute, and only characters that systemd's ExecStart=, sh and YAML all take literally.
const SAFE_PATH = /^\/[A-Za-z0-9._+\/-]*$/;

const isPort = (value: unknown): value is number => Number.isInteger(value) && (value as number) >= 1 && (value as number) <= 65535;
const byNumber = (a: number, b: number) => a - b;

/** Parses one address to a host network (/32 or /128), or returns why it is refused. */
function hostAddress(address: unknown): Network | string {
  if (typeof address !== "string" || isIP(address) === 0) {
    return `${JSON.stringify(address)} is not an IPv4 or IPv6 address; write one such as 10.0.0.2 or fd00::2 (no host names, ports or zone ids)`;
  }
  return metadataAddressProblem(address) ?? (parseCidr(`${address}/${isIP(address) === 4 ? 32 : 128}`) as Network);
}

function uniqueBy<T>(items: T[], key: (item: T) => string): T[] {
  const seen = new Set<string>();
  return items.filter((item) => !seen.has(key(item)) && seen.add(key(item)) !== undefined);
}

/** Validates host firewall options and fills in defaults; throws HostFirewallError listing every problem. */
export function resolveHostFirewallOptions(options: HostFirewallOptions): ResolvedHostFirewall {
  const problems: SpecProblem[] = [];
  const add = (path: ReadonlyArray<PropertyKey>, message: string) => problems.push({ path: formatPath(path), message });
  const list = <T>(value: T[] | undefined, field: string): T[] => {
    if (value === undefined) return [];
    if (Array.isArray(value)) return value;
    add([field], "must be a list");
    return [];
  };
  const integerIn = (field: string, value: number | undefined, fallback: number, min: number, max: number): number => {
    if (value === undefined) return fallback;
    if (!Number.isInteger(value) || value < min || value > max) add([field], `${JSON.stringify(value)} must be an integer from ${min} to ${max}`);
    return value;
  };

  const users = list(options.users, "users");
  if (options.users !== undefined && users.length === 0) add(["users"], "list at least one agent user (a user name or a numeric uid); without one the firewall would confine nobody");
  if (options.users === undefined) add(["users"], "missing; list the agent users (user names or numeric uids) whose egress to confine");
  /** Checks one user name or uid; returns the name, or the uid in canonical form. */
  const userKey = (user: unknown, path: PropertyKey[]): string => {
    if (typeof user !== "string") {
      add(path, `${JSON.stringify(user)} must be a string: a user name or a numeric uid such as "1001"`);
      return "";
    }
    if (/^[0-9]+$/.test(user)) {
      const uid = Number(user);
      if (uid === 0) add(path, `uid 0 is root, which could remove the firewall; run the agent as an unprivileged user and list that one`);
      else if (uid > MAX_UID) add(path, `uid ${user} is out of range; uids run from 1 to ${MAX_UID}`);
      return String(uid);
    }
    if (user === "root") add(path, `"root" could remove the firewall; run the agent as an unprivileged user and list that one`);
    else if (!USER_NAME.test(user)) {
      add(path, `${JSON.stringify(user)} is not a valid user name; use letters, digits, "_", "-" and ".", starting with a letter or "_", at most 32 characters, or give a numeric uid`);
    }
    return user;
  };
  const userKeys = users.map((user, i) => userKey(user, ["users", i]));

  const resolvers = list(options.dnsResolvers, "dnsResolvers").flatMap((address, i) => {
    const network = hostAddress(address);
    if (typeof network === "string") add(["dnsResolvers", i], network);
    return typeof network === "string" ? [] : [network];
  });

  const dnsReason = typeof options.dnsReason === "string" ? options.dnsReason.trim() : undefined;
  if (options.dnsReason !== undefined && typeof options.dnsReason !== "string") add(["dnsReason"], `${JSON.stringify(options.dnsReason)} must be text`);
  else if (options.dnsReason !== undefined) {
    const problem = dnsReasonProblem(options.dnsReason);
    if (problem) add(["dnsReason"], problem);
  }
  if (resolvers.length > 0 && options.dnsReason === undefined) {
    add(["dnsResolvers"], "agents that may query a resolver can carry data out in the names they ask for (DNS tunnelling); give dnsReason to accept that, or remove dnsResolvers and reach the proxy by address");
  }

  /** Checks an address and port; returns them parsed when both are valid. */
  const endpointAt = (entry: HostFirewallEndpoint | undefined, path: PropertyKey[]) => {
    const network = hostAddress(entry?.address);
    if (typeof network === "string") add([...path, "address"], network);
    if (!isPort(entry?.port)) add([...path, "port"], `${JSON.stringify(entry?.port)} is not a TCP port; use an integer from 1 to 65535`);
    return typeof network === "string" || !isPort(entry?.port) ? [] : [{ network, port: entry.port }];
  };
  const endpoints = list(options.proxyEndpoints, "proxyEndpoints").flatMap((endpoint, i) => endpointAt(endpoint, ["proxyEndpoints", i]));

  const reservedKeys = new Map<string, number>();
  const reserved = list(options.reservedEndpoints, "reservedEndpoints").flatMap((entry, i) => {
    const path = ["reservedEndpoints", i];
    const parsed = endpointAt(entry, path);
    const entryUsers = Array.isArray(entry?.users) ? entry.users : [];
    if (entryUsers.length === 0) add([...path, "users"], "list the users that may connect (user names or numeric uids); an endpoint nobody may reach needs no reservation");
    const keys = entryUsers.map((user, j) => userKey(user, [...path, "users", j]));
    return parsed.flatMap(({ network, port }) => {
      const loopback = LOOPBACK.check(network.text.split("/")[0], network.version === 4 ? "ipv4" : "ipv6");
      const where = loopback ? `port ${port} on this host` : `${network.text} port ${port}`;
      const other = reservedKeys.get(where);
      if (other !== undefined) add(path, `reservedEndpoints[${other}] already reserves ${where}; list all of its users in one entry`);
      reservedKeys.set(where, i);
      return [{ network, port, loopback, users: [...new Set(keys)] }];
    });
  });

  const cidrs = list(options.cidrs, "cidrs").flatMap((entry, i) => {
    const network = typeof entry?.cidr === "string" ? parseCidr(entry.cidr) : `${JSON.stringify(entry?.cidr)} is not in CIDR notation; write an address and a prefix length, like 10.20.0.0/16`;
    const rangeProblem = typeof network === "string" ? network : egressRangeProblem(entry.cidr, network, entry);
    if (rangeProblem) add(["cidrs", i, "cidr"], rangeProblem);
    const ports = Array.isArray(entry?.ports) ? entry.ports : [];
    if (ports.length === 0) add(["cidrs", i, "ports"], "list at least one TCP port (1 to 65535)");
    ports.forEach((port, j) => {
      if (!isPort(port)) add(["cidrs", i, "ports", j], `${JSON.stringify(port)} is not a TCP port; use an integer from 1 to 65535`);
    });
    const valid = typeof network !== "string" && rangeProblem === undefined && ports.length > 0 && ports.every(isPort);
    return valid ? [{ network, ports: [...new Set(ports)].sort(byNumber) }] : [];
  });

  const namePrefix = options.namePrefix ?? HOST_FIREWALL_DEFAULTS.namePrefix;
  if (typeof namePrefix !== "string" || !NAME_PREFIX.test(namePrefix)) {
    add(["namePrefix"], `${JSON.stringify(namePrefix)} is not usable in a chain name; use letters, digits, "_" and "-", starting with a letter, at most 21 characters (the chain is "<prefix>${CHAIN_SUFFIX}")`);
  }
  const logPrefix = options.logPrefix ?? HOST_FIREWALL_DEFAULTS.logPrefix;
  if (typeof logPrefix !== "string" || !LOG_PREFIX.test(logPrefix)) {
    add(["logPrefix"], `${JSON.stringify(logPrefix)} is not a usable log prefix; use at most 29 characters of letters, digits, spaces and _ - . : = / [ ]`);
  }
  const logRatePerMinute = integerIn("logRatePerMinute", options.logRatePerMinute, HOST_FIREWALL_DEFAULTS.logRatePerMinute, 1, 10_000);
  const logBurst = integerIn("logBurst", options.logBurst, HOST_FIREWALL_DEFAULTS.logBurst, 1, 10_000);
  const action = options.action ?? HOST_FIREWALL_DEFAULTS.action;
  if (!Object.values(HostFirewallAction).includes(action)) add(["action"], `${JSON.stringify(action)} is not an action; use HostFirewallAction.REJECT or HostFirewallAction.DROP`);
  const allowLoopback = options.allowLoopback ?? HOST_FIREWALL_DEFAULTS.allowLoopback;
  if (typeof allowLoopback !== "boolean") add(["allowLoopback"], `${JSON.stringify(allowLoopback)} must be true or false`);
  const scriptDirectory = options.scriptDirectory ?? HOST_FIREWALL_DEFAULTS.scriptDirectory;
  if (typeof scriptDirectory !== "string" || !SAFE_PATH.test(scriptDirectory)) {
    add(["scriptDirectory"], `${JSON.stringify(scriptDirectory)} is not usable: the boot unit runs the scripts by this path, so write an absolute path of letters, digits and . _ + - / only, such as "/usr/local/sbin"`);
  }

  if (problems.length > 0) throw new HostFirewallError(problems);
  return {
    users: [...new Set([...userKeys, ...reserved.flatMap((r) => r.users)])],
    reserved,
    chain: `${namePrefix}${CHAIN_SUFFIX}`,
    resolvers: uniqueBy(resolvers, (n) => n.text),
    dnsReason,
    endpoints: uniqueBy(endpoints, (e) => `${e.network.text} ${e.port}`),
    cidrs,
    allowLoopback,
    logPrefix,
    logRatePerMinute,
    logBurst,
    action,
    namePrefix,
    scriptDirectory,
  };
}
