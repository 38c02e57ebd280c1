/**
 * One validation pass: a firewall stack reports the description's problems, its options' and
 * those of its deployed gateway together (before, gateway problems came only once the description
 * was fixed), each under the path of the construct that raised it, so that an app of several
 * firewalls, or a construct in a user's stack, says where.
 */
import { DockerProvider } from "@cdktf/provider-docker/lib/provider";
import { VaultProvider } from "@cdktf/provider-vault/lib/provider";
import { App, TerraformStack } from "cdktf";
import { describe, expect, it } from "vitest";
import { EgressProxy, FirewallSpec, IsolatedAgentNetwork, RapidClawStack, ScopedAgentKeys, ToolAccess, ToolGateway } from "../src";
import { AgentPlatform } from "../src/model/types";
import { gatewayDeploymentProblems } from "../src/plan/gateway-deployment";
import { fronted } from "./support/gateway-spec";
import { failureOf } from "./support/spec-error";

/** The gateway seed with a typo in a role's tools, a listener of the user's own and no Vault address. */
const brokenEverywhere = (platform: AgentPlatform) =>
  fronted(platform, (spec) => {
    spec.vault = undefined;
    spec.gateway = { listeners: [{ port: 9000, role: "research_agent" }] };
    spec.roles = { ...spec.roles, customer_support: { ...spec.roles.customer_support, tools: { knowledge_bse: ToolAccess.READ } } };
  });

describe("one validation pass", () => {
  it("reports the description's and the gateway's problems at once, each under the construct that raised it, adding nothing", () => {
    const app = new App();
    const error = failureOf(() => new RapidClawStack(app, "agent-firewall", brokenEverywhere(AgentPlatform.DOCKER)));
    expect(error.problems.map((p) => `${p.construct}: ${p.path}`)).toEqual([
      "agent-firewall: roles.customer_support.tools.knowledge_bse",
      "agent-firewall/tool-gateway: gateway.listeners",
      "agent-firewall/tool-gateway: vault.address",
    ]);
    expect(error.message).toMatch(/^invalid firewall spec: 3 problems\n/);
    expect(error.message).toContain('\n  - agent-firewall: roles.customer_support.tools.knowledge_bse: unknown tool "knowledge_bse"; did you mean "knowledge_base"?');
    expect(error.message).toContain("\n  - agent-firewall/tool-gateway: vault.address: the gateway holds the keys of anthropic and its Vault Agent needs Vault's URL");
    expect(app.node.children).toHaveLength(0);
  });

  it("adds the stack options' problems to the same list (Kubernetes, PrometheusRule)", () => {
    const error = failureOf(() => new RapidClawStack(new App(), "k8s-firewall", { ...brokenEverywhere(AgentPlatform.KUBERNETES), prometheusRule: { namespace: "Monitoring" } }));
    expect(error.problems.map((p) => `${p.construct}: ${p.path}`)).toEqual([
      "k8s-firewall: roles.customer_support.tools.knowledge_bse",
      "k8s-firewall/prometheus-rule: prometheusRule.namespace",
      "k8s-firewall/tool-gateway: gateway.listeners",
      "k8s-firewall/tool-gateway: vault.address",
    ]);
  });

  it("names the construct of a user's stack that refuses its props", () => {
    const stack = new TerraformStack(new App(), "user");
    new DockerProvider(stack, "docker", {});
    new VaultProvider(stack, "vault", {});
    const spec = FirewallSpec.fromProps(fronted(AgentPlatform.DOCKER, (s) => { s.vault = undefined; }));
    const network = new IsolatedAgentNetwork(stack, "network", { spec });
    const proxy = new EgressProxy(stack, "proxy", { network });
    const keys = new ScopedAgentKeys(stack, "keys", { spec });
    const error = failureOf(() => new ToolGateway(stack, "gateway", { network, proxy, keys }));
    expect(error.problems).toEqual([{ construct: "user/gateway", path: "vault.address", message: expect.stringContaining("set vault.address") }]);
    expect(error.message).toContain("  - user/gateway: vault.address: ");
  });

  it("a description checked on its own names no construct", () => {
    const error = failureOf(() => FirewallSpec.fromProps(brokenEverywhere(AgentPlatform.DOCKER)));
    expect(error.problems.map((p) => p.construct)).toEqual([undefined]);
    expect(error.message).toContain("\n  - roles.customer_support.tools.knowledge_bse: ");
  });

  it("reads the gateway's needs from a description of any shape without throwing, leaving wrong types to the description's checks", () => {
    for (const input of [undefined, null, 42, "x", [], {}, { tools: "x" }, { gateway: 1 }, { gateway: { port: "8080", redis: 1 }, roles: [], tools: { a: { upstream: 5, key: "k" } } }]) {
      expect(() => gatewayDeploymentProblems(input)).not.toThrow();
    }
    expect(gatewayDeploymentProblems({ platform: "docker", gateway: {}, roles: { a: {} }, tools: { a: { upstream: "not a url" }, b: { upstream: "https://x.example.com:8443" } } }).map((p) => p.path)).toEqual(["tools.b.upstream"]);
  });
});
