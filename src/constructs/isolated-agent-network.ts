import { Network as DockerNetwork } from "@cdktf/provider-docker/lib/network";
import { Construct } from "constructs";
import type { FirewallSpec } from "../plan/firewall-spec";
import { LABELS, type PlannedRoleNetwork } from "../plan/plan";
import { AgentPlatform } from "../model/types";
import { dockerLabels, workloadLabels } from "../terraform/labels";
import { KubernetesAgentNetwork } from "../kubernetes/agent-network";

export interface IsolatedAgentNetworkProps {
  /** The firewall this network belongs to. */
  readonly spec: FirewallSpec;
}

/**
 * Options every role network gets. The named bridge lets host rules match agent traffic
 * (`rclaw-+`); `inhibit_ipv4` keeps the gateway address off the bridge, so agents have no
 * address of the host to reach (an `internal` bridge otherwise holds it).
 */
function roleNetworkOptions(bridgeName: string): { [key: string]: string } {
  return { "com.docker.network.bridge.inhibit_ipv4": "true", "com.docker.network.bridge.name": bridgeName };
}

/**
 * Layer 3, default-deny egress. Docker: one `internal` network per role (no route out, no host
 * address on the bridge) holding the role's agents and the proxy, and a separate egress network
 * only the proxy joins. Kubernetes: the namespace and NetworkPolicies
 * that deny everything but cluster DNS and each role's own proxy port.
 */
export class IsolatedAgentNetwork extends Construct {
  /** The firewall this network belongs to. */
  public readonly spec: FirewallSpec;
  private readonly dockerRoleNetworks?: { [roleName: string]: DockerNetwork };
  private readonly dockerEgressNetwork?: DockerNetwork;
  private readonly kubernetesNetwork?: KubernetesAgentNetwork;

  constructor(scope: Construct, id: string, props: IsolatedAgentNetworkProps) {
    super(scope, id);
    this.spec = props.spec;
    const plan = props.spec.plan;
    if (plan.platform === AgentPlatform.DOCKER) {
      const roleScope = new Construct(this, "roles");
      this.dockerRoleNetworks = {};
      for (const role of plan.roles) {
        const net = role.docker as PlannedRoleNetwork;
        this.dockerRoleNetworks[role.name] = new DockerNetwork(roleScope, role.resourceName, {
          name: net.networkName,
          internal: true,
          ipamConfig: [{ subnet: net.subnet, gateway: net.gateway, ipRange: net.ipRange }],
          options: roleNetworkOptions(net.bridgeName),
          labels: dockerLabels(workloadLabels("agent-network", { [LABELS.role]: role.resourceName })),
        });
      }
      this.dockerEgressNetwork = new DockerNetwork(this, "egress", {
        name: plan.names.egressNetwork,
        ipamConfig: [{ subnet: plan.docker.egressSubnet }],
        labels: dockerLabels(workloadLabels("egress-network")),
      });
    } else {
      this.kubernetesNetwork = new KubernetesAgentNetwork(this, "kubernetes", plan);
    }
  }

  /** Docker: each role's internal network, by role name; it holds the role's agents and the proxy. */
  public get roleNetworks(): { [roleName: string]: DockerNetwork } {
    return platformPart(this.dockerRoleNetworks, "roleNetworks", AgentPlatform.DOCKER);
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
