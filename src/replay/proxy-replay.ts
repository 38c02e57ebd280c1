import type { FirewallEvent } from "../monitoring/events";
import { looksLikeIpLiteral } from "../model/addresses";
import { covers, type HostPattern } from "../model/hosts";
import type { FirewallPlan } from "../plan/plan";
import { PROXY_EVENTS, SQUID_GATEWAY_LOG_ROLE, squidGatewayAllowlist } from "../render/squid-conf";
import type { ReplayedCall } from "./replayed-call";

/**
 * Replays the egress proxy's access log lines against a candidate plan: a request is allowed
 * when its role's listener would allow it, as the rendered squid.conf decides: CONNECT to port
 * 443 (or, with `allowPlainHttp`, plain HTTP to port 80) of a host the role's allowlist covers
 * (a wildcard not its apex), never an IP literal, with a TLS server name (when the line has one)
 * that the same pattern covers. Under the candidate's audit mode a role's request to a host its
 * allowlist does not cover passes (`would_block`). Addresses are not in the lines,
 * so a listed host that resolves into a forbidden range is replayed as allowed.
 */
export class ProxyReplay {
  private readonly allowlists: ReadonlyMap<string, ReadonlyArray<HostPattern>>;

  constructor(private readonly candidate: FirewallPlan) {
    const upstreams = candidate.tools.flatMap((tool) => (tool.upstream === undefined ? [] : [tool.upstream]));
    this.allowlists = new Map<string, ReadonlyArray<HostPattern>>([
      ...candidate.roles.map((role) => [role.name, role.proxyAllowlist] as const),
      ...(candidate.gateway === undefined ? [] : [[SQUID_GATEWAY_LOG_ROLE, squidGatewayAllowlist(upstreams)] as const]),
    ]);
  }

  /** Whether `event` is a proxy decision line a replay reads. */
  static records(event: FirewallEvent): boolean {
    return event.source === "proxy" && Object.values(PROXY_EVENTS).includes(event.eventType as never);
  }

  replay(event: FirewallEvent): ReplayedCall {
    if (event.role === null) return { replayed: false, reason: "proxy line names no role" };
    if (event.host === null) return { replayed: false, reason: "proxy line has no readable host" };
    // A line shadow mode let through (would_block) was allowed.
    const wasAllowed = event.eventType !== PROXY_EVENTS.blocked;
    const allowlist = this.allowlists.get(event.role);
    return { replayed: true, wasAllowed, isAllowed: allowlist !== undefined && this.allows(allowlist, event), layer: "host", approximate: false };
  }

  private allows(allowlist: ReadonlyArray<HostPattern>, event: FirewallEvent): boolean {
    const host = decodeHost(event.host as string);
    if (host === undefined || looksLikeIpLiteral(host)) return false;
    const port = Number(event.details.port);
    const connect = event.details.method === "CONNECT";
    if (connect ? port !== 443 : !(this.candidate.proxy.allowPlainHttp && port === 80 && event.role !== SQUID_GATEWAY_LOG_ROLE)) return false;
    const listed = allowlist.filter((pattern) => covers(pattern, { wildcard: false, domain: host }));
    // Audit lets a host the allowlist does not cover through, on the roles' listeners only.
    if (listed.length === 0) return this.candidate.proxy.audit && event.role !== SQUID_GATEWAY_LOG_ROLE;
    // A listed host's TLS server name must be covered by the same pattern; none when the line was decided before the ClientHello.
    const sni = typeof event.sni === "string" ? decodeHost(event.sni) : undefined;
    if (!connect || sni === undefined) return true;
    return !looksLikeIpLiteral(sni) && listed.some((pattern) => covers(pattern, { wildcard: false, domain: sni }));
  }
}

/** The host as Squid matched it: URL-decoded (the log escapes it), lower case, without a trailing dot. */
function decodeHost(logged: string): string | undefined {
  try {
    return decodeURIComponent(logged).toLowerCase().replace(/\.$/, "");
  } catch {
    return undefined;
  }
}
