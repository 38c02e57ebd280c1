import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { KeyScrubber, KeySpellings } from "../../src/gateway/key-scrubber";

const KEY = "sk-live/AbC+dE=fG&hI jK~lM!nO*pQ'(rS)tU_vW-xY.z0123456789";

/** Encodings written out here independently of the scrubber: what an upstream may echo. */
function echoes(key: string): Record<string, string> {
  const form = new URLSearchParams({ k: key }).toString().slice(2);
  const base64 = (prefix: string) => Buffer.from(`${prefix}${key}`).toString("base64");
  return {
    raw: key,
    uri: encodeURIComponent(key),
    uriLower: encodeURIComponent(key).replace(/%[0-9A-F]{2}/g, (h) => h.toLowerCase()),
    form,
    formLower: form.replace(/%[0-9A-F]{2}/g, (h) => h.toLowerCase()),
    base64At0: base64(""),
    base64At1: base64("Bearer "),
    base64At2: base64("ab"),
    base64url: Buffer.from(`x${key}`).toString("base64url"),
    bearerHeader: `Bearer ${key}`,
  };
}

/** Runs chunks through a scrubber and joins what it lets out. */
function scrubbed(scrubber: KeyScrubber, chunks: ReadonlyArray<Buffer>): Buffer {
  return Buffer.concat([...chunks.map((chunk) => scrubber.push(chunk)), scrubber.end() ?? Buffer.alloc(0)]);
}

/** True when some 16-byte run of the key, in the form given, appears in `text`. */
function holdsPartOf(text: string, encoded: string): boolean {
  for (let at = 0; at + 16 <= encoded.length; at++) if (text.includes(encoded.slice(at, at + 16))) return true;
  return false;
}

describe("key scrubber", () => {
  it("writes over every echoed encoding at the same length, and leaves the text around it", () => {
    for (const [name, echo] of Object.entries(echoes(KEY))) {
      const input = Buffer.from(`{"error":"Incorrect API key provided: ${echo}","n":1}`);
      const scrubber = new KeyScrubber(new KeySpellings(KEY));
      const output = scrubbed(scrubber, [input]).toString("latin1");
      expect(output.length, name).toBe(input.length);
      expect(output.startsWith('{"error":"Incorrect API key provided: '), name).toBe(true);
      expect(output.endsWith('","n":1}'), name).toBe(true);
      for (const encoded of Object.values(echoes(KEY))) expect(holdsPartOf(output, encoded), `${name} still holds ${encoded}`).toBe(false);
      expect(scrubber.scrubbed, name).toBeGreaterThan(0);
    }
  });

  it("catches a key split at every byte across two chunks, and across many small ones", () => {
    const input = Buffer.from(`before ${KEY} after`);
    for (let split = 1; split < input.length; split++) {
      const output = scrubbed(new KeyScrubber(new KeySpellings(KEY)), [input.subarray(0, split), input.subarray(split)]).toString();
      expect(output).toBe(`before ${"*".repeat(KEY.length)} after`);
    }
    const bytes = [...input].map((b) => Buffer.from([b]));
    expect(scrubbed(new KeyScrubber(new KeySpellings(KEY)), bytes).toString()).toBe(`before ${"*".repeat(KEY.length)} after`);
  });

  it("holds back only a tail that could begin the key, so streamed events are not delayed", () => {
    const scrubber = new KeyScrubber(new KeySpellings(KEY));
    expect(scrubber.push(Buffer.from("data: {\"delta\":\"hello\"}\n\n")).toString()).toBe("data: {\"delta\":\"hello\"}\n\n");
    expect(scrubber.push(Buffer.from("data: sk-li")).toString()).toBe("data: ");
    expect(scrubber.push(Buffer.from("ke\n\n")).toString()).toBe("sk-like\n\n");
  });

  it("scrubs header values and counts each spelling it wrote over", () => {
    const scrubber = new KeyScrubber(new KeySpellings(KEY));
    expect(scrubber.scrubText("no key here")).toBe("no key here");
    expect(scrubber.scrubText(`Bearer realm="api", error="${KEY}" ${encodeURIComponent(KEY)}`)).not.toContain(KEY.slice(0, 12));
    expect(scrubber.scrubbed).toBe(2);
  });

  it("never lets any encoding of a random key out, however the stream is cut (property)", () => {
    const keyArb = fc.string({ unit: fc.constantFrom(..."abcXYZ0189-_./+=&~!*'() %".split("")), minLength: 20, maxLength: 60 });
    fc.assert(fc.property(keyArb, fc.string({ maxLength: 40 }), fc.string({ maxLength: 40 }), fc.nat(9), fc.array(fc.nat(200), { maxLength: 6 }), (key, before, after, which, cuts) => {
      const encoded = Object.values(echoes(key))[which];
      const input = Buffer.from(`${before}${encoded}${after}`, "utf8");
      const points = [...new Set(cuts.map((c) => c % (input.length + 1)))].sort((a, b) => a - b);
      const chunks = [0, ...points, input.length].slice(1).map((end, i, ends) => input.subarray(i === 0 ? 0 : ends[i - 1], end));
      const output = scrubbed(new KeyScrubber(new KeySpellings(key)), chunks).toString("latin1");
      expect(output.length).toBe(input.length);
      for (const form of Object.values(echoes(key))) expect(holdsPartOf(output, form)).toBe(false);
    }), { numRuns: 500 });
  });
});
