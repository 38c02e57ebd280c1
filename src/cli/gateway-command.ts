import { Command, InvalidArgumentError, Option } from "commander";
import { startGateway } from "../gateway/gateway";
import type { UpstreamAddress } from "../gateway/server";
import { parseUpstreamProxy, type UpstreamProxy } from "../gateway/upstream-proxy";
import { SHUTDOWN } from "../plan/shutdown";
import { readGatewaySetup } from "./gateway-setup";
import { drainOnSignals, exitOnConfigError, integer, reportAlertWindows, writeStdoutLine } from "./service-io";

/** Parses `tool=host:port` into the map of connect-to overrides. */
function upstreamAddress(text: string, previous: Map<string, UpstreamAddress>): Map<string, UpstreamAddress> {
  const match = /^([a-z][a-z0-9_-]*)=(.+):(\d+)$/.exec(text);
  if (!match) throw new InvalidArgumentError("write TOOL=HOST:PORT, e.g. web_search=127.0.0.1:8443");
  return new Map(previous).set(match[1], { host: match[2].replace(/^\[|\]$/g, ""), port: Number(match[3]) });
}

/** Parses `--upstream-proxy`. */
function upstreamProxy(text: string): UpstreamProxy {
  const parsed = parseUpstreamProxy(text);
  if (typeof parsed === "string") throw new InvalidArgumentError(parsed);
  return parsed;
}

/** `rapidclaw gateway`: the tool gateway. */
export function gatewayCommand(): Command {
  return new Command("gateway")
    .description("Enforce tool permissions, rate limits and key custody for agents (events on stdout, one JSON line each).")
    .requiredOption("-c, --config <file>", "firewall file (.yaml, .yml or .json), the same the constructs read")
    .requiredOption("-k, --key-dir <dir>", "directory with one key file per tool, named after the tool (as Vault Agent renders them)")
    // From the environment too, so a URL with credentials can stay off the command line, which every local user can read.
    .addOption(new Option("-r, --redis <url>", "Redis URL of the rate limiter and of the shared alert windows").env("RAPIDCLAW_REDIS_URL").default("redis://127.0.0.1:6379"))
    .addOption(new Option("--redis-credentials-file <file>", 'JSON {"username": ..., "password": ...} the gateway logs in to Redis with (as its Vault Agent renders it), read once at start').env("RAPIDCLAW_REDIS_CREDENTIALS_FILE"))
    .option("--listen-host <address>", "address of the listeners that name none", "0.0.0.0")
    .option("--admin-port <port>", "port of /metrics, /healthz and /readyz", integer("--admin-port", 0), 9464)
    .option("--admin-host <address>", "address of the admin port", "0.0.0.0")
    .option("--max-body-bytes <bytes>", "largest request body", integer("--max-body-bytes", 1), 10 * 1024 * 1024)
    .option("--max-header-bytes <bytes>", "largest request head", integer("--max-header-bytes", 1024), 16 * 1024)
    .option("--headers-timeout-ms <ms>", "time a client has to send its request head", integer("--headers-timeout-ms", 100), 10_000)
    .option("--request-timeout-ms <ms>", "time a client has to send its whole request", integer("--request-timeout-ms", 100), 60_000)
    .option("--max-connections <n>", "connections each agents' listener keeps open at most; more are closed as they come", integer("--max-connections", 1), 1_024)
    .option("--upstream-timeout-ms <ms>", "longest wait to connect to an upstream, for its response headers, and between two pieces of its body", integer("--upstream-timeout-ms", 100), 120_000)
    .option("--max-response-bytes <bytes>", "largest upstream answer relayed (decoded); a larger one is cut off", integer("--max-response-bytes", 1024), 64 * 1024 * 1024)
    .option("--upstream-connections-per-role <n>", "connections one role may hold to one tool's upstream; its further calls wait for one", integer("--upstream-connections-per-role", 1), 32)
    .option("--max-calls-in-flight-per-role <n>", "calls one role may have forwarded and unanswered; more get 503 role_busy", integer("--max-calls-in-flight-per-role", 1), 128)
    .option("--upstream-address <tool=host:port>", "TESTS AND DEVELOPMENT ONLY: connect to host:port for the tool's upstream (TLS still checks the upstream's host name); repeatable", upstreamAddress, new Map<string, UpstreamAddress>())
    .option("--upstream-ca <file>", "extra CA certificate (PEM) trusted for upstreams, e.g. a test CA")
    // Its own variable, not HTTPS_PROXY: a proxy set for other programs must not silently reroute the gateway.
    .option("--drain-timeout-sec <seconds>", "on SIGTERM or SIGINT: how long calls in flight (streams included) may still take before they are cut; /readyz answers 503 and no new connection is accepted meanwhile", integer("--drain-timeout-sec", 0), SHUTDOWN.drainTimeoutSec)
    .addOption(new Option("--upstream-proxy <url>", "reach every upstream through this HTTP proxy (CONNECT; TLS to the upstream inside), e.g. http://egress-proxy:3130").env("RAPIDCLAW_UPSTREAM_PROXY").argParser(upstreamProxy))
    .action(async (options) => {
      // Every file a flag names, read and checked together: all their problems at once.
      const { config, plan, redisCredentials, upstreamCa } = exitOnConfigError(() => readGatewaySetup(options));
      const gateway = await exitOnConfigError(() => startGateway({
        config,
        plan,
        writeLine: writeStdoutLine,
        monitoring: { onStoreChange: reportAlertWindows },
        keyDir: options.keyDir,
        redisUrl: options.redis,
        redisCredentials,
        listenHost: options.listenHost,
        adminPort: options.adminPort,
        adminHost: options.adminHost,
        maxBodyBytes: options.maxBodyBytes,
        maxHeaderBytes: options.maxHeaderBytes,
        headersTimeoutMs: options.headersTimeoutMs,
        requestTimeoutMs: options.requestTimeoutMs,
        maxConnectionsPerListener: options.maxConnections,
        upstreamTimeoutMs: options.upstreamTimeoutMs,
        maxResponseBytes: options.maxResponseBytes,
        upstreamConnectionsPerRole: options.upstreamConnectionsPerRole,
        maxCallsInFlightPerRole: options.maxCallsInFlightPerRole,
        upstreamAddresses: options.upstreamAddress,
        upstreamCa,
        upstreamProxy: options.upstreamProxy,
      }));
      const where = gateway.listeners.map((a, i) => `${a.address}:${a.port}${config.listeners[i].role ? ` (${config.listeners[i].role})` : " (by source network)"}`);
      process.stderr.write(`rapidclaw gateway listening on ${where.join(", ")}; admin on ${gateway.admin.address}:${gateway.admin.port}\n`);
      drainOnSignals("rapidclaw gateway", options.drainTimeoutSec, (timeoutMs) => gateway.drain(timeoutMs));
    });
}
