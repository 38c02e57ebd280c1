/**
 * The proxy's shadow mode (`proxy.enforcement: audit`) where it is synthesized: squid.conf gains
 * the would_block rules on the roles' listeners only (Squid parses it), synthesis warns, and
 * `rapidclaw verify` reads those rules as the audit's when the description asks for it and as
 * wider than the description when it does not. Real Squid runs it in test/e2e/squid-audit.test.ts.
 */
import { App, Testing } from "cdktf";
import { describe, expect, it } from "vitest";
import { firewallScenario } from "../examples/firewall-scenario";
import { RapidClawStack } from "../src";
import { compileFirewall } from "../src/plan/plan";
import { renderSquidConfForPlan } from "../src/render/squid-conf";
import { AgentPlatform, Enforcement, type FirewallSpecProps } from "../src/model/types";
import { LayerStatus } from "../src/verify/findings";
import { verifyArtifacts } from "../src/verify/verify-artifacts";
import { squidBinary, squidParse } from "./support/squid";

const enforcing = { ...firewallScenario(AgentPlatform.DOCKER), proxy: { allowPlainHttp: true } };
const auditing: FirewallSpecProps = {
  ...enforcing,
  tools: { ...enforcing.tools, web_search: { ...enforcing.tools.web_search, upstream: "https://search.tools.test" } },
  vault: { address: "https://vault.example.com:8200" },
  proxy: { ...enforcing.proxy, enforcement: Enforcement.AUDIT },
};

const warnings = (stack: RapidClawStack) => stack.node.findAll().flatMap((c) => c.node.metadata.filter((m) => m.type === "@cdktf/warn").map((m) => String(m.data)));

describe("proxy.enforcement audit", () => {
  const conf = renderSquidConfForPlan(compileFirewall(auditing));

  it("is off by default and when the firewall's own enforcement is audit", () => {
    for (const spec of [enforcing, { ...enforcing, enforcement: Enforcement.AUDIT }]) expect(renderSquidConfForPlan(compileFirewall(spec))).not.toMatch(/would_block/);
  });

  it("adds would_block rules for each role's listener and none for the tool gateway's", () => {
    const audit = conf.split("\n").filter((line) => /event_would_block/.test(line) && !line.startsWith("acl "));
    expect(audit.some((line) => /gateway_in/.test(line))).toBe(false);
    for (const role of ["customer_support", "research_agent"]) {
      const id = `role_${role.replace(/_/g, "-")}_in`;
      expect(audit.filter((line) => line.includes(` ${id} `) || line.endsWith(` ${id}`)).map((line) => line.split(" ").slice(0, 2).join(" ")).sort(), role).toEqual(
        ["http_access allow", "http_access allow", "ssl_bump peek", "ssl_bump splice", ...(role === "research_agent" ? ["http_access allow", "ssl_bump splice"] : [])].sort(),
      );
    }
    expect(conf).toMatch(/^# AUDIT MODE/m);
  });

  it.skipIf(squidBinary === undefined)("renders a squid.conf Squid parses", () => {
    expect(squidParse(conf)).toEqual({ status: 0, problems: [] });
  });

  it("warns at synthesis, loudly", () => {
    expect(warnings(new RapidClawStack(new App(), "agent-firewall", enforcing)).filter((w) => /proxy\.enforcement/.test(w))).toEqual([]);
    const stack = new RapidClawStack(new App(), "agent-firewall", auditing);
    expect(warnings(stack).filter((w) => /proxy\.enforcement/.test(w))).toEqual([expect.stringMatching(/^proxy\.enforcement is audit: .*would_block.* The network is NOT confined/)]);
  });

  it("passes rapidclaw verify with a note when the description asks for it, and is wider than a description that does not", () => {
    const json = JSON.parse(Testing.synth(new RapidClawStack(new App(), "agent-firewall", auditing)));
    const audited = verifyArtifacts(json, { props: auditing, source: "auditing" });
    expect(audited.checks.filter((c) => c.status === LayerStatus.WIDER)).toEqual([]);
    expect(audited.notes).toContain("the proxy is in audit mode (proxy.enforcement audit): its would_block rules let every role reach hosts outside its allowlist on port 443; the enforced rules are checked");
    const { proxy: _proxy, ...withoutAudit } = auditing;
    const strict = verifyArtifacts(json, { props: { ...withoutAudit, proxy: { allowPlainHttp: true } }, source: "enforcing" });
    expect(strict.checks.filter((c) => c.status === LayerStatus.WIDER).map((c) => `${c.principal} ${c.aspect}`).sort()).toEqual(["customer_support proxy hosts", "research_agent proxy hosts"]);
  });
});
