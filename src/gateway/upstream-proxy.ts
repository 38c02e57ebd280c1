import { request as httpRequest } from "node:http";
import type { Duplex } from "node:stream";

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
 * Opens a tunnel to `host:port` through the proxy: CONNECT, and on 200 the proxy's socket, over
 * which the caller runs TLS to the upstream (with the upstream's name and the gateway's trust, so
 * the certificate is checked as without a proxy). Any other answer is a `ProxyRefusedError`.
 */
export function openTunnel(proxy: UpstreamProxy, host: string, port: number, timeoutMs: number, done: (error: Error | null, socket?: Duplex) => void): void {
  const target = `${formatHost(host)}:${port}`;
  const connect = httpRequest({ host: proxy.host, port: proxy.port, method: "CONNECT", path: target, headers: { host: target }, agent: false });
  let settled = false;
  const finish = (error: Error | null, socket?: Duplex) => {
    if (settled) return;
    settled = true;
    done(error, socket);
  };
  connect.setTimeout(timeoutMs, () => connect.destroy(Object.assign(new Error("the upstream proxy did not answer CONNECT in time"), { code: "ETIMEDOUT" })));
  // Node emits "connect" for every reply to a CONNECT, whatever its status; a proxy that closes without one gives "error".
  connect.once("connect", (res, socket) => {
    connect.setTimeout(0);
    if (res.statusCode !== 200) {
      socket.destroy();
      finish(new ProxyRefusedError(res.statusCode ?? 0));
      return;
    }
    finish(null, socket);
  });
  connect.once("error", (error) => finish(error));
  connect.end();
}

/** `[::1]` for an IPv6 address, the name or IPv4 address as it is. */
function formatHost(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}
