import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { Duplex } from "node:stream";
import type { DeliveryOptions } from "../monitoring/alert-delivery";
import { connectSharedMonitoring, type SharedMonitoring } from "../monitoring/shared-monitoring";
import type { FirewallPlan } from "../plan/plan";
import { SHUTDOWN } from "../plan/shutdown";
import { adminServer } from "./admin-server";
import type { GatewayConfig, GatewayListener } from "./config";
import { drainServer, until } from "./drain";
import { GatewayEventMonitor, type EventMonitorOptions } from "./event-monitor";
import { EventSink } from "./events";
import { CallerIdentity } from "./identity";
import { KeyStore } from "./key-store";
import { GatewayMetrics } from "./metrics";
import type { RedisCredentials } from "./redis-credentials";
import { RedisLimiter } from "./redis-limiter";
import { routeRequest } from "./routing";
import { ToolCallHandler, type UpstreamAddress } from "./server";
import type { UpstreamProxy } from "./upstream-proxy";

/** How to run a gateway. */
export interface StartGatewayOptions {
  readonly config: GatewayConfig;
  /** The plan of the same firewall description: alert thresholds, webhooks, names of roles and tools. */
  readonly plan: FirewallPlan;
  /** Writes one event line: the gateway's events and the alert lines alike (the CLI: stdout). */
  readonly writeLine: (line: string) => void;
  /** Webhook secrets, delivery retries, the hand-over to the alert windows and their Redis key prefix. */
  readonly monitoring?: { readonly env?: NodeJS.ProcessEnv; readonly delivery?: DeliveryOptions; readonly keyPrefix?: string } & EventMonitorOptions;
  /** Directory with one key file per tool. */
  readonly keyDir: string;
  /** Redis URL of the limiter and of the alert windows. */
  readonly redisUrl: string;
  /** ACL user and password of that Redis, for both connections. @default - none (a Redis without AUTH) */
  readonly redisCredentials?: RedisCredentials;
  /** Address of listeners that name none. */
  readonly listenHost: string;
  /** Port of `/metrics`, `/healthz` and `/readyz` (0 for any free port). */
  readonly adminPort: number;
  readonly adminHost: string;
  readonly maxBodyBytes: number;
  readonly maxHeaderBytes: number;
  /**
   * Longest time a client may take to send its headers (counted from the connection for its first
   * request, so a connection that never sends a byte is closed too), and its whole request, in ms.
   */
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  /** Connections one agents' listener keeps open at most; more are closed as they come. */
  readonly maxConnectionsPerListener: number;
  readonly upstreamTimeoutMs: number;
  /** Largest response body relayed from an upstream, in bytes. */
  readonly maxResponseBytes: number;
  /** Connections one role may hold to one tool's upstream. */
  readonly upstreamConnectionsPerRole: number;
  /** Calls of one role forwarded and not yet answered, at most. */
  readonly maxCallsInFlightPerRole: number;
  readonly upstreamAddresses: ReadonlyMap<string, UpstreamAddress>;
  readonly upstreamCa?: string;
  /** HTTP proxy every upstream is reached through (CONNECT). @default - direct */
  readonly upstreamProxy?: UpstreamProxy;
}

/** A running gateway. */
export interface RunningGateway {
  /** Events of this gateway; subscribe with `onEvent`. */
  readonly events: EventSink;
  readonly metrics: GatewayMetrics;
  /** The alert evaluator, its metrics (the registry `/metrics` serves) and webhook delivery. */
  readonly monitoring: SharedMonitoring;
  /** Bound address of each listener, in the order of `config.listeners`. */
  readonly listeners: ReadonlyArray<AddressInfo>;
  readonly admin: AddressInfo;
  /**
   * Stops gracefully: `/readyz` answers 503 from now on, the agents' listeners accept no new
   * connection, calls in flight (streams included) finish for up to `timeoutMs`, waiting events
   * reach the windows and queued webhook deliveries are flushed (at least `SHUTDOWN.flushSec`
   * more), then everything stops.
   */
  drain(timeoutMs: number): Promise<DrainOutcome>;
  /** Stops at once: connections in flight are cut. */
  stop(): Promise<void>;
}

/** What a drain managed before it stopped the gateway. */
export interface DrainOutcome {
  /** Every call in flight finished before the drain timeout. */
  readonly callsFinished: boolean;
  /** Every queued webhook delivery was sent (or given up) before the flush deadline. */
  readonly deliveriesFlushed: boolean;
}

/**
 * Starts monitoring (throws WebhookConfigError before anything else when a webhook's secret is
 * missing), the limiter, the key store, the agents' listeners and the admin listener.
 */
export async function startGateway(options: StartGatewayOptions): Promise<RunningGateway> {
  const { config } = options;
  const events = new EventSink();
  // Its own connection, not the limiter's: one connection answers in order, so a window script
  // queued ahead of a decision would add its time to that decision.
  const monitoring = connectSharedMonitoring({
    plan: options.plan,
    redisUrl: options.redisUrl,
    redisCredentials: options.redisCredentials,
    emit: options.writeLine,
    env: options.monitoring?.env,
    delivery: options.monitoring?.delivery,
    keyPrefix: options.monitoring?.keyPrefix,
  });
  const metrics = new GatewayMetrics(monitoring.metrics.registry, { roles: [...config.roles.keys()], tools: [...config.tools.keys()] });
  const monitor = new GatewayEventMonitor(monitoring, options.monitoring);
  events.onEvent((event) => options.writeLine(JSON.stringify(event)));
  events.onEvent((event) => monitor.accept(event));
  const limiter = new RedisLimiter({ firewall: options.plan.names.firewall, url: options.redisUrl, credentials: options.redisCredentials, timeoutMs: config.limiterTimeoutMs });
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
    maxResponseBytes: options.maxResponseBytes,
    upstreamConnectionsPerRole: options.upstreamConnectionsPerRole,
    maxCallsInFlightPerRole: options.maxCallsInFlightPerRole,
    upstreamAddresses: options.upstreamAddresses,
    upstreamCa: options.upstreamCa,
    upstreamProxy: options.upstreamProxy,
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
    monitoring.close();
    throw error;
  }

  let draining = false;
  const admin = adminServer(monitoring.metrics.registry, async () => {
    if (draining) return ["draining"];
    const missing = keys.missing();
    return [(await limiter.ready()) ? "" : "redis unavailable", missing.length === 0 ? "" : `keys not loaded: ${missing.join(", ")}`].filter(Boolean);
  });
  const agentServers = [...servers];
  servers.push(admin);
  const adminAddress = await listen(admin, options.adminPort, options.adminHost);
  monitor.start();

  const stop = async () => {
    await Promise.all(servers.map((s) => new Promise((resolve) => { s.close(resolve); s.closeAllConnections(); })));
    handler.close();
    keys.stop();
    monitor.stop();
    monitoring.close();
    await limiter.close();
  };
  return {
    events,
    metrics,
    monitoring,
    listeners: bound,
    admin: adminAddress,
    async drain(timeoutMs) {
      draining = true;
      const deadline = Date.now() + timeoutMs;
      const callsFinished = (await Promise.all(agentServers.map((server) => drainServer(server, deadline)))).every(Boolean);
      const flushDeadline = Math.max(deadline, Date.now() + SHUTDOWN.flushSec * 1000);
      // Events in flight or still waiting (Redis slow or away) reach the windows first, so their alerts are sent too.
      const deliveriesFlushed = await until(monitor.flush().then(() => monitoring.delivery.idle()), flushDeadline);
      await stop();
      return { callsFinished, deliveriesFlushed };
    },
    stop,
  };
}

/** An agents' listener: strict HTTP parsing, bounded headers, timeouts for slow and silent clients, and a connection cap. */
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
      // The first request arrived: the silent-connection timer below is done (Node clears its own keep-alive timer itself).
      if (req.socket.timeout !== 0) req.socket.setTimeout(0);
      handler.handle(listener, req, res).catch(() => res.destroy());
    },
  );
  server.maxConnections = options.maxConnectionsPerListener;
  // Node's head timeout starts with the first byte: a connection that never sends one is closed
  // after the same time by an idle timer (with no "timeout" listener, the server destroys the socket).
  server.on("connection", (socket: Socket) => socket.setTimeout(options.headersTimeoutMs));
  // Malformed requests (smuggling attempts, oversize headers, timeouts) never reach the handler.
  server.on("clientError", (error: NodeJS.ErrnoException, socket: Socket) => {
    const role = handler.roleOf(listener, socket.remoteAddress) ?? null;
    const code = error.code ?? "error";
    handler.raise("bad_request", null, role, { reason: code });
    const status = code === "HPE_HEADER_OVERFLOW" ? "431 Request Header Fields Too Large" : code === "ERR_HTTP_REQUEST_TIMEOUT" ? "408 Request Timeout" : "400 Bad Request";
    if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    else socket.destroy();
  });
  // CONNECT skips the request handler; the core refuses its method, so it is answered here.
  server.on("connect", (req: IncomingMessage, socket: Duplex) => {
    const route = routeRequest(req.method ?? "", req.url ?? "", req.headers);
    const reason = route.kind === "bad" ? route.reason : "CONNECT is not routed";
    handler.raise("bad_request", null, handler.roleOf(listener, req.socket.remoteAddress) ?? null, { reason, method: req.method ?? null });
    const body = JSON.stringify({ error: "bad_request", message: reason });
    socket.end(`HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  });
  return server;
}
