import type { TerraformStack } from "cdktf";
import type { FirewallSpecProps } from "../model/types";
import { LayerStatus } from "./findings";
import { verifyArtifacts } from "./verify-artifacts";

/**
 * Problems for a cdktf validation (`node.addValidation`): every grant of the stack's synthesized
 * Terraform JSON (escape hatches and constructs added by hand included) that is wider than
 * `props`, each naming the artifact and the rule, so that `cdktf synth` fails on it.
 */
export function widerLayerProblems(stack: TerraformStack, props: FirewallSpecProps): string[] {
  const report = verifyArtifacts(stack.toTerraform(), { props, source: "the stack's props" });
  return report.checks
    .filter((check) => check.status === LayerStatus.WIDER)
    .flatMap((check) => check.wider.map((grant) => `${check.principal} ${check.layer} ${check.aspect} is wider than the firewall description: ${grant.item}, by ${grant.artifact}: ${grant.rule} (remove the override or construct that adds it, or change the description; verifyLayers: false turns this check off)`));
}
