import { isIP } from "node:net";
import { egressRangeProblem, metadataAddressProblem, parseCidr, type Network } from "../model/addresses";
import { formatPath, type SpecProblem } from "../model/errors";
import type { EgressCidrProps } from "../model/types";

/** What happens to an agent packet that no rule allows. */
export enum HostFirewallAction {
  /** Refuse at once: TCP gets a reset, other protocols an ICMP "administratively prohibited". */
  REJECT = "REJECT",
  /** Discard silently. */
  DROP = "DROP",
}

/** A TCP endpoint agents may connect to directly, such as the egress proxy. */
export interface HostFirewallEndpoint {
  /** IPv4 or IPv6 address (no host names: iptables would resolve them once, at install time). */
  readonly address: string;
  /** TCP port, 1 to 65535. */
  readonly port: number;
}

/** Options of the host egress firewall, a script set for bare VMs. */
export interface HostFirewallOptions {
  /**
   * Local users whose outbound traffic is confined: user names or numeric uids (`"1001"`), at
   * least one. Never `root`/`0`: root can remove the rules. Names are resolved to uids when the
   * apply script runs, and the script stops if one does not exist.
   */
  readonly users: string[];
  /**
   * DNS resolvers (IPv4 or IPv6 addresses) the agents may query on UDP and TCP port 53.
   * @default [] - no DNS beyond loopback (a local resolver such as 127.0.0.53 is covered by `allowLoopback`)
   */
  readonly dnsResolvers?: string[];
  /**
   * Egress proxy endpoints the agents may connect to over TCP.
   * @default []
   */
  readonly proxyEndpoints?: HostFirewallEndpoint[];
  /**
   * Direct TCP egress by address range and port, for internal backends without a hostname.
   * @default []
   */
  readonly cidrs?: EgressCidrProps[];
  /**
   * Allow traffic to 127.0.0.0/8 and ::1: every TCP and UDP service listening on the VM's
   * loopback (a local proxy or resolver, but also databases, admin ports, Docker's or another
   * agent's API if they listen there). Set it to false and list what agents need in
   * `proxyEndpoints`/`cidrs`/`dnsResolvers` when the VM runs such services. Other addresses of
   * the host itself are not included.
   * @default true
   */
  readonly allowLoopback?: boolean;
  /**
   * Prefix of the chain the firewall owns (`<prefix>-EGRESS`, in both iptables and ip6tables)
   * and of the installed file names: letters, digits, `_` and `-`, starting with a letter, at
   * most 21 characters.
   * @default "RAPIDCLAW"
   */
  readonly namePrefix?: string;
  /**
   * Prefix of kernel log lines for blocked packets: at most 29 characters of letters, digits,
   * spaces and `_ - . : = / [ ]`.
   * @default "rapidclaw-blocked: "
   */
  readonly logPrefix?: string;
  /**
   * Blocked packets logged per minute at most, 1 to 10,000 (iptables `limit` match).
   * @default 10
   */
  readonly logRatePerMinute?: number;
  /**
   * Blocked packets logged in a burst before the rate applies, 1 to 10,000.
   * @default 5
   */
  readonly logBurst?: number;
  /**
   * What happens to agent packets no rule allows.
   * @default HostFirewallAction.REJECT
   */
  readonly action?: HostFirewallAction;
  /**
   * Directory on the VM that receives the apply and uninstall scripts: an absolute path without
   * white space, quotes or control characters (the systemd unit runs the apply script by this path).
   * @default "/usr/local/sbin"
   */
  readonly scriptDirectory?: string;
}

/** The two scripts: POSIX sh, run as root. */
export interface HostFirewallScripts {
  /** Installs or updates the firewall; running it again changes nothing. */
  readonly applyScript: string;
  /** Removes exactly what the apply script added; succeeds when nothing is installed. */
  readonly uninstallScript: string;
}

/** Thrown when host firewall options are invalid; lists every problem by its path. */
export class HostFirewallError extends Error {
  /** Every problem, each with its path. */
  public readonly problems: SpecProblem[];

  constructor(problems: SpecProblem[]) {
    const lines = problems.map((p) => `  - ${p.path}: ${p.message}`);
    super(`invalid host firewall options: ${problems.length} problem${problems.length === 1 ? "" : "s"}\n${lines.join("\n")}`);
    this.name = "HostFirewallError";
    this.problems = problems;
  }
}

export const HOST_FIREWALL_DEFAULTS = {
  namePrefix: "RAPIDCLAW",
  logPrefix: "rapidclaw-blocked: ",
  logRatePerMinute: 10,
  logBurst: 5,
  action: HostFirewallAction.REJECT,
  allowLoopback: true,
  scriptDirectory: "/usr/local/sbin",
} as const;

/** Options after validation: canonical addresses, defaults filled in, duplicates removed. */
interface ResolvedOptions {
  readonly users: string[];
  readonly chain: string;
  readonly resolvers: Network[];
  readonly endpoints: ReadonlyArray<{ readonly network: Network; readonly port: number }>;
  readonly cidrs: ReadonlyArray<{ readonly network: Network; readonly ports: number[] }>;
  readonly allowLoopback: boolean;
  readonly logPrefix: string;
  readonly logRatePerMinute: number;
  readonly logBurst: number;
  readonly action: HostFirewallAction;
  readonly install: HostFirewallInstall;
}

// Debian/shadow user names (plus upper case and dots, which systemd and LDAP allow); a trailing
// `$` marks Samba machine accounts. Never all digits, so a name cannot be mistaken for a uid.
const USER_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,30}\$?$/;
const MAX_UID = 4_294_967_294; // (uid_t)-1 means "no user"
const NAME_PREFIX = /^[A-Za-z][A-Za-z0-9_-]{0,20}$/;
const LOG_PREFIX = /^[A-Za-z0-9 _.:=/\[\]-]{1,29}$/;
const CHAIN_SUFFIX = "-EGRESS";
// Absolute, and only characters that systemd's ExecStart=, sh and YAML all take literally.
const SCRIPT_DIRECTORY = /^\/[A-Za-z0-9._+\/-]*$/;

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

/** Validates options and fills in defaults; throws HostFirewallError listing every problem. */
function resolveOptions(options: HostFirewallOptions): ResolvedOptions {
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
  const userKeys = users.map((user, i) => {
    const path = ["users", i];
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
  });

  const resolvers = list(options.dnsResolvers, "dnsResolvers").flatMap((address, i) => {
    const network = hostAddress(address);
    if (typeof network === "string") add(["dnsResolvers", i], network);
    return typeof network === "string" ? [] : [network];
  });

  const endpoints = list(options.proxyEndpoints, "proxyEndpoints").flatMap((endpoint, i) => {
    const network = hostAddress(endpoint?.address);
    if (typeof network === "string") add(["proxyEndpoints", i, "address"], network);
    if (!isPort(endpoint?.port)) add(["proxyEndpoints", i, "port"], `${JSON.stringify(endpoint?.port)} is not a TCP port; use an integer from 1 to 65535`);
    return typeof network === "string" || !isPort(endpoint.port) ? [] : [{ network, port: endpoint.port }];
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
  if (typeof scriptDirectory !== "string" || !SCRIPT_DIRECTORY.test(scriptDirectory)) {
    add(["scriptDirectory"], `${JSON.stringify(scriptDirectory)} is not usable: the boot unit runs the scripts by this path, so write an absolute path of letters, digits and . _ + - / only, such as "/usr/local/sbin"`);
  }

  if (problems.length > 0) throw new HostFirewallError(problems);
  return {
    users: [...new Set(userKeys)],
    chain: `${namePrefix}${CHAIN_SUFFIX}`,
    resolvers: uniqueBy(resolvers, (n) => n.text),
    endpoints: uniqueBy(endpoints, (e) => `${e.network.text} ${e.port}`),
    cidrs,
    allowLoopback,
    logPrefix,
    logRatePerMinute,
    logBurst,
    action,
    install: hostFirewallInstall(namePrefix, scriptDirectory),
  };
}

/** Name of the chain the firewall creates and owns (the same in iptables and ip6tables). */
export function hostFirewallChain(options: HostFirewallOptions): string {
  return resolveOptions(options).chain;
}

function rulesetFor(resolved: ResolvedOptions, version: 4 | 6): string {
  const { chain } = resolved;
  const ofVersion = <T extends { network: Network }>(items: ReadonlyArray<T>) => items.filter((item) => item.network.version === version);
  const rules: string[] = [];
  const allow = (match: string) => rules.push(`-A ${chain} ${match} -j RETURN`);
  // Allowed packets RETURN to OUTPUT rather than ACCEPT, so rules the host already has still apply.
  if (resolved.allowLoopback) allow(`-o lo -d ${version === 4 ? "127.0.0.0/8" : "::1/128"}`);
  // Only connections the agent opened: replies the agent sends on connections others opened to
  // it (a listener) are in the REPLY direction and fall through to the refusal.
  allow("-m conntrack --ctstate ESTABLISHED,RELATED --ctdir ORIGINAL");
  for (const resolver of resolved.resolvers.filter((n) => n.version === version)) {
    for (const protocol of ["udp", "tcp"]) allow(`-d ${resolver.text} -p ${protocol} -m ${protocol} --dport 53`);
  }
  for (const endpoint of ofVersion(resolved.endpoints)) allow(`-d ${endpoint.network.text} -p tcp -m tcp --dport ${endpoint.port}`);
  for (const range of ofVersion(resolved.cidrs)) {
    for (const port of range.ports) allow(`-d ${range.network.text} -p tcp -m tcp --dport ${port}`);
  }
  rules.push(
    `-A ${chain} -m limit --limit ${resolved.logRatePerMinute}/minute --limit-burst ${resolved.logBurst} ` +
      `-j LOG --log-prefix "${resolved.logPrefix}" --log-level 4 --log-uid`,
  );
  if (resolved.action === HostFirewallAction.DROP) rules.push(`-A ${chain} -j DROP`);
  else {
    rules.push(
      `-A ${chain} -p tcp -j REJECT --reject-with tcp-reset`,
      `-A ${chain} -j REJECT --reject-with ${version === 4 ? "icmp-admin-prohibited" : "icmp6-adm-prohibited"}`,
    );
  }
  // With --noflush, declaring an existing user chain flushes it: the chain is replaced in one commit.
  return ["*filter", `:${chain} - [0:0]`, ...rules, "COMMIT", ""].join("\n");
}

/**
 * The firewall's own chain as `iptables-restore --noflush` input (`ip6tables-restore` for
 * version 6). It holds no user match: only agent packets jump to it.
 */
export function renderHostFirewallRuleset(options: HostFirewallOptions, version: 4 | 6): string {
  return rulesetFor(resolveOptions(options), version);
}

const quote = (word: string) => `'${word}'`; // validated words never contain a quote

/**
 * Shell functions both scripts share; `AGENT_UIDS` and `CHAIN` are set before they run. The
 * scripts never contain a dollar or percent sign followed by an opening brace: Terraform reads
 * both as template syntax in any string (outputs, user data) and must pass the scripts unchanged.
 */
const SHELL_FUNCTIONS = `# Deletes every OUTPUT rule that jumps to $CHAIN, except one plain owner jump per agent uid,
# and leaves the uids whose jump stays in JUMPING_UIDS. Reads the rules with -S rather than
# asking with -C: ip6tables-legacy 1.8.9 answers -C for an owner match of any uid as found.
# Deletes by number, highest first, so a stray jump of any form goes too.
prune_jumps() {
	tool=$1
	rules=$("$tool" -w -S OUTPUT)
	number=0
	JUMPING_UIDS=" "
	doomed=""
	while IFS= read -r rule; do
		case $rule in "-A "*) number=$((number + 1)) ;; *) continue ;; esac
		case $rule in *" -j $CHAIN") ;; *) continue ;; esac
		owner=""
		for uid in $AGENT_UIDS; do
			if [ "$rule" = "-A OUTPUT -m owner --uid-owner $uid -j $CHAIN" ]; then owner=$uid; fi
		done
		if [ -z "$owner" ]; then
			doomed="$number $doomed"
		else
			case $JUMPING_UIDS in
			*" $owner "*) doomed="$number $doomed" ;;
			*) JUMPING_UIDS="$JUMPING_UIDS$owner " ;;
			esac
		fi
	done <<RAPIDCLAW_RULES
$rules
RAPIDCLAW_RULES
	for number in $doomed; do
		"$tool" -w -D OUTPUT "$number"
	done
}

# Whether this kernel filters IPv6 at all; without IPv6 there is nothing to confine.
has_ipv6() {
	[ -e /proc/net/if_inet6 ]
}
`;

function header(resolved: ResolvedOptions, purpose: string): string {
  return [
    "#!/bin/sh",
    `# Rapid Claw host egress firewall: ${purpose}`,
    "# Generated from the firewall options: do not edit by hand.",
    "set -eu",
    "",
    `CHAIN=${resolved.chain}`,
  ].join("\n");
}

function applyScript(resolved: ResolvedOptions): string {
  const family = (version: 4 | 6) => [
    `apply_family ${version === 4 ? "iptables" : "ip6tables"} <<'RAPIDCLAW_RULES'`,
    rulesetFor(resolved, version) + "RAPIDCLAW_RULES",
  ];
  return [
    header(resolved, "confines outbound traffic of the agent users"),
    "",
    "# Names are resolved to uids now: iptables stores uids, and a missing user must stop the install.",
    'AGENT_UIDS=""',
    `for user in ${resolved.users.map(quote).join(" ")}; do`,
    "\tcase $user in",
    '\t*[!0-9]*) uid=$(id -u "$user" 2>/dev/null) || { echo "rapidclaw: agent user \\"$user\\" does not exist; create it or list its numeric uid" >&2; exit 1; } ;;',
    "\t*) uid=$user ;;",
    "\tesac",
    '\tif [ "$uid" = 0 ]; then echo "rapidclaw: agent user \\"$user\\" is root, which could remove the firewall" >&2; exit 1; fi',
    "\t# A name and a number may be the same user: one jump each.",
    '\tcase " $AGENT_UIDS " in *" $uid "*) ;; *) AGENT_UIDS="$AGENT_UIDS $uid" ;; esac',
    "done",
    "",
    SHELL_FUNCTIONS,
    "# Builds $CHAIN from the rules on stdin in one commit (replacing its old rules), then makes",
    "# agent packets jump to it first thing in OUTPUT; an existing jump keeps its place.",
    "apply_family() {",
    '\t"$1-restore" -w --noflush',
    '\tprune_jumps "$1"',
    "\tfor uid in $AGENT_UIDS; do",
    "\t\tcase $JUMPING_UIDS in",
    '\t\t*" $uid "*) ;;',
    '\t\t*) "$1" -w -I OUTPUT 1 -m owner --uid-owner "$uid" -j "$CHAIN" ;;',
    "\t\tesac",
    "\tdone",
    "}",
    "",
    ...family(4),
    "",
    "if ! has_ipv6; then",
    '\techo "rapidclaw: this kernel has no IPv6; only IPv4 is filtered" >&2',
    "\texit 0",
    "fi",
    ...family(6),
    "",
  ].join("\n");
}

function uninstallScript(resolved: ResolvedOptions): string {
  return [
    header(resolved, "removes the rules its apply script added, and nothing else"),
    'AGENT_UIDS=""',
    "",
    SHELL_FUNCTIONS,
    "remove_family() {",
    '\tcommand -v "$1" >/dev/null 2>&1 || return 0',
    '\t"$1" -w -S "$CHAIN" >/dev/null 2>&1 || return 0',
    '\tprune_jumps "$1"',
    '\t"$1" -w -F "$CHAIN"',
    '\t"$1" -w -X "$CHAIN"',
    "}",
    "",
    "remove_family iptables",
    "if has_ipv6; then remove_family ip6tables; fi",
    "",
  ].join("\n");
}

/**
 * Renders the host egress firewall: an apply script that confines only the agent users' packets
 * in OUTPUT (loopback, established, DNS to the listed resolvers, the proxy endpoints and CIDR
 * ports; everything else logged at a limited rate and refused), for IPv4 and IPv6, and an
 * uninstall script. Pure. Throws HostFirewallError when an option is invalid.
 */
export function renderHostFirewall(options: HostFirewallOptions): HostFirewallScripts {
  const resolved = resolveOptions(options);
  return { applyScript: applyScript(resolved), uninstallScript: uninstallScript(resolved) };
}

/** Where the scripts and the boot unit go for these options; throws HostFirewallError when an option is invalid. */
export function hostFirewallInstallFor(options: HostFirewallOptions): HostFirewallInstall {
  return resolveOptions(options).install;
}

/** Where cloud-init installs the firewall on the VM. */
export interface HostFirewallInstall {
  readonly applyPath: string;
  readonly uninstallPath: string;
  /** Name of the systemd unit that re-applies the rules at every boot, e.g. `rapidclaw-egress.service`. */
  readonly unitName: string;
}

/** The paths and unit name for a chain prefix in a directory: `/usr/local/sbin/rapidclaw-egress-apply` … */
export function hostFirewallInstall(namePrefix: string, directory: string): HostFirewallInstall {
  const base = `${namePrefix.toLowerCase()}-egress`;
  const dir = directory.replace(/\/+$/, "");
  return { applyPath: `${dir}/${base}-apply`, uninstallPath: `${dir}/${base}-uninstall`, unitName: `${base}.service` };
}

/**
 * systemd unit that re-applies the rules at boot, before the network comes up: iptables rules
 * do not survive a reboot. Order agent services `After=` and `Requires=` this unit.
 */
export function renderHostFirewallUnit(install: HostFirewallInstall): string {
  return [
    "[Unit]",
    "Description=Rapid Claw egress firewall for AI agent users",
    "DefaultDependencies=no",
    "Before=network-pre.target",
    "Wants=network-pre.target",
    "After=local-fs.target",
    "",
    "[Service]",
    "Type=oneshot",
    "RemainAfterExit=yes",
    `ExecStart=${install.applyPath}`,
    "",
    "[Install]",
    "WantedBy=multi-user.target",
    "",
  ].join("\n");
}

/**
 * A `#cloud-config` document that writes both scripts and the boot unit, applies the rules at
 * once, and enables the unit where systemd exists.
 */
export function renderHostFirewallCloudInit(scripts: HostFirewallScripts, install: HostFirewallInstall): string {
  const file = (path: string, content: string, permissions: string) => ({ path, owner: "root:root", permissions, content });
  const unitPath = `/etc/systemd/system/${install.unitName}`;
  const document = {
    write_files: [
      file(install.applyPath, scripts.applyScript, "0755"),
      file(install.uninstallPath, scripts.uninstallScript, "0755"),
      file(unitPath, renderHostFirewallUnit(install), "0644"),
    ],
    runcmd: [
      [install.applyPath],
      ["sh", "-c", `if command -v systemctl >/dev/null 2>&1; then systemctl daemon-reload && systemctl enable ${install.unitName}; fi`],
    ],
  };
  // yaml is loaded here, not with the library: stacks without a host firewall never need it.
  const { stringify } = require("yaml") as typeof import("yaml");
  return `#cloud-config\n${stringify(document, { lineWidth: 0 })}`;
}
