import { processUlimit, ROTATED_JSON_LOGS } from "./limits";

/** The hardening the firewall's own service containers share with the proxy: no capabilities, no privilege gain, read-only root, limits, rotated logs, restarts. */
export function hardened(limits: { memoryMiB: number; cpus: number; processLimit: number }) {
  return {
    memory: limits.memoryMiB,
    cpus: String(limits.cpus),
    ulimit: [processUlimit(limits.processLimit)],
    ...ROTATED_JSON_LOGS,
    readOnly: true,
    removeVolumes: true,
    capabilities: { drop: ["ALL"] },
    securityOpts: ["no-new-privileges:true"],
    restart: "unless-stopped",
    mustRun: true,
  };
}
