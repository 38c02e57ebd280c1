import { Network as DockerNetwork } from "@cdktf/provider-docker/lib/network";
import { Construct } from "constructs";
import type { FirewallSpec } from "../plan/firewall-spec";
import { AgentPlatform } from "../spec/types";
import { dockerLabels, workloadLabels } from "./labels";
import { KubernetesAgentNetwork } from "./kubernetes-agent-network";

export interface IsolatedAgentNetworkProps {
  /** The firewall this network belongs to. */
  readonly spec: FirewallSpec;
}

/**
 * Layer 3, default-deny egress. Docker: an `internal` network for the agents (no route out) and a
 * separate egress network only the proxy joins. Kubernetes: the namespace and NetworkPolicies
 * that deny everything but cluster DNS and each role's own proxy port.
 */
export class IsolatedAgentNetwork extends Construct {
  /** The firewall this network belongs to. */
  public readonly spec: FirewallSpec;
  private readonly dockerAgentNetwork?: DockerNetwork;
  private readonly dockerEgressNetwork?: DockerNetwork;
  private readonly kubernetesNetwork?: KubernetesAgentNetwork;

  constructor(scope: Construct, id: string, props: IsolatedAgentNetworkProps) {
    super(scope, id);
    this.spec = props.spec;
    const plan = props.spec.plan;
    if (plan.platform === AgentPlatform.DOCKER) {
      this.dockerAgentNetwork = new DockerNetwork(this, "agents", {
        name: "rapidclaw-agents",
        internal: true,
        ipamConfig: [{ subnet: plan.docker.subnet, gateway: plan.docker.gateway }],
        labels: dockerLabels(workloadLabels("agent-network")),
      });
      this.dockerEgressNetwork = new DockerNetwork(this, "egress", {
        name: "rapidclaw-egress",
        ipamConfig: [{ subnet: plan.docker.egressSubnet }],
        labels: dockerLabels(workloadLabels("egress-network")),
      });
    } else {
      this.kubernetesNetwork = new KubernetesAgentNetwork(this, "kubernetes", plan);
    }
  }

  /** Docker: the internal network the agents and the proxy share. */
  public get agentNetwork(): DockerNetwork {
    return platformPart(this.dockerAgentNetwork, "agentNetwork", AgentPlatform.DOCKER);
  }

  /** Docker: the network through which only the proxy reaches the outside. */
  public get egressNetwork(): DockerNetwork {
    return platformPart(this.dockerEgressNetwork, "egressNetwork", AgentPlatform.DOCKER);
  }

  /** Kubernetes: the namespace and policies. */
  public get kubernetes(): KubernetesAgentNetwork {
    return platformPart(this.kubernetesNetwork, "kubernetes", AgentPlatform.KUBERNETES);
  }

  /** Kubernetes: name of the agents' namespace (created or adopted). */
  public get namespaceName(): string {
    return this.kubernetes.namespaceName;
  }
}

/** A platform-specific part, or an error naming the platform it needs. */
export function platformPart<T>(part: T | undefined, name: string, platform: AgentPlatform): T {
  if (part === undefined) throw new Error(`${name} exists only on platform "${platform}"; this firewall's platform is different`);
  return part;
}
