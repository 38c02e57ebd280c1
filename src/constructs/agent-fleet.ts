import { Construct } from "constructs";
import type { FirewallSpec } from "../plan/firewall-spec";
import { AgentPlatform } from "../model/types";
import { AGENT_PROFILE_PATH, type AgentFiles } from "../plan/agent-environment";
import { DockerAgents } from "../docker/agents";
import { EgressProxy } from "./egress-proxy";
import { IsolatedAgentNetwork, platformPart } from "./isolated-agent-network";
import { KubernetesAgents } from "../kubernetes/agents";

export interface AgentFleetProps {
  /** The network the agents join. */
  readonly network: IsolatedAgentNetwork;
  /** The proxy the agents must use. */
  readonly proxy: EgressProxy;
  /**
   * Files mounted read-only into every agent of a role, by role name (the role profile documents).
   * @default - none
   */
  readonly files?: AgentFiles;
}

/**
 * The agent workloads of the spec (`agents`), hardened: only on the isolated network (on Docker
 * the role's own), proxy variables set, memory and CPU limits, no capabilities, no privilege
 * escalation, a non-root user, a read-only root file system unless the role allows the file system.
 */
export class AgentFleet extends Construct {
  private readonly dockerAgents?: DockerAgents;
  private readonly kubernetesAgents?: KubernetesAgents;

  constructor(scope: Construct, id: string, props: AgentFleetProps) {
    super(scope, id);
    const spec: FirewallSpec = props.network.spec;
    const plan = spec.plan;
    const files = props.files ?? {};
    const profilePath = Object.values(files).some((list) => list.some((f) => f.path === AGENT_PROFILE_PATH)) ? AGENT_PROFILE_PATH : undefined;
    if (plan.platform === AgentPlatform.DOCKER) {
      this.dockerAgents = new DockerAgents(this, "docker", plan, {
        roleNetworks: Object.fromEntries(Object.entries(props.network.roleNetworks).map(([role, network]) => [role, network.name])),
        proxyUrls: props.proxy.proxyUrls,
        files,
        profilePath,
      });
    } else {
      this.kubernetesAgents = new KubernetesAgents(this, "kubernetes", plan, {
        namespaceName: props.network.namespaceName,
        proxyUrls: props.proxy.proxyUrls,
        files,
        profilePath,
      });
    }
  }

  /** Docker: agent containers and images. */
  public get docker(): DockerAgents {
    return platformPart(this.dockerAgents, "docker", AgentPlatform.DOCKER);
  }

  /** Kubernetes: ServiceAccounts and Deployments. */
  public get kubernetes(): KubernetesAgents {
    return platformPart(this.kubernetesAgents, "kubernetes", AgentPlatform.KUBERNETES);
  }
}
