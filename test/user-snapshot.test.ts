/**
 * What a user's snapshot test of their own stack holds, made as docs/testing-your-stack.md makes
 * it: with `Testing.synth` of a whole firewall stack and with `Testing.synthScope` of their own
 * stack around the constructs. On Docker the gateway bundle travels as a file asset, so neither
 * carries it: the snapshot stays small, with no line anywhere near the bundle's size.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DockerProvider } from "@cdktf/provider-docker/lib/provider";
import { RandomProvider } from "@cdktf/provider-random/lib/provider";
import { TimeProvider } from "@cdktf/provider-time/lib/provider";
import { VaultProvider } from "@cdktf/provider-vault/lib/provider";
import { App, Testing } from "cdktf";
import { describe, expect, it } from "vitest";
import { EgressProxy, FirewallSpec, IsolatedAgentNetwork, ProxyEvents, RapidClawStack, ScopedAgentKeys, ToolGateway } from "../src";
import { GATEWAY_BUNDLE_PATH } from "../src/constructs/gateway-bundle";
import { AgentPlatform } from "../src/model/types";
import { fronted } from "./support/gateway-spec";

const BUNDLE = readFileSync(join(__dirname, "..", GATEWAY_BUNDLE_PATH), "utf8");

/** The snapshot as the docs' recipe writes it: the synthesized JSON, one layout, no strings shortened. */
const snapshotOf = (json: string) => JSON.stringify(JSON.parse(json), null, 2);

/** Passes when the snapshot is small and holds no piece of the bundle, only its upload by path and hash. */
function expectSmallWithoutBundle(snapshot: string): void {
  expect(snapshot.length).toBeLessThan(64 * 1024);
  expect(Math.max(...snapshot.split("\n").map((line) => line.length))).toBeLessThan(8 * 1024);
  // Pieces of the program from its start, middle and end.
  for (const at of [0, Math.floor(BUNDLE.length / 2), BUNDLE.length - 200]) expect(snapshot).not.toContain(BUNDLE.slice(at, at + 200));
  expect(snapshot).toMatch(/"source": "assets\/rapidclaw-gateway-bundle-[0-9a-f]{12}\/[0-9a-f]{64}\/rapidclaw-gateway\.cjs"/);
}

describe("a user's snapshot of a Docker stack with the tool gateway and proxy-events", () => {
  it("Testing.synth of a whole firewall stack: under 64 KiB, no bundle", () => {
    const stack = new RapidClawStack(new App(), "agent-firewall", fronted(AgentPlatform.DOCKER));
    expectSmallWithoutBundle(snapshotOf(Testing.synth(stack, true)));
  });

  it("Testing.synthScope of the user's own stack around the constructs: under 64 KiB, no bundle", () => {
    const json = Testing.synthScope((stack) => {
      new DockerProvider(stack, "docker", {});
      new VaultProvider(stack, "vault", {});
      new RandomProvider(stack, "random", {});
      new TimeProvider(stack, "time", {});
      const spec = FirewallSpec.fromProps(fronted(AgentPlatform.DOCKER));
      const network = new IsolatedAgentNetwork(stack, "network", { spec });
      const proxy = new EgressProxy(stack, "proxy", { network });
      const gateway = new ToolGateway(stack, "gateway", { network, proxy, keys: new ScopedAgentKeys(stack, "keys", { spec }) });
      new ProxyEvents(stack, "proxy-events", { proxy, gateway });
    });
    const snapshot = snapshotOf(json);
    expectSmallWithoutBundle(snapshot);
    // One asset, uploaded into both programs' containers.
    expect(snapshot.match(/"source": "assets\//g)).toHaveLength(2);
  });
});
