import { Construct } from "constructs";
import type { FirewallPlan } from "../plan/plan";

/** Kubernetes part of IsolatedAgentNetwork (being written). */
export class KubernetesAgentNetwork extends Construct {
  public readonly namespaceName: string;
  constructor(scope: Construct, id: string, plan: FirewallPlan) {
    super(scope, id);
    this.namespaceName = plan.namespace;
    throw new Error("Kubernetes platform: not available yet");
  }
}
