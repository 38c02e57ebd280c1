import { parseHostPattern, type HostPattern } from "../model/hosts";
import { byString } from "../model/order";
import { DEFAULTS } from "../model/defaults";
import type { FirewallPlan } from "../plan/plan";
import { FORBIDDEN_DESTINATIONS } from "../model/forbidden-destinations";
import { SQUID_SNI_HELPER_PATH, SQUID_TLS_FILES } from "./squid-tls";

/** One role as the proxy sees it. */
export interface SquidRole {
  /** Role name, written to the log. */
  readonly name: string;
  /** Name safe for ACL and port names. */
  readonly resourceName: string;
  /** Normalised allowlist (no entry covers another). */
  readonly allowlist: HostPattern[];
  /** The role's listening port: a request is the role's when it arrived on this listener. */
  readonly port: number;
  /**
   * Docker: the proxy's address on the role's own network; the listener binds it alone, so only
   * agents on that network reach it. @default - `listenAddress`
   */
  readonly listenAddress?: string;
}

/**
 * The tool gateway's own listener: it reaches its tools' upstreams through the proxy like an
 * agent role, with an allowlist of exactly those hosts (CONNECT to port 443 only, never plain
 * HTTP). Its port is named `tool_gateway` and its log lines carry the role `@gateway`, neither of
 * which a role's name can be.
 */
export interface SquidGatewayListener {
  /** Normalised allowlist: the hosts of the tools' upstreams. */
  readonly allowlist: HostPattern[];
  /** The listener's port. */
  readonly port: number;
  /** Address the listener binds. @default - `SquidConfInput.listenAddress` */
  readonly listenAddress?: string;
}

/** Name of the gateway's Squid port; role ports are named after resource names, which have no `_`. */
export const SQUID_GATEWAY_PORT_NAME = "tool_gateway";
/** Role written to the proxy's log for the gateway's requests. */
export const SQUID_GATEWAY_LOG_ROLE = "@gateway";

/**
 * The gateway listener's allowlist: the host of each upstream URL (validated ones: one exact host
 * each), once, sorted. The listener allows port 443 only, so an upstream on another port is refused.
 */
export function squidGatewayAllowlist(upstreams: ReadonlyArray<string>): HostPattern[] {
  const hosts = [...new Set(upstreams.map((upstream) => new URL(upstream).hostname))].sort(byString);
  return hosts.map((host) => {
    const pattern = parseHostPattern(host);
    if (typeof pattern === "string") throw new Error(`upstream host ${host}: ${pattern}`);
    return pattern;
  });
}

/** Everything squid.conf is rendered from (`renderSquidConf`). */
export interface SquidConfInput {
  /** The roles, each with its listener and allowlist. */
  readonly roles: SquidRole[];
  /** A listener for the tool gateway's way out. @default - none */
  readonly gateway?: SquidGatewayListener;
  /** Also allow plain HTTP (port 80) to the listed hosts. */
  readonly allowPlainHttp: boolean;
  /** Address of the listeners of roles without their own (tests bind 127.0.0.1). @default - all addresses */
  readonly listenAddress?: string;
  /** A hosts file Squid resolves from before DNS. @default - none */
  readonly hostsFile?: string;
  /** Where the access log goes. @default "stdio:/dev/stdout" */
  readonly accessLog?: string;
  /** Where the cache log goes. @default "stdio:/dev/stderr" */
  readonly cacheLog?: string;
  /** A file every access log line is also written to, for `rapidclaw proxy-events`. @default - none */
  readonly eventLog?: string;
  /**
   * Ranges refused on the resolved address, so that an allowed name pointing inside (DNS
   * rebinding, metadata endpoint) is still refused. @default FORBIDDEN_DESTINATIONS
   */
  readonly forbiddenDestinations?: string[];
  /** `client_ip_max_connections`. @default - the plan default */
  readonly maxConnectionsPerClient?: number;
  /** `request_start_timeout`, in seconds. @default - the plan default */
  readonly requestStartTimeoutSec?: number;
  /** The throwaway certificate of the `ssl-bump` ports (never shown: nothing is bumped). @default "/dev/shm/rapidclaw-unused-tls-cert.pem" */
  readonly tlsCertFile?: string;
  /** Its key. @default "/dev/shm/rapidclaw-unused-tls-key.pem" */
  readonly tlsKeyFile?: string;
  /** The SNI helper (`SQUID_SNI_HELPER`), run with `/bin/sh`. @default "/etc/squid/rapidclaw-sni-present.sh" */
  readonly sniHelperFile?: string;
  /** Shadow mode on the roles' listeners: what their allowlists refuse passes, logged `would_block`. @default false */
  readonly audit?: boolean;
}

/** Firewall event names the proxy logs: a tunnel or request let through, or one refused. */
/** Where the proxy image reads squid.conf, on every platform. */
export const SQUID_CONF_PATH = "/etc/squid/squid.conf";

export const PROXY_EVENTS = { allowed: "egress_allowed", blocked: "network_blocked", wouldBlock: "would_block" } as const;

/**
 * JSON access log line: one per decision; `event` comes from the annotation the deciding
 * `http_access` line sets. The two fields a client writes, method and host, are URL-encoded
 * (`%#`: controls, bytes above 0x7e, quote, backslash and the other RFC 1738 unsafe characters
 * become `%XX`), so every line is ASCII and valid JSON whatever bytes arrive; `%"` quoting lets
 * raw non-UTF-8 bytes and most control characters through. Every other field is Squid's own
 * (addresses, numbers, result codes, role names validated by the spec). `sni` is the TLS server
 * name the client sent (`-` when none, or before a ClientHello was read), URL-encoded too. A tunnel
 * refused for its server name was already answered 200 (the ClientHello comes after the CONNECT):
 * its line has status 200, result `NONE_NONE` and event `network_blocked`. A CONNECT refused for
 * its host or port is closed unanswered (status 0, result `NONE_NONE`, event `network_blocked`).
 */
export const SQUID_LOG_FORMAT =
  '{"ts":"%{%Y-%m-%dT%H:%M:%S}tg.%03tuZ","event":"%{event}note","client":"%>a","role":"%{role}note",' +
  '"method":"%#rm","host":"%#>rd","port":"%>rP","sni":"%#ssl::>sni","status":%>Hs,"result":"%Ss","bytes":%<st}';

/** Squid's `dstdomain` list and the apexes to refuse, for one allowlist. */
export function squidDomainLists(allowlist: ReadonlyArray<HostPattern>): { allow: string[]; apexDeny: string[] } {
  const exact = new Set(allowlist.filter((p) => !p.wildcard).map((p) => p.domain));
  const allow: string[] = [];
  const apexDeny: string[] = [];
  for (const pattern of allowlist) {
    if (pattern.wildcard) {
      // `.x.com` also matches `x.com`: refuse the apex unless it is listed on its own.
      allow.push(`.${pattern.domain}`);
      if (!exact.has(pattern.domain)) apexDeny.push(pattern.domain);
    } else if (!allowlist.some((p) => p.wildcard && p.domain === pattern.domain)) {
      allow.push(pattern.domain);
    }
  }
  return { allow, apexDeny };
}

/** Renders squid.conf. Pure; `squid -k parse` accepts the result (see the tests). */
export function renderSquidConf(input: SquidConfInput): string {
  const listen = (listener: { readonly port: number; readonly listenAddress?: string }) => {
    const address = listener.listenAddress ?? input.listenAddress;
    return address ? `${address}:${listener.port}` : String(listener.port);
  };
  const out: string[] = [
    "# Rapid Claw egress proxy, generated from the firewall spec: do not edit by hand.",
    "# Allows only CONNECT to port 443 of each role's listed hosts" + (input.allowPlainHttp ? " (and plain HTTP to port 80)." : "."),
    ...(input.audit ? ["# AUDIT MODE (proxy.enforcement audit): the roles' listeners let unlisted hosts through, logged would_block."] : []),
    "",
  ];
  // Every port peeks at the ClientHello (ssl-bump), which Squid 5 does only with a certificate; nothing is bumped.
  const bump = `ssl-bump generate-host-certificates=off tls-cert=${input.tlsCertFile ?? SQUID_TLS_FILES.cert} tls-key=${input.tlsKeyFile ?? SQUID_TLS_FILES.key}`;
  for (const role of input.roles) out.push(`http_port ${listen(role)} ${bump} name=${role.resourceName}`);
  if (input.gateway) out.push(`http_port ${listen(input.gateway)} ${bump} name=${SQUID_GATEWAY_PORT_NAME}`);
  out.push(
    "",
    "pid_filename none",
    "cache deny all",
    "cache_mem 0 MB",
    "shutdown_lifetime 1 seconds",
    "forwarded_for delete",
    "httpd_suppress_version_string on",
    // One agent must not exhaust the proxy's file descriptors; idle half-open connections go.
    `client_ip_max_connections ${input.maxConnectionsPerClient ?? DEFAULTS.maxConnectionsPerClient}`,
    `request_start_timeout ${input.requestStartTimeoutSec ?? DEFAULTS.requestStartTimeoutSec} seconds`,
  );
  if (input.hostsFile) out.push(`hosts_file ${input.hostsFile}`);
  out.push(
    `cache_log ${input.cacheLog ?? "stdio:/dev/stderr"}`,
    `logformat rapidclaw ${SQUID_LOG_FORMAT}`,
    // A spliced tunnel is two transactions, the CONNECT (marked when spliced) and the tunnel: log the tunnel's line only.
    "acl spliced_connect note tls spliced",
    `access_log ${input.accessLog ?? "stdio:/dev/stdout"} rapidclaw !spliced_connect`,
    // The same lines again, into the file proxy-events follows beside the proxy.
    // Rotated by the container's command (SIGUSR1) past a size: one old file kept, which proxy-events reads to its end.
    ...(input.eventLog === undefined ? [] : [`access_log stdio:${input.eventLog} rapidclaw !spliced_connect`, "logfile_rotate 1"]),
    "",
    "acl CONNECT method CONNECT",
    "acl tls_port port 443",
    "acl http_port port 80",
    // Dotted, decimal, octal and hex IPv4 spellings, and any IPv6 literal.
    "acl ip_literal dstdom_regex -n -i ^((0x[0-9a-f]*|[0-9]+)\\.?)+$ : ^\\[",
    `acl forbidden_dst dst ${(input.forbiddenDestinations ?? FORBIDDEN_DESTINATIONS).join(" ")}`,
    // Always-true ACLs placed last on each http_access and ssl_bump line, to record which way it decided.
    `acl event_allowed annotate_transaction event=${PROXY_EVENTS.allowed}`,
    `acl event_blocked annotate_transaction event=${PROXY_EVENTS.blocked}`,
    ...(input.audit ? [`acl event_would_block annotate_transaction event=${PROXY_EVENTS.wouldBlock}`] : []),
    "acl mark_spliced annotate_transaction tls=spliced",
    "acl tls_step1 at_step SslBump1",
    // Slow (a helper), so placed last on each splice line: asked only when everything else matched.
    `external_acl_type sni_present ttl=0 negative_ttl=0 children-max=4 children-startup=1 %ssl::>sni /bin/sh ${input.sniHelperFile ?? SQUID_SNI_HELPER_PATH}`,
    "acl sni_present external sni_present",
  );
  const accessLines: string[] = [];
  const peekLines: string[] = [];
  const spliceLines: string[] = [];
  const auditLines = { connect: [] as string[], peek: [] as string[], splice: [] as string[], access: [] as string[] };
  const addListener = (heading: string, id: string, portName: string, logRole: string, allowlist: ReadonlyArray<HostPattern>, plainHttp: boolean) => {
    const { allow, apexDeny } = squidDomainLists(allowlist);
    const match = `${id}_in ${id}_hosts${apexDeny.length > 0 ? ` !${id}_apex` : ""} !forbidden_dst`;
    // A CONNECT is decided here, at TLS step 1, before any answer: an allowed one is peeked at.
    peekLines.push(`ssl_bump peek tls_step1 CONNECT tls_port !ip_literal ${match}`);
    if (plainHttp) accessLines.push(`http_access allow !CONNECT http_port ${match} event_allowed`);
    out.push("", heading);
    // The listener a request arrived on, never its source address: identity an agent cannot forge.
    out.push(`acl ${id}_in myportname ${portName}`);
    out.push(`acl ${id}_hosts dstdomain -n ${allow.join(" ")}`);
    if (apexDeny.length > 0) out.push(`acl ${id}_apex dstdomain -n ${apexDeny.join(" ")}`);
    out.push(`note role ${logRole} ${id}_in`);
    // Splice only when the ClientHello names a host of the same pattern the CONNECT named: no
    // fronting to another host, allowed or not; `--client-requested` reads the SNI, never the certificate.
    allowlist.forEach((pattern, index) => {
      const dst = squidDomainLists([pattern]);
      out.push(`acl ${id}_dst${index} dstdomain -n ${dst.allow.join(" ")}`);
      out.push(`acl ${id}_sni${index} ssl::server_name --client-requested ${dst.allow.join(" ")}`);
      if (dst.apexDeny.length > 0) out.push(`acl ${id}_sni${index}_apex ssl::server_name --client-requested ${dst.apexDeny.join(" ")}`);
      spliceLines.push(`ssl_bump splice !tls_step1 ${id}_in ${id}_dst${index} ${id}_sni${index}${dst.apexDeny.length > 0 ? ` !${id}_sni${index}_apex` : ""} sni_present mark_spliced`);
    });
  };
  for (const role of input.roles) addListener(`# role ${role.name}`, `role_${role.resourceName}`, role.resourceName, role.name, role.allowlist, input.allowPlainHttp);
  // Audit: a host a role's allowlist does not cover passes on its listener, marked would_block where the
  // CONNECT is decided (the spliced tunnel's line keeps the notes of that moment); IP literals, other
  // ports, forbidden destinations and a listed host's TLS server name are still enforced.
  if (input.audit) {
    for (const role of input.roles) {
      const id = `role_${role.resourceName}`;
      const unlisted = [`!${id}_hosts`, ...(squidDomainLists(role.allowlist).apexDeny.length > 0 ? [`${id}_apex`] : [])];
      for (const condition of unlisted) {
        auditLines.connect.push(`http_access allow CONNECT tls_port ${id}_in ${condition} !ip_literal event_would_block`);
        auditLines.splice.push(`ssl_bump splice !tls_step1 ${id}_in ${condition} event_would_block mark_spliced`);
      }
      auditLines.peek.push(`ssl_bump peek tls_step1 CONNECT tls_port !ip_literal !forbidden_dst ${id}_in event_would_block`);
      if (input.allowPlainHttp) auditLines.access.push(`http_access allow !CONNECT http_port ${id}_in !forbidden_dst event_would_block`);
    }
  }
  if (input.gateway) addListener("# tool gateway: its tools' upstream hosts", "gateway", SQUID_GATEWAY_PORT_NAME, SQUID_GATEWAY_LOG_ROLE, input.gateway.allowlist, false);
  out.push(
    "",
    // Every CONNECT passes to ssl_bump, which decides it: Squid answers a CONNECT that http_access
    // refuses on an ssl-bump port by bumping the client's TLS to show the error, which would be
    // interception with the throwaway certificate; ssl_bump's `terminate` just closes.
    ...auditLines.connect,
    "http_access allow CONNECT event_allowed",
    "http_access deny ip_literal event_blocked",
    ...accessLines,
    ...auditLines.access,
    "http_access deny all event_blocked",
    "",
    // Step 1, before any answer: peek at an allowed CONNECT's ClientHello, close any other.
    // Step 2: splice (a plain TCP tunnel) on a listed server name of the CONNECT host's pattern, else close.
    ...peekLines,
    ...auditLines.peek,
    ...spliceLines,
    ...auditLines.splice,
    "ssl_bump terminate all event_blocked",
    "",
  );
  return out.join("\n");
}

/** The Squid roles of a plan: each on its own port (Kubernetes) or its own address on its own network (Docker). */
export function squidRolesForPlan(plan: FirewallPlan): SquidRole[] {
  return plan.roles.map((role) => ({
    name: role.name,
    resourceName: role.resourceName,
    allowlist: role.proxyAllowlist,
    port: role.proxyPort,
    listenAddress: role.docker?.proxyAddress,
  }));
}

/** Where a proxy runs: the parts of `SquidConfInput` that are not the firewall's. */
export interface SquidPlacementOptions {
  /** The throwaway certificate of the `ssl-bump` ports. @default "/dev/shm/rapidclaw-unused-tls-cert.pem" */
  readonly tlsCertFile?: string;
  /** Its key. @default "/dev/shm/rapidclaw-unused-tls-key.pem" */
  readonly tlsKeyFile?: string;
  /** The SNI helper's path. @default "/etc/squid/rapidclaw-sni-present.sh" */
  readonly sniHelperFile?: string;
  /** Address of the listeners of roles without their own (tests bind 127.0.0.1). @default - all addresses */
  readonly listenAddress?: string;
  /** A hosts file Squid resolves from before DNS. @default - none */
  readonly hostsFile?: string;
  /** Where the access log goes, such as `stdio:/var/log/squid/access.log`. @default "stdio:/dev/stdout" */
  readonly accessLog?: string;
  /** Where the cache log goes. @default "stdio:/dev/stderr" */
  readonly cacheLog?: string;
  /** A file every access log line is also written to, for `rapidclaw proxy-events`. @default - none */
  readonly eventLog?: string;
}

/**
 * Kubernetes: the port of the proxy's listener for the tool gateway, just below the roles' ports
 * (`proxy.port - 1`; roles hold `proxy.port + slot`), so it never moves nor meets a role's port
 * when roles come and go; the proxy's NetworkPolicy admits only gateway pods to it.
 */
export function kubernetesGatewayProxyPort(plan: FirewallPlan): number {
  return plan.proxy.port - 1;
}

/**
 * The tool gateway's listener, allowing its upstreams' hosts; none without upstreams. Docker: on
 * the proxy's address in the gateway's egress network, which only the gateway shares. Kubernetes:
 * its own port (`kubernetesGatewayProxyPort`), which only gateway pods may reach.
 */
export function squidGatewayListenerForPlan(plan: FirewallPlan): SquidGatewayListener | undefined {
  if (plan.gateway === undefined || plan.gateway.upstreamHosts.length === 0) return undefined;
  const upstreams = plan.tools.flatMap((tool) => (tool.upstream === undefined ? [] : [tool.upstream]));
  const docker = plan.gateway.docker;
  if (docker === undefined) return { allowlist: squidGatewayAllowlist(upstreams), port: kubernetesGatewayProxyPort(plan) };
  return { allowlist: squidGatewayAllowlist(upstreams), port: docker.upstreamProxyPort, listenAddress: docker.egressNetwork.peerAddress };
}

/** squid.conf for a plan, as the proxy container runs it. */
export function renderSquidConfForPlan(plan: FirewallPlan, overrides: SquidPlacementOptions = {}): string {
  return renderSquidConf({
    roles: squidRolesForPlan(plan),
    gateway: squidGatewayListenerForPlan(plan),
    allowPlainHttp: plan.proxy.allowPlainHttp,
    audit: plan.proxy.audit,
    forbiddenDestinations: plan.proxy.forbiddenCidrs,
    maxConnectionsPerClient: plan.proxy.maxConnectionsPerClient,
    requestStartTimeoutSec: plan.proxy.requestStartTimeoutSec,
    eventLog: plan.proxyEvents?.logFile,
    ...overrides,
  });
}

/** The egress proxy's configuration. */
export class SquidConf {
  /** Renders squid.conf. Pure; `squid -k parse` accepts the result. */
  public static render(input: SquidConfInput): string {
    return renderSquidConf(input);
  }

  private constructor() {}
}
