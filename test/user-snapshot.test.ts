/**
 * What a user's snapshot test of their own stack holds, made as docs/testing-your-stack.md makes
 * it: with `Testing.synth` of a whole firewall stack and with `Testing.synthScope` of their own
 * stack around the constructs. The gateway bundle is a file asset of the stack on both platforms
 * (Docker uploads it by path and hash; Kubernetes ConfigMap parts read it with Terraform's
 * `filebase64`), so neither carries it: the snapshot stays small, with no line anywhere near the
 * bundle's size.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DockerProvider } from "@cdktf/provider-docker/lib/provider";
import { KubernetesProvider } from "@cdktf/provider-kubernetes/lib/provider";
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

/** Where synthesis copies the bundle, relative to the stack's JSON. */
const ASSET = String.raw`assets\/rapidclaw-gateway-bundle-[0-9a-f]{12}\/[0-9a-f]{64}\/rapidclaw-gateway\.cjs`;

/** Passes when the snapshot is under `limit` bytes and holds no piece of the bundle. */
function expectSmallWithoutBundle(snapshot: string, limit: number): void {
  expect(snapshot.length).toBeLessThan(limit);
  expect(Math.max(...snapshot.split("\n").map((line) => line.length))).toBeLessThan(8 * 1024);
  // Pieces of the program from its start, middle and end.
  for (const at of [0, Math.floor(BUNDLE.length / 2), BUNDLE.length - 200]) expect(snapshot).not.toContain(BUNDLE.slice(at, at + 200));
}

/** Docker: the upload names the asset by path (and sha256). */
const DOCKER_UPLOAD = new RegExp(String.raw`"source": "${ASSET}"`, "g");
/** Kubernetes: each ConfigMap part decodes its bytes from the asset's base64. */
const KUBERNETES_PART = new RegExp(String.raw`"rapidclaw-gateway\.cjs\.part": "\$\{base64decode\(substr\(filebase64\(\\"${ASSET}\\"\), \d+, \d+\)\)\}"`, "g");

/** A user's own stack around the constructs: the platform's provider and the others they need, the network, proxy, gateway and proxy-events. */
function usersOwnStack(platform: AgentPlatform): string {
  return Testing.synthScope((stack) => {
    if (platform === AgentPlatform.DOCKER) new DockerProvider(stack, "docker", {});
    else new KubernetesProvider(stack, "kubernetes", {});
    new VaultProvider(stack, "vault", {});
    new RandomProvider(stack, "random", {});
    new TimeProvider(stack, "time", {});
    const spec = FirewallSpec.fromProps(fronted(platform));
    const network = new IsolatedAgentNetwork(stack, "network", { spec });
    const proxy = new EgressProxy(stack, "proxy", { network });
    const gateway = new ToolGateway(stack, "gateway", { network, proxy, keys: new ScopedAgentKeys(stack, "keys", { spec }) });
    new ProxyEvents(stack, "proxy-events", { proxy, gateway });
  });
}

describe("a user's snapshot of a Docker stack with the tool gateway and proxy-events", () => {
  it("Testing.synth of a whole firewall stack: under 64 KiB, no bundle", () => {
    const stack = new RapidClawStack(new App(), "agent-firewall", fronted(AgentPlatform.DOCKER));
    const snapshot = snapshotOf(Testing.synth(stack, true));
    expectSmallWithoutBundle(snapshot, 64 * 1024);
    expect(snapshot).toMatch(DOCKER_UPLOAD);
  });

  it("Testing.synthScope of the user's own stack around the constructs: under 64 KiB, no bundle", () => {
    const snapshot = snapshotOf(usersOwnStack(AgentPlatform.DOCKER));
    expectSmallWithoutBundle(snapshot, 64 * 1024);
    // One asset, uploaded into both programs' containers.
    expect(snapshot.match(DOCKER_UPLOAD)).toHaveLength(2);
  });
});

describe("a user's snapshot of a Kubernetes stack with the tool gateway and proxy-events", () => {
  /** Two ConfigMap parts (the bundle is about 1.1 MiB) each for the gateway and proxy-events, all from one asset. */
  const expectPartsFromTheAsset = (snapshot: string) => {
    expect(snapshot.match(KUBERNETES_PART)).toHaveLength(4);
    expect(new Set(snapshot.match(new RegExp(ASSET, "g")))).toHaveProperty("size", 1);
  };

  it("Testing.synth of a whole firewall stack: under 128 KiB, no bundle", () => {
    const stack = new RapidClawStack(new App(), "agent-firewall", fronted(AgentPlatform.KUBERNETES));
    const snapshot = snapshotOf(Testing.synth(stack, true));
    expectSmallWithoutBundle(snapshot, 128 * 1024);
    expectPartsFromTheAsset(snapshot);
  });

  it("Testing.synthScope of the user's own stack around the constructs: under 128 KiB, no bundle", () => {
    const snapshot = snapshotOf(usersOwnStack(AgentPlatform.KUBERNETES));
    expectSmallWithoutBundle(snapshot, 128 * 1024);
    expectPartsFromTheAsset(snapshot);
  });
});
