import type { EgressCidrProps } from "./types";

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

/**
 * A TCP endpoint that only some of the confined users may connect to, such as one role's gateway
 * listener on loopback: every other confined user is refused (and logged), whatever else allows it.
 */
export interface HostFirewallReservedEndpoint extends HostFirewallEndpoint {
  /**
   * The users that may connect: user names or numeric uids, at least one, never `root`. They are
   * confined like `users` (listing them there too is allowed).
   */
  readonly users: string[];
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
   * DNS resolvers (IPv4 or IPv6 addresses) the agents may query on UDP and TCP port 53; needs
   * `dnsReason`. A resolver that recurses carries data out in the names it is asked for (DNS
   * tunnelling), so agents should reach the proxy by address and resolve nothing.
   * @default [] - no DNS
   */
  readonly dnsResolvers?: string[];
  /**
   * Why the agent users need DNS: the opt-in to `dnsResolvers` and to a resolver on loopback
   * (port 53 of 127.0.0.0/8 and ::1, such as systemd-resolved's 127.0.0.53, which
   * `allowLoopback` otherwise leaves closed). One line, 10 to 200 characters; synthesis
   * prints a warning that repeats it.
   * @default - no DNS: port 53 is refused everywhere, loopback included
   */
  readonly dnsReason?: string;
  /**
   * Egress proxy endpoints the agents may connect to over TCP.
   * @default []
   */
  readonly proxyEndpoints?: HostFirewallEndpoint[];
  /**
   * Endpoints reserved for some of the users, checked before everything else: for bare VMs that
   * run the tool gateway, each role's listener reserved for that role's agent users (a role is
   * told by the port it reached), and Redis for the gateway's own user.
   * @default []
   */
  readonly reservedEndpoints?: HostFirewallReservedEndpoint[];
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

/** Defaults of `HostFirewallOptions`. */
export const HOST_FIREWALL_DEFAULTS = {
  namePrefix: "RAPIDCLAW",
  logPrefix: "rapidclaw-blocked: ",
  logRatePerMinute: 10,
  logBurst: 5,
  action: HostFirewallAction.REJECT,
  allowLoopback: true,
  scriptDirectory: "/usr/local/sbin",
} as const;
