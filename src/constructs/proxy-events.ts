import { Construct } from "constructs";
import { DockerProxyEvents } from "../docker/proxy-events";
import { FirewallSpecError } from "../model/errors";
import { AgentPlatform } from "../model/types";
import { planOf } from "../plan/firewall-spec";
import { webhookDeliveryProblems } from "../plan/webhook-delivery";
import type { EgressProxy } from "./egress-proxy";
import type { GatewayBundle } from "./gateway-bundle";
import { platformPart } from "./platform-part";
import type { ToolGateway } from "./tool-gateway";

/** Properties of `ProxyEvents`. */
export interface ProxyEventsProps {
  /** The egress proxy whose event log is followed. */
  readonly proxy: EgressProxy;
  /**
   * The firewall's tool gateway: proxy-events counts in its Redis (unless that Redis needs a login).
   * @default - a bundled Redis of proxy-events' own
   */
  readonly gateway?: ToolGateway;
  /**
   * The program (the gateway bundle holds every `rapidclaw` command); not read with
   * `gateway.image`, which holds it.
   * @default GatewayBundle.packaged() - the bundle this package ships
   */
  readonly bundle?: GatewayBundle;
}

/**
 * `rapidclaw proxy-events` beside the egress proxy: it follows the proxy's event log (one JSON
 * line per decision) into the firewall's alert windows in Redis, so `network_blocked` alerts to
 * the monitoring webhooks and shows on its /metrics. Docker only for now.
 */
export class ProxyEvents extends Construct {
  private readonly dockerEvents?: DockerProxyEvents;

  constructor(scope: Construct, id: string, props: ProxyEventsProps) {
    const spec = props.proxy.spec;
    const plan = planOf(spec);
    if (plan.proxyEvents === undefined) {
      throw new FirewallSpecError([{ path: "platform", message: `proxy-events is deployed on Docker only so far, and platform is ${plan.platform}; run rapidclaw proxy-events yourself on the proxy's access log` }], `ProxyEvents "${id}"`);
    }
    const problems = webhookDeliveryProblems(plan);
    if (problems.length > 0) throw new FirewallSpecError(problems, `ProxyEvents "${id}"`);
    super(scope, id);
    this.dockerEvents = new DockerProxyEvents(this, "docker", {
      spec,
      proxyContainer: props.proxy.docker.container,
      bundle: props.bundle,
      gatewayRedisNetwork: plan.proxyEvents.docker?.sharesGatewayNetwork ? props.gateway?.docker.redisNetwork : undefined,
    });
  }

  /** Docker: the proxy-events container, its Redis network and, when bundled, its Redis. */
  public get docker(): DockerProxyEvents {
    return platformPart(this.dockerEvents, "docker", AgentPlatform.DOCKER);
  }
}
