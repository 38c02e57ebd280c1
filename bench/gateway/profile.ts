import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** Share of CPU time of one place in a V8 CPU profile. */
export interface ProfileShare {
  readonly name: string;
  readonly percent: number;
}

interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }>;
}

/** Where the profiled gateway spent its busy time (idle excluded): by area, and the top functions by self time. */
export function summarizeProfile(dir: string): { areas: ProfileShare[]; functions: ProfileShare[]; busyPercent: number } {
  const file = readdirSync(dir).find((f) => f.endsWith(".cpuprofile"));
  if (file === undefined) throw new Error(`no .cpuprofile in ${dir}`);
  const profile = JSON.parse(readFileSync(join(dir, file), "utf8")) as CpuProfile;
  const total = profile.nodes.reduce((sum, n) => sum + (n.hitCount ?? 0), 0);
  const busy = profile.nodes.filter((n) => n.callFrame.functionName !== "(idle)");
  const busyHits = busy.reduce((sum, n) => sum + (n.hitCount ?? 0), 0);
  const add = (map: Map<string, number>, key: string, hits: number) => map.set(key, (map.get(key) ?? 0) + hits);
  const areas = new Map<string, number>();
  const functions = new Map<string, number>();
  for (const node of busy) {
    const hits = node.hitCount ?? 0;
    if (hits === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    add(areas, areaOf(functionName, url), hits);
    const where = url === "" ? "" : ` (${url.replace(/^.*\/node_modules\//, "").replace(/^.*\/dist\//, "").replace(/^file:\/\//, "")}:${lineNumber + 1})`;
    add(functions, `${functionName || "(anonymous)"}${where}`, hits);
  }
  const shares = (map: Map<string, number>, count: number) =>
    [...map].sort((a, b) => b[1] - a[1]).slice(0, count).map(([name, hits]) => ({ name, percent: (100 * hits) / busyHits }));
  return { areas: shares(areas, 10), functions: shares(functions, 12), busyPercent: (100 * busyHits) / total };
}

function areaOf(functionName: string, url: string): string {
  if (url === "") return functionName.startsWith("(") ? functionName : "V8 and native code";
  if (url.includes("/node_modules/ioredis/") || url.includes("/node_modules/@ioredis/")) return "ioredis";
  if (url.includes("/node_modules/prom-client/")) return "prom-client";
  if (url.includes("/dist/gateway-bench/")) return "gateway code";
  if (url.startsWith("node:")) return /tls|crypto|_tls/.test(url) ? "Node TLS" : "Node HTTP, streams and net";
  return url.replace(/^.*\/node_modules\/([^/]+)\/.*$/, "$1");
}
