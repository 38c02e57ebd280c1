import { Construct, type IConstruct } from "constructs";
import { planOf, type FirewallSpec } from "../plan/firewall-spec";
import { renderSquidConfForPlan, type SquidPlacementOptions } from "../render/squid-conf";
import { AgentPlatform } from "../model/types";
import { DockerEgressProxy } from "../docker/egress-proxy";
import { KubernetesEgressProxy } from "../kubernetes/egress-proxy";
import type { IAgentNetwork } from "./agent-network";
import { platformPart } from "./platform-part";

/** What agents need from an egress proxy: where each role's agents send their traffic. */
export interface IEgressProxy extends IConstruct {
  /** `http://host:port` agents use as HTTPS_PROXY, per role name. */
  readonly proxyUrls: { [roleName: string]: string };
  /** Docker: the `tool_gateway` listener the tool gateway leaves through; undefined without one (no upstreams, or Kubernetes). */
  readonly gatewayProxyUrl?: string;
}

/** Properties of `EgressProxy`. */
export interface EgressProxyProps {
  /** The network whose agents the proxy serves; the proxy uses its firewall spec. */
  readonly network: IAgentNetwork;
}

/**
 * Layer 3, the only way out: a Squid proxy that allows CONNECT to port 443 of each role's listed
 * hosts, refuses IP literals and private destinations, and logs every decision as one JSON line.
 */
export class EgressProxy extends Construct implements IEgressProxy {
  /**
   * The squid.conf of a firewall for a proxy run elsewhere, such as one logging to a file that
   * `rapidclaw proxy-events` follows (`{ accessLog: "stdio:/var/log/squid/access.log" }`).
   */
  public static squidConfOf(spec: FirewallSpec, options: SquidPlacementOptions = {}): string {
    return renderSquidConfForPlan(planOf(spec), options);
  }

  /** The firewall this proxy belongs to. */
  public readonly spec: FirewallSpec;
  /** The rendered squid.conf, as deployed. */
  public readonly squidConf: string;
  /** `http://host:port` agents use as HTTPS_PROXY, per role name. */
  public readonly proxyUrls: { [roleName: string]: string };
  /** Docker: the `tool_gateway` listener the tool gateway leaves through; undefined without one. */
  public readonly gatewayProxyUrl?: string;
  private readonly dockerProxy?: DockerEgressProxy;
  private readonly kubernetesProxy?: KubernetesEgressProxy;

  constructor(scope: Construct, id: string, props: EgressProxyProps) {
    super(scope, id);
    this.spec = props.network.spec;
    if (this.spec.platform === AgentPlatform.DOCKER) {
      this.dockerProxy = new DockerEgressProxy(this, "docker", { network: props.network });
    } else {
      this.kubernetesProxy = new KubernetesEgressProxy(this, "kubernetes", { network: props.network });
    }
    const part = this.dockerProxy ?? (this.kubernetesProxy as KubernetesEgressProxy);
    this.squidConf = part.squidConf;
    this.proxyUrls = part.proxyUrls;
    this.gatewayProxyUrl = this.dockerProxy?.gatewayProxyUrl;
  }

  /** Docker: the proxy container and image. */
  public get docker(): DockerEgressProxy {
    return platformPart(this.dockerProxy, "docker", AgentPlatform.DOCKER);
  }

  /** Kubernetes: the proxy Deployment, ConfigMap, Service, PodDisruptionBudget and policies. */
  public get kubernetes(): KubernetesEgressProxy {
    return platformPart(this.kubernetesProxy, "kubernetes", AgentPlatform.KUBERNETES);
  }
}
