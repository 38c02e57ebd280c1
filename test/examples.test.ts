import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import { buildAgentRuntimeExample } from "../examples/agent-runtime-stack";
import { buildDockerExample } from "../examples/docker-stack";
import { buildFileExample } from "../examples/file-stack";
import { buildKubernetesExample } from "../examples/kubernetes-stack";
import { writeNativeAgentConfig } from "../examples/native-agent-config";
import { GatewayBundle } from "../src/constructs/gateway-bundle";

const outdirs: string[] = [];
afterAll(() => outdirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** Synthesizes an example app into a fresh directory and returns each stack's JSON text. */
function synthExample(build: (outdir: string) => { synth(): void }): Record<string, string> {
  const outdir = mkdtempSync(join(tmpdir(), "rapidclaw-example-"));
  outdirs.push(outdir);
  build(outdir).synth();
  const stacks = join(outdir, "stacks");
  return Object.fromEntries(readdirSync(stacks).map((name) => [name, readFileSync(join(stacks, name, "cdk.tf.json"), "utf8")]));
}

/** The stack JSON without cdktf's local backend, which records the absolute output path. */
const withoutBackend = (json: string) => {
  const doc = JSON.parse(json);
  delete doc.terraform.backend;
  return doc;
};

describe("examples", () => {
  it("the Kubernetes example synthesizes the seed on Kubernetes, with the api-gateway ingress", () => {
    const json = synthExample(buildKubernetesExample)["agent-firewall-k8s"];
    const doc = JSON.parse(json);
    // proxy-events' bundle parts read the file asset synthesis wrote beside the JSON (docs/kubernetes.md): about 76 KB of JSON, the bundle whole in assets/.
    expect(json.length).toBeLessThan(100 * 1024);
    const bundle = readFileSync(GatewayBundle.packaged().path);
    const sha256 = createHash("sha256").update(bundle).digest("hex");
    expect(readFileSync(join(outdirs[outdirs.length - 1], "stacks", "agent-firewall-k8s", "assets", `rapidclaw-gateway-bundle-${sha256.slice(0, 12)}`, sha256, "rapidclaw-gateway.cjs")).equals(bundle)).toBe(true);
    expect(Object.keys(doc.provider).sort()).toEqual(["kubernetes", "random", "time", "vault"]);
    const ingress = Object.values<any>(doc.resource.kubernetes_network_policy_v1).find((p) => p.metadata.name === "rapidclaw-agents-ingress");
    expect(ingress.spec.ingress).toEqual([{ from: [{ namespace_selector: { match_labels: { name: "api-gateway" } } }], ports: [{ port: "8080", protocol: "TCP" }] }]);
    // Two agents, the proxy (with its proxy-events sidecar) and proxy-events' Redis (no gateway to share one).
    expect(Object.values<any>(doc.resource.kubernetes_deployment_v1).map((d) => d.metadata.name).sort()).toEqual(["hermes-agent", "openclaw-agent", "rapidclaw-egress-proxy", "rapidclaw-events-redis"]);
  });

  it("the firewall file example synthesizes exactly what the typed Docker example does", () => {
    const fromFile = withoutBackend(synthExample(buildFileExample)["agent-firewall"]);
    const typed = withoutBackend(synthExample(buildDockerExample)["agent-firewall"]);
    expect(fromFile).toEqual(typed);
  });

  it("the agent runtime example mounts the README's files into the OpenClaw and the Hermes agent", () => {
    const doc = JSON.parse(synthExample(buildAgentRuntimeExample)["agent-firewall"]);
    const uploads = (name: string) => (Object.values<any>(doc.resource.docker_container).find((c) => c.name === name).upload as { file: string }[]).map((u) => u.file).sort();
    expect(uploads("openclaw-agent")).toEqual([
      "/etc/rapidclaw/profile.json", "/etc/rapidclaw/profile.yaml", "/opt/rapidclaw/openclaw-plugin/index.js", "/opt/rapidclaw/openclaw-plugin/openclaw.plugin.json",
      "/opt/rapidclaw/openclaw-plugin/package.json", "/opt/rapidclaw/openclaw.json",
    ]);
    expect(uploads("hermes-agent")).toEqual(["/etc/rapidclaw/profile.json", "/etc/rapidclaw/profile.yaml", "/opt/data/config.yaml", "/opt/rapidclaw/rapidclaw-hook.cjs"]);
  });

  it("the native agent config example writes the README's OpenClaw and Hermes Agent fragments", () => {
    const outdir = mkdtempSync(join(tmpdir(), "rapidclaw-example-"));
    outdirs.push(outdir);
    const paths = writeNativeAgentConfig(outdir);
    const openclaw = JSON.parse(readFileSync(paths.openclaw, "utf8"));
    expect(openclaw.agents.entries.research_agent.tools).toEqual({ allow: ["web_fetch", "web_search"], deny: [] });
    expect(openclaw.models.providers.anthropic.baseUrl).toBe("http://172.30.16.3:8080/tools/anthropic");
    expect(openclaw.plugins.load.paths).toEqual(["/opt/rapidclaw/openclaw-plugin"]);
    const hermes = parse(readFileSync(paths.hermes, "utf8"), { version: "1.1" });
    expect(hermes.toolsets).toEqual(["web"]);
    // customer_support holds web_search at DENY: the web toolset brings it, and the hook blocks it.
    expect(hermes.hooks.pre_tool_call).toEqual([{ matcher: ".*", command: "rapidclaw hook hermes --timeout-ms 9500 --tool web_extract=web_fetch:READ", timeout: 10, fail_closed: true }]);
    expect(hermes.hooks_auto_accept).toBe(true);
    expect(hermes.model).toEqual({ provider: "custom", base_url: "http://172.30.76.3:8080/tools/anthropic" });
  });
});
