/**
 * Compares strings by UTF-16 code unit, the order every generated list and map is sorted in:
 * unlike `localeCompare` it is the same on every machine, so synthesized output is too.
 */
export function byString(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
