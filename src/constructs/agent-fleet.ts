import { Construct } from "constructs";
import { AgentPlatform } from "../model/types";
import type { AgentFiles } from "../plan/agent-environment";
import { DockerAgents } from "../docker/agents";
import { KubernetesAgents } from "../kubernetes/agents";
import type { IAgentNetwork } from "./agent-network";
import type { IEgressProxy } from "./egress-proxy";
import { platformPart } from "./platform-part";

/** Properties of `AgentFleet`. */
export interface AgentFleetProps {
  /** The network the agents join; the agents are its firewall's (`agents`). */
  readonly network: IAgentNetwork;
  /** The proxy the agents must use. */
  readonly proxy: IEgressProxy;
  /**
   * Files mounted read-only into every agent of a role, by role name (the role profile documents).
   * @default - none
   */
  readonly files?: AgentFiles;
  /**
   * Kubernetes: the address agents reach the tool gateway at, `ToolGateway.kubernetes.serviceAddress`
   * (agents resolve no names). Docker agents use the gateway's address on their role's network.
   * @default - the gateway Service's DNS name, which agents resolve only when their role opts in to DNS (`network.dnsReason`)
   */
  readonly gatewayAddress?: string;
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
    if (props.network.spec.platform === AgentPlatform.DOCKER) {
      this.dockerAgents = new DockerAgents(this, "docker", props);
    } else {
      this.kubernetesAgents = new KubernetesAgents(this, "kubernetes", props);
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
