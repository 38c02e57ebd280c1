// The seed fleet with each agent's own configuration mounted: the OpenClaw agent gets its role's
// openclaw.json and the gateway-check plugin, the Hermes agent its role's config.yaml and the hook.
// `npx tsx examples/agent-runtime-stack.ts [outdir]` synthesizes it (default outdir: cdktf.out/).
import { App } from "cdktf";
import { AgentPlatform, AgentRuntime, RapidClawStack, ToolAccess, type FirewallSpecProps } from "../src";
import { firewallScenario } from "./firewall-scenario";

/** The seed on `platform`, with a page reader in each agent's own name, a tool gateway, and a runtime per agent. */
export function agentRuntimeFirewall(platform: AgentPlatform): FirewallSpecProps {
  const seed = firewallScenario(platform);
  const runtimes: Record<string, AgentRuntime> = { "openclaw-agent": AgentRuntime.OPENCLAW, "hermes-agent": AgentRuntime.HERMES };
  return {
    ...seed,
    tools: { ...seed.tools, web_fetch: { agentTools: { openclaw: ["web_fetch"], hermes: ["web_extract"] } } },
    roles: {
      customer_support: { ...seed.roles.customer_support, tools: { ...seed.roles.customer_support.tools, web_fetch: ToolAccess.READ } },
      research_agent: { ...seed.roles.research_agent, tools: { ...seed.roles.research_agent.tools, web_fetch: ToolAccess.READ } },
    },
    // The hooks ask the gateway's check endpoint: deploy one even though no tool has an upstream.
    gateway: {},
    agents: (seed.agents ?? []).map((agent) => ({ ...agent, runtime: runtimes[agent.name] })),
  };
}

/** Builds the example app on Docker; tests call this with their own output directory. */
export function buildAgentRuntimeExample(outdir?: string): App {
  const app = new App(outdir ? { outdir } : {});
  new RapidClawStack(app, "agent-firewall", agentRuntimeFirewall(AgentPlatform.DOCKER));
  return app;
}

if (require.main === module) buildAgentRuntimeExample(process.argv[2]).synth();
