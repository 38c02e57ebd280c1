import { Construct } from "constructs";
import type { FirewallPlan } from "../plan/plan";

/** Kubernetes part of EgressProxy (being written). */
export class KubernetesEgressProxy extends Construct {
  public readonly serviceHost: string;
  constructor(scope: Construct, id: string, plan: FirewallPlan, squidConf: string, namespaceName: string) {
    super(scope, id);
    this.serviceHost = `rapidclaw-egress-proxy.${namespaceName}.svc.cluster.local`;
    throw new Error(`Kubernetes platform: not available yet (${plan.roles.length}, ${squidConf.length})`);
  }
}
