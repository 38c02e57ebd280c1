import type { Container } from "@cdktf/provider-docker/lib/container";
import type { Construct } from "constructs";
import { DEFAULTS } from "../model/defaults";
import { dockerLabels, workloadLabels } from "../terraform/labels";
import { hardened } from "./hardening";
import { dockerClasses } from "./provider-classes";

/** Where a bundled Redis runs. */
export interface BundledRedisPlacement {
  /** Container name. */
  readonly name: string;
  /** Its address on `network`, the only one it binds. */
  readonly address: string;
  /** The `internal` network it is alone on with its clients. */
  readonly network: string;
  readonly firewall: string;
  /** The `rapidclaw.dev/component` label. */
  readonly component: string;
}

/**
 * A Redis for rate limits or alert windows, on one internal network with its clients only: no
 * published port, in memory only (no RDB, no AOF); full memory refuses writes, so a limiter fails
 * closed instead of forgetting windows.
 */
export function bundledRedisContainer(scope: Construct, id: string, placement: BundledRedisPlacement): Container {
  const image = new dockerClasses.Image(scope, `${id}-image`, { name: DEFAULTS.gateway.redisImage, keepLocally: true });
  return new dockerClasses.Container(scope, id, {
    name: placement.name,
    image: image.imageId,
    user: DEFAULTS.gateway.redisUser,
    entrypoint: [
      "redis-server", "--bind", placement.address, "--port", String(DEFAULTS.gateway.redisPort), "--protected-mode", "no",
      "--save", "", "--appendonly", "no", "--maxmemory", `${Math.floor(DEFAULTS.gateway.limits.redis.memoryMiB * 0.75)}mb`, "--maxmemory-policy", "noeviction",
    ],
    networksAdvanced: [{ name: placement.network, ipv4Address: placement.address }],
    ...hardened(DEFAULTS.gateway.limits.redis),
    tmpfs: { "/data": "rw,noexec,nosuid,size=1m" },
    labels: dockerLabels(workloadLabels(placement.firewall, placement.component)),
  });
}
