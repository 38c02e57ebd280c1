import type { Command } from "commander";
import type { FirewallEvent } from "../monitoring/events";
import { formatEvent, formatLogSummary, summariseEvents } from "../monitoring/log-summary";
import { processIo, reportCliErrors, stopSignal, type CliIo } from "./cli-io";
import { EventLineReader, follow, parseDurationSec, parseSince, SINCE_OPTION_HELP, readAll } from "./event-input";
import { EXIT } from "./exit-codes";

interface LogsOptions {
  readonly follow?: boolean;
  readonly since?: string;
  readonly json?: boolean;
  readonly bucket: string;
}

async function runLogs(files: string[], options: LogsOptions, io: CliIo): Promise<void> {
  const since = options.since === undefined ? -Infinity : parseSince(options.since);
  const bucketSec = parseDurationSec("--bucket", options.bucket);
  const events: FirewallEvent[] = [];
  const print = (event: FirewallEvent) => io.out((options.json ? JSON.stringify(event) : formatEvent(event)) + "\n");
  const reader = new EventLineReader((event) => {
    if (event.timestampMs < since) return;
    if (options.follow) print(event);
    else events.push(event);
  }, (text) => io.err(text + "\n"));
  if (options.follow) await follow(files, reader, stopSignal(io), io.stdin);
  else await readAll(files, reader, io.stdin);
  reader.finish();
  if (!options.follow) {
    const summary = summariseEvents(events, bucketSec);
    io.out(options.json ? JSON.stringify({ ...summary, malformedLines: reader.malformedCount, otherLines: reader.otherLines }, null, 2) + "\n" : formatLogSummary(summary));
  }
  io.exit(reader.malformedCount > 0 ? EXIT.MALFORMED_LINES : EXIT.OK);
}

/** `rapidclaw logs [FILE…]`: summaries of firewall event lines, from files or stdin. */
export function registerLogsCommand(program: Command, io: CliIo = processIo): Command {
  return program
    .command("logs")
    .description("Summarise firewall event lines (gateway events and proxy access log lines) by event, role, tool and host, and over time")
    .argument("[files...]", "files of JSON event lines; stdin when none (e.g. docker logs … | rapidclaw logs)")
    .option("-f, --follow", "print each event as it arrives, following the files as they grow (Ctrl-C ends)")
    .option("--since <time>", SINCE_OPTION_HELP)
    .option("--json", "print JSON: the summary as one document, or each event as one line with --follow")
    .option("--bucket <duration>", "width of the over-time buckets (30s, 5m, 1h)", "5m")
    .addHelpText("after", `\nExit codes: ${EXIT.OK} all lines read, ${EXIT.MALFORMED_LINES} some malformed lines skipped (listed on stderr as file:line), ${EXIT.USAGE} bad arguments or unreadable file.`)
    .action((files: string[], options: LogsOptions) => reportCliErrors(io, () => runLogs(files, options, io)));
}
