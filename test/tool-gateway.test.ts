import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse as parseHcl } from "@cdktf/hcl2json";
import { App, TerraformStack } from "cdktf";
import { describe, expect, it } from "vitest";
import { DockerProvider } from "@cdktf/provider-docker/lib/provider";
import { RandomProvider } from "@cdktf/provider-random/lib/provider";
import { TimeProvider } from "@cdktf/provider-time/lib/provider";
import { VaultProvider } from "@cdktf/provider-vault/lib/provider";
import { EgressProxy, FirewallSpec, IsolatedAgentNetwork, RapidClawStack, ScopedAgentKeys, ToolGateway } from "../src";
import { GatewayBundle, GATEWAY_BUNDLE_PATH } from "../src/constructs/gateway-bundle";
import { FirewallSpecError } from "../src/model/errors";
import { AgentPlatform, type FirewallSpecProps } from "../src/model/types";
import { validateFirewallSpec } from "../src/model/validate";
import { planOf } from "../src/plan/firewall-spec";
import { compileFirewall } from "../src/plan/plan";
import { fronted } from "./support/gateway-spec";
import { squidBinary, squidParse } from "./support/squid";
import { synthesize } from "./support/synth";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

/** What Terraform writes for an upload's content: `$${` and `%%{` are its escapes. */
const terraformText = (content: string) => content.replace(/%%\{/g, "%{").replace(/\$\$\{/g, "${");

function dockerGateway(spec: FirewallSpecProps = fronted(AgentPlatform.DOCKER)) {
  const stack = new RapidClawStack(new App(), "agent-firewall", spec);
  const synth = synthesize(stack);
  const networks: Record<string, Json> = synth.doc.resource.docker_network;
  const containers = synth.resources("docker_container");
  const byName = new Map(containers.map((c) => [c.name as string, c]));
  const networkOf = (reference: string) => networks[/^\$\{docker_network\.([^.]+)\.name\}$/.exec(reference)?.[1] ?? ""]?.name as string;
  /** Container names on each Docker network, by network name. */
  const members = new Map<string, string[]>();
  for (const c of containers) for (const n of c.networks_advanced) members.set(networkOf(n.name), [...(members.get(networkOf(n.name)) ?? []), c.name]);
  const uploadOf = (container: string, file: string) => terraformText(byName.get(container)?.upload.find((u: Json) => u.file === file)?.content ?? "");
  return { stack, synth, plan: planOf(stack.spec), byName, members, networks, networkOf, uploadOf };
}

describe("the tool gateway on Docker", () => {
  const built = dockerGateway();
  const { plan, byName, members, uploadOf } = built;
  const gateway = plan.gateway!;
  const docker = gateway.docker!;

  it("sits at the third address of every role's network, and on its own egress and Redis networks", () => {
    const container = byName.get("rapidclaw-tool-gateway")!;
    const addresses = container.networks_advanced.map((n: Json) => [built.networkOf(n.name), n.ipv4_address]);
    expect(addresses).toEqual([
      ["rapidclaw-agents-customer-support", "172.30.76.3"],
      ["rapidclaw-agents-research-agent", "172.30.16.3"],
      ["rapidclaw-gateway-egress", "172.31.128.2"],
      ["rapidclaw-gateway-limits", "172.31.128.66"],
    ]);
    expect(built.synth.doc.output.gateway_urls.value).toEqual({ customer_support: "http://172.30.76.3:8080", research_agent: "http://172.30.16.3:8080" });
  });

  it("keeps roles apart: no network holds agents of two roles, only the gateway, Redis and proxy-events (which counts in that Redis) share the Redis network, only the gateway and the proxy the gateway's egress network", () => {
    const roleOf = new Map(plan.agents.map((a) => [a.workloadName, a.role]));
    for (const [network, names] of members) {
      const roles = new Set(names.flatMap((name) => (roleOf.has(name) ? [roleOf.get(name)] : [])));
      expect(roles.size, network).toBeLessThanOrEqual(1);
    }
    expect(members.get("rapidclaw-gateway-limits")?.sort()).toEqual(["rapidclaw-gateway-redis", "rapidclaw-proxy-events", "rapidclaw-tool-gateway"]);
    expect(members.get("rapidclaw-gateway-egress")?.sort()).toEqual(["rapidclaw-egress-proxy", "rapidclaw-tool-gateway"]);
    expect(members.get("rapidclaw-gateway-vault")).toEqual(["rapidclaw-tool-gateway-vault-agent"]);
    // The gateway has no way out but the proxy: none of its networks routes outside.
    for (const name of ["rapidclaw-gateway-egress", "rapidclaw-gateway-limits", "rapidclaw-gateway-vault"]) {
      const network = Object.values(built.networks).find((n) => n.name === name)!;
      expect(network).toMatchObject({ internal: true, options: { "com.docker.network.bridge.inhibit_ipv4": "true" } });
    }
  });

  it("leaves through the proxy's tool_gateway listener, bound to the proxy's address on the gateway's egress network and allowing exactly the upstream hosts", () => {
    const squidConf = uploadOf("rapidclaw-egress-proxy", "/etc/squid/squid.conf");
    expect(squidConf).toMatch(new RegExp(`^http_port ${docker.egressNetwork.peerAddress?.replace(/\./g, "\\.")}:3128 ssl-bump .* name=tool_gateway$`, "m"));
    expect(squidConf).toContain("acl gateway_hosts dstdomain -n api.anthropic.com\n");
    expect(squidConf).toContain("ssl_bump peek tls_step1 CONNECT tls_port !ip_literal gateway_in gateway_hosts !forbidden_dst\n");
    expect(squidConf).toContain("ssl_bump splice !tls_step1 gateway_in gateway_dst0 gateway_sni0 sni_present mark_spliced\n");
    expect(byName.get("rapidclaw-tool-gateway")?.env).toContain(`RAPIDCLAW_UPSTREAM_PROXY=http://${docker.egressNetwork.peerAddress}:3128`);
    if (squidBinary) expect(squidParse(squidConf)).toEqual({ status: 0, problems: [] });
  });

  it("uploads the packaged bundle from the stack's file asset, by path and sha256, the same for the gateway and proxy-events; the JSON does not carry it", () => {
    const bundle = readFileSync(join(__dirname, "..", GATEWAY_BUNDLE_PATH));
    const hash = createHash("sha256").update(bundle).digest("hex");
    const expected = { file: gateway.paths.bundle, source: `assets/rapidclaw-gateway-bundle-${hash.slice(0, 12)}/${hash}/rapidclaw-gateway.cjs`, source_hash: hash, permissions: "0444" };
    for (const name of ["rapidclaw-tool-gateway", "rapidclaw-proxy-events"]) {
      expect(byName.get(name)!.upload.find((u: Json) => u.file === gateway.paths.bundle), name).toEqual(expected);
    }
    expect(built.synth.json.length).toBeLessThan(200_000);
    // What cdktf synth writes beside the stack's JSON, where Terraform reads the upload from.
    const outdir = mkdtempSync(join(tmpdir(), "htg-asset-"));
    try {
      const app = new App({ outdir });
      new RapidClawStack(app, "agent-firewall", fronted(AgentPlatform.DOCKER));
      app.synth();
      expect(readFileSync(join(outdir, "stacks", "agent-firewall", expected.source)).equals(bundle)).toBe(true);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });

  it("with gateway.image runs that image for the gateway and proxy-events, and uploads no bundle", () => {
    const image = `registry.example.com/rapidclaw-gateway@sha256:${"ab".repeat(32)}`;
    const spec = fronted(AgentPlatform.DOCKER);
    const own = dockerGateway({ ...spec, gateway: { ...spec.gateway, image } });
    for (const name of ["rapidclaw-tool-gateway", "rapidclaw-proxy-events"]) {
      const container = own.byName.get(name)!;
      expect(container.upload.map((u: Json) => u.file), name).toEqual([gateway.paths.config]);
      // The image's own /opt/rapidclaw shows: only the configuration's directory is a volume.
      expect(container.mounts.map((m: Json) => m.target), name).not.toContain("/opt/rapidclaw");
      expect(container.entrypoint.slice(0, 2), name).toEqual(["node", gateway.paths.bundle]);
    }
    expect(own.synth.resources("docker_image").map((i) => i.name)).toContain(image);
    expect(own.synth.resources("docker_image").map((i) => i.name)).not.toContain("node:22.12.0-bookworm-slim");
    expect(own.synth.json).not.toContain("rapidclaw-gateway-bundle");
  });

  it("uploads the deployed firewall file, which the gateway loads with a listener per role", () => {
    const container = byName.get("rapidclaw-tool-gateway")!;
    const config = JSON.parse(uploadOf("rapidclaw-tool-gateway", gateway.paths.config));
    const byAddress = (a: Json, b: Json) => (a.address < b.address ? -1 : 1);
    expect(config.gateway.listeners).toEqual(gateway.roles.map((r) => ({ address: r.address, port: r.port, role: r.role })).sort(byAddress));
    expect(() => validateFirewallSpec(config)).not.toThrow();
    expect(container.image).toMatch(/^\$\{docker_image\./);
    expect(built.synth.resources("docker_image").map((i) => i.name)).toEqual(expect.arrayContaining(["node:22.12.0-bookworm-slim", "redis:7.4.1-alpine", "hashicorp/vault:1.18.3"]));
    expect(container.entrypoint).toEqual(["node", gateway.paths.bundle, "gateway", "--config", gateway.paths.config, "--key-dir", gateway.paths.keyDir, "--admin-host", "127.0.0.1", "--admin-port", "9464", "--drain-timeout-sec", "30"]);
  });

  it("is stopped with SIGTERM and killed only after the drain (30 s) and the flush, on docker stop and on replacement alike", () => {
    const container = byName.get("rapidclaw-tool-gateway")!;
    expect([container.stop_signal, container.stop_timeout, container.destroy_grace_seconds]).toEqual(["SIGTERM", 40, 40]);
  });

  it("hardens the gateway, Redis and Vault Agent like the proxy: non-root, no capabilities, no privilege gain, read-only root, limits, rotated logs", () => {
    for (const name of ["rapidclaw-tool-gateway", "rapidclaw-gateway-redis", "rapidclaw-tool-gateway-vault-agent"]) {
      const c = byName.get(name)!;
      expect(c.user, name).toMatch(/^[1-9][0-9]{3,}:[1-9][0-9]{3,}$/);
      expect(c, name).toMatchObject({ read_only: true, capabilities: { drop: ["ALL"] }, security_opts: ["no-new-privileges:true"], log_driver: "json-file", log_opts: { "max-size": "10m", "max-file": "3" } });
      expect(c.memory, name).toBeGreaterThan(0);
      expect(Number(c.cpus), name).toBeGreaterThan(0);
      expect(c.ulimit, name).toEqual([{ name: "nproc", soft: expect.any(Number), hard: expect.any(Number) }]);
    }
    expect(byName.get("rapidclaw-tool-gateway")).toMatchObject({ user: "10002:10002", memory: 512, cpus: "1", ulimit: [{ name: "nproc", soft: 256, hard: 256 }], tmpfs: { "/tmp": expect.any(String) } });
    expect(byName.get("rapidclaw-gateway-redis")?.user).toBe("10003:10003");
    // The gateway and its Vault Agent share a uid, so the 0400 key files Vault Agent writes are the gateway's to read.
    expect(byName.get("rapidclaw-tool-gateway")?.user).toBe(byName.get("rapidclaw-tool-gateway-vault-agent")?.user);
  });

  it("bundles a Redis with no published port, no persistence, listening on its Redis-network address only", () => {
    const redis = byName.get("rapidclaw-gateway-redis")!;
    expect(redis.ports).toBeUndefined();
    expect(redis.entrypoint).toEqual(expect.arrayContaining(["--bind", "172.31.128.67", "--save", "", "--appendonly", "no", "--maxmemory-policy", "noeviction"]));
    expect(byName.get("rapidclaw-tool-gateway")?.env).toContain("RAPIDCLAW_REDIS_URL=redis://172.31.128.67:6379");
  });

  it("uses an existing Redis instead of the bundled one", () => {
    const other = dockerGateway(fronted(AgentPlatform.DOCKER, (s) => { s.gateway = { redis: { url: "rediss://redis.internal:6380" } }; }));
    expect(other.byName.has("rapidclaw-gateway-redis")).toBe(false);
    expect(other.byName.get("rapidclaw-tool-gateway")?.env).toContain("RAPIDCLAW_REDIS_URL=rediss://redis.internal:6380");
    expect(other.members.get("rapidclaw-gateway-limits")?.sort()).toEqual(["rapidclaw-proxy-events", "rapidclaw-tool-gateway"]);
  });

  it("with Redis credentials from Vault: the gateway reads the file its Vault Agent renders, and its policy reads that secret besides its keys", async () => {
    const other = dockerGateway(fronted(AgentPlatform.DOCKER, (s) => { s.gateway = { redis: { url: "rediss://redis.internal:6380", credentialsSecret: "redis/gateway" } }; }));
    const planned = other.plan.gateway!;
    const entrypoint: string[] = other.byName.get("rapidclaw-tool-gateway")?.entrypoint;
    expect(entrypoint.slice(entrypoint.indexOf("--redis-credentials-file"), entrypoint.indexOf("--redis-credentials-file") + 2)).toEqual(["--redis-credentials-file", planned.paths.redisCredentials]);
    const config = await parseHcl("agent.hcl", other.uploadOf("rapidclaw-tool-gateway-vault-agent", planned.paths.vaultAgentConfig));
    expect(config.template.map((t: Json) => t.destination)).toEqual([`${planned.paths.keyDir}/anthropic`, planned.paths.redisCredentials]);
    const policy = other.synth.resources("vault_policy").find((p) => p.name === "rapidclaw-tool-gateway")!;
    expect(Object.keys((await parseHcl("policy.hcl", policy.policy)).path).sort()).toEqual(["agent-keys/data/redis/gateway", "agent-keys/data/tools/anthropic"]);
  });

  it("tells each role's agents their gateway: its URL, the fronted tools they may use, the model API base URL, and the gateway's address in NO_PROXY", () => {
    const env = (agent: string) => Object.fromEntries((byName.get(agent)?.env as string[]).map((v) => [v.slice(0, v.indexOf("=")), v.slice(v.indexOf("=") + 1)]));
    const research = env("openclaw-agent");
    expect(research).toMatchObject({
      RAPIDCLAW_GATEWAY_URL: "http://172.30.16.3:8080",
      RAPIDCLAW_TOOL_ANTHROPIC_URL: "http://172.30.16.3:8080/tools/anthropic",
      ANTHROPIC_BASE_URL: "http://172.30.16.3:8080/tools/anthropic",
    });
    expect(research.NO_PROXY.split(",")).toContain("172.30.16.3");
    // news is DENY for research_agent, web_search has no upstream, and customer_support may use no fronted tool.
    expect(research.RAPIDCLAW_TOOL_NEWS_URL).toBeUndefined();
    expect(research.RAPIDCLAW_TOOL_WEB_SEARCH_URL).toBeUndefined();
    const support = env("hermes-agent");
    expect(Object.keys(support).filter((k) => k.startsWith("RAPIDCLAW_TOOL_") || k.endsWith("_BASE_URL"))).toEqual([]);
    expect(support.RAPIDCLAW_GATEWAY_URL).toBe("http://172.30.76.3:8080");
  });

  it("sets OPENAI_BASE_URL with the SDK's /v1 when the upstream has no path, and without it when the upstream carries it", () => {
    const withOpenAi = (upstream: string) => {
      const spec = fronted(AgentPlatform.DOCKER, (s) => {
        s.tools = { ...s.tools, openai: { upstream } };
        s.modelHosts = ["api.mistral.ai"];
        s.roles = { ...s.roles, research_agent: { ...s.roles.research_agent, tools: { ...s.roles.research_agent.tools, openai: "WRITE" as never } } };
      });
      return (dockerGateway(spec).byName.get("openclaw-agent")?.env as string[]).find((v) => v.startsWith("OPENAI_BASE_URL="));
    };
    expect(withOpenAi("https://api.openai.com")).toBe("OPENAI_BASE_URL=http://172.30.16.3:8080/tools/openai/v1");
    expect(withOpenAi("https://api.openai.com/v1")).toBe("OPENAI_BASE_URL=http://172.30.16.3:8080/tools/openai");
  });

  it("puts no key anywhere: agents get URLs, the only Terraform value uploaded is the Vault Agent's role ID, and no SecretID is made in Terraform", () => {
    for (const [name, container] of byName) {
      for (const upload of container.upload ?? []) {
        const references = (upload.content as string ?? "").replace(/\$\$\{/g, "").match(/\$\{[^}]*\}/g) ?? [];
        if (name === "rapidclaw-tool-gateway-vault-agent" && upload.file === "/etc/rapidclaw/role-id") {
          expect(references).toEqual([expect.stringMatching(/^\$\{vault_approle_auth_backend_role\.tool-gateway_docker_login_[0-9A-F]+\.role_id\}$/)]);
        } else {
          expect(references, `${name} ${upload.file}`).toEqual([]);
        }
      }
      for (const variable of container.env ?? []) expect(variable, name).not.toMatch(/KEY|TOKEN|SECRET|PASSWORD|\$\{/i);
    }
    expect(built.synth.json).not.toMatch(/"api_key"\s*:\s*"[^$]/);
  });

  it("gives the keys it holds to the gateway alone: its policy reads exactly them, no agent role's policy reads any, and its login is bound to the Vault network", async () => {
    const policies = built.synth.resources("vault_policy");
    const pathsOf = async (policy: string) => Object.keys((await parseHcl("policy.hcl", policy)).path ?? {}).sort();
    const gatewayPolicy = policies.find((p) => p.name === "rapidclaw-tool-gateway")!;
    expect(await pathsOf(gatewayPolicy.policy)).toEqual(["agent-keys/data/tools/anthropic"]);
    for (const policy of policies.filter((p) => p !== gatewayPolicy)) {
      expect(await pathsOf(policy.policy), policy.name).not.toContain("agent-keys/data/tools/anthropic");
    }
    const logins = built.synth.resources("vault_approle_auth_backend_role");
    const login = logins.find((l) => l.role_name === "rapidclaw-tool-gateway")!;
    expect(login).toMatchObject({ secret_id_bound_cidrs: [docker.vaultNetwork.subnet], token_bound_cidrs: [docker.vaultNetwork.subnet], token_no_default_policy: true });
    expect(login.token_policies).toEqual([expect.stringMatching(/^\$\{vault_policy\.tool-gateway_policy_[0-9A-F]+\.name\}$/)]);
    for (const other of logins.filter((l) => l !== login)) expect(other.token_policies).not.toEqual(login.token_policies);
    // The SecretID is the operator's to write into the Vault Agent's approle volume: none is in the state.
    expect(built.synth.resources("vault_approle_auth_backend_role_secret_id")).toEqual([]);
  });

  it("renders the gateway's keys with a Vault Agent whose uploaded config parses as HCL, into a memory-backed volume the gateway mounts read-only", async () => {
    const config = await parseHcl("agent.hcl", uploadOf("rapidclaw-tool-gateway-vault-agent", gateway.paths.vaultAgentConfig));
    expect(config.vault[0].address).toBe("http://vault:8200");
    expect(config.auto_auth[0].method.approle[0].config).toMatchObject({ role_id_file_path: "/etc/rapidclaw/role-id", secret_id_file_path: "/run/rapidclaw/approle/secret-id" });
    const secretIdMount = byName.get("rapidclaw-tool-gateway-vault-agent")?.mounts.find((m: Json) => m.target === "/run/rapidclaw/approle");
    expect(secretIdMount).toMatchObject({ type: "volume", read_only: true, source: expect.stringContaining("docker_volume.") });
    expect(config.template.map((t: Json) => t.destination)).toEqual([`${gateway.paths.keyDir}/anthropic`]);
    const volume = built.synth.resources("docker_volume").find((v) => v.name === "rapidclaw-tool-gateway-keys")!;
    expect(volume.driver_opts).toMatchObject({ type: "tmpfs", device: "tmpfs" });
    const keyMount = (name: string) => byName.get(name)?.mounts.find((m: Json) => m.target === gateway.paths.keyDir);
    expect(keyMount("rapidclaw-tool-gateway")).toMatchObject({ type: "volume", read_only: true, source: expect.stringContaining("docker_volume.") });
    expect(keyMount("rapidclaw-tool-gateway-vault-agent")).toMatchObject({ type: "volume", source: expect.stringContaining("docker_volume.") });
    expect(keyMount("rapidclaw-tool-gateway-vault-agent")?.read_only).toBeUndefined();
  });

  it("gives a role whose keys all go through the gateway no policy and no login", () => {
    // Every key of the seed the roles use goes to the gateway: each such tool gets an upstream.
    const other = dockerGateway(fronted(AgentPlatform.DOCKER, (s) => {
      s.tools = Object.fromEntries(Object.entries(s.tools).map(([name, tool]) => [name, tool.key ? { ...tool, key: { ...tool.key, delivery: undefined }, upstream: tool.upstream ?? `https://${name.replace(/_/g, "-")}.example.com` } : tool]));
    }));
    expect(other.synth.resources("vault_policy").map((p) => p.name)).toEqual(["rapidclaw-tool-gateway"]);
    expect(other.synth.resources("vault_approle_auth_backend_role").map((l) => l.role_name)).toEqual(["rapidclaw-tool-gateway"]);
  });

  it("has no Vault Agent, volume or login when it holds no key", () => {
    const other = dockerGateway(fronted(AgentPlatform.DOCKER, (s) => { s.tools = { ...s.tools, anthropic: { upstream: "https://api.anthropic.com" } }; }));
    expect(other.byName.has("rapidclaw-tool-gateway-vault-agent")).toBe(false);
    expect(other.synth.resources("docker_volume")).toEqual([]);
    expect(other.synth.resources("vault_approle_auth_backend_role").map((l) => l.role_name)).not.toContain("rapidclaw-tool-gateway");
  });

  it("stands alone in a user's stack: network, proxy, keys and gateway, the same containers as the whole stack's", () => {
    const stack = new TerraformStack(new App(), "user-stack");
    new DockerProvider(stack, "docker", {});
    new VaultProvider(stack, "vault", {});
    new RandomProvider(stack, "random", {});
    new TimeProvider(stack, "time", {});
    const spec = FirewallSpec.fromProps(fronted(AgentPlatform.DOCKER));
    const network = new IsolatedAgentNetwork(stack, "network", { spec });
    const gateway = new ToolGateway(stack, "gateway", { network, proxy: new EgressProxy(stack, "proxy", { network }), keys: new ScopedAgentKeys(stack, "keys", { spec }) });
    const names = synthesize(stack).resources("docker_container").map((c) => c.name).sort();
    expect(names).toEqual(["rapidclaw-egress-proxy", "rapidclaw-gateway-redis", "rapidclaw-tool-gateway", "rapidclaw-tool-gateway-vault-agent"]);
    expect(gateway.urls).toEqual(built.synth.doc.output.gateway_urls.value);
    expect(gateway.keyGrant?.tools).toEqual(["anthropic"]);
    expect(() => gateway.kubernetes).toThrow(/platform "kubernetes"/);
  });

  it("names the build command when the bundle is missing", () => {
    expect(() => GatewayBundle.fromFile(join(__dirname, "no-such-bundle.cjs"))).toThrow(/npm run build/);
  });

  it("synthesizes byte-identical JSON for the same description", () => {
    expect(dockerGateway().synth.json).toBe(built.synth.json);
  });

  it("refuses a deployment it cannot make before adding anything: Vault's address missing", () => {
    const app = new App();
    const spec = fronted(AgentPlatform.DOCKER, (s) => { s.vault = undefined; });
    expect(() => new RapidClawStack(app, "agent-firewall", spec)).toThrow(FirewallSpecError);
    expect(() => new RapidClawStack(app, "agent-firewall", spec)).toThrow(/vault\.address: the gateway holds the keys of anthropic/);
    expect(app.node.children).toHaveLength(0);
    expect(compileFirewall(spec).gateway?.custodyTools).toEqual(["anthropic"]);
  });
});
