import { Construct } from "constructs";
import type { FirewallPlan } from "../plan/plan";
import type { AgentFiles } from "./agent-environment";

/** Kubernetes part of AgentFleet (being written). */
export class KubernetesAgents extends Construct {
  constructor(scope: Construct, id: string, plan: FirewallPlan, options: { namespaceName: string; proxyUrls: { [roleName: string]: string }; files: AgentFiles; profilePath?: string }) {
    super(scope, id);
    throw new Error(`Kubernetes platform: not available yet (${plan.roles.length}, ${options.namespaceName})`);
  }
}
