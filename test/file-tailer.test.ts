/** The tailer hands over every complete line once, in order, across partial writes, rotation and truncation. */
import { appendFileSync, mkdtempSync, renameSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FileTailer } from "../src/monitoring/file-tailer";

const dir = mkdtempSync(join(tmpdir(), "rapidclaw-h5-tail-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("FileTailer", () => {
  it("reads appended lines once each, joins partial writes (even inside a UTF-8 character), follows rotation and truncation", async () => {
    const file = join(dir, "access.log");
    writeFileSync(file, "old line\n");
    const lines: string[] = [];
    const tailer = new FileTailer(file, (line) => void lines.push(line), { from: "end", intervalMs: 1_000_000 });
    tailer.start();
    await tailer.poll();
    expect(lines).toEqual([]);
    const accented = Buffer.from("é", "utf8");
    appendFileSync(file, Buffer.concat([Buffer.from("one\ntw"), accented.subarray(0, 1)]));
    await tailer.poll();
    expect(lines).toEqual(["one"]);
    appendFileSync(file, Buffer.concat([accented.subarray(1), Buffer.from("o\n")]));
    await tailer.poll();
    expect(lines).toEqual(["one", "twéo"]);
    // Rotation: the writer appends to the old file a last time, then a new file takes the path.
    appendFileSync(file, "last of old\n");
    renameSync(file, `${file}.1`);
    writeFileSync(file, "first of new\n");
    await tailer.poll();
    expect(lines).toEqual(["one", "twéo", "last of old", "first of new"]);
    // Truncation is seen when a poll finds the file shorter than what was read (a copy-truncate
    // rotator that writes again within one interval is missed: Squid rotates by renaming).
    truncateSync(file, 0);
    await tailer.poll();
    appendFileSync(file, "after truncation\n");
    await tailer.poll();
    await tailer.stop();
    expect(lines).toEqual(["one", "twéo", "last of old", "first of new", "after truncation"]);
  });

  it("waits for a file that does not exist yet, then reads it from its start", async () => {
    const file = join(dir, "later.log");
    const lines: string[] = [];
    const tailer = new FileTailer(file, (line) => void lines.push(line), { from: "end", intervalMs: 1_000_000 });
    tailer.start();
    await tailer.poll();
    writeFileSync(file, "a\nb\n");
    await tailer.poll();
    await tailer.stop();
    expect(lines).toEqual(["a", "b"]);
  });
});
