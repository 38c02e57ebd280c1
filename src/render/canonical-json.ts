import { byString } from "../model/order";

/**
 * JSON with the keys of every object sorted and `undefined` members left out, two-space indented
 * with a final newline: the same value always gives the same bytes, whatever order it was built in.
 */
export function canonicalJson(value: unknown): string {
  return `${JSON.stringify(sortKeys(value), null, 2)}\n`;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value !== "object" || value === null) return value;
  const entries = Object.entries(value).filter(([, member]) => member !== undefined);
  entries.sort(([a], [b]) => byString(a, b));
  return Object.fromEntries(entries.map(([key, member]) => [key, sortKeys(member)]));
}
