import { createReadStream } from "node:fs";
import { access } from "node:fs/promises";
import { createInterface } from "node:readline";
import { FileTailer } from "../monitoring/file-tailer";
import { parseEventLine, type FirewallEvent } from "../monitoring/events";
import { CliError } from "./exit-codes";

/** A line that looked like an event but was not one. */
export interface MalformedLine {
  /** `file:line`, or `<stdin>:line`. */
  readonly where: string;
  readonly reason: string;
}

/** Most malformed lines reported one by one; the rest are counted. */
const REPORTED_MALFORMED = 20;

/**
 * Turns lines into events. Lines that do not start with `{` are not event lines (Squid's
 * cache log and other output mixed into `docker logs`): counted, not reported. Lines that start
 * with `{` and are not valid events are malformed: reported with their place and skipped.
 */
export class EventLineReader {
  readonly malformed: MalformedLine[] = [];
  malformedCount = 0;
  otherLines = 0;

  constructor(private readonly onEvent: (event: FirewallEvent) => void | Promise<void>, private readonly warn: (text: string) => void) {}

  async line(where: string, text: string): Promise<void> {
    const trimmed = text.trim();
    if (trimmed === "") return;
    if (!trimmed.startsWith("{")) {
      this.otherLines++;
      return;
    }
    const parsed = parseEventLine(trimmed);
    if (parsed.ok) return this.onEvent(parsed.event);
    this.malformedCount++;
    if (this.malformed.length < REPORTED_MALFORMED) {
      this.malformed.push({ where, reason: parsed.reason });
      this.warn(`${where}: skipped a malformed line: ${parsed.reason}`);
    }
  }

  /** The closing note on stderr: how many lines were skipped. */
  finish(): void {
    if (this.malformedCount > REPORTED_MALFORMED) this.warn(`… and ${this.malformedCount - REPORTED_MALFORMED} more malformed lines`);
    if (this.malformedCount > 0) this.warn(`${this.malformedCount} malformed line${this.malformedCount === 1 ? "" : "s"} skipped`);
  }
}

/** Reads every line of the files (or stdin when there are none), in order, file by file. */
export async function readAll(files: ReadonlyArray<string>, reader: EventLineReader, stdin: NodeJS.ReadableStream = process.stdin): Promise<void> {
  await checkReadable(files);
  const sources: Array<[string, NodeJS.ReadableStream]> = files.length === 0 ? [["<stdin>", stdin]] : files.map((f) => [f, createReadStream(f)]);
  for (const [name, stream] of sources) {
    let number = 0;
    for await (const text of createInterface({ input: stream, crlfDelay: Infinity })) await reader.line(`${name}:${++number}`, text);
  }
}

/**
 * Reads every line of the files, then follows them as they grow (until `signal` aborts); with no
 * files, reads stdin to its end.
 */
export async function follow(files: ReadonlyArray<string>, reader: EventLineReader, signal: AbortSignal, stdin: NodeJS.ReadableStream = process.stdin): Promise<void> {
  if (files.length === 0) return readAll(files, reader, stdin);
  await checkReadable(files);
  const tailers = files.map((file) => {
    let number = 0;
    return new FileTailer(file, (text) => reader.line(`${file}:${++number}`, text));
  });
  for (const tailer of tailers) tailer.start();
  await new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener("abort", () => resolve(), { once: true })));
  await Promise.all(tailers.map((t) => t.stop()));
}

async function checkReadable(files: ReadonlyArray<string>): Promise<void> {
  const problems: string[] = [];
  for (const file of files) {
    try {
      await access(file);
    } catch (error) {
      problems.push(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  }
  if (problems.length > 0) throw new CliError(problems.join("\n"));
}

/** Help text of `--since`, which `logs` and `alerts` share. */
export const SINCE_OPTION_HELP = "only events at or after this time: a duration back from now (15m, 2h, 1d) or an ISO-8601 time";

/** `--since`: an ISO-8601 time, or a duration back from now (`90s`, `15m`, `2h`, `1d`). */
export function parseSince(text: string, now: number = Date.now()): number {
  const duration = /^(\d+)(s|m|h|d)$/.exec(text);
  if (duration) return now - Number(duration[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[duration[2] as "s" | "m" | "h" | "d"];
  const time = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/.test(text) ? Date.parse(text) : NaN;
  if (Number.isNaN(time)) throw new CliError(`--since ${text}: give a duration back from now (90s, 15m, 2h, 1d) or an ISO-8601 time with a zone (2026-11-29T10:00:00Z)`);
  return time;
}

/** `--bucket`: a duration (`30s`, `5m`, `1h`) in seconds. */
export function parseDurationSec(option: string, text: string): number {
  const match = /^(\d+)(s|m|h)$/.exec(text);
  if (!match || Number(match[1]) === 0) throw new CliError(`${option} ${text}: give a duration such as 30s, 5m or 1h`);
  return Number(match[1]) * { s: 1, m: 60, h: 3600 }[match[2] as "s" | "m" | "h"];
}
