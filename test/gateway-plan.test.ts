import { App } from "cdktf";
import { describe, expect, it } from "vitest";
import { firewallScenario } from "../examples/firewall-scenario";
import { gatewayConfigFromSpec } from "../src/gateway/config";
import { AgentPlatform, KeyDelivery, type FirewallSpecProps } from "../src/model/types";
import { validateFirewallSpec } from "../src/model/validate";
import { redisCredentialsArgs } from "../src/plan/gateway-plan";
import { gatewayDeploymentProblems } from "../src/plan/gateway-deployment";
import { compileFirewall } from "../src/plan/plan";
import { RapidClawStack } from "../src/rapid-claw-stack";
import { fronted, type MutableSpec } from "./support/gateway-spec";
import { synthesize } from "./support/synth";

describe("planGateway", () => {
  it("plans no gateway when no tool has an upstream and gateway is unset (the firewall synthesizes as before)", () => {
    for (const platform of [AgentPlatform.DOCKER, AgentPlatform.KUBERNETES]) {
      const plan = compileFirewall(firewallScenario(platform));
      expect(plan.gateway).toBeUndefined();
      expect(plan.tools.filter((t) => t.key).map((t) => [t.name, t.key?.delivery])).toEqual([
        ["database", KeyDelivery.AGENT], ["file_upload", KeyDelivery.AGENT], ["send_email", KeyDelivery.AGENT], ["web_search", KeyDelivery.AGENT],
      ]);
      expect(plan.roles.map((r) => [r.name, r.keyGrants])).toEqual([["customer_support", ["send_email"]], ["research_agent", ["database", "web_search"]]]);
    }
  });

  it("plans a gateway when only gateway options are set, with nothing to front or hold", () => {
    const gateway = compileFirewall({ ...firewallScenario(AgentPlatform.KUBERNETES), gateway: { port: 9000 } }).gateway;
    expect(gateway?.frontedTools).toEqual([]);
    expect(gateway?.custodyTools).toEqual([]);
    expect(gateway?.roles.map((r) => r.port)).toEqual([9000, 9001]);
  });

  it("Docker: a listener per role at the third address of the role's subnet, all on port 8080 (the address tells the role, so no role's port depends on the others), and the gateway's own networks", () => {
    const plan = compileFirewall(fronted(AgentPlatform.DOCKER));
    const gateway = plan.gateway!;
    expect(gateway.name).toBe("rapidclaw-tool-gateway");
    expect(gateway.image).toBe("node:22.12.0-bookworm-slim");
    expect(gateway.adminPort).toBe(9464);
    const subnets = Object.fromEntries(plan.roles.map((r) => [r.name, r.docker!.subnet]));
    expect(subnets).toEqual({ customer_support: "172.30.76.0/24", research_agent: "172.30.16.0/24" });
    expect(gateway.roles).toEqual([
      { role: "customer_support", port: 8080, slot: 0, address: "172.30.76.3", url: "http://172.30.76.3:8080" },
      { role: "research_agent", port: 8080, slot: 0, address: "172.30.16.3", url: "http://172.30.16.3:8080" },
    ]);
    expect(gateway.docker).toEqual({
      egressNetwork: { networkName: "rapidclaw-gateway-egress", subnet: "172.31.128.0/26", gateway: "172.31.128.1", toolGatewayAddress: "172.31.128.2", peerAddress: "172.31.128.3" },
      redisNetwork: { networkName: "rapidclaw-gateway-limits", subnet: "172.31.128.64/26", gateway: "172.31.128.65", toolGatewayAddress: "172.31.128.66", peerAddress: "172.31.128.67" },
      vaultNetwork: { networkName: "rapidclaw-gateway-vault", subnet: "172.31.128.128/26", gateway: "172.31.128.129", toolGatewayAddress: "172.31.128.130" },
      upstreamProxyUrl: "http://172.31.128.3:3128",
      upstreamProxyPort: 3128,
      vaultAgentName: "rapidclaw-tool-gateway-vault-agent",
    });
    expect(gateway.redis).toEqual({ bundled: true, name: "rapidclaw-gateway-redis", image: "redis:7.4.1-alpine", url: "redis://172.31.128.67:6379" });
    expect(gateway.paths).toEqual({
      config: "/etc/rapidclaw/firewall.json",
      keyDir: "/run/rapidclaw/keys",
      bundle: "/opt/rapidclaw/rapidclaw-gateway.cjs",
      vaultAgentConfig: "/etc/rapidclaw/vault-agent.hcl",
      redisCredentials: "/run/rapidclaw/keys/redis-credentials.json",
    });
  });

  it("fronts the tools with an upstream, holds only the keys delivered to it, and lists each upstream host once", () => {
    const plan = compileFirewall(fronted(AgentPlatform.DOCKER));
    const gateway = plan.gateway!;
    expect(gateway.frontedTools).toEqual(["anthropic", "news"]);
    expect(gateway.custodyTools).toEqual(["anthropic"]);
    expect(gateway.upstreamHosts).toEqual(["api.anthropic.com"]);
    expect(plan.tools.find((t) => t.name === "anthropic")?.key?.delivery).toBe(KeyDelivery.GATEWAY);
  });

  it("gives agent roles no grant of a gateway-held key, and keeps the grants of agent-delivered ones", () => {
    const plan = compileFirewall(fronted(AgentPlatform.DOCKER));
    const grants = Object.fromEntries(plan.roles.map((r) => [r.name, r.keyGrants]));
    // research_agent has WRITE on anthropic, whose key only the gateway reads; web_search's key is delivered to agents (no upstream).
    expect(grants).toEqual({ customer_support: ["send_email"], research_agent: ["database", "web_search"] });
  });

  it("Kubernetes: role URLs name the gateway's Service, the bundled Redis its Service, replicas default to 2", () => {
    const gateway = compileFirewall(fronted(AgentPlatform.KUBERNETES, (s) => { s.namespace = "agents-prod"; s.name = "team-a"; })).gateway!;
    expect(gateway.name).toBe("team-a-tool-gateway");
    expect(gateway.replicas).toBe(2);
    expect(gateway.docker).toBeUndefined();
    expect(gateway.roles).toEqual([
      { role: "customer_support", port: 8080, slot: 0, url: "http://team-a-tool-gateway.agents-prod.svc:8080" },
      { role: "research_agent", port: 8081, slot: 1, url: "http://team-a-tool-gateway.agents-prod.svc:8081" },
    ]);
    expect(gateway.redis.url).toBe("redis://team-a-gateway-redis:6379");
  });

  it("uses an existing Redis instead of the bundled one, with its credentials secret", () => {
    const IMAGE = `registry.example.com/rapidclaw-gateway@sha256:${"e".repeat(64)}`;
    const gateway = compileFirewall(fronted(AgentPlatform.KUBERNETES, (s) => { s.gateway = { replicas: 3, image: IMAGE, redis: { url: "rediss://redis.internal:6380/2", credentialsSecret: "redis/gateway" } }; })).gateway!;
    expect(gateway.redis).toMatchObject({ bundled: false, url: "rediss://redis.internal:6380/2", credentialsSecret: "redis/gateway" });
    expect(gateway).toMatchObject({ replicas: 3, image: IMAGE });
  });

  it("Docker: under another firewall name the gateway subnet is the /24 opposite the hashed egress subnet", () => {
    const plan = compileFirewall(fronted(AgentPlatform.DOCKER, (s) => { s.name = "team-b"; }));
    const egress = Number(plan.docker.egressSubnet.split(".")[2]);
    expect(plan.gateway!.docker!.egressNetwork.subnet).toBe(`172.31.${(egress + 128) % 256}.0/26`);
    expect(plan.gateway!.docker!.egressNetwork.networkName).toBe("team-b-gateway-egress");
  });

  it("configJson is the description with the deployed listeners, canonical, and loads in the gateway as the role-per-listener config", () => {
    const spec = fronted(AgentPlatform.DOCKER);
    const gateway = compileFirewall(spec).gateway!;
    const loaded = JSON.parse(gateway.configJson);
    expect(gateway.configJson).toBe(`${JSON.stringify(loaded, null, 2)}\n`);
    const keysInOrder = (value: unknown): boolean => typeof value !== "object" || value === null
      || (Array.isArray(value) ? value.every(keysInOrder) : Object.keys(value).join("\u0000") === Object.keys(value).sort().join("\u0000") && Object.values(value).every(keysInOrder));
    expect(keysInOrder(loaded)).toBe(true);
    // A set, sorted like every set of the file.
    expect(loaded.gateway.listeners).toEqual([
      { address: "172.30.16.3", port: 8080, role: "research_agent" },
      { address: "172.30.76.3", port: 8080, role: "customer_support" },
    ]);
    const config = gatewayConfigFromSpec(validateFirewallSpec(loaded));
    expect(config.listeners).toEqual(loaded.gateway.listeners);
    expect([...config.tools.values()].filter((t) => t.keyHeader).map((t) => t.name)).toEqual(["anthropic"]);
    // The description itself, lists that are sets sorted.
    expect(Object.keys(loaded).sort()).toEqual([...Object.keys(spec), "gateway"].sort());
    expect(loaded.tools.anthropic).toEqual(spec.tools.anthropic);
    expect(loaded.agents.map((a: { name: string }) => a.name)).toEqual(["hermes-agent", "openclaw-agent"]);
    expect(loaded.roles.research_agent.network.allowedHosts).toEqual([...(spec.roles.research_agent.network?.allowedHosts ?? [])].sort());
    // Same input, same bytes, whatever order the description was written in.
    const reordered = Object.fromEntries(Object.entries(spec).reverse()) as unknown as FirewallSpecProps;
    expect(compileFirewall(reordered).gateway!.configJson).toBe(gateway.configJson);
  });

  it("Kubernetes: listeners carry no address (the Service port tells the role)", () => {
    const loaded = JSON.parse(compileFirewall(fronted(AgentPlatform.KUBERNETES)).gateway!.configJson);
    expect(loaded.gateway.listeners).toEqual([{ port: 8080, role: "customer_support" }, { port: 8081, role: "research_agent" }]);
  });
});

describe("gatewayDeploymentProblems", () => {
  const problems = (spec: FirewallSpecProps) => gatewayDeploymentProblems(validateFirewallSpec(spec));

  it("accepts a complete description, and has nothing to say without a gateway", () => {
    expect(problems(fronted(AgentPlatform.DOCKER))).toEqual([]);
    expect(problems(firewallScenario(AgentPlatform.DOCKER))).toEqual([]);
  });

  it("asks for Vault's address when the gateway holds a key, listing the tools", () => {
    const found = problems(fronted(AgentPlatform.DOCKER, (s) => { s.vault = undefined; }));
    expect(found).toEqual([{ path: "vault.address", message: expect.stringContaining("holds the keys of anthropic") }]);
    expect(found[0].message).not.toContain("key.delivery: agent");
  });

  it("suggests fixes for a missing Vault address that work, and not key.delivery: agent, which a fronted tool refuses", () => {
    const noVault = (s: MutableSpec) => { s.vault = undefined; };
    const { message } = problems(fronted(AgentPlatform.DOCKER, noVault))[0];
    expect(message).toContain("set vault.address (such as https://vault.example.com:8200)");
    expect(message).toContain("or remove upstream (and keyHeader) from those tools");
    // The old hint: refused by validation.
    expect(() => validateFirewallSpec(fronted(AgentPlatform.DOCKER, (s) => { noVault(s); s.tools = { ...s.tools, anthropic: { ...s.tools.anthropic, key: { delivery: KeyDelivery.AGENT } } }; })))
      .toThrow(/tools\.anthropic\.key\.delivery: delivery "agent" with an upstream/);
    // Each suggested fix leaves nothing to report, and the stack synthesizes.
    const withAddress = fronted(AgentPlatform.DOCKER, (s) => { s.vault = { address: "https://vault.example.com:8200" }; });
    const withoutUpstream = fronted(AgentPlatform.DOCKER, (s) => { noVault(s); s.tools = { ...s.tools, anthropic: { key: {} } }; });
    for (const fixed of [withAddress, withoutUpstream]) {
      expect(problems(fixed)).toEqual([]);
      expect(synthesize(new RapidClawStack(new App(), "agent-firewall", { ...fixed, platform: AgentPlatform.DOCKER })).resources("docker_container").length).toBeGreaterThan(0);
    }
  });

  it("refuses listeners and source networks of the user's own, and an admin port among the role ports", () => {
    const found = problems(fronted(AgentPlatform.KUBERNETES, (s) => { s.gateway = { port: 9463, listeners: [{ port: 9000, role: "research_agent" }], sourceNetworks: [{ cidr: "10.0.0.0/24", role: "research_agent" }] }; }));
    expect(found.map((p) => p.path)).toEqual(["gateway.listeners", "gateway.sourceNetworks", "gateway.port"]);
    expect(found[2].message).toContain("9464, the gateway's admin port");
  });

  it("reads Vault for the Redis login even when it holds no key, and then needs Vault's address", () => {
    const keyless = (change: (s: MutableSpec) => void) => fronted(AgentPlatform.DOCKER, (s) => { s.tools = { ...s.tools, anthropic: { upstream: "https://api.anthropic.com" } }; change(s); });
    const withLogin = (s: MutableSpec) => { s.gateway = { redis: { url: "rediss://redis.internal:6380", credentialsSecret: "redis/gateway" } }; };
    const gateway = compileFirewall(keyless(withLogin)).gateway!;
    expect(gateway).toMatchObject({ custodyTools: [], readsVault: true });
    expect(redisCredentialsArgs(gateway)).toEqual(["--redis-credentials-file", "/run/rapidclaw/keys/redis-credentials.json"]);
    expect(problems(keyless(withLogin))).toEqual([]);
    const found = problems(keyless((s) => { withLogin(s); s.vault = undefined; }));
    expect(found).toEqual([{ path: "vault.address", message: expect.stringContaining("reads its Redis credentials (gateway.redis.credentialsSecret) from Vault") }]);
    const none = compileFirewall(keyless(() => {})).gateway!;
    expect(none).toMatchObject({ readsVault: false });
    expect(redisCredentialsArgs(none)).toEqual([]);
  });

  it("Docker: refuses an upstream on a port other than 443, which the proxy's gateway listener does not allow", () => {
    const found = problems(fronted(AgentPlatform.DOCKER, (s) => { s.tools = { ...s.tools, news: { upstream: "https://news.example.com:8443" } }; }));
    expect(found).toEqual([{ path: "tools.news.upstream", message: expect.stringContaining("port 8443") }]);
    expect(problems(fronted(AgentPlatform.KUBERNETES, (s) => { s.tools = { ...s.tools, news: { upstream: "https://news.example.com:8443" } }; }))).toEqual([]);
  });
});
