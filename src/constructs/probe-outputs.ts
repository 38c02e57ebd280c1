import { TerraformOutput } from "cdktf";
import type { Construct } from "constructs";
import { bundlePartKey } from "../kubernetes/bundle-join-layout";
import { fileNames } from "../kubernetes/tool-gateway";
import { AgentPlatform } from "../model/types";
import type { FirewallPlan } from "../plan/plan";
import { dockerProbeCommand, kubernetesProbeJob } from "../probe/run-as-role";
import type { ToolGateway } from "./tool-gateway";

/** Output name of a role's probe: `probe_<role>`, the role's resource name with `_` for `-`. */
export function probeOutputName(roleResourceName: string): string {
  return `probe_${roleResourceName.replace(/-/g, "_")}`;
}

/**
 * One output per role saying how to run `rapidclaw probe` as that role: on Docker a `docker run`
 * command, on Kubernetes a Job manifest (from the tool gateway's ConfigMaps, so only with a gateway).
 */
export function addProbeOutputs(scope: Construct, plan: FirewallPlan, proxyUrls: { readonly [roleName: string]: string }, gateway: ToolGateway | undefined): void {
  for (const role of plan.roles) {
    const endpoints = { proxyUrl: proxyUrls[role.name], gatewayUrl: gateway?.urls[role.name] };
    const name = probeOutputName(role.resourceName);
    if (plan.platform === AgentPlatform.DOCKER) {
      new TerraformOutput(scope, name, { description: `rapidclaw probe as role ${role.name}: run from the directory holding node_modules, with RAPIDCLAW_FIREWALL_FILE set to the firewall file`, value: dockerProbeCommand(plan, role, endpoints) });
    } else if (gateway !== undefined && plan.gateway !== undefined) {
      const files = fileNames(plan.gateway);
      const parts = gateway.kubernetes.bundleConfigMaps.map((c) => c.metadata.name);
      const job = kubernetesProbeJob(plan, role, endpoints, { config: { name: gateway.kubernetes.configMap.metadata.name, key: files.config }, bundleParts: parts, bundleKey: bundlePartKey(plan.gateway.paths.bundle) });
      new TerraformOutput(scope, name, { description: `rapidclaw probe as role ${role.name}: a Job manifest (terraform output -json ${name} | kubectl apply -f -)`, value: job });
    }
  }
}
