import type { HostFirewallOptions } from "../../model/host-firewall-types";
import { resolveHostFirewallOptions, type ResolvedHostFirewall } from "../../model/validate-host-firewall";
import { hostFirewallRuleset } from "./ruleset";

/** The two scripts: POSIX sh, run as root. */
export interface HostFirewallScripts {
  /** Installs or updates the firewall; running it again changes nothing. */
  readonly applyScript: string;
  /** Removes exactly what the apply script added; succeeds when nothing is installed. */
  readonly uninstallScript: string;
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

function header(resolved: ResolvedHostFirewall, purpose: string): string {
  return [
    "#!/bin/sh",
    `# Rapid Claw host egress firewall: ${purpose}`,
    "# Generated from the firewall options: do not edit by hand.",
    "set -eu",
    "",
    `CHAIN=${resolved.chain}`,
  ].join("\n");
}

function applyScript(resolved: ResolvedHostFirewall): string {
  const family = (version: 4 | 6) => [
    `apply_family ${version === 4 ? "iptables" : "ip6tables"} <<'RAPIDCLAW_RULES'`,
    hostFirewallRuleset(resolved, version) + "RAPIDCLAW_RULES",
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

function uninstallScript(resolved: ResolvedHostFirewall): string {
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
 * in OUTPUT (reserved endpoints for their users only; then loopback, established, DNS to the
 * listed resolvers, the proxy endpoints and CIDR ports; everything else logged at a limited rate
 * and refused), for IPv4 and IPv6, and an
 * uninstall script. Pure. Throws HostFirewallError when an option is invalid.
 */
export function renderHostFirewall(options: HostFirewallOptions): HostFirewallScripts {
  const resolved = resolveHostFirewallOptions(options);
  return { applyScript: applyScript(resolved), uninstallScript: uninstallScript(resolved) };
}

/** The host egress firewall's scripts. */
export class HostFirewall {
  /**
   * The apply and uninstall scripts (see `HostEgressFirewall`). Throws when an option is invalid,
   * listing every problem by its path.
   */
  public static render(options: HostFirewallOptions): HostFirewallScripts {
    return renderHostFirewall(options);
  }

  private constructor() {}
}
