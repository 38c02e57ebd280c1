/**
 * What a cold child reports on its last stdout line: milliseconds since the process started
 * (performance.now(), whose origin is the process start) when its modules were loaded and when
 * synthesis was done, and its peak resident set size.
 */
export interface ColdReport {
  readonly loadedMs: number;
  readonly doneMs: number;
  readonly maxRssKiB: number;
  /** Provider module files loaded (only with BENCH_LIST_MODULES=1). */
  readonly providerModules?: string[];
}

/** Top-level deep provider modules (`@cdktf/provider-x/lib/<name>/index.js`) now loaded, in load order. */
export function loadedProviderModules(): string[] {
  return Object.keys(require.cache).filter((file) => /[/\\]@cdktf[/\\]provider-[^/\\]+[/\\]lib[/\\][^/\\]+[/\\]index\.js$/.test(file));
}

export function report(loadedMs: number): void {
  const result: ColdReport = {
    loadedMs,
    doneMs: performance.now(),
    maxRssKiB: process.resourceUsage().maxRSS,
    ...(process.env.BENCH_LIST_MODULES === "1" ? { providerModules: loadedProviderModules() } : {}),
  };
  console.log(JSON.stringify(result));
}
