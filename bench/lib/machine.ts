import { cpus, loadavg, release, totalmem, type } from "node:os";

/** The machine a run happened on, as RESULTS.md records it. */
export interface Machine {
  readonly cpuModel: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly node: string;
  readonly os: string;
  readonly date: string;
  readonly loadAverage: [number, number, number];
}

export function describeMachine(): Machine {
  const cpuList = cpus();
  return {
    cpuModel: cpuList[0]?.model.trim() ?? "unknown",
    cores: cpuList.length,
    memoryGiB: totalmem() / 1024 ** 3,
    node: process.version,
    os: `${type()} ${release()}`,
    date: new Date().toISOString(),
    loadAverage: loadavg() as [number, number, number],
  };
}
