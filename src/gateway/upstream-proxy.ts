import { request as httpRequest } from "node:http";
import { Agent as HttpsAgent, type AgentOptions, type RequestOptions } from "node:https";
import type { Duplex } from "node:stream";
import { connect as tlsConnect, type ConnectionOptions } from "node:tls";

/** An HTTP proxy the gateway reaches its upstreams through, with CONNECT. */
export interface UpstreamProxy {
  readonly host: string;
  readonly port: number;
}

/** Parses `http://host:port` (the only form: no user, path or query), or returns why it is refused. */
export function parseUpstreamProxy(text: string): UpstreamProxy | string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `"${text}" is not a URL; write one such as http://egress-proxy:3129`;
  }
  if (url.protocol !== "http:") return `"${text}" is not http://; the gateway speaks plain HTTP to the proxy and TLS to the upstream through the tunnel`;
  if (url.username !== "" || url.password !== "") return `"${text}" carries a user name or password; the egress proxy tells the gateway by its listener, remove them`;
  if (url.pathname !== "/" || url.search !== "" || url.hash !== "") return `"${text}" has a path, query or fragment; write http://host:port only`;
  if (url.port === "") return `"${text}" names no port; write http://${url.hostname}:<port>`;
  return { host: url.hostname.replace(/^\[|\]$/g, ""), port: Number(url.port) };
}

/** A CONNECT the proxy answered with a status other than 200: the proxy refused the destination. */
export class ProxyRefusedError extends Error {
  readonly code = "ERR_PROXY_REFUSED";
  constructor(readonly proxyStatus: number) {
    super(`the upstream proxy answered CONNECT with ${proxyStatus}`);
  }
}

/**
 * An HTTPS agent whose connections are TLS tunnelled through an HTTP proxy: each new connection
 * asks the proxy to CONNECT to the upstream's host and port, then TLS runs inside the tunnel with
 * the upstream's name as server name and the agent's trust, so the certificate is checked against
 * the upstream as without a proxy. Kept-alive tunnels are reused like direct connections.
 */
export class ProxyTunnelAgent extends HttpsAgent {
  constructor(private readonly proxy: UpstreamProxy, private readonly connectTimeoutMs: number, options: AgentOptions) {
    super(options);
  }

  override createConnection(options: RequestOptions, callback?: (err: Error | null, stream: Duplex) => void): Duplex | null | undefined {
    let settled = false;
    const done = (error: Error | null, stream?: Duplex) => {
      if (settled) return;
      settled = true;
      (callback as (err: Error | null, stream?: Duplex) => void)(error, stream);
    };
    const target = `${formatHost(String(options.host))}:${options.port}`;
    const connect = httpRequest({ host: this.proxy.host, port: this.proxy.port, method: "CONNECT", path: target, headers: { host: target }, agent: false });
    connect.setTimeout(this.connectTimeoutMs, () => connect.destroy(Object.assign(new Error("the upstream proxy did not answer CONNECT in time"), { code: "ETIMEDOUT" })));
    // Node emits "connect" for every reply to a CONNECT, whatever its status; a proxy that closes without one gives "error".
    connect.once("connect", (res, socket) => {
      connect.setTimeout(0);
      if (res.statusCode !== 200) {
        socket.destroy();
        done(new ProxyRefusedError(res.statusCode ?? 0));
        return;
      }
      const tls = tlsConnect({ ...options, host: undefined, port: undefined, path: undefined, socket } as ConnectionOptions);
      done(null, tls);
    });
    connect.once("error", (error) => done(error));
    connect.end();
    return undefined;
  }
}

/** `[::1]` for an IPv6 address, the name or IPv4 address as it is. */
function formatHost(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}
