import type { Container } from "@cdktf/provider-docker/lib/container";
import type { Network as DockerNetwork } from "@cdktf/provider-docker/lib/network";
import { Construct } from "constructs";
import { GatewayBundle } from "../constructs/gateway-bundle";
import { DEFAULTS } from "../model/defaults";
import type { FirewallSpec } from "../plan/firewall-spec";
import { planOf } from "../plan/firewall-spec";
import { dockerLabels, workloadLabels } from "../terraform/labels";
import { bundledRedisContainer } from "./bundled-redis";
import { gatewayDockerNetwork } from "./gateway-network";
import { hardened } from "./hardening";
import { bundleUpload } from "./bundle-upload";
import { dockerUploads } from "./uploads";
import { dockerClasses } from "./provider-classes";
import type { DockerMetricsAttachment } from "../constructs/metrics-scrape";

/** Properties of `DockerProxyEvents`. */
export interface DockerProxyEventsProps {
  /** The firewall. */
  readonly spec: FirewallSpec;
  /** The proxy container, whose log volume proxy-events mounts read-only. */
  readonly proxyContainer: Container;
  /**
   * The program the Node image runs (the gateway bundle holds every `rapidclaw` command); not
   * read with `gateway.image`, which holds it.
   * @default GatewayBundle.packaged() - the bundle this package ships
   */
  readonly bundle?: GatewayBundle;
  /**
   * The gateway's Redis network, when proxy-events shares the gateway's Redis.
   * @default - a network and Redis of its own
   */
  readonly gatewayRedisNetwork?: DockerNetwork;
  /**
   * The monitoring network and proxy-events' address on it, where `/metrics` then listens.
   * @default - `/metrics` on the loopback only
   */
  readonly metrics?: DockerMetricsAttachment;
}

/**
 * Docker part of ProxyEvents: `rapidclaw proxy-events` in the gateway's image (the stock Node
 * image with the bundle uploaded from the stack's file asset, or `gateway.image`), reading the
 * proxy's event log from the proxy's own log volume (read-only), counting `network_blocked` in Redis
 * windows: the gateway's (on the gateway's Redis network) or a bundled one on a network of their
 * own. It joins no agent network and has no way out; hardened like the gateway.
 */
export class DockerProxyEvents extends Construct {
  /** The proxy-events container. */
  public readonly container: Container;
  /** The network proxy-events reaches Redis on (its own, or the gateway's). */
  public readonly redisNetwork: DockerNetwork;
  /** The bundled Redis, when the firewall has no gateway Redis to share. */
  public readonly redisContainer?: Container;

  constructor(scope: Construct, id: string, props: DockerProxyEventsProps) {
    super(scope, id);
    const plan = planOf(props.spec);
    const events = plan.proxyEvents;
    const docker = events?.docker;
    if (events === undefined || docker === undefined) throw new Error(`DockerProxyEvents "${id}": the firewall's platform is ${plan.platform}`);
    const firewall = plan.names.firewall;
    if (docker.sharesGatewayNetwork) {
      if (props.gatewayRedisNetwork === undefined) throw new Error(`DockerProxyEvents "${id}": proxy-events shares the gateway's Redis; give gatewayRedisNetwork: gateway.docker.redisNetwork`);
      this.redisNetwork = props.gatewayRedisNetwork;
    } else {
      this.redisNetwork = gatewayDockerNetwork(this, "redis-network", { networkName: docker.networkName, subnet: docker.subnet, gateway: docker.gateway, toolGatewayAddress: docker.proxyEventsAddress }, firewall, "proxy-events-network");
      this.redisContainer = bundledRedisContainer(this, "redis", { name: events.redis.name, address: docker.redisAddress as string, network: this.redisNetwork.name, firewall, component: "proxy-events-redis" });
    }
    const image = new dockerClasses.Image(this, "image", { name: events.image, keepLocally: true });
    const uploads = dockerUploads([{ path: events.configPath, content: events.configJson }], "0444", true, events.imageHoldsBundle ? [] : [bundleUpload(this, props.bundle ?? GatewayBundle.packaged(), events.bundlePath, "0444")]);
    this.container = new dockerClasses.Container(this, "container", {
      name: events.name,
      image: image.imageId,
      // The proxy's group: Squid writes its log 0640.
      user: DEFAULTS.proxyEventsUser,
      entrypoint: [
        "node", events.bundlePath, "proxy-events", "--config", events.configPath, "--log", events.logFile, "--redis", events.redis.url,
        // Admin (/metrics, /healthz, /readyz) on loopback, like the gateway's.
        "--admin-host", props.metrics?.address ?? "127.0.0.1", "--admin-port", String(events.adminPort),
      ],
      networksAdvanced: [
        { name: this.redisNetwork.name, ipv4Address: docker.proxyEventsAddress },
        ...(props.metrics ? [{ name: props.metrics.network.name, ipv4Address: props.metrics.address }] : []),
      ],
      ...hardened(DEFAULTS.gateway.limits.proxyEvents),
      ...uploads,
      // The proxy's volumes, its log directory among them, read-only.
      volumes: [{ fromContainer: props.proxyContainer.name, readOnly: true }],
      tmpfs: { "/tmp": "rw,noexec,nosuid,size=1m" },
      labels: dockerLabels(workloadLabels(firewall, "proxy-events")),
    });
  }
}
