import { closeSync, fstatSync, openSync, readSync, statSync } from "node:fs";
import { StringDecoder } from "node:string_decoder";

/** Options of a FileTailer. */
export interface FileTailerOptions {
  /** Read the lines already in the file, or only what is appended. @default "start" */
  readonly from?: "start" | "end";
  /** How often to look for new lines. @default 200 */
  readonly intervalMs?: number;
}

const CHUNK = 64 * 1024;

/**
 * Follows a file that another program appends lines to (Squid's access log): every complete line
 * once, in order, also across rotation (the path names a new file: the old one is read to its
 * end first) and truncation (read again from the start, when a poll sees the file shorter than
 * what was read: rotate by renaming, as Squid does, not by copy-truncate). Lines reach `onLine` one at a time; the
 * next waits until the previous one's promise settles, so nothing is counted out of order.
 * `onLine` must not throw: the line would count as handled.
 * Polls rather than watching: inotify does not see writes made through another mount of a
 * shared volume.
 */
export class FileTailer {
  private fd: number | undefined;
  private inode = -1;
  private offset = 0;
  private partial = "";
  /** Keeps a character split across two reads whole. */
  private decoder = new StringDecoder("utf8");
  private timer: NodeJS.Timeout | undefined;
  private reading: Promise<void> = Promise.resolve();

  constructor(
    readonly path: string,
    private readonly onLine: (line: string) => Promise<void> | void,
    private readonly options: FileTailerOptions = {},
  ) {}

  /** Opens the file (when it exists yet) and starts polling. */
  start(): void {
    this.open(this.options.from === "end");
    this.timer = setInterval(() => this.poll(), this.options.intervalMs ?? 200);
  }

  /** Reads whatever is there now; resolves when those lines were handled. */
  poll(): Promise<void> {
    this.reading = this.reading.then(() => this.readAvailable());
    return this.reading;
  }

  /** Stops polling after reading what is there, and closes the file. A last line without a newline is handed over too. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.poll();
    if (this.partial !== "") await this.onLine(this.partial);
    this.partial = "";
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private open(atEnd: boolean): void {
    try {
      this.fd = openSync(this.path, "r");
    } catch {
      return; // not there yet: the next poll tries again
    }
    const stat = fstatSync(this.fd);
    this.inode = stat.ino;
    this.decoder = new StringDecoder("utf8");
    this.offset = atEnd ? stat.size : 0;
  }

  private async readAvailable(): Promise<void> {
    if (this.fd === undefined) this.open(false);
    if (this.fd === undefined) return;
    if (fstatSync(this.fd).size < this.offset) this.offset = 0; // truncated in place
    await this.drain();
    let current: number | undefined;
    try {
      current = statSync(this.path).ino;
    } catch {
      current = undefined;
    }
    if (current !== undefined && current !== this.inode) {
      // Rotated: the old file is read to its end above; continue with the new one from its start.
      closeSync(this.fd);
      this.fd = undefined;
      this.open(false);
      await this.drain();
    }
  }

  private async drain(): Promise<void> {
    const buffer = Buffer.alloc(CHUNK);
    for (;;) {
      const read = readSync(this.fd as number, buffer, 0, CHUNK, this.offset);
      if (read === 0) return;
      this.offset += read;
      const lines = (this.partial + this.decoder.write(buffer.subarray(0, read))).split("\n");
      this.partial = lines.pop() as string;
      for (const line of lines) await this.onLine(line);
    }
  }
}
