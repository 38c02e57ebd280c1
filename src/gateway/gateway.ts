import { createServer, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { GatewayConfig, GatewayListener } from "./config";
import { EventSink } from "./events";
import { CallerIdentity } from "./identity";
import { KeyStore } from "./key-store";
import { GatewayMetrics } from "./metrics";
import { RedisLimiter } from "./redis-limiter";
import { ToolCallHandler, type UpstreamAddress } from "./server";

/** How to run a gateway. */
export interface StartGatewayOptions {
  readonly config: GatewayConfig;
  /** Directory with one key file per tool. */
  readonly keyDir: string;
  /** Redis URL of the limiter. */
  readonly redisUrl: string;
  /** Address of listeners that name none. */
  readonly listenHost: string;
  /** Port of `/metrics`, `/healthz` and `/readyz` (0 for any free port). */
  readonly adminPort: number;
  readonly adminHost: string;
  readonly maxBodyBytes: number;
  readonly maxHeaderBytes: number;
  /** Longest time a client may take to send its headers, and its whole request, in ms. */
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly upstreamTimeoutMs: number;
  readonly upstreamAddresses: ReadonlyMap<string, UpstreamAddress>;
  readonly upstreamCa?: string;
}

/** A running gateway. */
export interface RunningGateway {
  /** Events of this gateway; subscribe with `onEvent`. */
  readonly events: EventSink;
  readonly metrics: GatewayMetrics;
  /** Bound address of each listener, in the order of `config.listeners`. */
  readonly listeners: ReadonlyArray<AddressInfo>;
  readonly admin: AddressInfo;
  stop(): Promise<void>;
}

/** Starts the limiter, the key store, the agents' listeners and the admin listener. */
export async function startGateway(options: StartGatewayOptions): Promise<RunningGateway> {
  const { config } = options;
  const events = new EventSink();
  const metrics = new GatewayMetrics();
  events.onEvent((event) => metrics.record(event));
  const limiter = new RedisLimiter({ url: options.redisUrl, timeoutMs: config.limiterTimeoutMs });
  const keyed = [...config.tools.values()].filter((tool) => tool.keyHeader !== undefined).map((tool) => tool.name);
  const keys = new KeyStore(options.keyDir, keyed);
  await keys.start();
  const handler = new ToolCallHandler({
    config,
    identity: new CallerIdentity(config),
    limiter,
    keys,
    events,
    metrics,
    maxBodyBytes: options.maxBodyBytes,
    upstreamTimeoutMs: options.upstreamTimeoutMs,
    upstreamAddresses: options.upstreamAddresses,
    upstreamCa: options.upstreamCa,
  });

  const servers: Server[] = [];
  const listen = (server: Server, port: number, host: string) =>
    new Promise<AddressInfo>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => { server.off("error", reject); resolve(server.address() as AddressInfo); });
    });

  const bound: AddressInfo[] = [];
  try {
    for (const listener of config.listeners) {
      const server = agentServer(listener, handler, options);
      servers.push(server);
      bound.push(await listen(server, listener.port, listener.address ?? options.listenHost));
    }
  } catch (error) {
    servers.forEach((s) => s.close());
    keys.stop();
    await limiter.close();
    throw error;
  }

  const admin = createServer((req, res) => {
    const path = (req.url ?? "").split("?")[0];
    if (path === "/metrics") {
      void metrics.registry.metrics().then((text) => { res.writeHead(200, { "content-type": metrics.registry.contentType }); res.end(text); });
    } else if (path === "/healthz") {
      res.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
    } else if (path === "/readyz") {
      void limiter.ready().then((redisReady) => {
        const missing = keys.missing();
        const ready = redisReady && missing.length === 0;
        const why = [redisReady ? "" : "redis unavailable", missing.length === 0 ? "" : `keys not loaded: ${missing.join(", ")}`].filter(Boolean).join("; ");
        res.writeHead(ready ? 200 : 503, { "content-type": "text/plain" }).end(ready ? "ready\n" : `not ready: ${why}\n`);
      });
    } else {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
    }
  });
  servers.push(admin);
  const adminAddress = await listen(admin, options.adminPort, options.adminHost);

  return {
    events,
    metrics,
    listeners: bound,
    admin: adminAddress,
    async stop() {
      await Promise.all(servers.map((s) => new Promise((resolve) => { s.close(resolve); s.closeAllConnections(); })));
      handler.close();
      keys.stop();
      await limiter.close();
    },
  };
}

/** An agents' listener: strict HTTP parsing, bounded headers, and timeouts for slow clients. */
function agentServer(listener: GatewayListener, handler: ToolCallHandler, options: StartGatewayOptions): Server {
  const server = createServer(
    {
      maxHeaderSize: options.maxHeaderBytes,
      headersTimeout: options.headersTimeoutMs,
      requestTimeout: options.requestTimeoutMs,
      connectionsCheckingInterval: Math.min(1_000, options.headersTimeoutMs),
      insecureHTTPParser: false,
      keepAliveTimeout: 5_000,
    },
    (req, res) => {
      handler.handle(listener, req, res).catch(() => res.destroy());
    },
  );
  // Malformed requests (smuggling attempts, oversize headers, timeouts) never reach the handler.
  server.on("clientError", (error: NodeJS.ErrnoException, socket: Socket) => {
    const role = handler.roleOf(listener, socket.remoteAddress) ?? null;
    const code = error.code ?? "error";
    handler.raise("bad_request", null, role, { reason: code });
    const status = code === "HPE_HEADER_OVERFLOW" ? "431 Request Header Fields Too Large" : code === "ERR_HTTP_REQUEST_TIMEOUT" ? "408 Request Timeout" : "400 Bad Request";
    if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    else socket.destroy();
  });
  return server;
}
