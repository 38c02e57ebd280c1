/**
 * Requests a net agent (net-agent.ts, running inside a network namespace, possibly as another
 * user) understands, one JSON object per line on its stdin; it answers one line each on stdout.
 */

/** Listen on address:port and answer every TCP connection with `banner\n`, then close. */
export interface ServeTcpRequest {
  readonly op: "serveTcp";
  readonly host: string;
  readonly port: number;
  readonly banner: string;
}

/** Listen on address:port and answer every UDP datagram with `banner`. */
export interface ServeUdpRequest {
  readonly op: "serveUdp";
  readonly host: string;
  readonly port: number;
  readonly banner: string;
}

/** An HTTP server whose every response is 200 with `banner` as the body. */
export interface ServeHttpRequest {
  readonly op: "serveHttp";
  readonly host: string;
  readonly port: number;
  readonly banner: string;
}

/**
 * An HTTPS server (the stand-in for tools' upstreams) that records every request it gets and
 * answers 200 with `{"upstream":"ok","host":…,"url":…}`, closing the connection.
 */
export interface ServeHttpsRequest {
  readonly op: "serveHttps";
  readonly host: string;
  readonly port: number;
  /** PEM certificate and key the server presents. */
  readonly cert: string;
  readonly key: string;
}

/** Every request the HTTPS servers recorded so far, oldest first. */
export interface HttpsRequestsRequest {
  readonly op: "httpsRequests";
}

/** A request as an HTTPS server of the agent received it. */
export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  /** Header names in lower case. */
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** Open a TCP connection and read the first line the server sends. */
export interface ConnectTcpRequest {
  readonly op: "connectTcp";
  readonly host: string;
  readonly port: number;
  readonly timeoutMs: number;
}

/** Send one UDP datagram and wait for one answer. */
export interface QueryUdpRequest {
  readonly op: "queryUdp";
  readonly host: string;
  readonly port: number;
  readonly timeoutMs: number;
}

/**
 * Send one request to an HTTP proxy from a given source address: `CONNECT target` (then read
 * what the tunnel delivers first) or `GET target` (an absolute URL).
 */
export interface ProxyRequest {
  readonly op: "proxy";
  readonly proxyHost: string;
  readonly proxyPort: number;
  /** Source address to bind, so the proxy sees a particular client. @default - chosen by the kernel */
  readonly localAddress?: string;
  readonly method: "CONNECT" | "GET";
  /** `host:port` for CONNECT, an absolute URL for GET. */
  readonly target: string;
  /**
   * CONNECT: the server name of the TLS ClientHello sent once the tunnel is open (a proxy that
   * peeks waits for one); `null` sends a ClientHello without SNI. @default - the CONNECT host
   */
  readonly sni?: string | null;
  readonly timeoutMs: number;
}

/** Send raw bytes (base64) to a proxy from a given source address; answer its status line. */
export interface RawProxyRequest {
  readonly op: "rawProxy";
  readonly proxyHost: string;
  readonly proxyPort: number;
  readonly localAddress?: string;
  readonly base64: string;
  readonly timeoutMs: number;
}

/**
 * Open `count` connections to a proxy one after another from one source address, send nothing,
 * and after `timeoutMs` tell for each whether the proxy closed it; then close them all. With
 * `closedAtLeast`, tell as soon as that many are closed (and a short settle has passed): a loaded
 * machine may take seconds to close them, an idle one milliseconds.
 */
export interface HoldConnectionsRequest {
  readonly op: "holdConnections";
  readonly proxyHost: string;
  readonly proxyPort: number;
  readonly localAddress?: string;
  readonly count: number;
  readonly timeoutMs: number;
  readonly closedAtLeast?: number;
}

export type NetAgentRequest =
  | ServeTcpRequest
  | ServeUdpRequest
  | ServeHttpRequest
  | ServeHttpsRequest
  | HttpsRequestsRequest
  | ConnectTcpRequest
  | QueryUdpRequest
  | ProxyRequest
  | RawProxyRequest
  | HoldConnectionsRequest;

/** How a connection attempt ended. */
export interface ConnectOutcome {
  /** `data`: the server answered; `error`: the socket failed (see code); `timeout`: nothing happened in time. */
  readonly outcome: "data" | "error" | "timeout";
  /** What the server sent (first line for TCP, the datagram for UDP). */
  readonly data?: string;
  /** errno name when `outcome` is `error`, e.g. ECONNREFUSED, EPERM. */
  readonly code?: string;
}

/** What the proxy answered. */
export interface ProxyOutcome {
  /** HTTP status from the proxy's status line; 0 when none arrived. */
  readonly status: number;
  readonly statusLine: string;
  /** For CONNECT 200, the first line the upstream sent through the tunnel; else the response body. */
  readonly body: string;
  /** Set when the exchange failed below HTTP. */
  readonly error?: string;
}

export type NetAgentResponse =
  | { readonly id: number; readonly ok: true; readonly result: unknown }
  | { readonly id: number; readonly ok: false; readonly error: string };
