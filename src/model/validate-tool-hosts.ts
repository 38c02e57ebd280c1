import { covers, hostPatternText, parseHostPattern, type HostPattern } from "./hosts";
import { closest } from "./suggest";
import { redisUrlProblem, upstreamProblem } from "./validate-gateway";

type Add = (path: ReadonlyArray<PropertyKey>, message: string) => void;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

/** Valid host patterns of a list, with their index. */
function patterns(value: unknown): [HostPattern, number][] {
  return list(value).flatMap((text, i) => {
    const parsed = typeof text === "string" ? parseHostPattern(text) : undefined;
    return parsed !== undefined && typeof parsed !== "string" ? [[parsed, i] as [HostPattern, number]] : [];
  });
}

/** Upstream host of each tool fronted by the gateway (valid upstreams only), to the tools behind it. */
export function gatewayFrontedHosts(tools: unknown): Map<string, string[]> {
  const hosts = new Map<string, string[]>();
  for (const [name, tool] of Object.entries(isRecord(tools) ? tools : {})) {
    if (!isRecord(tool) || typeof tool.upstream !== "string" || upstreamProblem(tool.upstream) !== undefined) continue;
    const host = new URL(tool.upstream).hostname.toLowerCase().replace(/\.$/, "");
    hosts.set(host, [...(hosts.get(host) ?? []), name]);
  }
  return hosts;
}

const toolsText = (tools: string[]) => `${tools.length === 1 ? "tool" : "tools"} ${tools.map((t) => `"${t}"`).join(", ")}`;

/**
 * Cross-layer rule: a host the gateway fronts is reached through the gateway, never directly.
 * A model host or a role's allowed host that covers it would let agents call the tool's host
 * through the proxy, past the gateway's permission check, rate limit and key custody; refused
 * unless the role acknowledges that host in `network.directToolHosts` with a reason. A `noProxy`
 * entry naming such a host (agents bypass the proxy too) is refused outright, and so is any way
 * through the proxy to the gateway's own Redis.
 */
export function checkGatewayFrontedHosts(input: Record<string, unknown>, add: Add): void {
  const fronted = gatewayFrontedHosts(input.tools);
  const roles = Object.entries(isRecord(input.roles) ? input.roles : {}).filter((entry): entry is [string, Record<string, unknown>] => isRecord(entry[1]));
  const networkOf = (role: Record<string, unknown>) => (isRecord(role.network) ? role.network : {});
  const acknowledged = new Map(roles.map(([name, role]) => [name, new Set(list(networkOf(role).directToolHosts).flatMap((e) => (isRecord(e) && typeof e.host === "string" ? [e.host.toLowerCase()] : [])))]));
  const reached = new Map(roles.map(([name]) => [name, new Set<string>()]));
  const hostsCoveredBy = (pattern: HostPattern) => [...fronted.keys()].filter((host) => covers(pattern, { wildcard: false, domain: host }));

  for (const [pattern, i] of patterns(input.modelHosts)) {
    for (const host of hostsCoveredBy(pattern)) {
      const missing = roles.filter(([name]) => !acknowledged.get(name)?.has(host)).map(([name]) => name);
      for (const [name] of roles) reached.get(name)?.add(host);
      if (missing.length === 0) continue;
      add(["modelHosts", i], `"${hostPatternText(pattern)}" lets every agent reach ${host} directly, past the tool gateway that fronts ${toolsText(fronted.get(host) ?? [])} (its permission check, rate limit and key custody); ${pattern.wildcard ? "narrow the wildcard or " : ""}remove it and call the model through the gateway (the tool's base URL), or acknowledge it in roles.<role>.network.directToolHosts: [{ host: "${host}", reason: "…" }] of ${missing.join(", ")}`);
    }
  }
  for (const [name, role] of roles) {
    const network = networkOf(role);
    if (network.allowEgress === true) {
      for (const [pattern, i] of patterns(network.allowedHosts)) {
        for (const host of hostsCoveredBy(pattern)) {
          reached.get(name)?.add(host);
          if (acknowledged.get(name)?.has(host)) continue;
          add(["roles", name, "network", "allowedHosts", i], `"${hostPatternText(pattern)}" ${pattern.wildcard ? "covers" : "is"} ${host}, which the tool gateway fronts for ${toolsText(fronted.get(host) ?? [])}: role ${name}'s agents could call it directly, past the gateway's permission check, rate limit and key custody; ${pattern.wildcard ? "narrow the wildcard to the hosts the role needs" : "remove it (agents reach the tool at the gateway)"}, or add roles.${name}.network.directToolHosts: [{ host: "${host}", reason: "…" }]`);
        }
      }
    }
    const seen = new Set<string>();
    list(network.directToolHosts).forEach((entry, j) => {
      if (!isRecord(entry) || typeof entry.host !== "string") return;
      const path = ["roles", name, "network", "directToolHosts", j];
      const host = entry.host.toLowerCase();
      if (typeof entry.reason === "string" && entry.reason.trim() === "") add([...path, "reason"], "reason is empty; say why the role must reach this host past the gateway");
      if (seen.has(host)) { add([...path, "host"], `"${entry.host}" is acknowledged twice; keep one entry`); return; }
      seen.add(host);
      if (!fronted.has(host)) {
        const guess = closest(host, fronted.keys());
        add([...path, "host"], `"${entry.host}" is not the upstream host of any tool, so there is nothing to acknowledge; ${guess ? `did you mean "${guess}"?` : "remove the entry"}`);
      } else if (!reached.get(name)?.has(host)) {
        add([...path, "host"], `role ${name} does not reach ${host} through modelHosts or allowedHosts, so the acknowledgement is unused; remove it`);
      }
    });
  }
  checkGatewayRedisHost(input, add);
  const noProxy = isRecord(input.proxy) ? input.proxy.noProxy : undefined;
  list(noProxy).forEach((entry, i) => {
    if (typeof entry !== "string") return;
    const host = entry.toLowerCase().replace(/\.$/, "");
    const tools = fronted.get(host);
    if (tools) add(["proxy", "noProxy", i], `"${entry}" is the upstream host of ${toolsText(tools)}, fronted by the tool gateway: agents would connect to it directly, past the proxy and the gateway; remove it (agents reach the tool at the gateway, which is in NO_PROXY already)`);
  });
}

/**
 * The host of an existing Redis the gateway keeps its rate-limit windows in, when the proxy would
 * let agents connect to it (its port is 443, or 80 with plain HTTP allowed).
 */
function proxyReachableRedisHost(input: Record<string, unknown>): string | undefined {
  const redis = isRecord(input.gateway) && isRecord(input.gateway.redis) ? input.gateway.redis : undefined;
  if (typeof redis?.url !== "string" || redisUrlProblem(redis.url) !== undefined) return undefined;
  const url = new URL(redis.url);
  const plainHttp = isRecord(input.proxy) && input.proxy.allowPlainHttp === true;
  return url.port === "443" || (url.port === "80" && plainHttp) ? url.hostname.toLowerCase().replace(/\.$/, "") : undefined;
}

/** No host pattern or NO_PROXY entry may let agents reach the gateway's Redis: its windows are the rate limits. */
function checkGatewayRedisHost(input: Record<string, unknown>, add: Add): void {
  const host = proxyReachableRedisHost(input);
  if (host === undefined) return;
  const refuse = (path: PropertyKey[], text: string) => add(path, `"${text}" lets agents reach ${host}, the gateway's Redis (gateway.redis.url), where the rate-limit windows are: an agent could fill or clear them; remove it${text.startsWith("*.") ? " or narrow the wildcard" : ""}, or move Redis off the proxy's ports`);
  const check = (value: unknown, path: PropertyKey[]) => {
    for (const [pattern, i] of patterns(value)) if (covers(pattern, { wildcard: false, domain: host })) refuse([...path, i], hostPatternText(pattern));
  };
  check(input.modelHosts, ["modelHosts"]);
  for (const [name, role] of Object.entries(isRecord(input.roles) ? input.roles : {})) {
    if (isRecord(role) && isRecord(role.network) && role.network.allowEgress === true) check(role.network.allowedHosts, ["roles", name, "network", "allowedHosts"]);
  }
  list(isRecord(input.proxy) ? input.proxy.noProxy : undefined).forEach((entry, i) => {
    if (typeof entry === "string" && entry.toLowerCase().replace(/\.$/, "") === host) refuse(["proxy", "noProxy", i], entry);
  });
}
