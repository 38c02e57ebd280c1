/**
 * The channels `rapidclaw probe` tries from inside a role, and what each must do: the allowed host
 * through the role's own proxy must pass; every other way out must be closed. Pure: the plan and
 * the targets in, the attempts out (src/probe/attempts.ts makes them).
 */
import { hostPatternText } from "../model/hosts";
import { AgentPlatform } from "../model/types";
import type { FirewallPlan, PlannedRole } from "../plan/plan";
import { squidGatewayListenerForPlan } from "../render/squid-conf";
import { ProbeTargetError, type Endpoint, type ProbeTargets } from "./probe-targets";

/** One try at a way out. */
export type Attempt =
  /** Open when the TCP handshake completes. */
  | { readonly kind: "tcp"; readonly target: Endpoint }
  /** Open when the proxy answers the CONNECT with 200 and, with `serverName`, the far end answers a TLS ClientHello for that name. */
  | { readonly kind: "proxy-connect"; readonly proxy: Endpoint; readonly target: Endpoint; readonly serverName?: string }
  /** Open when the proxy forwards (answers anything but 403 or 407). */
  | { readonly kind: "proxy-http"; readonly proxy: Endpoint; readonly url: string }
  /** Open when the server answers 200 (a direct request, no proxy). */
  | { readonly kind: "http"; readonly url: string }
  /** Open when a resolver resolves `name` or, failing that, `knownName` (a name that exists): it recurses, so the query left. */
  | { readonly kind: "dns"; readonly name: string; readonly knownName: string };

/** What a channel must be. */
export type Expectation = "open" | "closed";

/** A channel: tried (`attempt`) or not (`skipped` says why). */
export interface ProbeChannel {
  /** Stable id, `<channel>` or `<channel>/<target>`, for `--json` readers. */
  readonly id: string;
  /** What is tried, in words. */
  readonly what: string;
  readonly expect: Expectation;
  readonly attempt?: Attempt;
  readonly skipped?: string;
}

/** Names no allowlist lists: the first one the role does not allow is the unlisted host. */
const UNLISTED_CANDIDATES = ["example.com", "example.net", "example.org"];
/** Public resolvers' addresses: no allowlist lists an IP literal. */
const PUBLIC_V4 = "1.1.1.1";
const PUBLIC_V6 = "2606:4700:4700::1111";
/** Cloud metadata: AWS, GCP, Azure (IPv4) and AWS's IPv6 address. */
const METADATA_V4 = "169.254.169.254";
const METADATA_V6 = "fd00:ec2::254";
const PRIVATE_ADDRESS = "10.0.0.1";
/** A name that exists on the internet: a resolver that resolves it recurses. */
const KNOWN_NAME = "example.com";

const hostLiteral = (host: string) => (host.includes(":") ? `[${host}]` : host);

/** Exact hosts of an allowlist (wildcards cannot be named), in the allowlist's order. */
function exactHosts(role: PlannedRole): string[] {
  return role.proxyAllowlist.filter((p) => !p.wildcard).map(hostPatternText);
}

/** Whether `host` is allowed by the role's allowlist (exact or below a wildcard). */
function allows(role: PlannedRole, host: string): boolean {
  return role.proxyAllowlist.some((p) => (p.wildcard ? host.endsWith(`.${p.domain}`) : host === p.domain));
}

/** Docker, probing from the role's own network: the proxy address is the role's. */
function onRoleNetwork(plan: FirewallPlan, role: PlannedRole, targets: ProbeTargets): boolean {
  return plan.platform === AgentPlatform.DOCKER && role.docker?.proxyAddress === targets.proxy.host;
}

/**
 * Another role's proxy listener: on its own address on Docker (reached from the role's network),
 * otherwise the role's proxy host with the other role's port (Kubernetes: one Service, a port per role).
 */
function otherProxy(plan: FirewallPlan, role: PlannedRole, other: PlannedRole, targets: ProbeTargets): Endpoint | string {
  if (onRoleNetwork(plan, role, targets)) return { host: other.docker!.proxyAddress, port: other.proxyPort };
  if (other.proxyPort !== targets.proxy.port) return { host: targets.proxy.host, port: other.proxyPort };
  return `${other.name}'s listener shares this proxy's port on an address of its own Docker network; probe from that network`;
}

/** Another role's gateway listener: its own URL, or on the role's gateway host when both are one Service. */
function otherGateway(plan: FirewallPlan, role: PlannedRole, other: PlannedRole, targets: ProbeTargets): Endpoint | string {
  const listeners = plan.gateway?.roles ?? [];
  const own = listeners.find((l) => l.role === role.name);
  const theirs = listeners.find((l) => l.role === other.name);
  if (theirs === undefined || own === undefined) return "no tool gateway";
  const url = new URL(theirs.url);
  if (url.hostname === new URL(own.url).hostname && targets.gateway !== undefined) return { host: targets.gateway.host, port: Number(url.port) };
  return { host: url.hostname, port: Number(url.port) };
}

/** The host's addresses: as given, else on Docker the role network's gateway address. */
function hostAddresses(plan: FirewallPlan, role: PlannedRole, targets: ProbeTargets): string[] | string {
  if (targets.hostAddresses.length > 0) return [...targets.hostAddresses];
  if (onRoleNetwork(plan, role, targets)) return [role.docker!.gateway];
  return "the host's address is not known here; give --host-address (the node's or the VM's address)";
}

const tried = (id: string, what: string, expect: Expectation, attempt: Attempt): ProbeChannel => ({ id, what, expect, attempt });
const skip = (id: string, what: string, expect: Expectation, why: string): ProbeChannel => ({ id, what, expect, skipped: why });
const either = (id: string, what: string, target: Endpoint | string, attempt: (t: Endpoint) => Attempt): ProbeChannel =>
  typeof target === "string" ? skip(id, what, "closed", target) : tried(id, what, "closed", attempt(target));

/**
 * Every channel of `roleName`, in a fixed order: the allowed host (open), then each way out that
 * must be closed. A channel that cannot be tried here is skipped with the reason.
 * @throws ProbeTargetError naming the roles when `roleName` is not one.
 */
export function probeChannels(plan: FirewallPlan, roleName: string, targets: ProbeTargets): ProbeChannel[] {
  const role = plan.roles.find((r) => r.name === roleName);
  if (role === undefined) throw new ProbeTargetError(`no role "${roleName}" in the description; roles: ${plan.roles.map((r) => r.name).join(", ")}`);
  const others = plan.roles.filter((r) => r !== role);
  const proxy = targets.proxy;
  const probeName = `rapidclaw-probe-${targets.nonce}.example.com`;
  const allowed = exactHosts(role)[0];
  const unlisted = UNLISTED_CANDIDATES.find((h) => !allows(role, h)) ?? `rapidclaw-probe-${targets.nonce}.invalid`;
  const channels: ProbeChannel[] = [];

  channels.push(allowed === undefined
    ? skip("allowed-host", "an allowed host through the role's proxy", "open", "the role allows wildcards only: no exact host to try")
    : tried("allowed-host", `CONNECT ${allowed}:443 through the role's proxy, TLS for ${allowed}`, "open", { kind: "proxy-connect", proxy, target: { host: allowed, port: 443 }, serverName: allowed }));
  channels.push(tried("unlisted-host", `CONNECT ${unlisted}:443 (not in the role's list)`, "closed", { kind: "proxy-connect", proxy, target: { host: unlisted, port: 443 } }));
  for (const other of others) {
    const host = exactHosts(other).find((h) => !allows(role, h));
    const id = `other-role-host/${other.name}`;
    channels.push(host === undefined
      ? skip(id, `a host only ${other.name} may reach`, "closed", `${other.name} allows no exact host this role does not`)
      : tried(id, `CONNECT ${host}:443 (${other.name}'s host)`, "closed", { kind: "proxy-connect", proxy, target: { host, port: 443 } }));
  }
  channels.push(
    tried("proxy-ipv4-literal", `CONNECT ${PUBLIC_V4}:443 through the proxy`, "closed", { kind: "proxy-connect", proxy, target: { host: PUBLIC_V4, port: 443 } }),
    tried("proxy-ipv6-literal", `CONNECT [${PUBLIC_V6}]:443 through the proxy`, "closed", { kind: "proxy-connect", proxy, target: { host: PUBLIC_V6, port: 443 } }),
    tried("direct-ipv4", `TCP to ${PUBLIC_V4}:443, bypassing the proxy`, "closed", { kind: "tcp", target: { host: PUBLIC_V4, port: 443 } }),
    tried("direct-ipv6", `TCP to [${PUBLIC_V6}]:443, bypassing the proxy`, "closed", { kind: "tcp", target: { host: PUBLIC_V6, port: 443 } }),
    tried("metadata-direct", `TCP to ${METADATA_V4}:80 (cloud metadata)`, "closed", { kind: "tcp", target: { host: METADATA_V4, port: 80 } }),
    tried("metadata-direct-ipv6", `TCP to [${METADATA_V6}]:80 (AWS metadata over IPv6)`, "closed", { kind: "tcp", target: { host: METADATA_V6, port: 80 } }),
    tried("metadata-via-proxy", `GET http://${METADATA_V4}/latest/meta-data/ through the proxy`, "closed", { kind: "proxy-http", proxy, url: `http://${METADATA_V4}/latest/meta-data/` }),
    tried("private-range", `CONNECT ${PRIVATE_ADDRESS}:443 through the proxy (a private range)`, "closed", { kind: "proxy-connect", proxy, target: { host: PRIVATE_ADDRESS, port: 443 } }),
  );
  const plainHost = allowed ?? unlisted;
  channels.push(tried("plain-http", `GET http://${plainHost}/ through the proxy (plain HTTP${plan.proxy.allowPlainHttp ? ", allowed by proxy.allowPlainHttp" : ""})`, plan.proxy.allowPlainHttp && allowed !== undefined ? "open" : "closed", { kind: "proxy-http", proxy, url: `http://${plainHost}/` }));
  channels.push(tried("dns-tunnel", `resolve ${probeName} (a DNS query carries data to the name's authority)`, "closed", { kind: "dns", name: probeName, knownName: KNOWN_NAME }));
  channels.push(allowed === undefined
    ? skip("sni-mismatch", "another TLS name inside an allowed CONNECT", "closed", "no exact allowed host to CONNECT to")
    : tried("sni-mismatch", `CONNECT ${allowed}:443, TLS for ${probeName} (domain fronting)`, "closed", { kind: "proxy-connect", proxy, target: { host: allowed, port: 443 }, serverName: probeName }));
  for (const other of others) {
    channels.push(either(`other-role-proxy/${other.name}`, `${other.name}'s proxy listener`, otherProxy(plan, role, other, targets), (target) => ({ kind: "tcp", target })));
    channels.push(either(`other-role-gateway/${other.name}`, `${other.name}'s gateway listener`, otherGateway(plan, role, other, targets), (target) => ({ kind: "tcp", target })));
  }
  const gatewayListener = squidGatewayListenerForPlan(plan);
  channels.push(gatewayListener === undefined
    ? skip("gateway-proxy-listener", "the proxy's listener for the tool gateway", "closed", "the proxy has no listener for a tool gateway")
    : tried("gateway-proxy-listener", "the proxy's listener for the tool gateway (the upstreams' allowlist)", "closed", { kind: "tcp", target: { host: gatewayListener.listenAddress ?? targets.proxy.host, port: gatewayListener.port } }));
  const redis = plan.gateway?.redis.url;
  channels.push(redis === undefined
    ? skip("redis", "the gateway's Redis", "closed", "no tool gateway")
    : either("redis", `the gateway's Redis (${new URL(redis).host})`, { host: new URL(redis).hostname.replace(/^\[(.*)\]$/, "$1"), port: Number(new URL(redis).port || 6379) }, (target) => ({ kind: "tcp", target })));
  const keyed = plan.tools.filter((t) => t.key !== undefined);
  const vault = targets.vaultAddress?.replace(/\/$/, "");
  if (vault === undefined) channels.push(skip("vault", "Vault's key paths", "closed", "Vault's address is not known; set VAULT_ADDR or give --vault-address"));
  else if (keyed.length === 0) channels.push(skip("vault", "Vault's key paths", "closed", "no tool has a key"));
  for (const tool of vault === undefined ? [] : keyed) {
    const url = `${vault}/v1/${plan.vault.mountPath}/data/${tool.key!.secretName}`;
    channels.push(tried(`vault/${tool.name}`, `GET ${url} (${tool.name}'s key)`, "closed", { kind: "http", url }));
  }
  const hosts = hostAddresses(plan, role, targets);
  if (typeof hosts === "string") channels.push(skip("host", "the host's services", "closed", hosts));
  for (const address of typeof hosts === "string" ? [] : hosts) {
    for (const port of targets.hostPorts) channels.push(tried(`host/${hostLiteral(address)}:${port}`, `TCP to the host at ${hostLiteral(address)}:${port}`, "closed", { kind: "tcp", target: { host: address, port } }));
  }
  return channels;
}
