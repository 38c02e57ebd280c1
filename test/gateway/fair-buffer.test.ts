/** The retry buffer's sharing between roles: a role that floods it loses only its own entries. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FairBuffer } from "../../src/gateway/fair-buffer";

type Entry = { readonly role: string; readonly n: number };

describe("FairBuffer", () => {
  it("keeps every entry of a role holding no more than its fair share, whatever the others push (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.array(fc.constantFrom("a", "b", "c"), { maxLength: 300 }), (capacity, roles) => {
        const buffer = new FairBuffer<Entry>(capacity, (e) => e.role);
        const pushed = roles.map((role, n) => ({ role, n }));
        for (const entry of pushed) buffer.push(entry);
        const kept: Entry[] = [];
        for (let e = buffer.shift(); e !== undefined; e = buffer.shift()) kept.push(e);
        expect(kept.length).toBe(Math.min(capacity, pushed.length));
        for (const role of ["a", "b", "c"]) {
          const mine = pushed.filter((e) => e.role === role);
          const keptMine = kept.filter((e) => e.role === role);
          // Each role keeps its newest entries, in order, and all of them up to a third of the room.
          expect(keptMine).toEqual(mine.slice(mine.length - keptMine.length));
          expect(keptMine.length).toBeGreaterThanOrEqual(Math.min(mine.length, Math.floor(capacity / 3)));
        }
      }),
    );
  });

  it("takes entries in turn from each role, and puts a retry back first only while there is room", () => {
    const buffer = new FairBuffer<Entry>(4, (e) => e.role);
    for (const entry of [{ role: "a", n: 0 }, { role: "a", n: 1 }, { role: "a", n: 2 }, { role: "b", n: 3 }]) buffer.push(entry);
    expect(buffer.shift()).toEqual({ role: "a", n: 0 });
    expect(buffer.shift()).toEqual({ role: "b", n: 3 });
    expect(buffer.unshift({ role: "b", n: 3 })).toBe(true);
    expect(buffer.unshift({ role: "c", n: 9 })).toBe(true);
    expect(buffer.unshift({ role: "a", n: 0 })).toBe(false);
    expect(buffer.size).toBe(4);
    // Full: the role that holds the most loses its oldest; on a tie, the role adding.
    expect(buffer.push({ role: "d", n: 10 })).toEqual({ role: "a", n: 1 });
    expect(buffer.push({ role: "c", n: 11 })).toEqual({ role: "c", n: 9 });
  });
});
