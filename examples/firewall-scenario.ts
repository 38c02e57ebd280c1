import { AgentPlatform, ToolAccess, type FirewallSpecProps } from "../src/model/types";

/**
 * The proxy image the Kubernetes example deploys: the package's images/egress-proxy, built and
 * pushed to your own registry (give its digest, `…/egress-proxy@sha256:…`, in a real deployment).
 */
export const EXAMPLE_PROXY_IMAGE = "registry.example.com/rapidclaw/egress-proxy:5.7";

/**
 * The example scenario: six tools, two roles, two agents. Shared by the Docker and Kubernetes
 * examples; only the platform differs, and Kubernetes names its proxy image (Docker builds it).
 */
export function firewallScenario(platform: AgentPlatform): FirewallSpecProps {
  return {
    platform,
    ...(platform === AgentPlatform.KUBERNETES ? { proxy: { image: EXAMPLE_PROXY_IMAGE } } : {}),
    modelHosts: ["api.anthropic.com", "api.openai.com"],
    tools: {
      web_search: { permissions: ["search:read"], rateLimit: { maxCalls: 20, windowSec: 60 }, key: { rotationHours: 24 } },
      send_email: { permissions: ["email:send"], rateLimit: { maxCalls: 5, windowSec: 300 }, key: {} },
      database: { permissions: ["db:read"], rateLimit: { maxCalls: 50, windowSec: 60 }, key: {} },
      file_upload: { permissions: ["files:write"], rateLimit: { maxCalls: 10, windowSec: 60 }, key: {} },
      knowledge_base: {},
      ticket_system: {},
    },
    roles: {
      customer_support: {
        tools: {
          knowledge_base: ToolAccess.READ,
          ticket_system: ToolAccess.WRITE,
          send_email: ToolAccess.EXECUTE,
          web_search: ToolAccess.DENY,
          file_upload: ToolAccess.DENY,
        },
        limits: { maxTokensPerTask: 20_000, maxToolCallsPerTask: 50, maxConcurrentTasks: 3 },
        network: { allowEgress: false },
      },
      research_agent: {
        tools: {
          web_search: ToolAccess.READ,
          database: ToolAccess.READ,
          knowledge_base: ToolAccess.READ,
          send_email: ToolAccess.DENY,
        },
        limits: { maxTokensPerTask: 100_000, maxToolCallsPerTask: 200, maxConcurrentTasks: 5 },
        network: { allowEgress: true, allowedHosts: ["*.google.com", "*.bing.com", "arxiv.org", "api.github.com"] },
      },
    },
    agents: [
      { name: "openclaw-agent", image: "openclaw/agent:latest", role: "research_agent", memory: "2G", cpus: 1 },
      { name: "hermes-agent", image: "nousresearch/hermes-agent:latest", role: "customer_support", memory: "1G", cpus: 0.5 },
    ],
  };
}
