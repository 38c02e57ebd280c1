import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { buildDockerExample } from "../examples/docker-stack";
import { buildFileExample } from "../examples/file-stack";
import { buildKubernetesExample } from "../examples/kubernetes-stack";

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
    const doc = JSON.parse(synthExample(buildKubernetesExample)["agent-firewall-k8s"]);
    expect(Object.keys(doc.provider).sort()).toEqual(["kubernetes", "random", "time", "vault"]);
    const ingress = Object.values<any>(doc.resource.kubernetes_network_policy_v1).find((p) => p.metadata.name === "rapidclaw-agents-ingress");
    expect(ingress.spec.ingress).toEqual([{ from: [{ namespace_selector: { match_labels: { name: "api-gateway" } } }], ports: [{ port: "8080", protocol: "TCP" }] }]);
    expect(Object.keys(doc.resource.kubernetes_deployment_v1)).toHaveLength(3);
  });

  it("the firewall file example synthesizes exactly what the typed Docker example does", () => {
    const fromFile = withoutBackend(synthExample(buildFileExample)["agent-firewall"]);
    const typed = withoutBackend(synthExample(buildDockerExample)["agent-firewall"]);
    expect(fromFile).toEqual(typed);
  });
});
