import type { Duplex } from "node:stream";
import { connect as tlsConnect, createSecureContext, rootCertificates, type SecureContext } from "node:tls";
import { Pool, type buildConnector } from "undici";
import type { GatewayTool } from "./config";
import { openTunnel, type UpstreamProxy } from "./upstream-proxy";

/** Where to connect instead of an upstream's own host (tests and development only; TLS still checks the upstream's name). */
export interface UpstreamAddress {
  readonly host: string;
  readonly port: number;
}

/** How the gateway reaches upstreams. */
export interface UpstreamPoolOptions {
  /** Connections one role may hold to one tool's upstream. */
  readonly upstreamConnectionsPerRole: number;
  /** Longest wait to connect to an upstream, for its response headers, and between two pieces of its body, in ms. */
  readonly upstreamTimeoutMs: number;
  /** Largest response body relayed from an upstream, in bytes (decoded, if it came compressed); a larger one is cut off. */
  readonly maxResponseBytes: number;
  /** Connect-to overrides by tool name. */
  readonly upstreamAddresses: ReadonlyMap<string, UpstreamAddress>;
  /** Extra CA certificates (PEM) trusted for upstreams, besides the system's. */
  readonly upstreamCa?: string;
  /** HTTP proxy every upstream is reached through (CONNECT). @default - direct */
  readonly upstreamProxy?: UpstreamProxy;
}

/** How long an idle upstream connection is kept, at most (undici also honours a shorter `Keep-Alive: timeout`). */
const KEEP_ALIVE_MS = 30_000;

/**
 * Kept-alive HTTPS connections to the tools' upstreams: one undici pool per tool and role, so a
 * role's calls queue behind its own connections only, and one role's slow calls cannot take the
 * connections another role's calls need. Every connection is TLS to the upstream's own name, direct
 * or through a CONNECT tunnel of the egress proxy.
 */
export class UpstreamPools {
  /** Pools by tool, then by role. */
  private readonly pools = new Map<GatewayTool, Map<string, Pool>>();
  /** One context for every connection: building one from the system roots costs about 50 ms of CPU. */
  private readonly secureContext: SecureContext | undefined;

  constructor(private readonly options: UpstreamPoolOptions) {
    this.secureContext = options.upstreamCa === undefined ? undefined : createSecureContext({ ca: [...rootCertificates, options.upstreamCa] });
  }

  /** The pool of `role`'s calls to `tool`'s upstream. */
  pool(tool: GatewayTool, role: string): Pool {
    let byRole = this.pools.get(tool);
    if (byRole === undefined) this.pools.set(tool, (byRole = new Map()));
    let pool = byRole.get(role);
    if (pool === undefined) byRole.set(role, (pool = this.open(tool)));
    return pool;
  }

  async close(): Promise<void> {
    const pools = [...this.pools.values()].flatMap((byRole) => [...byRole.values()]);
    this.pools.clear();
    await Promise.all(pools.map((pool) => pool.destroy().catch(() => undefined)));
  }

  private open(tool: GatewayTool): Pool {
    const upstream = tool.upstream as URL;
    const override = this.options.upstreamAddresses.get(tool.name);
    const host = override?.host ?? upstream.hostname.replace(/^\[|\]$/g, "");
    const port = override?.port ?? (upstream.port === "" ? 443 : Number(upstream.port));
    const servername = upstream.hostname;
    const { upstreamTimeoutMs: timeoutMs, upstreamProxy } = this.options;
    return new Pool(upstream.origin, {
      connections: this.options.upstreamConnectionsPerRole,
      pipelining: 1,
      keepAliveTimeout: KEEP_ALIVE_MS,
      keepAliveMaxTimeout: KEEP_ALIVE_MS,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      maxResponseSize: this.options.maxResponseBytes,
      connect: (_target, done) => {
        const secure = (socket?: Duplex) => this.tls(host, port, servername, timeoutMs, socket, done);
        if (upstreamProxy === undefined) secure();
        else openTunnel(upstreamProxy, host, port, timeoutMs, (error, socket) => (error === null ? secure(socket) : done(error, null)));
      },
    });
  }

  /** TLS to `servername`, on `socket` (a tunnel) or a new connection to `host:port`; answers once. */
  private tls(host: string, port: number, servername: string, timeoutMs: number, socket: Duplex | undefined, done: buildConnector.Callback): void {
    const tls = tlsConnect({ host, port, socket, servername, secureContext: this.secureContext, ALPNProtocols: ["http/1.1"] });
    const fail = (error: Error) => {
      clearTimeout(timer);
      tls.off("secureConnect", ready);
      tls.destroy();
      done(error, null);
    };
    const ready = () => {
      clearTimeout(timer);
      tls.off("error", fail);
      done(null, tls);
    };
    const timer = setTimeout(() => fail(Object.assign(new Error("the upstream did not complete TLS in time"), { code: "ETIMEDOUT" })), timeoutMs);
    tls.once("secureConnect", ready);
    tls.once("error", fail);
  }
}
