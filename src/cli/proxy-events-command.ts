import type { AddressInfo } from "node:net";
import { Command } from "commander";
import { adminServer } from "../gateway/admin-server";
import { followProxyLog } from "../monitoring/proxy-log-follower";
import { connectSharedMonitoring } from "../monitoring/shared-monitoring";
import { compileFirewall } from "../plan/plan";
import { loadFirewallSpec } from "../model/load";
import { exitOnConfigError, integer, writeStdoutLine } from "./service-io";

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
    .action(async (options: { config: string; log: string; redis: string; adminPort: number; adminHost: string }) => {
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
      const admin = adminServer(monitoring.metrics.registry, async () => ((await monitoring.ready()) ? [] : ["redis unavailable"]));
      await new Promise<void>((resolve, reject) => admin.once("error", reject).listen(options.adminPort, options.adminHost, resolve));
      const { address, port: adminPort } = admin.address() as AddressInfo;
      process.stderr.write(`rapidclaw proxy-events following ${options.log}; admin on ${address}:${adminPort}\n`);
      const stop = () => void (async () => {
        admin.close();
        await tailer.stop();
        monitoring.close();
        process.exit(0);
      })();
      process.once("SIGTERM", stop);
      process.once("SIGINT", stop);
    });
}
