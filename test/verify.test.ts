import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App, Testing, type TerraformStack } from "cdktf";
import { describe, expect, it } from "vitest";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { HostEgressFirewall, RapidClawStack } from "../src";
import { AgentPlatform, AgentRuntime, ToolAccess, type FirewallSpecProps } from "../src/model/types";
import { LayerStatus, type LayerCheck } from "../src/verify/findings";
import { renderVerifyReport } from "../src/verify/report-table";
import { verifyArtifacts, widerCount, type VerifyReport } from "../src/verify/verify-artifacts";
import { fronted } from "./support/gateway-spec";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

/**
 * The fronted fleet with a page reader in each agent's own name and both agent programs mounted:
 * every layer `rapidclaw verify` reads is in the stack (squid.conf, networks or NetworkPolicies,
 * Vault policies and logins, the gateway's file, OpenClaw and Hermes hooks).
 */
function fleet(platform: AgentPlatform): FirewallSpecProps {
  return fronted(platform, (s) => {
    s.tools = { ...s.tools, web_fetch: { agentTools: { openclaw: ["web_fetch"], hermes: ["web_extract"] } } };
    s.roles = {
      customer_support: { ...s.roles.customer_support, tools: { ...s.roles.customer_support.tools, web_fetch: ToolAccess.READ } },
      research_agent: { ...s.roles.research_agent, tools: { ...s.roles.research_agent.tools, web_fetch: ToolAccess.READ } },
    };
    s.agents = (s.agents ?? []).map((a) => ({ ...a, runtime: a.name.startsWith("openclaw") ? AgentRuntime.OPENCLAW : AgentRuntime.HERMES }));
  });
}

function stackOf(props: FirewallSpecProps, change: (stack: RapidClawStack) => void = () => {}): RapidClawStack {
  const stack = new RapidClawStack(new App(), "agent-firewall", { ...props, verifyLayers: false });
  change(stack);
  return stack;
}

const synthJson = (stack: TerraformStack): Json => JSON.parse(Testing.synth(stack));

/** An escape hatch on the construct at `path` (a suffix of its construct path), as users write it. */
function override(stack: TerraformStack, path: string, property: string, value: unknown): void {
  const construct = stack.node.findAll().find((c) => c.node.path.endsWith(path));
  if (construct === undefined) throw new Error(`no construct at ${path}`);
  (construct as unknown as { addOverride(path: string, value: unknown): void }).addOverride(property, value);
}

const verify = (json: Json, props: FirewallSpecProps): VerifyReport => verifyArtifacts(json, { props, source: "test" });

const widerChecks = (report: VerifyReport): LayerCheck[] => report.checks.filter((c) => c.status === LayerStatus.WIDER);

/** The one wider check, asserted to be about `principal`, `layer` and `aspect`. */
function onlyWider(report: VerifyReport, principal: string, layer: string, aspect: string): LayerCheck {
  const wider = widerChecks(report);
  expect(wider.map((c) => `${c.principal} ${c.layer} ${c.aspect}`)).toEqual([`${principal} ${layer} ${aspect}`]);
  return wider[0];
}

/** A shipped file of the document, changed in place: a Docker upload or a ConfigMap key. */
function editFile(json: Json, path: RegExp, edit: (content: string) => string): void {
  let edited = 0;
  for (const container of Object.values((json.resource.docker_container ?? {}) as Record<string, Json>)) {
    for (const upload of container.upload ?? []) if (path.test(upload.file)) { upload.content = edit(upload.content); edited++; }
  }
  for (const map of Object.values((json.resource.kubernetes_config_map_v1 ?? {}) as Record<string, Json>)) {
    for (const key of Object.keys(map.data ?? {})) if (path.test(key)) { map.data[key] = edit(map.data[key]); edited++; }
  }
  expect(edited).toBeGreaterThan(0);
}

const resourceNamed = (json: Json, type: string, pattern: RegExp): Json => {
  const found = Object.entries(json.resource[type] as Record<string, Json>).find(([id]) => pattern.test(id));
  if (!found) throw new Error(`no ${type} matching ${pattern}`);
  return found[1];
};

describe("rapidclaw verify on what the library synthesizes", () => {
  for (const platform of [AgentPlatform.DOCKER, AgentPlatform.KUBERNETES]) {
    it(`${platform}: finds no layer wider, checks every layer of every role, and takes the gateway's file as the description by default`, () => {
      const props = fleet(platform);
      const json = synthJson(stackOf(props));
      for (const report of [verify(json, props), verifyArtifacts(json)]) {
        expect(widerChecks(report)).toEqual([]);
        for (const role of ["customer_support", "research_agent"]) {
          const aspects = report.checks.filter((c) => c.principal === role).map((c) => `${c.layer} ${c.aspect}`);
          expect(aspects).toEqual(expect.arrayContaining([...(platform === AgentPlatform.KUBERNETES ? ["network ingress"] : []), "network proxy hosts", "network proxy ports", "network direct egress", "network peers", "network gateway identity", "gateway tools", "keys key paths", "keys login binding"]));
        }
        expect(report.checks.filter((c) => c.layer === "hooks").map((c) => `${c.principal} ${c.aspect}`).sort()).toEqual(["customer_support hermes hook", "research_agent openclaw hook"]);
      }
      expect(verifyArtifacts(json).description).toMatch(/firewall\.json.*embedded/);
    });
  }
});

describe("each kind of widening is caught and named", () => {
  const docker = () => ({ props: fleet(AgentPlatform.DOCKER), json: synthJson(stackOf(fleet(AgentPlatform.DOCKER))) });
  const kubernetes = () => ({ props: fleet(AgentPlatform.KUBERNETES), json: synthJson(stackOf(fleet(AgentPlatform.KUBERNETES))) });

  it("an extra host in a role's squid.conf ACL (a second acl line of the same name)", () => {
    for (const { props, json } of [docker(), kubernetes()]) {
      editFile(json, /squid\.conf$/, (conf) => conf.replace(/^(acl role_customer-support_hosts dstdomain .*)$/m, "$1\nacl role_customer-support_hosts dstdomain -n exfil.example.net"));
      const check = onlyWider(verify(json, props), "customer_support", "network", "proxy hosts");
      expect(check.wider).toEqual([expect.objectContaining({ item: "exfil.example.net", artifact: expect.stringMatching(/squid/), rule: expect.stringMatching(/ssl_bump peek tls_step1 CONNECT tls_port !ip_literal role_customer-support_in role_customer-support_hosts/) })]);
    }
  });

  it("an ssl_bump rule without a listener condition lets every role reach its hosts (every CONNECT passes http_access to it)", () => {
    const { props, json } = docker();
    editFile(json, /squid\.conf$/, (conf) => conf.replace("ssl_bump terminate all", "acl extra dstdomain -n .example.org\nssl_bump peek tls_step1 CONNECT extra\nssl_bump terminate all"));
    const wider = widerChecks(verify(json, props));
    expect(wider.map((c) => `${c.principal} ${c.aspect}`)).toEqual(expect.arrayContaining(["customer_support proxy hosts", "research_agent proxy hosts", "customer_support proxy ports"]));
    expect(wider.find((c) => c.principal === "customer_support" && c.aspect === "proxy hosts")?.wider.map((g) => g.item)).toEqual(["*.example.org", "example.org"]);
  });

  it("an extra squid listener: customer_support's proxy address also answering as research_agent's port", () => {
    const { props, json } = docker();
    editFile(json, /squid\.conf$/, (conf) => conf.replace(/^(http_port (\S+):3128 (.*)name=customer-support)$/m, "$1\nhttp_port $2:3129 $3name=research-agent"));
    const check = onlyWider(verify(json, props), "customer_support", "network", "proxy hosts");
    expect(check.wider.map((g) => g.item)).toEqual(expect.arrayContaining(["*.google.com", "arxiv.org"]));
    expect(check.wider[0].rule).toMatch(/listener research-agent, reached docker_container\.agents_docker_containers_hermes-agent_\w+ on rapidclaw-agents-customer-support → 172\.30\.76\.2:3129/);
  });

  it("an extra gateway listener on customer_support's network that takes its callers for research_agent", () => {
    const { props, json } = docker();
    editFile(json, /firewall\.json$/, (text) => {
      const file = JSON.parse(text);
      const own = file.gateway.listeners.find((l: Json) => l.role === "customer_support");
      file.gateway.listeners.push({ address: own.address, port: 8099, role: "research_agent" });
      return JSON.stringify(file);
    });
    const wider = widerChecks(verify(json, props));
    expect(wider.map((c) => `${c.principal} ${c.layer} ${c.aspect}`)).toEqual(["customer_support network gateway identity", "customer_support gateway tools"]);
    expect(wider[0].wider[0]).toMatchObject({ item: "role research_agent", rule: expect.stringMatching(/gateway\.listeners\[2\] 172\.30\.76\.3:8099 role research_agent/) });
    expect(wider[1].wider.map((g) => g.item)).toEqual(expect.arrayContaining(["database:READ", "web_search:READ"]));
  });

  it("a Vault policy path, and a policy attached to a role's login", () => {
    for (const { props, json } of [docker(), kubernetes()]) {
      const policy = resourceNamed(json, "vault_policy", /^role-customer-support_policy/);
      policy.policy += 'path "agent-keys/data/tools/*" {\n  capabilities = ["read", "list"]\n}\n';
      const check = onlyWider(verify(json, props), "customer_support", "keys", "key paths");
      expect(check.wider.map((g) => g.item)).toEqual(["read agent-keys/data/tools/*", "list agent-keys/data/tools/*"]);
      expect(check.wider[0]).toMatchObject({ artifact: expect.stringMatching(/^vault_policy\.role-customer-support_policy/), rule: 'path "agent-keys/data/tools/*"' });
    }
    const { props, json } = docker();
    const login = Object.values(json.resource.vault_approle_auth_backend_role as Record<string, Json>).find((l) => l.role_name === "rapidclaw-customer-support") as Json;
    login.token_policies.push("${vault_policy.tool-gateway_policy_3653A346.name}");
    expect(onlyWider(verify(json, props), "customer_support", "keys", "key paths").wider.map((g) => g.item)).toEqual(["read agent-keys/data/tools/anthropic"]);
  });

  it("a login bound to a wider source range", () => {
    const { props, json } = docker();
    const login = Object.values(json.resource.vault_approle_auth_backend_role as Record<string, Json>).find((l) => l.role_name === "rapidclaw-customer-support") as Json;
    login.token_bound_cidrs = ["172.30.0.0/16"];
    expect(onlyWider(verify(json, props), "customer_support", "keys", "login binding").wider.map((g) => g.item)).toEqual(["cidr 172.30.0.0/16"]);
  });

  it("a NetworkPolicy peer: a direct ipBlock, and another role's proxy port once the proxy admits it too", () => {
    const { props, json } = kubernetes();
    const egress = resourceNamed(json, "kubernetes_network_policy_v1", /^network_kubernetes_role-customer-support-egress/);
    egress.spec.egress.push({ ports: [{ port: "443", protocol: "TCP" }], to: [{ ip_block: { cidr: "0.0.0.0/0" } }] });
    const direct = onlyWider(verify(json, props), "customer_support", "network", "direct egress");
    expect(direct.wider).toEqual([expect.objectContaining({ item: "0.0.0.0/0 :443/TCP", artifact: expect.stringMatching(/^kubernetes_network_policy_v1\.network_kubernetes_role-customer-support-egress/) })]);

    // research_agent's proxy port: its own policy lets the pods out, but the proxy admits only research_agent there.
    egress.spec.egress.pop();
    egress.spec.egress.push({ ports: [{ port: "3129", protocol: "TCP" }], to: [{ pod_selector: { match_labels: { "rapidclaw.dev/component": "egress-proxy" } } }] });
    expect(widerChecks(verify(json, props))).toEqual([]);
    const proxy = resourceNamed(json, "kubernetes_network_policy_v1", /^egress-proxy_kubernetes_network-policy/);
    proxy.spec.ingress.push({ from: [{ pod_selector: { match_labels: { "rapidclaw.dev/role": "customer-support" } } }], ports: [{ port: "3129", protocol: "TCP" }] });
    const hosts = onlyWider(verify(json, props), "customer_support", "network", "proxy hosts");
    expect(hosts.wider.map((g) => g.item)).toEqual(expect.arrayContaining(["*.google.com", "arxiv.org"]));
    expect(hosts.wider[0].rule).toMatch(/listener research-agent, reached kubernetes_network_policy_v1\.network_kubernetes_role-customer-support-egress\w* egress\[1\]/);
  });

  it("cluster DNS for agents: a peer beyond the description unless the role opted in with dnsReason", () => {
    const dnsRule = { ports: [{ port: "53", protocol: "UDP" }, { port: "53", protocol: "TCP" }], to: [{ namespace_selector: { match_labels: { "kubernetes.io/metadata.name": "kube-system" } }, pod_selector: { match_labels: { "k8s-app": "kube-dns" } } }] };
    const { props, json } = kubernetes();
    resourceNamed(json, "kubernetes_network_policy_v1", /^network_kubernetes_role-customer-support-egress/).spec.egress.push(dnsRule);
    const peers = onlyWider(verify(json, props), "customer_support", "network", "peers");
    expect(peers.wider.map((g) => g.item)).toEqual(["cluster DNS (kube-system/kube-dns) 53/UDP,53/TCP"]);
    // Opted in: the synthesized policy carries that rule, and verify expects it.
    const optedIn = fleet(AgentPlatform.KUBERNETES);
    optedIn.roles.customer_support = { ...optedIn.roles.customer_support, network: { ...optedIn.roles.customer_support.network, dnsReason: "the vendor SDK resolves its license server" } };
    const report = verify(synthJson(stackOf(optedIn)), optedIn);
    expect(widerChecks(report)).toEqual([]);
    expect(report.checks.find((c) => c.principal === "customer_support" && c.aspect === "peers")?.expected).toEqual(["cluster DNS (kube-system/kube-dns) 53/UDP,53/TCP"]);
    expect(report.checks.find((c) => c.principal === "research_agent" && c.aspect === "peers")?.expected).toEqual([]);
  });

  it("a NetworkPolicy ingress peer into agent pods, against kubernetes.ingress", () => {
    const props = { ...fleet(AgentPlatform.KUBERNETES), kubernetes: { ingress: { namespaceLabels: { team: "web" }, port: 8443 } } };
    const json = synthJson(stackOf(props));
    expect(widerChecks(verify(json, props))).toEqual([]);
    resourceNamed(json, "kubernetes_network_policy_v1", /^network_kubernetes_default-deny/).spec.ingress = [{ from: [{ namespace_selector: { match_labels: {} } }] }];
    const checks = widerChecks(verify(json, props));
    expect(checks.map((c) => `${c.principal} ${c.aspect}`)).toEqual(["customer_support ingress", "research_agent ingress"]);
    expect(checks[0].wider).toEqual([expect.objectContaining({ item: "from namespaces {} :any port", artifact: expect.stringMatching(/^kubernetes_network_policy_v1\.network_kubernetes_default-deny/), rule: "ingress[0]" })]);
  });

  it("a hook mapping: Hermes' --tool and OpenClaw's plugin tool map", () => {
    for (const { props, json } of [docker(), kubernetes()]) {
      editFile(json, /config\.yaml$/, (text) => text.replace("--tool web_extract=web_fetch:READ", "--tool web_extract=web_fetch:READ --tool terminal=web_fetch:READ"));
      const hermes = onlyWider(verify(json, props), "customer_support", "hooks", "hermes hook");
      expect(hermes.wider).toEqual([expect.objectContaining({ item: "terminal → web_fetch:READ", rule: expect.stringMatching(/hooks\.pre_tool_call\[0\]\.command --tool terminal=web_fetch:READ/) })]);
    }
    const { props, json } = docker();
    editFile(json, /openclaw\.json$/, (text) => {
      const config = JSON.parse(text);
      config.plugins.entries["rapidclaw-gateway-check"].config.tools.exec = { tool: "web_search", access: "READ" };
      return JSON.stringify(config);
    });
    expect(onlyWider(verify(json, props), "research_agent", "hooks", "openclaw hook").wider.map((g) => g.item)).toEqual(["exec → web_search:READ"]);
  });

  it("a hook that no longer runs: a narrowed Hermes matcher, fail open", () => {
    const { props, json } = docker();
    editFile(json, /config\.yaml$/, (text) => {
      const config = parseYaml(text);
      config.hooks.pre_tool_call[0].matcher = "web_.*";
      config.hooks.pre_tool_call[0].fail_closed = false;
      return stringifyYaml(config);
    });
    expect(onlyWider(verify(json, props), "customer_support", "hooks", "hermes hook").wider.map((g) => g.rule)).toEqual(["hooks.pre_tool_call[0].matcher", "hooks.pre_tool_call[0].fail_closed"]);
  });

  it("the gateway's file: a lost rate limit and EXECUTE operation, against --config", () => {
    const props = fronted(AgentPlatform.DOCKER, (s) => {
      s.tools = { ...s.tools, send_email: { ...s.tools.send_email, upstream: "https://mail.example.com", key: {}, executeOperations: [{ method: "POST", path: "/v3/mail/send" }] } };
    });
    const json = synthJson(stackOf(props));
    expect(widerChecks(verify(json, props))).toEqual([]);
    editFile(json, /firewall\.json$/, (text) => {
      const file = JSON.parse(text);
      delete file.tools.send_email.rateLimit;
      delete file.tools.send_email.executeOperations;
      return JSON.stringify(file);
    });
    expect(onlyWider(verify(json, props), "(all roles)", "gateway", "tool rules").wider.map((g) => g.item)).toEqual(["send_email without its rate limit", "send_email POST /v3/mail/send needs only WRITE"]);
    // What only the gateway can enforce is listed as such.
    expect(verify(json, props).cannotExpress).toEqual(expect.arrayContaining([
      'network, keys: "POST /v3/mail/send" of tool send_email needs EXECUTE; the proxy sees a host and Vault a key, not a method or path: the gateway alone decides it',
      "every layer: the task limits of role customer_support (tokens, tool calls, concurrency per task) are carried in its profile for the agent runtime; no synthesized layer enforces them",
    ]));
  });

  it("an addOverride on an agent container's networks, named by the container", () => {
    const props = fleet(AgentPlatform.DOCKER);
    const stack = stackOf(props, (s) => override(s, "agents/docker/containers/hermes-agent", "networks_advanced", [
      { name: "${docker_network.network_roles_customer-support_FC4252BF.name}" },
      { name: "${docker_network.network_egress_687ACCE0.name}" },
    ]));
    // The proxy is on that network too, but listens on none of its addresses there: not a way to more hosts.
    const check = onlyWider(verify(synthJson(stack), props), "customer_support", "network", "direct egress");
    expect(check.wider).toEqual([expect.objectContaining({ item: "the internet (network rapidclaw-egress is not internal)", artifact: expect.stringMatching(/^docker_container\.agents_docker_containers_hermes-agent/) })]);
  });
});

describe("a layer that grants less is narrower: listed, not a finding", () => {
  it("a host taken out of a role's squid.conf ACL, and a path taken out of its Vault policy", () => {
    const props = fleet(AgentPlatform.DOCKER);
    const json = synthJson(stackOf(props));
    editFile(json, /squid\.conf$/, (conf) => conf.replace(/^(acl role_research-agent_hosts dstdomain .*) arxiv\.org/m, "$1"));
    const policy = resourceNamed(json, "vault_policy", /^role-customer-support_policy/);
    const granted = /^path "([^"]+)"/m.exec(policy.policy)?.[1];
    policy.policy = policy.policy.replace(/^path "[^"]+" \{\n[^}]*\}\n/m, "");
    const report = verify(json, props);
    expect(widerChecks(report)).toEqual([]);
    expect(widerCount(report)).toBe(0);
    const narrower = report.checks.filter((c) => c.status === LayerStatus.NARROWER).map((c) => `${c.principal} ${c.layer} ${c.aspect}: ${c.narrower.join(", ")}`);
    expect(narrower).toEqual([`customer_support keys key paths: read ${granted}`, "research_agent network proxy hosts: arxiv.org"]);
    const text = renderVerifyReport(report);
    expect(text).toContain(`Narrower than the description (fine):\n  - customer_support keys key paths: read ${granted}\n  - research_agent network proxy hosts: arxiv.org\n`);
    expect(text.trimEnd().split("\n").at(-1)).toBe("No layer is wider than the description.");
  });
});

describe("peers on Docker", () => {
  it("another role's agent put on a role's network is a peer of that role", () => {
    const props = fleet(AgentPlatform.DOCKER);
    const stack = stackOf(props, (s) => override(s, "agents/docker/containers/openclaw-agent", "networks_advanced", [
      { name: "${docker_network.network_roles_research-agent_25D4416D.name}" },
      { name: "${docker_network.network_roles_customer-support_FC4252BF.name}" },
    ]));
    const wider = widerChecks(verify(synthJson(stack), props));
    // research_agent reaches customer_support's gateway listener (its tools) and agent; customer_support's hosts are a subset of its own.
    expect(wider.map((c) => `${c.principal} ${c.layer} ${c.aspect}`).sort()).toEqual(["customer_support network peers", "research_agent gateway tools", "research_agent network gateway identity", "research_agent network peers"]);
    expect(wider.find((c) => c.principal === "customer_support")?.wider.map((g) => g.item)).toEqual(["container openclaw-agent (agent research-agent)"]);
  });
});

describe("what verify does not compare, it says", () => {
  it("a host firewall script in the stack's outputs, the Kubernetes gateway's hosts at the proxy, and what a layer cannot express", () => {
    const props = fleet(AgentPlatform.KUBERNETES);
    const stack = stackOf(props, (s) => new HostEgressFirewall(s, "vm", { users: ["agent"], proxyEndpoints: [{ address: "10.0.0.2", port: 3128 }] }));
    const report = verify(synthJson(stack), props);
    expect(widerChecks(report)).toEqual([]);
    expect(report.notes).toContain("host firewall script in output vm_apply_script: its rules name VM users, not roles of the description, so it is not compared");
    // The Kubernetes gateway leaves through the proxy's gateway listener, which names its hosts: nothing to confess there.
    expect(report.cannotExpress.filter((line) => /gateway's egress is port 443/.test(line))).toEqual([]);
    expect(report.checks.find((c) => c.principal === "(gateway)" && c.aspect === "proxy hosts")).toMatchObject({ expected: ["api.anthropic.com"] });
    expect(report.cannotExpress).toEqual(expect.arrayContaining([
      "network, keys, hooks: the rate limit of tool web_search (20 per 60s) is counted by the gateway alone",
      expect.stringMatching(/^network: role research_agent holds WRITE on anthropic; the gateway's egress allows every method/),
    ]));
  });
});

describe("RapidClawStack runs the check as a cdktf validation", () => {
  it("fails synthesis of a widened stack with the artifact and rule, and passes the stack as built", () => {
    const props = fleet(AgentPlatform.DOCKER);
    const clean = new RapidClawStack(new App(), "agent-firewall", props);
    expect(() => Testing.synth(clean, true)).not.toThrow();
    const widened = new RapidClawStack(new App(), "agent-firewall", props);
    override(widened, "role-customer-support/policy", "policy", 'path "agent-keys/data/*" {\n  capabilities = ["read"]\n}\n');
    expect(() => Testing.synth(widened, true)).toThrow(/customer_support keys key paths is wider than the firewall description: read agent-keys\/data\/\*, by vault_policy\.role-customer-support_policy_\w+: path "agent-keys\/data\/\*"/);
    // app.synth(), as `cdktf synth` runs it, fails the same way and writes no stack.
    const outdir = mkdtempSync(join(tmpdir(), "rapidclaw-verify-synth-"));
    try {
      const app = new App({ outdir });
      override(new RapidClawStack(app, "agent-firewall", props), "role-customer-support/policy", "policy", 'path "agent-keys/data/*" {\n  capabilities = ["read"]\n}\n');
      expect(() => app.synth()).toThrow(/customer_support keys key paths is wider than the firewall description/);
      expect(existsSync(join(outdir, "stacks", "agent-firewall", "cdk.tf.json"))).toBe(false);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
    const optedOut = new RapidClawStack(new App(), "agent-firewall", { ...props, verifyLayers: false });
    override(optedOut, "role-customer-support/policy", "policy", 'path "agent-keys/data/*" {\n  capabilities = ["read"]\n}\n');
    expect(() => Testing.synth(optedOut, true)).not.toThrow();
  });

  it("fails synthesis, with the reason, when an override leaves an artifact the check cannot read", () => {
    const stack = new RapidClawStack(new App(), "agent-firewall", fleet(AgentPlatform.DOCKER));
    const gateway = stack.node.findAll().find((c) => c.node.path.endsWith("tool-gateway/docker/container")) as unknown as { addOverride(path: string, value: unknown): void };
    // The first upload is the gateway's firewall file (the second its bundle, from the stack's asset).
    gateway.addOverride("upload.0.content", "{ not json");
    expect(() => Testing.synth(stack, true)).toThrow(/the stack's layers could not be verified against the firewall description: .*JSON/);
  });

  it("refuses a description of the other platform instead of finding everything narrower", () => {
    const json = synthJson(stackOf(fleet(AgentPlatform.DOCKER)));
    expect(() => verify(json, fleet(AgentPlatform.KUBERNETES))).toThrow(/the description is for platform kubernetes but the stack has no kubernetes provider \(it has docker, random, time, vault\)/);
  });

  it("counts widenings for the CLI's exit code", () => {
    const props = fleet(AgentPlatform.KUBERNETES);
    const json = synthJson(stackOf(props));
    expect(widerCount(verify(json, props))).toBe(0);
    resourceNamed(json, "kubernetes_network_policy_v1", /^network_kubernetes_role-research-agent-egress/).spec.egress.push({ to: [{ ip_block: { cidr: "10.0.0.0/8" } }] });
    expect(widerCount(verify(json, props))).toBe(1);
  });
});
