/**
 * Most a ConfigMap part holds, in bytes: Kubernetes refuses a ConfigMap over 1 MiB (1,048,576
 * bytes, keys and metadata included), so each part keeps room for those.
 */
export const CONFIG_MAP_PART_BYTES = 900 * 1024;

/**
 * A text in parts of at most `limit` UTF-8 bytes each, cut only between characters (never inside
 * a multi-byte one), so each part is valid UTF-8 on its own and the parts joined give the text
 * back byte for byte. Deterministic: the same text always gives the same parts.
 */
export function configMapParts(text: string, limit = CONFIG_MAP_PART_BYTES): string[] {
  const bytes = Buffer.from(text, "utf8");
  const parts: string[] = [];
  let start = 0;
  while (start < bytes.length) {
    let end = Math.min(start + limit, bytes.length);
    // A byte 10xxxxxx continues a character: step back to where one starts.
    while (end < bytes.length && (bytes[end] & 0xc0) === 0x80) end--;
    parts.push(bytes.subarray(start, end).toString("utf8"));
    start = end;
  }
  return parts.length === 0 ? [""] : parts;
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
