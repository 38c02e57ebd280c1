import { Container } from "@cdktf/provider-docker/lib/container";
import { Image } from "@cdktf/provider-docker/lib/image";
import { Construct } from "constructs";
import type { FirewallPlan } from "../plan/plan";
import { SQUID_CONF_PATH } from "../render/squid-conf";
import { dockerLabels, workloadLabels } from "../terraform/labels";
import { dockerUploads } from "./uploads";
import { processUlimit, ROTATED_JSON_LOGS } from "./limits";

/** Where the proxy container reads its configuration. */

/**
 * Docker part of EgressProxy: one Squid container on every role's network (at the role's proxy
 * address, where Squid listens for that role alone) and on the egress network.
 */
export class DockerEgressProxy extends Construct {
  /** The Squid image. */
  public readonly image: Image;
  /** The Squid container. */
  public readonly container: Container;

  constructor(scope: Construct, id: string, plan: FirewallPlan, squidConf: string, networks: { roles: { readonly [roleName: string]: string }; egress: string }) {
    super(scope, id);
    this.image = new Image(this, "image", { name: plan.proxy.image, keepLocally: true });
    this.container = new Container(this, "container", {
      name: plan.names.proxy,
      image: this.image.imageId,
      // Running as `proxy` from the start lets Squid write its log to the container's stdout; Squid drops to `proxy` before it opens its logs.
      user: "proxy",
      entrypoint: ["squid", "-N", "-f", SQUID_CONF_PATH],
      ...dockerUploads([{ path: SQUID_CONF_PATH, content: squidConf }], "0644", true),
      networksAdvanced: [
        ...plan.roles.map((role) => ({ name: networks.roles[role.name], ipv4Address: role.docker?.proxyAddress })),
        { name: networks.egress },
      ],
      memory: plan.proxy.memoryMiB,
      cpus: String(plan.proxy.cpus),
      ulimit: [processUlimit(plan.proxy.processLimit)],
      ...ROTATED_JSON_LOGS,
      dns: plan.docker.dnsServers.length > 0 ? plan.docker.dnsServers : undefined,
      readOnly: true,
      removeVolumes: true,
      tmpfs: { "/var/spool/squid": "rw,noexec,nosuid,size=16m", "/var/run/squid": "rw,noexec,nosuid,size=1m" },
      capabilities: { drop: ["ALL"] },
      securityOpts: ["no-new-privileges:true"],
      restart: "unless-stopped",
      mustRun: true,
      labels: dockerLabels(workloadLabels("egress-proxy")),
    });
  }
}
