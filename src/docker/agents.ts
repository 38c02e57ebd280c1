import type { Container } from "@cdktf/provider-docker/lib/container";
import type { Image } from "@cdktf/provider-docker/lib/image";
import { Construct } from "constructs";
import type { IAgentNetwork } from "../constructs/agent-network";
import type { IEgressProxy } from "../constructs/egress-proxy";
import { planOf } from "../plan/firewall-spec";
import { LABELS } from "../plan/plan";
import { agentEnvironment, agentGatewayEnvironment, announcedProfilePath, type AgentFiles } from "../plan/agent-environment";
import { agentRuntimeMount, withRuntimeEnvironment } from "../render/agent-runtime-files";
import { dockerLabels, workloadLabels } from "../terraform/labels";
import { readPackageFile } from "../terraform/package-files";
import { dockerUploads } from "./uploads";
import { processUlimit, ROTATED_JSON_LOGS } from "./limits";
import { dockerClasses } from "./provider-classes";
import { UNREACHABLE_RESOLVER } from "../model/dns-opt-in";

/** Properties of `DockerAgents`. */
export interface DockerAgentsProps {
  /** The network whose role networks the agents join; the agents are its firewall's. */
  readonly network: IAgentNetwork;
  /** The proxy the agents must use. */
  readonly proxy: IEgressProxy;
  /**
   * Files put read-only into every agent of a role, by role name (the role profile documents).
   * @default - none
   */
  readonly files?: AgentFiles;
}

/**
 * Docker part of AgentFleet: one hardened container per agent, on its role's internal network
 * only, as a non-root user unless the agent says otherwise, with process and log limits; an agent
 * with a `runtime` also gets its program's configuration and hook uploaded (`AgentRuntime`).
 */
export class DockerAgents extends Construct {
  /** Agent containers by agent name. */
  public readonly containers: { [agentName: string]: Container } = {};
  /** Images by image reference. */
  public readonly images: { [image: string]: Image } = {};

  constructor(scope: Construct, id: string, props: DockerAgentsProps) {
    super(scope, id);
    const plan = planOf(props.network.spec);
    const roleNetworks = props.network.roleNetworkNames;
    const proxyUrls = props.proxy.proxyUrls;
    const files = props.files ?? {};
    const profilePath = announcedProfilePath(files);
    // Images and containers in scopes of their own: agent names can never collide with image ids.
    const imageScope = new Construct(this, "images");
    const containerScope = new Construct(this, "containers");
    // Named after the image, not its place in a list: adding an agent with a new image moves no other agent's reference.
    for (const name of [...new Set(plan.agents.map((a) => a.image))].sort()) {
      this.images[name] = new dockerClasses.Image(imageScope, name, { name, keepLocally: true });
    }
    const roles = new Map(plan.roles.map((r) => [r.name, r]));
    for (const agent of plan.agents) {
      const role = roles.get(agent.role);
      const readOnly = !role?.allowFileSystem;
      // Uploaded to each agent of the runtime: the engine has no shared read-only file source but the host's own paths.
      const runtime = agentRuntimeMount(props.network.spec, agent, readPackageFile);
      this.containers[agent.name] = new dockerClasses.Container(containerScope, agent.resourceName, {
        name: agent.workloadName,
        image: this.images[agent.image].imageId,
        networksAdvanced: [{ name: roleNetworks[agent.role], ipv4Address: agent.ipv4Address }],
        user: agent.user,
        // The embedded resolver still answers container names; anything else it forwards goes nowhere, even on engines before 26 (CVE-2024-29018).
        dns: role?.dnsReason === undefined ? [UNREACHABLE_RESOLVER] : undefined,
        env: withRuntimeEnvironment(agentEnvironment(agent, proxyUrls[agent.role], plan.proxy.noProxy, profilePath, agentGatewayEnvironment(plan, agent.role)), runtime).map(([k, v]) => `${k}=${v}`),
        memory: agent.memoryMiB,
        cpus: String(agent.cpus),
        ulimit: [processUlimit(agent.processLimit)],
        ...ROTATED_JSON_LOGS,
        readOnly,
        removeVolumes: true,
        tmpfs: readOnly ? { "/tmp": "rw,noexec,nosuid,size=64m" } : undefined,
        ...dockerUploads([...(files[agent.role] ?? []), ...(runtime?.sharedFiles ?? []), ...(runtime?.roleFiles ?? [])], "0444", readOnly),
        capabilities: { drop: ["ALL"] },
        securityOpts: ["no-new-privileges:true"],
        restart: "unless-stopped",
        mustRun: true,
        labels: dockerLabels(workloadLabels(plan.names.firewall, "agent", { [LABELS.agent]: agent.resourceName, [LABELS.role]: role?.resourceName ?? agent.role })),
      });
    }
  }
}
