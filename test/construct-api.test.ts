import { parse as parseHcl } from "@cdktf/hcl2json";
import { DockerProvider } from "@cdktf/provider-docker/lib/provider";
import { KubernetesProvider } from "@cdktf/provider-kubernetes/lib/provider";
import { RandomProvider } from "@cdktf/provider-random/lib/provider";
import { TimeProvider } from "@cdktf/provider-time/lib/provider";
import { VaultProvider } from "@cdktf/provider-vault/lib/provider";
import { App, TerraformStack } from "cdktf";
import { describe, expect, it } from "vitest";
import {
  AgentFleet,
  AgentNamespace,
  AgentNetwork,
  AgentPlatform,
  AgentRoleProfile,
  EgressProxy,
  FirewallSpec,
  IsolatedAgentNetwork,
  KeyGrantee,
  KeyMount,
  RapidClawStack,
  ScopedAgentKeys,
  VaultAuthMount,
  type FirewallSpecProps,
} from "../src";
import { firewallScenario } from "../examples/firewall-scenario";
import { failureOf } from "./support/spec-error";
import { synthesize } from "./support/synth";

/** Paths and capabilities a policy grants, read with a real HCL parser. */
async function policyGrants(hcl: string): Promise<Record<string, string[]>> {
  const parsed = (await parseHcl("policy.hcl", hcl)) as { path?: Record<string, { capabilities: string[] }[]> };
  return Object.fromEntries(Object.entries(parsed.path ?? {}).map(([path, blocks]) => [path, blocks.flatMap((b) => b.capabilities)]));
}

/** A user's stack with the providers the firewall's constructs need. */
function userStack(platform: AgentPlatform): TerraformStack {
  const stack = new TerraformStack(new App(), "user");
  if (platform === AgentPlatform.DOCKER) new DockerProvider(stack, "docker", {});
  else new KubernetesProvider(stack, "kubernetes", {});
  new VaultProvider(stack, "vault", {});
  new RandomProvider(stack, "random", {});
  new TimeProvider(stack, "time", {});
  return stack;
}

describe("ScopedAgentKeys.grantRead", () => {
  it("gives an outside service read on exactly the data paths of the tools it names, in a policy named after it", async () => {
    const stack = new RapidClawStack(new App(), "firewall", firewallScenario(AgentPlatform.DOCKER));
    const grant = stack.keys.grantRead(KeyGrantee.fromName("billing-service"), ["web_search", "send_email", "web_search"]);
    expect(grant.policyName).toBe("billing-service");
    expect(grant.tools).toEqual(["send_email", "web_search"]);
    expect(grant.secretPaths).toEqual({ send_email: "agent-keys/data/tools/send-email", web_search: "agent-keys/data/tools/web-search" });
    const policy = synthesize(stack).resources("vault_policy").find((p) => p.name === "billing-service");
    expect(policy?.policy).toBe(grant.policyDocument);
    expect(await policyGrants(policy?.policy)).toEqual({
      "agent-keys/data/tools/send-email": ["read"],
      "agent-keys/data/tools/web-search": ["read"],
    });
    expect(grant.policy.node.path).toBe("firewall/keys/grants/billing-service");
  });

  it("is the code path of every role's policy: each profile's grant is its policy, on exactly its keyed tools", async () => {
    const stack = new RapidClawStack(new App(), "firewall", firewallScenario(AgentPlatform.KUBERNETES));
    const research = stack.profiles.research_agent;
    expect(research.keyGrant?.grantee).toBe(research);
    expect(research.keyGrant?.policyName).toBe(research.keyGranteeName);
    expect(research.keyGrant?.policy).toBe(research.policy);
    expect(research.policy?.node.path).toBe("firewall/role-research-agent/policy");
    expect(research.policyDocument).toBe(research.keyGrant?.policyDocument);
    expect(Object.keys(research.keyGrant?.secretPaths ?? {})).toEqual(research.keyGrant?.tools);
    expect(await policyGrants(research.policyDocument)).toEqual(Object.fromEntries(Object.values(research.keyGrant?.secretPaths ?? {}).map((path) => [path, ["read"]])));
  });

  it("names every unknown tool and every tool without a key, with a did-you-mean, and adds nothing", () => {
    const stack = new RapidClawStack(new App(), "firewall", firewallScenario(AgentPlatform.DOCKER));
    const before = stack.keys.node.findAll().length;
    const error = failureOf(() => stack.keys.grantRead(KeyGrantee.fromName("Billing Service"), ["web_serch", "knowledge_base", "database"]));
    expect(error.problems.map((p) => p.path)).toEqual(["grantee.keyGranteeName", "tools[0]", "tools[1]"]);
    expect(error.problems[0].message).toContain("is not a Vault policy name");
    expect(error.problems[1].message).toBe('unknown tool "web_serch"; did you mean "web_search"?');
    expect(error.problems[2].message).toMatch(/^tool "knowledge_base" has no key to grant; give it key: \{\} in the firewall description, or tools with a key: database, file_upload, send_email, web_search$/);
    expect(error.message).toContain("invalid firewall spec in keys.grantRead: 3 problems");
    expect(error.message).toContain('  - firewall/keys: tools[0]: unknown tool "web_serch"');
    expect(failureOf(() => stack.keys.grantRead(KeyGrantee.fromName("billing"), [])).problems).toEqual([{ construct: "firewall/keys", path: "tools", message: "grants nothing; list the tools whose keys the grantee reads" }]);
    expect(stack.keys.node.findAll().length).toBe(before);
  });

  it("grants further secrets of the mount by name, alone or with tools, and refuses a name that is no plain path", async () => {
    const stack = new RapidClawStack(new App(), "firewall", firewallScenario(AgentPlatform.DOCKER));
    const grant = stack.keys.grantRead(KeyGrantee.fromName("redis-reader"), [], { secrets: ["redis/gateway"] });
    expect(await policyGrants(grant.policyDocument)).toEqual({ "agent-keys/data/redis/gateway": ["read"] });
    const both = stack.keys.grantRead(KeyGrantee.fromName("billing"), ["send_email"], { secrets: ["redis/gateway", "tools/send-email"] });
    expect(await policyGrants(both.policyDocument)).toEqual({ "agent-keys/data/redis/gateway": ["read"], "agent-keys/data/tools/send-email": ["read"] });
    expect(failureOf(() => stack.keys.grantRead(KeyGrantee.fromName("other"), [], { secrets: ["redis/*", "ok"] })).problems).toEqual([
      { construct: "firewall/keys", path: "options.secrets[0]", message: expect.stringContaining('"redis/*" is not a secret name in the mount') },
    ]);
  });

  it("refuses a second grant to the same grantee, naming the fix", () => {
    const stack = new RapidClawStack(new App(), "firewall", firewallScenario(AgentPlatform.DOCKER));
    expect(failureOf(() => stack.keys.grantRead(stack.profiles.research_agent, ["send_email"])).problems).toEqual([
      { construct: "firewall/keys", path: "grantee.keyGranteeName", message: '"rapidclaw-research-agent" already holds a grant of these keys; grant all its tools in one grantRead call' },
    ]);
    expect(failureOf(() => stack.keys.grantRead(KeyGrantee.fromName("rapidclaw-customer-support"), ["web_search"])).problems[0].path).toBe("grantee.keyGranteeName");
    // Another mount's keys cannot put a second policy into the same construct either.
    const other = new ScopedAgentKeys(stack, "other-keys", { spec: FirewallSpec.fromProps({ ...firewallScenario(AgentPlatform.DOCKER), vault: { mountPath: "other-keys", authPath: "approle-other" } }) });
    expect(() => other.grantRead(stack.profiles.research_agent, ["send_email"])).toThrow(/already holds a key grant; grant all its tools in one grantRead call/);
  });
});

describe("AgentRoleProfile", () => {
  it("refuses an unknown role with a did-you-mean before adding anything", () => {
    const stack = userStack(AgentPlatform.DOCKER);
    const spec = FirewallSpec.fromProps(firewallScenario(AgentPlatform.DOCKER));
    const keys = new ScopedAgentKeys(stack, "keys", { spec });
    const error = failureOf(() => new AgentRoleProfile(stack, "profile", { spec, role: "research_agnt", keys }));
    expect(error.problems).toEqual([{ construct: "user/profile", path: "role", message: 'unknown role "research_agnt"; did you mean "research_agent"?' }]);
    expect(stack.node.tryFindChild("profile")).toBeUndefined();
  });
});

describe("imports instead of create booleans", () => {
  const kubernetes = firewallScenario(AgentPlatform.KUBERNETES);

  it("adopts an imported namespace: no namespace resource, every object in the named one", () => {
    const stack = userStack(AgentPlatform.KUBERNETES);
    const spec = FirewallSpec.fromProps(kubernetes);
    const network = new IsolatedAgentNetwork(stack, "network", { spec, namespace: AgentNamespace.fromNamespaceName(stack, "ns", spec.namespace) });
    new EgressProxy(stack, "proxy", { network });
    const synth = synthesize(stack);
    expect(synth.resources("kubernetes_namespace_v1")).toEqual([]);
    const namespaces = new Set(synth.resources("kubernetes_network_policy_v1").map((p) => p.metadata.namespace));
    expect([...namespaces]).toEqual([spec.namespace]);
    expect(network.kubernetes.namespace).toBeUndefined();
  });

  it("refuses an imported namespace that is not the firewall's, or one on Docker, before adding anything", () => {
    const stack = userStack(AgentPlatform.KUBERNETES);
    const spec = FirewallSpec.fromProps(kubernetes);
    const other = AgentNamespace.fromNamespaceName(stack, "ns", "elsewhere");
    const error = failureOf(() => new IsolatedAgentNetwork(stack, "network", { spec, namespace: other }));
    expect(error.problems).toEqual([{ construct: "user/network", path: "namespace", message: `the adopted namespace is "elsewhere" and the firewall's namespace is "${spec.namespace}"; set namespace: elsewhere in the firewall description` }]);
    expect(stack.node.tryFindChild("network")).toBeUndefined();
    const docker = FirewallSpec.fromProps(firewallScenario(AgentPlatform.DOCKER));
    expect(failureOf(() => new IsolatedAgentNetwork(stack, "docker-network", { spec: docker, namespace: other })).problems[0].path).toBe("namespace");
  });

  it("writes keys into an imported KV mount and binds logins to an imported auth backend, creating neither", () => {
    const stack = userStack(AgentPlatform.KUBERNETES);
    const spec = FirewallSpec.fromProps(kubernetes);
    const keys = new ScopedAgentKeys(stack, "keys", {
      spec,
      keyMount: KeyMount.fromMountPath(stack, "kv", "agent-keys"),
      authMount: VaultAuthMount.fromAuthPath(stack, "auth", "kubernetes"),
    });
    new AgentRoleProfile(stack, "research", { spec, role: "research_agent", keys });
    const synth = synthesize(stack);
    expect(synth.resources("vault_mount")).toEqual([]);
    expect(synth.resources("vault_auth_backend")).toEqual([]);
    expect(synth.resources("vault_kubernetes_auth_backend_config")).toEqual([]);
    expect(keys.mount).toBeUndefined();
    expect(new Set(synth.resources("vault_kv_secret_v2").map((s) => s.mount))).toEqual(new Set(["agent-keys"]));
    expect(synth.resources("vault_kv_secret_backend_v2")).toEqual([expect.objectContaining({ mount: "agent-keys", max_versions: 2 })]);
    expect(synth.resources("vault_kubernetes_auth_backend_role").map((r) => r.backend)).toEqual(["kubernetes"]);
  });

  it("refuses imported mounts at paths the firewall does not use, both at once, before adding anything", () => {
    const stack = userStack(AgentPlatform.DOCKER);
    const spec = FirewallSpec.fromProps(firewallScenario(AgentPlatform.DOCKER));
    const error = failureOf(() => new ScopedAgentKeys(stack, "keys", {
      spec,
      keyMount: KeyMount.fromMountPath(stack, "kv", "secret"),
      authMount: VaultAuthMount.fromAuthPath(stack, "auth", "approle-other"),
    }));
    expect(error.problems).toEqual([
      { construct: "user/keys", path: "authMount", message: 'authMount is mounted at "approle-other" and the firewall\'s vault.authPath is "approle"; set vault.authPath: approle-other' },
      { construct: "user/keys", path: "keyMount", message: 'keyMount is mounted at "secret" and the firewall\'s vault.mountPath is "agent-keys"; set vault.mountPath: secret' },
    ]);
    expect(stack.node.tryFindChild("keys")).toBeUndefined();
  });

  it("the file form adopts by field: kubernetes.existingNamespace and vault.existingAuthMount", () => {
    const props: FirewallSpecProps = { ...kubernetes, kubernetes: { ...kubernetes.kubernetes, existingNamespace: true }, vault: { existingAuthMount: true } };
    const synth = synthesize(new RapidClawStack(new App(), "firewall", props));
    expect(synth.resources("kubernetes_namespace_v1")).toEqual([]);
    expect(synth.resources("vault_auth_backend")).toEqual([]);
    expect(new Set(synth.resources("vault_kubernetes_auth_backend_role").map((r) => r.backend))).toEqual(new Set(["kubernetes"]));
  });
});

describe("AgentNetwork.fromSpec: a network made in another stack", () => {
  it.each([AgentPlatform.DOCKER, AgentPlatform.KUBERNETES])("serves the proxy and agents by the names the firewall gives (%s)", (platform) => {
    const spec = FirewallSpec.fromProps(firewallScenario(platform));
    const networkStack = userStack(platform);
    const made = new IsolatedAgentNetwork(networkStack, "network", { spec });
    const stack = userStack(platform);
    const network = AgentNetwork.fromSpec(stack, "network", spec);
    const proxy = new EgressProxy(stack, "proxy", { network });
    new AgentFleet(stack, "agents", { network, proxy });
    const synth = synthesize(stack);
    if (platform === AgentPlatform.DOCKER) {
      const madeNames = synthesize(networkStack).resources("docker_network").map((n) => n.name).sort();
      expect(synth.resources("docker_network")).toEqual([]);
      const joined = new Set(synth.resources("docker_container").flatMap((c) => c.networks_advanced.map((n: { name: string }) => n.name)));
      expect([...joined].sort()).toEqual(madeNames);
      expect(() => network.namespaceName).toThrow(/namespaceName exists only on platform "kubernetes"/);
    } else {
      expect(synth.resources("kubernetes_namespace_v1")).toEqual([]);
      expect(new Set(synth.resources("kubernetes_deployment_v1").map((d) => d.metadata.namespace))).toEqual(new Set([spec.namespace]));
      expect(() => network.roleNetworkNames).toThrow(/roleNetworkNames exists only on platform "docker"/);
      expect(() => made.roleNetworkNames).toThrow(/exists only on platform "docker"/);
    }
  });
});

describe("what a spec and the proxy tell without the plan", () => {
  it("a spec names its platform, namespace, roles and tools", () => {
    const spec = FirewallSpec.fromProps(firewallScenario(AgentPlatform.KUBERNETES));
    expect([spec.platform, spec.namespace]).toEqual([AgentPlatform.KUBERNETES, "ai-agents"]);
    expect(spec.roleNames).toEqual(["customer_support", "research_agent"]);
    expect(spec.toolNames).toEqual(["database", "file_upload", "knowledge_base", "send_email", "ticket_system", "web_search"]);
  });

  it("EgressProxy.squidConfOf is the deployed squid.conf, with the log placed where asked", () => {
    const stack = new RapidClawStack(new App(), "firewall", firewallScenario(AgentPlatform.DOCKER));
    expect(EgressProxy.squidConfOf(stack.spec)).toBe(stack.proxy.squidConf);
    const toFile = EgressProxy.squidConfOf(stack.spec, { accessLog: "stdio:/var/log/squid/access.log" });
    expect(toFile).toContain("access_log stdio:/var/log/squid/access.log ");
    expect(toFile.replace("stdio:/var/log/squid/access.log", "stdio:/dev/stdout")).toBe(stack.proxy.squidConf);
  });
});
