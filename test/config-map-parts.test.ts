import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { base64Length, configMapPartRanges } from "../src/kubernetes/config-map-parts";

/** The part `[start, end)` as Terraform takes it: from the file's base64, decoded. */
const fromBase64 = (file: Buffer, start: number, end: number) => Buffer.from(file.toString("base64").substr(base64Length(start), base64Length(end - start)), "base64");

describe("a file in ConfigMap parts", () => {
  it("cuts at multiples of 3 between characters: every part is at most the limit, valid UTF-8, taken whole from the file's base64, and the parts join back to the file", () => {
    let cut = 0;
    fc.assert(fc.property(fc.string({ unit: "grapheme", maxLength: 300 }), fc.integer({ min: 4, max: 20 }), (text, blocks) => {
      const file = Buffer.from(text, "utf8");
      const limit = blocks * 3;
      let ranges;
      try {
        ranges = configMapPartRanges(file, "test.cjs", limit);
      } catch (error) {
        // Only when no cut exists: a run of multi-byte characters out of step with the blocks.
        expect(String(error)).toMatch(/^Error: test\.cjs: no place within \d+ bytes of byte \d+ to cut it into ConfigMap parts/);
        return;
      }
      cut++;
      for (const { start, end } of ranges) {
        expect(end - start).toBeLessThanOrEqual(limit);
        expect(start % 3).toBe(0);
        const part = fromBase64(file, start, end);
        expect(part.equals(file.subarray(start, end))).toBe(true);
        expect(Buffer.from(part.toString("utf8"), "utf8").equals(part)).toBe(true);
      }
      expect(Buffer.concat(ranges.map(({ start, end }) => fromBase64(file, start, end))).equals(file)).toBe(true);
    }), { numRuns: 500 });
    expect(cut).toBeGreaterThan(250);
  });

  it("keeps a file that fits in one part, makes each part as long as it can be, and says where it cannot cut", () => {
    expect(configMapPartRanges(Buffer.from("ascii only"), "a", 99)).toEqual([{ start: 0, end: 10 }]);
    expect(configMapPartRanges(Buffer.from("x".repeat(10)), "a", 6)).toEqual([{ start: 0, end: 6 }, { start: 6, end: 10 }]);
    // "€" is 3 bytes: after "ab" (2 bytes) no character starts at a multiple of 3.
    expect(configMapPartRanges(Buffer.from("€€€"), "a", 3)).toEqual([{ start: 0, end: 3 }, { start: 3, end: 6 }, { start: 6, end: 9 }]);
    expect(() => configMapPartRanges(Buffer.from(`ab${"€".repeat(10)}`), "the gateway bundle /x.cjs", 12)).toThrow("the gateway bundle /x.cjs: no place within 12 bytes of byte 0 to cut it into ConfigMap parts (a multiple of 3 between characters); rebuild it as ASCII (esbuild's default charset), or deliver it in an image (gateway.image)");
  });
});
