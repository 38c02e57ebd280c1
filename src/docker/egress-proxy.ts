import type { Container } from "@cdktf/provider-docker/lib/container";
import type { Image } from "@cdktf/provider-docker/lib/image";
import { AssetType, TerraformAsset } from "cdktf";
import { Construct } from "constructs";
import { join } from "node:path";
import type { IAgentNetwork } from "../constructs/agent-network";
import { planOf } from "../plan/firewall-spec";
import { PROXY_IMAGE_DIR } from "../plan/proxy-image";
import { packageRoot } from "../terraform/package-files";
import { renderSquidConfForPlan, SQUID_CONF_PATH, squidGatewayListenerForPlan } from "../render/squid-conf";
import { squidStartCommand } from "../render/squid-start-command";
import { SQUID_SNI_HELPER, SQUID_SNI_HELPER_PATH } from "../render/squid-tls";
import { dockerLabels, workloadLabels } from "../terraform/labels";
import { dockerUploads, withMounts } from "./uploads";
import { processUlimit, ROTATED_JSON_LOGS } from "./limits";
import { dockerClasses } from "./provider-classes";

/** Properties of `DockerEgressProxy`. */
export interface DockerEgressProxyProps {
  /** The network whose role networks the proxy joins; the proxy uses its firewall spec. */
  readonly network: IAgentNetwork;
}

/**
 * Docker part of EgressProxy: one Squid container on every role's network (at the role's proxy
 * address, where Squid listens for that role alone) and on the egress network.
 */
export class DockerEgressProxy extends Construct {
  /** The Squid image. */
  public readonly image: Image;
  /** The Squid container. */
  public readonly container: Container;
  /** The rendered squid.conf, as uploaded. */
  public readonly squidConf: string;
  /** `http://<role's proxy address>:<port>` agents use as HTTPS_PROXY, per role name. */
  public readonly proxyUrls: { [roleName: string]: string };
  /** The `tool_gateway` listener the tool gateway leaves through; undefined without one. */
  public readonly gatewayProxyUrl?: string;

  constructor(scope: Construct, id: string, props: DockerEgressProxyProps) {
    super(scope, id);
    const plan = planOf(props.network.spec);
    const squidConf = renderSquidConfForPlan(plan);
    this.squidConf = squidConf;
    const roleNetworks = props.network.roleNetworkNames;
    this.image = plan.proxy.image === undefined ? this.builtImage(`${plan.names.proxy}:squid-openssl`) : new dockerClasses.Image(this, "image", { name: plan.proxy.image, keepLocally: true });
    this.container = new dockerClasses.Container(this, "container", {
      name: plan.names.proxy,
      image: this.image.imageId,
      // Running as `proxy` from the start lets Squid write its log to the container's stdout (Squid drops privileges before it opens its logs).
      user: "proxy",
      // Makes the throwaway certificate of the ssl-bump ports, then runs Squid, rotating the event log proxy-events follows.
      entrypoint: squidStartCommand(SQUID_CONF_PATH, plan.proxyEvents && { path: plan.proxyEvents.logFile }),
      ...withMounts(
        dockerUploads([{ path: SQUID_CONF_PATH, content: squidConf }, { path: SQUID_SNI_HELPER_PATH, content: SQUID_SNI_HELPER }], "0644", true),
        // An anonymous volume on the event log's directory: created from the image's directory (owned
        // by Squid's user), shared read-only with proxy-events, removed with the container.
        plan.proxyEvents === undefined ? [] : [{ target: plan.proxyEvents.logDir, type: "volume" }],
      ),
      networksAdvanced: [
        ...plan.roles.map((role) => ({ name: roleNetworks[role.name], ipv4Address: role.docker?.proxyAddress })),
        { name: props.network.egressNetworkName },
        // The tool gateway's way out: Squid's `tool_gateway` listener binds this address alone.
        ...(plan.gateway?.docker ? [{ name: props.network.gatewayEgressNetworkName, ipv4Address: plan.gateway.docker.egressNetwork.peerAddress }] : []),
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
      labels: dockerLabels(workloadLabels(plan.names.firewall, "egress-proxy")),
    });
    this.proxyUrls = Object.fromEntries(plan.roles.map((r) => [r.name, `http://${r.docker?.proxyAddress}:${r.proxyPort}`]));
    const listener = squidGatewayListenerForPlan(plan);
    this.gatewayProxyUrl = listener && `http://${listener.listenAddress}:${listener.port}`;
  }

  /**
   * The default image, built on the Docker host from the package's `images/egress-proxy` (Debian
   * 12's `squid-openssl`), shipped as a cdktf asset; rebuilt when that directory changes.
   */
  private builtImage(name: string): Image {
    const context = new TerraformAsset(this, "image-context", { path: join(packageRoot(), PROXY_IMAGE_DIR), type: AssetType.DIRECTORY });
    return new dockerClasses.Image(this, "image", { name, keepLocally: true, buildAttribute: { context: context.path }, triggers: { context: context.assetHash } });
  }
}
