import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FirewallSpecError } from "../src";
import { GATEWAY_BUNDLE_PATH } from "../src/constructs/gateway-bundle";
import { GATEWAY_UID } from "../src/kubernetes/tool-gateway";
import { DEFAULTS } from "../src/model/defaults";
import { AgentPlatform } from "../src/model/types";
import { compileFirewall } from "../src/plan/plan";
import { GATEWAY_PATHS } from "../src/plan/gateway-plan";
import { fronted } from "./support/gateway-spec";

const DOCKERFILE = readFileSync(join(__dirname, "..", "images", "gateway", "Dockerfile"), "utf8");
const instructions = DOCKERFILE.split("\n").filter((line) => line.trim() !== "" && !line.startsWith("#"));

describe("images/gateway/Dockerfile", () => {
  it("builds on the stock Node image the default deployment runs", () => {
    expect(instructions[0]).toBe(`ARG NODE_IMAGE=${DEFAULTS.gateway.image}`);
    expect(instructions[1]).toBe("FROM ${NODE_IMAGE}");
  });

  it("puts the bundle where the synthesized command runs it, from the directory the build writes it to, and runs as the deployed gateway's user", () => {
    const copy = instructions.find((line) => line.startsWith("COPY "))!.split(/\s+/);
    expect(copy).toContain(GATEWAY_BUNDLE_PATH.split("/").pop());
    expect(`${copy[copy.length - 1]}${GATEWAY_BUNDLE_PATH.split("/").pop()}`).toBe(GATEWAY_PATHS.bundle);
    expect(instructions).toContain(`USER ${DEFAULTS.gateway.user}`);
    expect(DEFAULTS.gateway.user).toBe(`${GATEWAY_UID}:${GATEWAY_UID}`);
    expect(instructions).toContain(`ENTRYPOINT ["node", "${GATEWAY_PATHS.bundle}"]`);
  });
});

describe("gateway.image", () => {
  const withImage = (image: string) => ({ ...fronted(AgentPlatform.DOCKER), gateway: { image } });
  const problems = (image: string) => {
    try {
      compileFirewall(withImage(image));
      return [];
    } catch (error) {
      if (error instanceof FirewallSpecError) return error.problems.map((p) => `${p.path}: ${p.message}`);
      throw error;
    }
  };

  it("is an image by digest: the plan runs it and delivers no bundle", () => {
    const image = `registry.example.com:5000/team/rapidclaw-gateway@sha256:${"0f".repeat(32)}`;
    const plan = compileFirewall(withImage(image));
    expect(plan.gateway).toMatchObject({ image, imageHoldsBundle: true });
    expect(plan.proxyEvents).toMatchObject({ image, imageHoldsBundle: true });
    expect(compileFirewall(fronted(AgentPlatform.DOCKER)).gateway).toMatchObject({ image: DEFAULTS.gateway.image, imageHoldsBundle: false });
  });

  it("refuses a tag, a short digest and a stray character, saying what to give", () => {
    for (const image of ["node:22.12.0-bookworm-slim", "rapidclaw-gateway@sha256:abc", `x@sha256:${"A".repeat(64)}`, `a b@sha256:${"0".repeat(64)}`]) {
      expect(problems(image), image).toEqual([expect.stringMatching(/^gateway\.image: image must be your gateway image by digest, such as .*@sha256:.* \(built from images\/gateway\/Dockerfile\); leave it unset/)]);
    }
  });
});
