import type { Network } from "../../model/addresses";
import { HostFirewallAction, type HostFirewallOptions } from "../../model/host-firewall-types";
import { resolveHostFirewallOptions, type ResolvedHostFirewall } from "../../model/validate-host-firewall";

/** The firewall's own chain for one IP version, from validated options, as `iptables-restore --noflush` input. */
export function hostFirewallRuleset(resolved: ResolvedHostFirewall, version: 4 | 6): string {
  const { chain } = resolved;
  const ofVersion = <T extends { network: Network }>(items: ReadonlyArray<T>) => items.filter((item) => item.network.version === version);
  const rules: string[] = [];
  const rule = (match: string, target: string) => rules.push([`-A ${chain}`, match, target].filter((part) => part !== "").join(" "));
  const allow = (match: string) => rule(match, "-j RETURN");
  const icmpRefusal = `-j REJECT --reject-with ${version === 4 ? "icmp-admin-prohibited" : "icmp6-adm-prohibited"}`;
  /** Logs at the limited rate, then refuses; `protocol` is the one the match already names, if any. */
  const refuse = (match: string, protocol?: "tcp" | "udp") => {
    rule(match, `-m limit --limit ${resolved.logRatePerMinute}/minute --limit-burst ${resolved.logBurst} -j LOG --log-prefix "${resolved.logPrefix}" --log-level 4 --log-uid`);
    if (resolved.action === HostFirewallAction.DROP) rule(match, "-j DROP");
    else if (protocol === "tcp") rule(match, "-j REJECT --reject-with tcp-reset");
    else if (protocol === "udp") rule(match, icmpRefusal);
    else {
      rule([match, "-p tcp"].filter((part) => part !== "").join(" "), "-j REJECT --reject-with tcp-reset");
      rule(match, icmpRefusal);
    }
  };
  // Reserved endpoints first, so that nothing below (loopback, a proxy endpoint) lets another
  // user in. iptables resolves user names here; the apply script has checked that they exist.
  for (const endpoint of resolved.reserved.filter((r) => r.loopback || r.network.version === version)) {
    // Packets to any local address leave through lo.
    const match = `${endpoint.loopback ? "-o lo" : `-d ${endpoint.network.text}`} -p tcp -m tcp --dport ${endpoint.port}`;
    for (const user of endpoint.users) allow(`${match} -m owner --uid-owner ${user}`);
    refuse(match, "tcp");
  }
  // A resolver on loopback (systemd-resolved, dnsmasq) recurses like any other: closed unless the agents opt in to DNS.
  if (resolved.allowLoopback && resolved.dnsReason === undefined) {
    for (const protocol of ["udp", "tcp"] as const) refuse(`-o lo -p ${protocol} -m ${protocol} --dport 53`, protocol);
  }
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
  refuse("");
  // With --noflush, declaring an existing user chain flushes it: the chain is replaced in one commit.
  return ["*filter", `:${chain} - [0:0]`, ...rules, "COMMIT", ""].join("\n");
}

/**
 * The firewall's own chain as `iptables-restore --noflush` input (`ip6tables-restore` for
 * version 6). It holds no user match: only agent packets jump to it.
 */
export function renderHostFirewallRuleset(options: HostFirewallOptions, version: 4 | 6): string {
  return hostFirewallRuleset(resolveHostFirewallOptions(options), version);
}
