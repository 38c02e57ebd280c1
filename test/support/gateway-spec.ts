import { firewallScenario } from "../../examples/firewall-scenario";
import { AgentPlatform, KeyDelivery, ToolAccess, type FirewallSpecProps } from "../../src/model/types";

/** A firewall description whose members can be changed before use. */
export type MutableSpec = { -readonly [K in keyof FirewallSpecProps]: FirewallSpecProps[K] };

/**
 * The seed plus fronted tools: the Anthropic API (its key held by the gateway) and a news API without a key; web_search's key stays with agents.
 * The Anthropic API is no model host: agents reach it through the gateway only.
 */
export function fronted(platform: AgentPlatform, change: (spec: MutableSpec) => void = () => {}): FirewallSpecProps {
  const seed = firewallScenario(platform);
  const spec = {
    ...seed,
    modelHosts: seed.modelHosts.filter((host) => host !== "api.anthropic.com"),
    tools: {
      ...seed.tools,
      anthropic: { upstream: "https://api.anthropic.com", key: {}, keyHeader: { name: "x-api-key" } },
      web_search: { ...seed.tools.web_search, key: { delivery: KeyDelivery.AGENT } },
      news: { upstream: "https://api.anthropic.com/news" },
    },
    roles: {
      ...seed.roles,
      research_agent: { ...seed.roles.research_agent, tools: { ...seed.roles.research_agent.tools, anthropic: ToolAccess.WRITE } },
    },
    vault: { address: "http://vault:8200" },
  };
  change(spec);
  return spec;
}

