// A consumer's program, built against the library as installed from its packed tarball beside the
// consumer's own cdktf, constructs and providers. test/e2e/package.test.ts type-checks it, runs
// it and reads what it synthesizes into ./cdktf.out. `node dist/main.js kubernetes` builds the firewall
// for Kubernetes (a project with only that platform's provider installed); Docker otherwise.
import { RandomProvider } from "@cdktf/provider-random/lib/provider";
import { TimeProvider } from "@cdktf/provider-time/lib/provider";
import { VaultProvider } from "@cdktf/provider-vault/lib/provider";
import { AgentPlatform, AgentRoleProfile, FirewallSpec, RapidClawStack, ScopedAgentKeys, ToolAccess, type FirewallSpecProps } from "@rapidclaw/agent-firewall";
import { App, TerraformStack } from "cdktf";
import type { Construct } from "constructs";

// Through globalThis: the project has no @types/node, as a fresh cdktf project need not.
const argv = (globalThis as unknown as { process: { argv: string[] } }).process.argv;
const platform = argv[2] === "kubernetes" ? AgentPlatform.KUBERNETES : AgentPlatform.DOCKER;

const firewall: FirewallSpecProps = {
  platform,
  modelHosts: ["api.anthropic.com"],
  tools: { web_search: { permissions: ["search:read"], rateLimit: { maxCalls: 20, windowSec: 60 }, key: {} } },
  roles: { research_agent: { tools: { web_search: ToolAccess.READ }, network: { allowEgress: true, allowedHosts: ["*.google.com"] } } },
  agents: [{ name: "research-agent", image: "busybox:latest", role: "research_agent" }],
  // Kubernetes cannot build the proxy image: a copy of images/egress-proxy pushed to a registry.
  ...(platform === AgentPlatform.KUBERNETES ? { proxy: { image: "registry.example.com/rapidclaw/egress-proxy:5.7" } } : {}),
};

/** The consumer's own stack: its providers, then the library's keys and a role profile. */
class KeysStack extends TerraformStack {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    new VaultProvider(this, "vault");
    new RandomProvider(this, "random");
    new TimeProvider(this, "time");
    const spec = FirewallSpec.fromProps(firewall);
    const keys = new ScopedAgentKeys(this, "keys", { spec });
    new AgentRoleProfile(this, "research", { spec, role: "research_agent", keys });
  }
}

const app = new App();
new RapidClawStack(app, "firewall", firewall);
new KeysStack(app, "keys");
app.synth();
