/**
 * Most a ConfigMap part holds, in bytes: Kubernetes refuses a ConfigMap over 1 MiB (1,048,576
 * bytes, keys and metadata included), so each part keeps room for those. A multiple of 3, so a
 * full part is a whole number of base64 blocks.
 */
export const CONFIG_MAP_PART_BYTES = 900 * 1024;

/** Bytes `[start, end)` of a file: one ConfigMap part. */
export interface PartRange {
  readonly start: number;
  readonly end: number;
}

/** Characters of base64 that `bytes` bytes take, padding included. */
export const base64Length = (bytes: number) => Math.ceil(bytes / 3) * 4;

/**
 * A file's bytes in parts of at most `limit` bytes, cut where a part can be taken from the
 * file's base64 (`substr(filebase64(…), start / 3 * 4, …)` in Terraform, then `base64decode`):
 * at offsets that are multiples of 3 (whole base64 blocks) and between characters (never inside
 * a multi-byte one), so each part decodes to valid UTF-8 on its own and the parts joined give the
 * file back byte for byte. Each part is as long as it can be. Deterministic.
 * Throws, naming `name`, when no such cut exists within `limit` (a long run of multi-byte
 * characters out of step with the blocks, which a bundled JavaScript program does not have).
 */
export function configMapPartRanges(bytes: Uint8Array, name: string, limit = CONFIG_MAP_PART_BYTES): PartRange[] {
  const ranges: PartRange[] = [];
  let start = 0;
  while (start < bytes.length) {
    let end = Math.min(start + limit, bytes.length);
    // A byte 10xxxxxx continues a character; the end of the file is always a cut.
    const isCut = (at: number) => at === bytes.length || (at % 3 === 0 && (bytes[at] & 0xc0) !== 0x80);
    while (end > start && !isCut(end)) end--;
    if (end === start) throw new Error(`${name}: no place within ${limit} bytes of byte ${start} to cut it into ConfigMap parts (a multiple of 3 between characters); rebuild it as ASCII (esbuild's default charset), or deliver it in an image (gateway.image)`);
    ranges.push({ start, end });
    start = end;
  }
  return ranges.length === 0 ? [{ start: 0, end: 0 }] : ranges;
}

/**
 * The `node -e` program an init container runs to join the parts (argv: the output file, then the
 * part files in order) into one file, mode 0444. Node is all the gateway's image needs.
 */
export const JOIN_PARTS_PROGRAM = [
  'const fs = require("node:fs");',
  "const [out, ...parts] = process.argv.slice(1);",
  "fs.writeFileSync(out, Buffer.concat(parts.map((part) => fs.readFileSync(part))), { mode: 0o444 });",
].join(" ");
