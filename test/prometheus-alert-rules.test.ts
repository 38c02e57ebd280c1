/**
 * The opt-in `PrometheusRule`: what is synthesized (checked field by field, its groups against
 * the renderer's model, its rules under the real `promtool check rules`), what is not (Docker,
 * the default stack), and the errors before synthesis.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DockerProvider } from "@cdktf/provider-docker/lib/provider";
import { KubernetesProvider } from "@cdktf/provider-kubernetes/lib/provider";
import { App, TerraformStack, Testing } from "cdktf";
import { afterAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { firewallScenario } from "../examples/firewall-scenario";
import { AgentPlatform, FirewallSpec, IsolatedAgentNetwork, ToolAccess, PrometheusAlertRules, RapidClawStack, type RapidClawStackProps } from "../src";
import { skipLoudly } from "./e2e/support/prerequisites";
import { promtool, PROMTOOL_MISSING } from "./support/promtool";
import { failureOf } from "./support/spec-error";
import { synthesize } from "./support/synth";
import { planOf } from "../src/plan/firewall-spec";
import { prometheusRuleGroups, renderPrometheusRules } from "../src/render/prometheus-rules";

const dir = mkdtempSync(join(tmpdir(), "rapidclaw-h8-prometheus-rule-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const kubernetes = () => firewallScenario(AgentPlatform.KUBERNETES);
const docker = () => firewallScenario(AgentPlatform.DOCKER);

function stackOf(props: RapidClawStackProps) {
  const app = new App();
  const stack = new RapidClawStack(app, "agent-firewall", props);
  return { app, stack, synth: synthesize(stack) };
}

/** A plain stack holding only the construct (and, unless told otherwise, the Kubernetes provider). */
function standalone(props: { platform: AgentPlatform; labels?: Record<string, string>; namespace?: string }, provider = true) {
  const stack = new TerraformStack(new App(), "monitoring");
  if (provider) new KubernetesProvider(stack, "kubernetes", {});
  const spec = FirewallSpec.fromProps(firewallScenario(props.platform));
  const rules = new PrometheusAlertRules(stack, "alerts", { spec, labels: props.labels, namespace: props.namespace });
  return { stack, spec, rules };
}

describe("RapidClawStack prometheusRule on Kubernetes", () => {
  const { stack, synth } = stackOf({ ...kubernetes(), prometheusRule: { labels: { release: "prometheus" } } });
  const manifests = synth.resources("kubernetes_manifest");
  const manifest = manifests[0]?.manifest;

  it("adds exactly one PrometheusRule of the Prometheus Operator, in the firewall's namespace, with the selector's labels", () => {
    expect(manifests).toHaveLength(1);
    expect(manifest.apiVersion).toBe("monitoring.coreos.com/v1");
    expect(manifest.kind).toBe("PrometheusRule");
    expect(manifest.metadata.name).toBe("rapidclaw-alerts-ai-agents");
    // By reference to the namespace the stack creates, so Terraform creates it after the namespace.
    const namespaceKey = Object.keys(synth.doc.resource.kubernetes_namespace_v1)[0];
    expect(manifest.metadata.namespace).toBe(`\${kubernetes_namespace_v1.${namespaceKey}.metadata[0].name}`);
    expect(synth.doc.resource.kubernetes_namespace_v1[namespaceKey].metadata.name).toBe("ai-agents");
    expect(manifest.metadata.labels).toEqual({ "app.kubernetes.io/managed-by": "rapidclaw", "rapidclaw.dev/component": "alert-rules", release: "prometheus" });
  });

  it("holds exactly the renderer's rule groups, and exposes the rule file and the resource", () => {
    const plan = planOf(stack.spec);
    expect(manifest.spec).toEqual({ groups: prometheusRuleGroups(plan) });
    expect(manifest.spec.groups[0].rules.map((r: { alert: string }) => r.alert)).toEqual(["RapidClawRateLimited", "RapidClawPermissionDenied", "RapidClawNetworkBlocked"]);
    expect(stack.prometheusRule?.rulesYaml).toBe(renderPrometheusRules(plan));
    expect(stack.prometheusRule?.resource?.terraformResourceType).toBe("kubernetes_manifest");
  });

  it.skipIf(skipLoudly("PrometheusRule under promtool", PROMTOOL_MISSING))("holds rules that promtool check rules accepts, read from the synthesized JSON", () => {
    const file = join(dir, "synthesized.rules.yml");
    writeFileSync(file, stringify({ groups: manifest.spec.groups }));
    const result = promtool(["check", "rules", file]);
    expect(result.status, result.output).toBe(0);
    expect(result.output).toContain("SUCCESS: 3 rules found");
  });

  it("adds nothing else: without it the same stack synthesizes the same resources, and no kubernetes_manifest", () => {
    const plain = stackOf(kubernetes()).synth;
    expect(plain.resources("kubernetes_manifest")).toEqual([]);
    expect(plain.doc.resource.kubernetes_manifest).toBeUndefined();
    const { kubernetes_manifest: _added, ...rest } = synth.doc.resource;
    expect(rest).toEqual(plain.doc.resource);
    expect({ ...synth.doc, resource: undefined }).toEqual({ ...plain.doc, resource: undefined });
  });

  it("synthesizes byte-identical JSON for the same input, construct validations included", () => {
    expect(Testing.synth(stack, true)).toBe(synth.json);
    expect(stackOf({ ...kubernetes(), prometheusRule: { labels: { release: "prometheus" } } }).synth.json).toBe(synth.json);
  });

  it("places the rule where prometheusRule.namespace says, still matching the firewall's namespace", () => {
    const moved = stackOf({ ...kubernetes(), prometheusRule: { namespace: "monitoring" } }).synth.resources("kubernetes_manifest")[0].manifest;
    expect(moved.metadata.namespace).toBe("monitoring");
    expect(moved.metadata.labels).toEqual({ "app.kubernetes.io/managed-by": "rapidclaw", "rapidclaw.dev/component": "alert-rules" });
    for (const rule of moved.spec.groups[0].rules) expect(rule.expr).toContain('namespace="ai-agents"');
  });
});

describe("PrometheusAlertRules in a stack of one's own", () => {
  it("defaults to the firewall's namespace on Kubernetes, and passes validation with the provider present", () => {
    const { stack, spec } = standalone({ platform: AgentPlatform.KUBERNETES });
    const manifest = JSON.parse(Testing.synth(stack, true)).resource.kubernetes_manifest;
    const [only] = Object.values(manifest) as Array<{ manifest: Record<string, any> }>;
    expect(Object.keys(manifest)).toHaveLength(1);
    expect(only.manifest.metadata.namespace).toBe(planOf(spec).namespace);
    expect(only.manifest.spec).toEqual({ groups: prometheusRuleGroups(planOf(spec)) });
  });

  it("fails synthesis validation without the Kubernetes provider, saying how to add it", () => {
    const { stack } = standalone({ platform: AgentPlatform.KUBERNETES }, false);
    expect(() => Testing.synth(stack, true)).toThrow('PrometheusAlertRules needs the kubernetes provider: add new KubernetesProvider(stack, "kubernetes") to stack "monitoring"');
  });

  it("creates no resource on Docker and gives the rule file instead", () => {
    const stack = new TerraformStack(new App(), "firewall");
    new DockerProvider(stack, "docker", {});
    const spec = FirewallSpec.fromProps(docker());
    new IsolatedAgentNetwork(stack, "network", { spec });
    const before = Testing.synth(stack);
    const rules = new PrometheusAlertRules(stack, "alerts", { spec });
    expect(rules.resource).toBeUndefined();
    expect(rules.rulesYaml).toBe(renderPrometheusRules(planOf(spec)));
    expect(rules.groups).toEqual(prometheusRuleGroups(planOf(spec)));
    // The static forms give the same without a construct.
    expect(PrometheusAlertRules.rulesYamlOf(spec)).toBe(rules.rulesYaml);
    expect(PrometheusAlertRules.ruleGroupsOf(spec)).toEqual(rules.groups);
    expect(Testing.synth(stack, true)).toBe(before);
  });
});

describe("PrometheusRule errors before synthesis", () => {
  it("refuses prometheusRule on a Docker stack, naming the option and the fix, with the description's own problems, adding nothing", () => {
    const app = new App();
    const props = { ...docker(), prometheusRule: {} };
    const error = failureOf(() => new RapidClawStack(app, "agent-firewall", { ...props, roles: { ...props.roles, research_agent: { ...props.roles.research_agent, tools: { web_serch: ToolAccess.READ } } } }));
    const paths = error.problems.map((p) => p.path);
    expect(paths).toContain("prometheusRule");
    expect(paths.some((p) => p.startsWith("roles.research_agent.tools"))).toBe(true);
    const problem = error.problems.find((p) => p.path === "prometheusRule");
    expect(problem?.message).toContain("platform is docker; remove prometheusRule");
    expect(problem?.message).toContain(".rulesYaml");
    expect(app.node.children).toHaveLength(0);
    expect(failureOf(() => new RapidClawStack(new App(), "x", props)).problems.map((p) => p.path)).toEqual(["prometheusRule"]);
  });

  it("refuses Kubernetes-only props of the construct on Docker, each by name", () => {
    const error = failureOf(() => standalone({ platform: AgentPlatform.DOCKER, labels: { release: "prometheus" }, namespace: "monitoring" }, false));
    expect(error.problems.map((p) => p.path)).toEqual(["labels", "namespace"]);
    expect(error.problems[0].message).toContain("platform is docker, where none is created; remove labels");
    expect(error.message).toContain("  - monitoring/alerts: labels: ");
  });

  it("lists every bad label and namespace at once, by path", () => {
    const app = new App();
    const error = failureOf(() => new RapidClawStack(app, "agent-firewall", { ...kubernetes(), prometheusRule: { labels: { "bad key!": "x", release: "-prometheus" }, namespace: "Monitoring" } }));
    expect(error.problems.map((p) => p.path)).toEqual(["prometheusRule.labels.bad key!", "prometheusRule.labels.release", "prometheusRule.namespace"]);
    expect(error.problems[2].message).toContain('namespace "Monitoring" is not a valid Kubernetes name');
    expect(app.node.children).toHaveLength(0);
  });
});
