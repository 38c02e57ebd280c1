import type { AddressInfo } from "node:net";
import { Command } from "commander";
import { adminServer } from "../gateway/admin-server";
import { until } from "../gateway/drain";
import { followProxyLog } from "../monitoring/proxy-log-follower";
import { connectSharedMonitoring } from "../monitoring/shared-monitoring";
import { compileFirewall } from "../plan/plan";
import { loadFirewallSpec } from "../model/load";
import { SHUTDOWN } from "../plan/shutdown";
import { drainOnSignals, exitOnConfigError, integer, writeStdoutLine } from "./service-io";

/**
 * `rapidclaw proxy-events`: follows the egress proxy's access log file into the alert evaluator,
 * with the windows in the same Redis as the gateway's, so `network_blocked` counts in the same
 * shared windows and alerts through the same webhooks.
 */
export function proxyEventsCommand(): Command {
  return new Command("proxy-events")
    .description("Follow the egress proxy's access log (Squid access_log stdio:<file>) into the shared alert windows: alert lines on stdout, metrics on the admin port.")
    .requiredOption("-c, --config <file>", "firewall file (.yaml, .yml or .json): thresholds, webhooks, roles and tools")
    .requiredOption("-l, --log <file>", "the proxy's access log file, followed from its end (also across rotation by renaming)")
    .option("-r, --redis <url>", "Redis URL of the shared alert windows (the gateway's --redis)", "redis://127.0.0.1:6379")
    .option("--admin-port <port>", "port of /metrics, /healthz and /readyz (0 for any free port)", integer("--admin-port", 0), 9465)
    .option("--admin-host <address>", "address of the admin port", "0.0.0.0")
    .option("--drain-timeout-sec <seconds>", "on SIGTERM or SIGINT: how long the lines already written and the queued alert deliveries may still take; /readyz answers 503 meanwhile", integer("--drain-timeout-sec", 0), SHUTDOWN.drainTimeoutSec)
    .action(async (options: { config: string; log: string; redis: string; adminPort: number; adminHost: string; drainTimeoutSec: number }) => {
      const spec = exitOnConfigError(() => loadFirewallSpec(options.config));
      const monitoring = exitOnConfigError(() => connectSharedMonitoring({ plan: compileFirewall(spec), redisUrl: options.redis, emit: writeStdoutLine }));
      // One note per distinct failure, not one per retry while Redis stays away.
      let lastProblem = "";
      const note = (error: Error) => {
        if (error.message !== lastProblem) process.stderr.write(`rapidclaw: alert windows: ${error.message}; retrying\n`);
        lastProblem = error.message;
      };
      monitoring.evaluator.start(1_000, note);
      const tailer = followProxyLog(options.log, monitoring.evaluator, {
        onMalformed: (_line, reason) => process.stderr.write(`rapidclaw: ${options.log}: skipped a line that is not an event: ${reason}\n`),
        onStoreError: note,
      });
      let draining = false;
      const admin = adminServer(monitoring.metrics.registry, async () => (draining ? ["draining"] : (await monitoring.ready()) ? [] : ["redis unavailable"]));
      await new Promise<void>((resolve, reject) => admin.once("error", reject).listen(options.adminPort, options.adminHost, resolve));
      const { address, port: adminPort } = admin.address() as AddressInfo;
      process.stderr.write(`rapidclaw proxy-events following ${options.log}; admin on ${address}:${adminPort}\n`);
      drainOnSignals("rapidclaw proxy-events", options.drainTimeoutSec, async (timeoutMs) => {
        draining = true;
        const deadline = Date.now() + timeoutMs;
        // The lines written so far are read and counted (each waits for Redis), then their alerts are sent.
        const callsFinished = await until(tailer.stop(), deadline);
        const deliveriesFlushed = await until(monitoring.delivery.idle(), Math.max(deadline, Date.now() + SHUTDOWN.flushSec * 1000));
        monitoring.close();
        admin.close();
        return { callsFinished, deliveriesFlushed };
      });
    });
}
