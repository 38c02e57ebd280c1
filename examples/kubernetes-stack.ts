// The example scenario on Kubernetes: `npx tsx examples/kubernetes-stack.ts` synthesizes it into cdktf.out/.
import { App } from "cdktf";
import { AgentPlatform, RapidClawStack } from "../src";
import { firewallScenario } from "./firewall-scenario";

/** Builds the example app; tests call this with their own output directory. */
export function buildKubernetesExample(outdir?: string): App {
  const app = new App(outdir ? { outdir } : {});
  new RapidClawStack(app, "agent-firewall-k8s", {
    ...firewallScenario(AgentPlatform.KUBERNETES),
    kubernetes: { ingress: { namespaceLabels: { name: "api-gateway" }, port: 8080 } },
  });
  return app;
}

if (require.main === module) buildKubernetesExample().synth();
