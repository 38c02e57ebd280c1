import { byString } from "../model/order";

/**
 * JSON with the keys of every object sorted and `undefined` members left out, two-space indented
 * with a final newline: the same value always gives the same bytes, whatever order it was built
 * in. With `orderedLists`, lists are sets: each is sorted too (by its items' canonical text),
 * except those under the keys named there, whose order means something.
 */
export function canonicalJson(value: unknown, orderedLists?: ReadonlySet<string>): string {
  return `${JSON.stringify(normalise(value, undefined, orderedLists), null, 2)}\n`;
}

function normalise(value: unknown, key: string | undefined, orderedLists: ReadonlySet<string> | undefined): unknown {
  if (Array.isArray(value)) {
    const items = value.map((item) => normalise(item, undefined, orderedLists));
    if (orderedLists === undefined || (key !== undefined && orderedLists.has(key))) return items;
    return items.map((item) => [JSON.stringify(item), item] as const).sort(([a], [b]) => byString(a, b)).map(([, item]) => item);
  }
  if (typeof value !== "object" || value === null) return value;
  const entries = Object.entries(value).filter(([, member]) => member !== undefined);
  entries.sort(([a], [b]) => byString(a, b));
  return Object.fromEntries(entries.map(([name, member]) => [name, normalise(member, name, orderedLists)]));
}
