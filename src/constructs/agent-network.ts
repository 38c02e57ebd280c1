import { Construct, type IConstruct } from "constructs";
import { planOf, type FirewallSpec } from "../plan/firewall-spec";
import { AgentPlatform } from "../model/types";
import { platformPart } from "./platform-part";

/**
 * What the egress proxy and the agents need from an agent network: the firewall it was made for
 * and where agents go. `IsolatedAgentNetwork` makes one; `AgentNetwork.fromSpec` imports one made
 * elsewhere (another stack, another deployment). Members of the other platform throw.
 */
export interface IAgentNetwork extends IConstruct {
  /** The firewall the network was made for. */
  readonly spec: FirewallSpec;
  /** Kubernetes: name of the agents' namespace. */
  readonly namespaceName: string;
  /** Docker: name of each role's internal network, by role name. */
  readonly roleNetworkNames: { [roleName: string]: string };
  /** Docker: name of the network through which only the proxy reaches the outside. */
  readonly egressNetworkName: string;
  /** Docker, with a tool gateway: name of the network between the gateway and the proxy's gateway listener. */
  readonly gatewayEgressNetworkName: string;
}

/** Imports of agent networks made outside this stack. */
export class AgentNetwork {
  /**
   * The network an `IsolatedAgentNetwork` of the same firewall made elsewhere (for example in a
   * stack of its own): the namespace, or the role and egress networks, by the names the
   * firewall description gives them. Nothing is added to the stack.
   */
  public static fromSpec(scope: Construct, id: string, spec: FirewallSpec): IAgentNetwork {
    return new ImportedAgentNetwork(scope, id, spec);
  }

  private constructor() {}
}

/** An agent network known by its firewall's names. */
class ImportedAgentNetwork extends Construct implements IAgentNetwork {
  public readonly spec: FirewallSpec;

  constructor(scope: Construct, id: string, spec: FirewallSpec) {
    super(scope, id);
    this.spec = spec;
  }

  public get namespaceName(): string {
    const plan = planOf(this.spec);
    return platformPart(plan.platform === AgentPlatform.KUBERNETES ? plan.namespace : undefined, "namespaceName", AgentPlatform.KUBERNETES);
  }

  public get roleNetworkNames(): { [roleName: string]: string } {
    const plan = planOf(this.spec);
    const names = plan.platform === AgentPlatform.DOCKER ? Object.fromEntries(plan.roles.map((role) => [role.name, role.docker?.networkName as string])) : undefined;
    return platformPart(names, "roleNetworkNames", AgentPlatform.DOCKER);
  }

  public get egressNetworkName(): string {
    const plan = planOf(this.spec);
    return platformPart(plan.platform === AgentPlatform.DOCKER ? plan.names.egressNetwork : undefined, "egressNetworkName", AgentPlatform.DOCKER);
  }

  public get gatewayEgressNetworkName(): string {
    return platformPart(planOf(this.spec).gateway?.docker?.egressNetwork.networkName, "gatewayEgressNetworkName", AgentPlatform.DOCKER);
  }
}
