import { Construct } from "constructs";
import type { FirewallSpec } from "../plan/firewall-spec";
import { renderSquidConfForPlan } from "../render/squid-conf";
import { AgentPlatform } from "../model/types";
import { DockerEgressProxy } from "../docker/egress-proxy";
import { IsolatedAgentNetwork, platformPart } from "./isolated-agent-network";
import { KubernetesEgressProxy } from "../kubernetes/egress-proxy";

export interface EgressProxyProps {
  /** The network whose agents the proxy serves; the proxy uses its firewall spec. */
  readonly network: IsolatedAgentNetwork;
}

/**
 * Layer 3, the only way out: a Squid proxy that allows CONNECT to port 443 of each role's listed
 * hosts, refuses IP literals and private destinations, and logs every decision as one JSON line.
 */
export class EgressProxy extends Construct {
  /** The firewall this proxy belongs to. */
  public readonly spec: FirewallSpec;
  /** The rendered squid.conf, as deployed. */
  public readonly squidConf: string;
  /** `http://host:port` agents use as HTTPS_PROXY, per role name. */
  public readonly proxyUrls: { [roleName: string]: string };
  private readonly dockerProxy?: DockerEgressProxy;
  private readonly kubernetesProxy?: KubernetesEgressProxy;

  constructor(scope: Construct, id: string, props: EgressProxyProps) {
    super(scope, id);
    this.spec = props.network.spec;
    const plan = this.spec.plan;
    this.squidConf = renderSquidConfForPlan(plan);
    if (plan.platform === AgentPlatform.DOCKER) {
      const roleNetworks = props.network.roleNetworks;
      this.dockerProxy = new DockerEgressProxy(this, "docker", plan, this.squidConf, {
        roles: Object.fromEntries(plan.roles.map((r) => [r.name, roleNetworks[r.name].name])),
        egress: props.network.egressNetwork.name,
      });
      this.proxyUrls = Object.fromEntries(plan.roles.map((r) => [r.name, `http://${r.docker?.proxyAddress}:${r.proxyPort}`]));
    } else {
      this.kubernetesProxy = new KubernetesEgressProxy(this, "kubernetes", plan, this.squidConf, props.network.namespaceName);
      this.proxyUrls = Object.fromEntries(plan.roles.map((r) => [r.name, `http://${this.kubernetesProxy?.serviceHost}:${r.proxyPort}`]));
    }
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
