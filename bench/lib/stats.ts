/** Order statistics of a sample: median with interquartile range and full range. */
export interface Summary {
  readonly n: number;
  readonly median: number;
  readonly q1: number;
  readonly q3: number;
  readonly min: number;
  readonly max: number;
}

/** Quantile by linear interpolation between closest ranks (the same rule as numpy's default). */
function quantile(sorted: number[], q: number): number {
  const position = (sorted.length - 1) * q;
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  return sorted[lower] + (sorted[upper] - sorted[lower]) * (position - lower);
}

export function summarize(values: ReadonlyArray<number>): Summary {
  if (values.length === 0) throw new Error("summarize: no values");
  const sorted = [...values].sort((a, b) => a - b);
  return {
    n: sorted.length,
    median: quantile(sorted, 0.5),
    q1: quantile(sorted, 0.25),
    q3: quantile(sorted, 0.75),
    min: sorted[0],
    max: sorted[sorted.length - 1],
  };
}

/** `12.3 (11.9–12.8)`: median and interquartile range, digits by magnitude unless given. */
export function formatMedianIqr(s: Summary, digits = digitsFor(s.median)): string {
  const f = (v: number) => v.toFixed(digits);
  return `${f(s.median)} (${f(s.q1)}–${f(s.q3)})`;
}

/** `12.3 (11.5–14.0)`: median and full range. */
export function formatMedianRange(s: Summary, digits = digitsFor(s.median)): string {
  const f = (v: number) => v.toFixed(digits);
  return `${f(s.median)} (${f(s.min)}–${f(s.max)})`;
}

function digitsFor(value: number): number {
  const magnitude = Math.abs(value);
  return magnitude >= 100 ? 0 : magnitude >= 10 ? 1 : 2;
}
