/**
 * Agents resolve nothing unless a role (or a VM's host firewall) opts in with a reason: a resolver
 * that recurses carries data out in the names it is asked for (DNS tunnelling), whatever the proxy
 * allows. These are the opt-in's checks and the warning synthesis prints.
 */

/**
 * The resolver of agents that resolve nothing (Kubernetes `dnsPolicy: None` must list one; Docker
 * agents get it as their `dns`, the upstream of the engine's embedded resolver): the agent's own
 * loopback. Nothing answers there, so a lookup fails at once instead of timing out, and a query
 * sent there never leaves the agent: even a resolver the agent started itself has no way out.
 * Docker forwards a user-given loopback resolver from the container's namespace (only the host's
 * own loopback resolvers are reached from the host's), which the Docker e2e suite checks on an
 * engine before 26 (CVE-2024-29018).
 */
export const UNREACHABLE_RESOLVER = "127.0.0.1";

const MIN_REASON = 10;
const MAX_REASON = 200;

/** Why a DNS opt-in reason is refused, or undefined when it is usable. */
export function dnsReasonProblem(reason: string): string | undefined {
  const trimmed = reason.trim();
  if (/[\u0000-\u001f\u007f]/.test(reason)) return "the reason must be one line of text, without control characters";
  if (trimmed.length < MIN_REASON || trimmed.length > MAX_REASON) {
    return `the reason must be ${MIN_REASON} to ${MAX_REASON} characters (it says why agents need a resolver that can carry data out, e.g. "the vendor SDK resolves its license server")`;
  }
  return undefined;
}

/** The warning for an opt-in: who may query what, what that opens, and the reason given. */
export function dnsOptInWarning(who: string, resolvers: string, reason: string): string {
  return `${who} may query DNS (${resolvers}): a resolver that recurses carries data out in the names it is asked for ` +
    `(DNS tunnelling), past the proxy's allowlist and its log. Reason given: "${reason.trim()}". Remove the opt-in unless that is worth it.`;
}
