/**
 * The Squid image the stacks deploy: on Docker, built on the Docker host from the package's
 * images/egress-proxy (Debian 12's squid-openssl, the Squid the tests run) unless proxy.image
 * names one; on Kubernetes, which cannot build, proxy.image is required and the error says how to
 * build and push that Dockerfile.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { App, TerraformAsset } from "cdktf";
import { describe, expect, it } from "vitest";
import { EXAMPLE_PROXY_IMAGE, firewallScenario } from "../examples/firewall-scenario";
import { AgentPlatform, RapidClawStack } from "../src";
import { PROXY_IMAGE_DIR } from "../src/plan/proxy-image";
import { packageRoot } from "../src/terraform/package-files";
import { failureOf } from "./support/spec-error";
import { synthesize } from "./support/synth";

const dockerfile = () => readFileSync(join(packageRoot(), PROXY_IMAGE_DIR, "Dockerfile"), "utf8");

describe("the proxy image", () => {
  it("is Debian 12's squid-openssl with sh and openssl, checked at build for an OpenSSL Squid, and shipped in the package", () => {
    const text = dockerfile();
    expect(text).toMatch(/^FROM debian:bookworm-slim$/m);
    expect(text).toMatch(/apt-get install -y --no-install-recommends squid-openssl openssl/);
    expect(text).toMatch(/squid -v \| grep -q -- --with-openssl/);
    expect(text).toMatch(/^USER proxy$/m);
    const files = JSON.parse(readFileSync(join(packageRoot(), "package.json"), "utf8")).files as string[];
    expect(files).toContain(PROXY_IMAGE_DIR);
  });

  it("Docker: built on the Docker host from that directory, as a cdktf asset whose hash rebuilds it", () => {
    const stack = new RapidClawStack(new App(), "agent-firewall", firewallScenario(AgentPlatform.DOCKER));
    const image = synthesize(stack).resources("docker_image").find((i) => i.build !== undefined);
    const asset = stack.node.findAll().find((c): c is TerraformAsset => c instanceof TerraformAsset && c.node.id === "image-context") as TerraformAsset;
    expect((asset as unknown as { sourcePath: string }).sourcePath).toBe(join(packageRoot(), PROXY_IMAGE_DIR));
    expect(image).toEqual({ name: "rapidclaw-egress-proxy:squid-openssl", keep_locally: true, build: { context: asset.path }, triggers: { context: asset.assetHash } });
  });

  it("Docker: proxy.image deploys a user's copy as it is, with nothing built", () => {
    const image = "registry.example.com/rapidclaw/egress-proxy@sha256:" + "a".repeat(64);
    const stack = new RapidClawStack(new App(), "agent-firewall", { ...firewallScenario(AgentPlatform.DOCKER), proxy: { image } });
    const images = synthesize(stack).resources("docker_image");
    expect(images.filter((i) => i.name === image)).toEqual([{ name: image, keep_locally: true }]);
    expect(images.filter((i) => i.build !== undefined)).toEqual([]);
    expect(stack.node.findAll().some((c) => c instanceof TerraformAsset && c.node.id === "image-context")).toBe(false);
  });

  it("Kubernetes: requires proxy.image, naming the Dockerfile and how to build and push it, before anything is added", () => {
    const { proxy: _proxy, ...withoutImage } = firewallScenario(AgentPlatform.KUBERNETES);
    const app = new App();
    const error = failureOf(() => new RapidClawStack(app, "agent-firewall", withoutImage));
    expect(error.problems).toEqual([{ construct: "agent-firewall/egress-proxy/kubernetes", path: "proxy.image", message: expect.stringContaining("images/egress-proxy/Dockerfile") }]);
    expect(error.message).toMatch(/docker build -t \S+ node_modules\/@rapidclaw\/agent-firewall\/images\/egress-proxy && docker push/);
    expect(error.message).toContain("set proxy.image to the pushed digest");
    expect(app.node.children).toEqual([]);
    const [squid] = synthesize(new RapidClawStack(new App(), "agent-firewall", firewallScenario(AgentPlatform.KUBERNETES))).resources("kubernetes_deployment_v1").filter((d) => d.metadata.name === "rapidclaw-egress-proxy");
    expect(squid.spec.template.spec.container[0].image).toBe(EXAMPLE_PROXY_IMAGE);
  });
});
