// Native agent configuration for the seed fleet, with the model API and a page reader through the
// tool gateway: `npx tsx examples/native-agent-config.ts [outdir]` writes the OpenClaw fragment of
// research_agent and the Hermes Agent fragment of customer_support (default outdir: agent-config/).
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { firewallScenario } from "./firewall-scenario";
import { AgentPlatform, FirewallSpec, HermesConfig, OpenClawConfig, ToolAccess } from "../src";

/** The seed, plus the Anthropic API as a tool, and `web_fetch`, a page reader, in each agent's own name. */
export function nativeAgentFirewall(): FirewallSpec {
  const seed = firewallScenario(AgentPlatform.DOCKER);
  const gatewayTools = { anthropic: ToolAccess.WRITE, web_fetch: ToolAccess.READ }; // model calls are POSTs: WRITE
  return FirewallSpec.fromProps({
    ...seed,
    modelHosts: ["api.openai.com"], // the Anthropic API is reached through the gateway, never directly
    tools: {
      ...seed.tools,
      anthropic: { upstream: "https://api.anthropic.com", key: {}, keyHeader: { name: "x-api-key" } },
      web_fetch: { agentTools: { openclaw: ["web_fetch"], hermes: ["web_extract"] } },
    },
    roles: {
      customer_support: { ...seed.roles.customer_support, tools: { ...seed.roles.customer_support.tools, ...gatewayTools } },
      research_agent: { ...seed.roles.research_agent, tools: { ...seed.roles.research_agent.tools, ...gatewayTools } },
    },
  });
}

/** Writes `openclaw/rapidclaw.json5` and `hermes/config.yaml` under `outdir`; returns their paths. */
export function writeNativeAgentConfig(outdir: string): { openclaw: string; hermes: string } {
  const spec = nativeAgentFirewall();
  const paths = { openclaw: join(outdir, "openclaw", "rapidclaw.json5"), hermes: join(outdir, "hermes", "config.yaml") };
  mkdirSync(join(outdir, "openclaw"), { recursive: true });
  mkdirSync(join(outdir, "hermes"), { recursive: true });
  // The gateway's listener of each role, as the role's agents reach it.
  const openclaw = OpenClawConfig.forRole(spec, "research_agent", { gatewayUrl: "http://172.30.16.3:8080", modelProviders: { anthropic: "anthropic" } });
  writeFileSync(paths.openclaw, openclaw.toJson());
  const hermes = HermesConfig.forRole(spec, "customer_support", { gatewayUrl: "http://172.30.76.3:8080", modelTool: "anthropic" });
  writeFileSync(paths.hermes, hermes.toYaml());
  return paths;
}

if (require.main === module) console.log(writeNativeAgentConfig(process.argv[2] ?? "agent-config"));
