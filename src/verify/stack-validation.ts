import type { FirewallSpecProps } from "../model/types";
import { LayerStatus } from "./findings";
import { verifyArtifacts, type VerifyReport } from "./verify-artifacts";

/**
 * Problems for a cdktf validation (`node.addValidation`): every grant of the stack's synthesized
 * Terraform JSON `json` (escape hatches and constructs added by hand included) that is wider than
 * `props`, each naming the artifact and the rule, so that `cdktf synth` fails on it.
 */
export function widerLayerProblems(json: { [key: string]: any }, props: FirewallSpecProps): string[] {
  let report: VerifyReport;
  try {
    report = verifyArtifacts(json, { props, source: "the stack's props" });
  } catch (error) {
    // An artifact the readers cannot make sense of (an override that breaks the gateway's JSON, a
    // provider removed): synthesis stops with the reason rather than pass unchecked.
    return [`the stack's layers could not be verified against the firewall description: ${(error as Error).message} (verifyLayers: false turns this check off)`];
  }
  return report.checks
    .filter((check) => check.status === LayerStatus.WIDER)
    .flatMap((check) => check.wider.map((grant) => `${check.principal} ${check.layer} ${check.aspect} is wider than the firewall description: ${grant.item}, by ${grant.artifact}: ${grant.rule} (remove the override or construct that adds it, or change the description; verifyLayers: false turns this check off)`));
}
