import type { ContainerUlimit } from "@cdktf/provider-docker/lib/container";

/**
 * The engine's json-file log driver, rotated: without `max-size` one chatty agent (or the proxy's
 * access log) fills the host's disk.
 */
export const ROTATED_JSON_LOGS = { logDriver: "json-file", logOpts: { "max-file": "3", "max-size": "10m" } } as const;

/**
 * The `nproc` ulimit: the Docker provider has no `pids_limit`, so RLIMIT_NPROC is the limit it can
 * set. The kernel counts it per user id, across containers, and does not apply it to root.
 */
export function processUlimit(limit: number): ContainerUlimit {
  return { name: "nproc", soft: limit, hard: limit };
}
