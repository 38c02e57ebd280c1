import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { configMapParts } from "../src/kubernetes/config-map-parts";

describe("a text in ConfigMap parts", () => {
  it("cuts only between characters: every part is at most the limit and valid UTF-8, and the parts join back to the text", () => {
    fc.assert(fc.property(fc.string({ unit: "grapheme", maxLength: 300 }), fc.integer({ min: 4, max: 40 }), (text, limit) => {
      const parts = configMapParts(text, limit);
      for (const part of parts) {
        expect(Buffer.byteLength(part)).toBeLessThanOrEqual(limit);
        expect(Buffer.from(part, "utf8").toString("utf8")).toBe(part);
        expect(part).not.toContain("\\uFFFD");
      }
      expect(parts.join("")).toBe(text);
      expect(Buffer.concat(parts.map((p) => Buffer.from(p))).equals(Buffer.from(text))).toBe(true);
    }), { numRuns: 500 });
  });

  it("keeps a text that fits in one part, and gives the same parts for the same text", () => {
    expect(configMapParts("ascii only", 100)).toEqual(["ascii only"]);
    expect(configMapParts("€€€", 4)).toEqual(["€", "€", "€"]);
    const text = "x".repeat(1000) + "…";
    expect(configMapParts(text, 300)).toEqual(configMapParts(text, 300));
  });
});
