import type { Command } from "commander";
import { gatewayConfigFromSpec } from "../gateway/config";
import type { FirewallEvent } from "../monitoring/events";
import { FirewallSpecError } from "../model/errors";
import { loadFirewallSpec } from "../model/load";
import { compileFirewall } from "../plan/plan";
import { replayEvents, type ReplayCandidate } from "../replay/replay";
import { renderReplayReport } from "../replay/replay-report";
import { processIo, reportCliErrors, type CliIo } from "./cli-io";
import { EventLineReader, readAll } from "./event-input";
import { CliError, EXIT } from "./exit-codes";

interface ReplayOptions {
  readonly config: string;
  readonly json?: boolean;
}

/** The candidate description, compiled as the gateway and the proxy would enforce it. */
function candidateOf(file: string): ReplayCandidate {
  try {
    const spec = loadFirewallSpec(file);
    return { config: gatewayConfigFromSpec(spec), plan: compileFirewall(spec) };
  } catch (error) {
    if (error instanceof FirewallSpecError) throw new CliError(error.message);
    throw error;
  }
}

async function runReplay(files: string[], options: ReplayOptions, io: CliIo): Promise<void> {
  const candidate = candidateOf(options.config);
  const events: FirewallEvent[] = [];
  const reader = new EventLineReader((event) => void events.push(event), (text) => io.err(text + "\n"));
  await readAll(files, reader, io.stdin);
  reader.finish();
  // A gate must not pass on logs it could not read whole.
  if (reader.malformedCount > 0) throw new CliError(`${reader.malformedCount} malformed line${reader.malformedCount === 1 ? "" : "s"} (listed above): fix or remove them and replay again`);
  const report = replayEvents(events, candidate);
  io.out(options.json ? `${JSON.stringify(report, null, 2)}\n` : renderReplayReport(report, options.config));
  io.exit(report.changed > 0 ? EXIT.REPLAY_CHANGED : EXIT.OK);
}

/** `rapidclaw replay --config candidate.yaml [FILE…]`: recorded gateway events and proxy lines against a candidate firewall. */
export function registerReplayCommand(program: Command, io: CliIo = processIo): Command {
  return program
    .command("replay")
    .description("Replay recorded gateway events and proxy log lines against a candidate firewall description: per layer, role and tool or host, what it would refuse that was allowed and allow that was refused")
    .argument("[files...]", "files of JSON event lines (the gateway's stdout, the proxy's access log); stdin when none")
    .requiredOption("-c, --config <file>", "the candidate firewall description (.yaml, .yml, .json)")
    .option("--json", "print the report as JSON")
    .addHelpText("after", `\nExit codes: ${EXIT.OK} nothing would change, ${EXIT.REPLAY_CHANGED} some recorded call would change, ${EXIT.USAGE} bad arguments, an unreadable file, an invalid description or malformed lines.\nWhat a replay can see: docs/replay.md.`)
    .action((files: string[], options: ReplayOptions) => reportCliErrors(io, () => runReplay(files, options, io)));
}
