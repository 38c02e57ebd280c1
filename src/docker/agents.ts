import { Container } from "@cdktf/provider-docker/lib/container";
import { Image } from "@cdktf/provider-docker/lib/image";
import { Construct } from "constructs";
import { LABELS, type FirewallPlan } from "../plan/plan";
import { agentEnvironment, type AgentFiles } from "../plan/agent-environment";
import { dockerLabels, workloadLabels } from "../terraform/labels";
import { dockerUploads } from "./uploads";
import { processUlimit, ROTATED_JSON_LOGS } from "./limits";

/**
 * Docker part of AgentFleet: one hardened container per agent, on its role's internal network
 * only, as a non-root user unless the agent says otherwise, with process and log limits.
 */
export class DockerAgents extends Construct {
  /** Agent containers by agent name. */
  public readonly containers: { [agentName: string]: Container } = {};
  /** Images by image reference. */
  public readonly images: { [image: string]: Image } = {};

  constructor(scope: Construct, id: string, plan: FirewallPlan, options: { roleNetworks: { readonly [roleName: string]: string }; proxyUrls: { readonly [roleName: string]: string }; files: AgentFiles; profilePath?: string }) {
    super(scope, id);
    // Images and containers in scopes of their own: agent names can never collide with image ids.
    const imageScope = new Construct(this, "images");
    const containerScope = new Construct(this, "containers");
    const imageNames = [...new Set(plan.agents.map((a) => a.image))].sort();
    imageNames.forEach((name, index) => {
      this.images[name] = new Image(imageScope, String(index), { name, keepLocally: true });
    });
    const roles = new Map(plan.roles.map((r) => [r.name, r]));
    for (const agent of plan.agents) {
      const role = roles.get(agent.role);
      const readOnly = !role?.allowFileSystem;
      this.containers[agent.name] = new Container(containerScope, agent.resourceName, {
        name: agent.workloadName,
        image: this.images[agent.image].imageId,
        networksAdvanced: [{ name: options.roleNetworks[agent.role], ipv4Address: agent.ipv4Address }],
        user: agent.user,
        env: agentEnvironment(agent, options.proxyUrls[agent.role], plan.proxy.noProxy, options.profilePath).map(([k, v]) => `${k}=${v}`),
        memory: agent.memoryMiB,
        cpus: String(agent.cpus),
        ulimit: [processUlimit(agent.processLimit)],
        ...ROTATED_JSON_LOGS,
        readOnly,
        removeVolumes: true,
        tmpfs: readOnly ? { "/tmp": "rw,noexec,nosuid,size=64m" } : undefined,
        ...dockerUploads(options.files[agent.role] ?? [], "0444", readOnly),
        capabilities: { drop: ["ALL"] },
        securityOpts: ["no-new-privileges:true"],
        restart: "unless-stopped",
        mustRun: true,
        labels: dockerLabels(workloadLabels("agent", { [LABELS.agent]: agent.resourceName, [LABELS.role]: role?.resourceName ?? agent.role })),
      });
    }
  }
}
