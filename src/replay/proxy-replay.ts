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
 * (a wildcard not its apex), never an IP literal. Addresses are not in the lines, so a listed
 * host that resolves into a forbidden range is replayed as allowed.
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
    return event.source === "proxy" && (event.eventType === PROXY_EVENTS.allowed || event.eventType === PROXY_EVENTS.blocked);
  }

  replay(event: FirewallEvent): ReplayedCall {
    if (event.role === null) return { replayed: false, reason: "proxy line names no role" };
    if (event.host === null) return { replayed: false, reason: "proxy line has no readable host" };
    const wasAllowed = event.eventType === PROXY_EVENTS.allowed;
    const allowlist = this.allowlists.get(event.role);
    return { replayed: true, wasAllowed, isAllowed: allowlist !== undefined && this.allows(allowlist, event), layer: "host", approximate: false };
  }

  private allows(allowlist: ReadonlyArray<HostPattern>, event: FirewallEvent): boolean {
    const host = decodeHost(event.host as string);
    if (host === undefined || looksLikeIpLiteral(host)) return false;
    const port = Number(event.details.port);
    const connect = event.details.method === "CONNECT";
    if (connect ? port !== 443 : !(this.candidate.proxy.allowPlainHttp && port === 80 && event.role !== SQUID_GATEWAY_LOG_ROLE)) return false;
    return allowlist.some((pattern) => covers(pattern, { wildcard: false, domain: host }));
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
