import { firewallScenario } from "../../examples/firewall-scenario";
import { AgentPlatform, type FirewallSpecProps } from "../../src/model/types";

/** The reference scenario with upstreams, key headers and an EXECUTE operation, as the gateway tests use it. */
export function gatewayScenario(overrides: Partial<FirewallSpecProps> = {}): FirewallSpecProps {
  const seed = firewallScenario(AgentPlatform.KUBERNETES);
  return {
    ...seed,
    tools: {
      ...seed.tools,
      web_search: { ...seed.tools.web_search, upstream: "https://search.tools.test/api", keyHeader: { name: "x-api-key" } },
      send_email: {
        ...seed.tools.send_email,
        upstream: "https://mail.tools.test",
        executeOperations: [{ method: "POST", path: "/v3/mail/send" }],
      },
      database: { ...seed.tools.database, upstream: "https://db.tools.test" },
      file_upload: { ...seed.tools.file_upload, upstream: "https://files.tools.test" },
      knowledge_base: { upstream: "https://kb.tools.test" },
      ticket_system: { upstream: "https://tickets.tools.test", rateLimit: { maxCalls: 100, windowSec: 60 }, failOpen: true },
    },
    ...overrides,
  };
}
