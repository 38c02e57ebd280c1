import type { Network as DockerNetwork } from "@cdktf/provider-docker/lib/network";
import { Annotations, Token } from "cdktf";
import { dnsOptInWarning } from "../model/dns-opt-in";
import { Construct } from "constructs";
import { planOf, type FirewallSpec } from "../plan/firewall-spec";
import { LABELS, type FirewallPlan, type PlannedRoleNetwork } from "../plan/plan";
import { FirewallSpecError, raisedBy, type SpecProblem } from "../model/errors";
import { AgentPlatform } from "../model/types";
import { dockerLabels, workloadLabels } from "../terraform/labels";
import { KubernetesAgentNetwork } from "../kubernetes/agent-network";
import { gatewayDockerNetwork } from "../docker/gateway-network";
import type { IAgentNamespace } from "./agent-namespace";
import type { IAgentNetwork } from "./agent-network";
import { platformPart } from "./platform-part";
import { dockerClasses } from "../docker/provider-classes";
import { pathOfChild } from "./construct-path";

/** Properties of `IsolatedAgentNetwork`. */
export interface IsolatedAgentNetworkProps {
  /** The firewall this network belongs to. */
  readonly spec: FirewallSpec;
  /**
   * Kubernetes: an existing namespace to adopt (`AgentNamespace.fromNamespaceName`), named as
   * the firewall's `namespace`.
   * @default - adopted when `kubernetes.existingNamespace` is set, else created
   */
  readonly namespace?: IAgentNamespace;
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
 * that deny everything but cluster DNS and each role's own proxy port. Invalid props throw
 * `FirewallSpecError` before anything is added.
 */
export class IsolatedAgentNetwork extends Construct implements IAgentNetwork {
  /** The firewall this network belongs to. */
  public readonly spec: FirewallSpec;
  private readonly dockerRoleNetworks?: { [roleName: string]: DockerNetwork };
  private readonly dockerEgressNetwork?: DockerNetwork;
  private readonly dockerGatewayEgressNetwork?: DockerNetwork;
  private readonly kubernetesNetwork?: KubernetesAgentNetwork;

  constructor(scope: Construct, id: string, props: IsolatedAgentNetworkProps) {
    const plan = planOf(props.spec);
    const problems = namespaceProblems(plan, props.namespace);
    if (problems.length > 0) throw new FirewallSpecError(raisedBy(pathOfChild(scope, id), problems));
    super(scope, id);
    this.spec = props.spec;
    for (const role of plan.roles) {
      const resolver = plan.platform === AgentPlatform.DOCKER ? "the engine's resolver" : "the cluster DNS";
      if (role.dnsReason !== undefined) Annotations.of(this).addWarning(dnsOptInWarning(`Agents of role "${role.name}"`, resolver, role.dnsReason));
    }
    if (plan.platform === AgentPlatform.DOCKER) {
      const roleScope = new Construct(this, "roles");
      this.dockerRoleNetworks = {};
      for (const role of plan.roles) {
        const net = role.docker as PlannedRoleNetwork;
        this.dockerRoleNetworks[role.name] = new dockerClasses.Network(roleScope, role.resourceName, {
          name: net.networkName,
          internal: true,
          ipamConfig: [{ subnet: net.subnet, gateway: net.gateway, ipRange: net.ipRange }],
          options: roleNetworkOptions(net.bridgeName),
          labels: dockerLabels(workloadLabels(plan.names.firewall, "agent-network", { [LABELS.role]: role.resourceName })),
        });
      }
      this.dockerEgressNetwork = new dockerClasses.Network(this, "egress", {
        name: plan.names.egressNetwork,
        ipamConfig: [{ subnet: plan.docker.egressSubnet }],
        labels: dockerLabels(workloadLabels(plan.names.firewall, "egress-network")),
      });
      // Here rather than in the gateway: the proxy joins it, and the proxy comes before the gateway.
      const gateway = plan.gateway?.docker;
      if (gateway) this.dockerGatewayEgressNetwork = gatewayDockerNetwork(this, "gateway-egress", gateway.egressNetwork, plan.names.firewall, "gateway-egress-network");
    } else {
      this.kubernetesNetwork = new KubernetesAgentNetwork(this, "kubernetes", { spec: props.spec, namespace: props.namespace });
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

  /** Docker: each role's network name (a reference, so users are created after it), by role name. */
  public get roleNetworkNames(): { [roleName: string]: string } {
    return Object.fromEntries(Object.entries(this.roleNetworks).map(([role, network]) => [role, network.name]));
  }

  /** Docker: name of the egress network (a reference). */
  public get egressNetworkName(): string {
    return this.egressNetwork.name;
  }

  /** Docker, with a tool gateway: the network between the gateway and the proxy's gateway listener. */
  public get gatewayEgressNetwork(): DockerNetwork {
    if (this.dockerRoleNetworks !== undefined && this.dockerGatewayEgressNetwork === undefined) throw new Error("gatewayEgressNetwork exists only when the firewall has a tool gateway (a tool with an upstream, or gateway options)");
    return platformPart(this.dockerGatewayEgressNetwork, "gatewayEgressNetwork", AgentPlatform.DOCKER);
  }

  /** Docker, with a tool gateway: name of the network between the gateway and the proxy (a reference). */
  public get gatewayEgressNetworkName(): string {
    return this.gatewayEgressNetwork.name;
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

/** An adopted namespace must be the firewall's: policies, logins and alert rules name that one. */
function namespaceProblems(plan: FirewallPlan, namespace: IAgentNamespace | undefined): SpecProblem[] {
  if (namespace === undefined) return [];
  if (plan.platform !== AgentPlatform.KUBERNETES) {
    return [{ path: "namespace", message: `a namespace is a Kubernetes object and platform is ${plan.platform}; remove namespace` }];
  }
  const name = namespace.namespaceName;
  if (Token.isUnresolved(name) || name === plan.namespace) return [];
  return [{ path: "namespace", message: `the adopted namespace is "${name}" and the firewall's namespace is "${plan.namespace}"; set namespace: ${name} in the firewall description` }];
}
