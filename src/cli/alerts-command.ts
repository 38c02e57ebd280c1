import { Option, type Command } from "commander";
import { AlertEvaluator } from "../monitoring/alert-evaluator";
import { alertSummary } from "../monitoring/alert-payloads";
import { alertRules } from "../monitoring/alert-rules";
import { MemoryAlertWindowStore, type AlertTransition } from "../monitoring/alert-window-store";
import type { FirewallEvent } from "../monitoring/events";
import { DEFAULTS } from "../model/defaults";
import { compileFirewall } from "../plan/plan";
import { loadFirewallSpec } from "../model/load";
import { FirewallSpecError } from "../model/errors";
import { processIo, reportCliErrors, type CliIo } from "./cli-io";
import { EventLineReader, parseSince, SINCE_OPTION_HELP, readAll } from "./event-input";
import { CliError, EXIT } from "./exit-codes";

interface AlertsOptions {
  readonly config?: string;
  /** The old name of `--config`, still accepted. */
  readonly spec?: string;
  readonly since?: string;
  readonly json?: boolean;
}

function monitoringOf(configFile: string | undefined) {
  if (configFile === undefined) return { ...DEFAULTS.monitoring, webhooks: [] };
  try {
    return compileFirewall(loadFirewallSpec(configFile)).monitoring;
  } catch (error) {
    if (error instanceof FirewallSpecError) throw new CliError(error.message);
    throw new CliError(`cannot read --config ${configFile}: ${(error as Error).message}`);
  }
}

/** Replays events in time order through the built-in evaluator, with windows in memory. */
async function evaluate(events: FirewallEvent[], options: AlertsOptions): Promise<{ transitions: AlertTransition[]; lines: string[] }> {
  const lines: string[] = [];
  const evaluator = new AlertEvaluator({ rules: alertRules(monitoringOf(options.config)), store: new MemoryAlertWindowStore(), emit: (line) => lines.push(line), useEventTime: true });
  const transitions: AlertTransition[] = [];
  // Stable: lines of one time keep their order in the input.
  for (const event of [...events].sort((a, b) => a.timestampMs - b.timestampMs)) {
    // Resolutions that happened before this event come out before it.
    transitions.push(...(await evaluator.sweep(event.timestampMs)));
    transitions.push(...(await evaluator.observe(event)));
  }
  if (events.length > 0) transitions.push(...(await evaluator.sweep(Math.max(...events.map((e) => e.timestampMs)))));
  return { transitions, lines };
}

async function runAlerts(files: string[], given: AlertsOptions, io: CliIo): Promise<void> {
  const options = withConfigAlias(given, io);
  const since = options.since === undefined ? -Infinity : parseSince(options.since);
  const events: FirewallEvent[] = [];
  const reader = new EventLineReader((event) => void (event.timestampMs >= since && events.push(event)), (text) => io.err(text + "\n"));
  await readAll(files, reader, io.stdin);
  reader.finish();
  const { transitions, lines } = await evaluate(events, options);
  const fired = transitions.filter((t) => t.status === "firing").length;
  const resolved = transitions.filter((t) => t.status === "resolved").length;
  if (options.json) {
    for (const line of lines) io.out(line + "\n");
  } else {
    for (const t of transitions) io.out(`${new Date(t.atMs).toISOString()}  ${alertSummary(t)}\n`);
    const end = events.length > 0 ? ` at the last event (${new Date(Math.max(...events.map((e) => e.timestampMs))).toISOString()})` : "";
    io.out(`${fired} alert${fired === 1 ? "" : "s"} would have fired over ${events.length} events; ${fired - resolved} still firing${end}\n`);
  }
  io.exit(fired > 0 ? EXIT.ALERTS_FIRED : reader.malformedCount > 0 ? EXIT.MALFORMED_LINES : EXIT.OK);
}

/** `--spec`, the option's name before every command called it `--config`, still works, with a note. */
function withConfigAlias(options: AlertsOptions, io: CliIo): AlertsOptions {
  if (options.spec === undefined) return options;
  io.err("rapidclaw: --spec is deprecated; use --config (the name every command uses for the firewall file)\n");
  return { ...options, config: options.spec };
}

/** `rapidclaw alerts [FILE…]`: evaluates the alert thresholds offline over recorded event lines. */
export function registerAlertsCommand(program: Command, io: CliIo = processIo): Command {
  return program
    .command("alerts")
    .description("Evaluate the alert thresholds offline over recorded event lines and print what would have fired and resolved, in time order")
    .argument("[files...]", "files of JSON event lines (gateway and proxy); stdin when none")
    .option("-c, --config <file>", "firewall file (.yaml, .yml or .json) whose monitoring thresholds to use (default: the built-in thresholds)")
    .addOption(new Option("--spec <file>", "old name of --config").hideHelp().conflicts("config"))
    .option("--since <time>", SINCE_OPTION_HELP)
    .option("--json", "print the alert_firing / alert_resolved event lines the gateway would have written")
    .addHelpText("after", `\nExit codes: ${EXIT.OK} no alert would have fired, ${EXIT.ALERTS_FIRED} at least one would have, ${EXIT.MALFORMED_LINES} none fired but malformed lines were skipped (listed on stderr as file:line), ${EXIT.USAGE} bad arguments or unreadable file.`)
    .action((files: string[], options: AlertsOptions) => reportCliErrors(io, () => runAlerts(files, options, io)));
}
