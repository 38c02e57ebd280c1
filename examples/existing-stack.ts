// Rapid Claw inside a stack you already have: your own TerraformStack and Kubernetes provider,
// plus only the firewall's network and egress proxy (your agents are deployed your own way and
// use the proxy URLs). `npx tsx examples/existing-stack.ts` synthesizes it into ./cdktf.out.
import { KubernetesProvider } from "@cdktf/provider-kubernetes/lib/provider";
import { App, TerraformOutput, TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import { AgentPlatform, EgressProxy, FirewallSpec, IsolatedAgentNetwork } from "../src";
import { firewallScenario } from "./firewall-scenario";

/** Name of the example's stack in the app. */
export const EXISTING_STACK_NAME = "platform";

/** A user's own stack: its provider, then the firewall's namespace, policies and proxy. */
export class ExistingPlatformStack extends TerraformStack {
  /** Namespace and agent NetworkPolicies. */
  public readonly network: IsolatedAgentNetwork;
  /** The Squid proxy, its Service and NetworkPolicy. */
  public readonly proxy: EgressProxy;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    new KubernetesProvider(this, "kubernetes", { configPath: "~/.kube/config" });
    const spec = FirewallSpec.fromProps(firewallScenario(AgentPlatform.KUBERNETES));
    this.network = new IsolatedAgentNetwork(this, "agent-network", { spec });
    this.proxy = new EgressProxy(this, "egress-proxy", { network: this.network });
    new TerraformOutput(this, "proxy_urls", {
      description: "HTTPS_PROXY of each role's agents",
      value: this.proxy.proxyUrls,
    });
  }
}

/** Builds the example app into `outdir` (default ./cdktf.out); tests synthesize it. */
export function buildExistingStackExample(outdir?: string): App {
  const app = new App(outdir ? { outdir } : {});
  new ExistingPlatformStack(app, EXISTING_STACK_NAME);
  return app;
}

if (require.main === module) buildExistingStackExample().synth();
