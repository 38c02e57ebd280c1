import { App, Testing } from "cdktf";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { RapidClawStack } from "../src";
import { byString } from "../src/model/order";
import { AgentPlatform, AgentRuntime, type FirewallSpecProps } from "../src/model/types";
import { LayerStatus } from "../src/verify/findings";
import { verifyArtifacts } from "../src/verify/verify-artifacts";
import { firewallSpecArb, normalisedName } from "./support/arbitraries";

/**
 * Property: on what the library synthesizes from any valid description, `rapidclaw verify` finds
 * no layer wider than the description, on both platforms, with and without a tool gateway and
 * agent programs; and the stack's own validation (on by default) passes. Each spec synthesizes
 * a stack, a gateway one with its 0.8 MiB bundle, so runs are few; raise them with
 * RAPIDCLAW_VERIFY_RUNS.
 */
const RUNS = Number(process.env.RAPIDCLAW_VERIFY_RUNS ?? 12);

/** Some tools fronted (upstream hosts under a domain no generated host pattern covers), Vault's address, and agent programs. */
const withGatewayArb = (platform: AgentPlatform): fc.Arbitrary<FirewallSpecProps> =>
  firewallSpecArb(platform).chain((spec) =>
    fc.record({ fronted: fc.subarray(Object.keys(spec.tools).sort(byString)), runtimes: fc.array(fc.constantFrom(AgentRuntime.OPENCLAW, AgentRuntime.HERMES, undefined), { minLength: 4, maxLength: 4 }) }).map(({ fronted, runtimes }) => ({
      ...spec,
      tools: Object.fromEntries(Object.entries(spec.tools).map(([name, tool]) => [name, fronted.includes(name) ? { ...tool, upstream: `https://${normalisedName(name)}.upstream.example` } : tool])),
      vault: { ...spec.vault, address: "http://vault:8200" },
      gateway: {},
      agents: (spec.agents ?? []).map((agent, i) => (runtimes[i] === undefined ? agent : { ...agent, runtime: runtimes[i] })),
    })),
  );

describe("verify finds nothing wider on what the library synthesizes", () => {
  for (const platform of [AgentPlatform.DOCKER, AgentPlatform.KUBERNETES]) {
    for (const [kind, arb] of [["without a gateway", firewallSpecArb(platform)], ["with a gateway and agent programs", withGatewayArb(platform)]] as const) {
      it(`${platform}, ${kind}`, () => {
        fc.assert(
          fc.property(arb, (props) => {
            const stack = new RapidClawStack(new App(), "agent-firewall", props);
            const json = JSON.parse(Testing.synth(stack, true));
            const report = verifyArtifacts(json, { props, source: "generated" });
            expect(report.checks.filter((c) => c.status === LayerStatus.WIDER)).toEqual([]);
            // Every role is checked at the network and key layers, whatever it holds (a login binding where the role has a login).
            const aspects = ["network proxy hosts", "network proxy ports", "network direct egress", "network peers", "network gateway identity", "keys key paths"];
            for (const role of Object.keys(props.roles)) expect(report.checks.filter((c) => c.principal === role).map((c) => `${c.layer} ${c.aspect}`)).toEqual(expect.arrayContaining(aspects));
          }),
          { numRuns: RUNS },
        );
      }, 300_000);
    }
  }
});
