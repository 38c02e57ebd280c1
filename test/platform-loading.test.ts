/**
 * The platform providers are optional peers: a Docker-only project has no
 * @cdktf/provider-kubernetes installed and a Kubernetes-only one no @cdktf/provider-docker. The
 * library must then load (and synthesize) without the other platform's package, and name the
 * package to install when its own is missing. Each case runs in a fresh Node process with the
 * package hidden from module resolution, as if it were not installed; the packed-library e2e
 * (test/e2e/package.test.ts) proves the same with real installs.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { AgentPlatform } from "../src/model/types";

const CHILD = join(__dirname, "support", "platform-loading-child.ts");
const DOCKER_PROVIDER = "@cdktf/provider-docker";
const KUBERNETES_PROVIDER = "@cdktf/provider-kubernetes";

interface ChildResult {
  readonly afterRoot: string[];
  readonly afterSynth: string[];
  readonly synthesized?: string;
  readonly error?: string;
}

function build(platform: AgentPlatform, hidden = ""): ChildResult {
  const child = spawnSync(process.execPath, ["--import", "tsx", CHILD, platform, hidden], { encoding: "utf8", cwd: join(__dirname, ".."), maxBuffer: 64 * 1024 * 1024 });
  if (child.status !== 0) throw new Error(`child exited ${child.status}: ${child.stderr}`);
  return JSON.parse(child.stdout) as ChildResult;
}

describe("platform providers load only with their platform", () => {
  const docker = build(AgentPlatform.DOCKER);
  const kubernetes = build(AgentPlatform.KUBERNETES);

  it("the package root loads neither platform's provider, nor tldts", () => {
    for (const result of [docker, kubernetes]) {
      expect(result.afterRoot).not.toContain(DOCKER_PROVIDER);
      expect(result.afterRoot).not.toContain(KUBERNETES_PROVIDER);
      expect(result.afterRoot).not.toContain("tldts");
    }
  });

  it("a Docker firewall loads the Docker provider and never the Kubernetes one", () => {
    expect(docker.error).toBeUndefined();
    expect(docker.afterSynth).toContain(DOCKER_PROVIDER);
    expect(docker.afterSynth).not.toContain(KUBERNETES_PROVIDER);
  });

  it("a Kubernetes firewall loads the Kubernetes provider and never the Docker one", () => {
    expect(kubernetes.error).toBeUndefined();
    expect(kubernetes.afterSynth).toContain(KUBERNETES_PROVIDER);
    expect(kubernetes.afterSynth).not.toContain(DOCKER_PROVIDER);
  });

  it("synthesizes a Docker firewall without @cdktf/provider-kubernetes installed, byte for byte as with it", () => {
    const alone = build(AgentPlatform.DOCKER, KUBERNETES_PROVIDER);
    expect(alone.error).toBeUndefined();
    expect(alone.synthesized).toBe(docker.synthesized);
    expect(Object.keys(JSON.parse(alone.synthesized as string).resource)).toContain("docker_container");
  });

  it("synthesizes a Kubernetes firewall without @cdktf/provider-docker installed, byte for byte as with it", () => {
    const alone = build(AgentPlatform.KUBERNETES, DOCKER_PROVIDER);
    expect(alone.error).toBeUndefined();
    expect(alone.synthesized).toBe(kubernetes.synthesized);
    expect(Object.keys(JSON.parse(alone.synthesized as string).resource)).toEqual(expect.arrayContaining(["kubernetes_deployment_v1", "kubernetes_manifest"]));
  });

  it.each([
    [AgentPlatform.DOCKER, DOCKER_PROVIDER, "^12.0.3"],
    [AgentPlatform.KUBERNETES, KUBERNETES_PROVIDER, "^12.1.1"],
  ])("a %s firewall without %s names the package and how to install it", (platform, missing, range) => {
    const result = build(platform, missing);
    expect(result.synthesized).toBeUndefined();
    expect(result.error).toBe(`platform "${platform}" needs the ${missing} package, which is not installed; install it beside cdktf: npm install ${missing}@"${range}"`);
  });
});
