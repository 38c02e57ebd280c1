import { App } from "cdktf";
import { describe, expect, it } from "vitest";
import { AgentPlatform, FirewallSpecError, RapidClawStack, type RapidClawStackProps } from "../src";
import { renderSquidConfForPlan } from "../src/render/squid-conf";
import { SQUID_SNI_HELPER } from "../src/render/squid-tls";
import { firewallScenario } from "../examples/firewall-scenario";
import { terraformLiteral } from "../src/terraform/terraform-literal";
import { squidBinary, squidParse } from "./support/squid";
import { canonicalJson, synthesize } from "./support/synth";
import { planOf } from "../src/plan/firewall-spec";
import { GATEWAY_PATHS } from "../src/plan/gateway-plan";

function dockerStack(props: RapidClawStackProps = firewallScenario(AgentPlatform.DOCKER)) {
  const stack = new RapidClawStack(new App(), "agent-firewall", props);
  return { stack, synth: synthesize(stack) };
}

describe("RapidClawStack on Docker", () => {
  const { stack, synth } = dockerStack();
  const networks = synth.resources("docker_network");
  const containers = synth.resources("docker_container");
  const roleNetworks = networks.filter((n) => n.internal === true && n.name.startsWith("rapidclaw-agents-"));
  const egress = networks.find((n) => n.internal !== true);
  const proxy = containers.find((c) => c.name === "rapidclaw-egress-proxy");
  const agents = containers.filter((c) => c.labels.some((l: any) => l.label === "rapidclaw.dev/component" && l.value === "agent"));
  const ref = (network: Record<string, any>) => `\${docker_network.${Object.entries(synth.doc.resource.docker_network).find(([, v]) => v === network)?.[0]}.name}`;
  const networkOf = (name: string) => roleNetworks.find((n) => n.name === name) as Record<string, any>;

  it("matches the snapshot (the bundle's asset path and hash left out: they change with every source change)", () => {
    const doc = JSON.parse(synth.json);
    for (const container of Object.values<any>(doc.resource.docker_container)) {
      for (const upload of container.upload ?? []) if (upload.file === GATEWAY_PATHS.bundle) Object.assign(upload, { source: "<the bundle's asset>", source_hash: "<its sha256>" });
    }
    expect(canonicalJson(JSON.stringify(doc))).toMatchSnapshot();
  });

  it("gives each role its own internal network, with no host address on its named bridge, and a separate egress network", () => {
    expect(roleNetworks.map((n) => n.name).sort()).toEqual(["rapidclaw-agents-customer-support", "rapidclaw-agents-research-agent"]);
    expect(networkOf("rapidclaw-agents-research-agent").ipam_config).toEqual([{ subnet: "172.30.16.0/24", gateway: "172.30.16.1", ip_range: "172.30.16.128/25" }]);
    expect(networkOf("rapidclaw-agents-research-agent").options).toEqual({ "com.docker.network.bridge.inhibit_ipv4": "true", "com.docker.network.bridge.name": "rclaw-ac1e1000" });
    expect(networkOf("rapidclaw-agents-customer-support").ipam_config).toEqual([{ subnet: "172.30.76.0/24", gateway: "172.30.76.1", ip_range: "172.30.76.128/25" }]);
    expect(egress?.ipam_config).toEqual([{ subnet: "172.31.0.0/24" }]);
  });

  it("puts the proxy on every role network, at the role's proxy address, and on the egress network", () => {
    expect(proxy).toBeDefined();
    const joined = proxy?.networks_advanced.map((n: any) => [n.name, n.ipv4_address]).sort();
    expect(joined).toEqual(
      [
        [ref(networkOf("rapidclaw-agents-customer-support")), "172.30.76.2"],
        [ref(networkOf("rapidclaw-agents-research-agent")), "172.30.16.2"],
        [ref(egress!), undefined],
      ].sort(),
    );
  });

  it("puts every agent on its role's network only, addressed by the engine unless pinned", () => {
    expect(agents.map((a) => [a.name, a.networks_advanced])).toEqual([
      ["hermes-agent", [{ name: ref(networkOf("rapidclaw-agents-customer-support")) }]],
      ["openclaw-agent", [{ name: ref(networkOf("rapidclaw-agents-research-agent")) }]],
    ]);
  });

  it("hardens agent containers and points them at their role's proxy address", () => {
    const proxyAddress = { "hermes-agent": "172.30.76.2", "openclaw-agent": "172.30.16.2" } as Record<string, string>;
    for (const agent of agents) {
      expect(agent.capabilities).toEqual({ drop: ["ALL"] });
      expect(agent.security_opts).toEqual(["no-new-privileges:true"]);
      expect(agent.read_only).toBe(true);
      expect(agent.env).toContain(`HTTPS_PROXY=http://${proxyAddress[agent.name]}:3128`);
      expect(agent.env).toContain(`HTTP_PROXY=http://${proxyAddress[agent.name]}:3128`);
      expect(agent.env.some((e: string) => e.startsWith("NO_PROXY="))).toBe(true);
      expect(agent.labels).toContainEqual({ label: "rapidclaw.dev/component", value: "agent" });
    }
    const openclaw = agents.find((a) => a.name === "openclaw-agent");
    expect(openclaw?.memory).toBe(2048);
    expect(openclaw?.cpus).toBe("1");
    expect(openclaw?.labels).toContainEqual({ label: "rapidclaw.dev/role", value: "research-agent" });
  });

  it("lets agents reach proxy.noProxy hosts directly (NO_PROXY), after localhost", () => {
    const { synth: direct } = dockerStack({ ...firewallScenario(AgentPlatform.DOCKER), proxy: { noProxy: ["Vault.Internal.", "172.30.0.5", "vault.internal"] } });
    for (const agent of direct.resources("docker_container").filter((c) => c.name.endsWith("-agent"))) {
      expect(agent.env).toContain("NO_PROXY=localhost,127.0.0.1,::1,172.30.0.5,vault.internal");
      expect(agent.env).toContain("no_proxy=localhost,127.0.0.1,::1,172.30.0.5,vault.internal");
    }
  });

  it("gives a role that allows the file system a writable root", () => {
    const props = firewallScenario(AgentPlatform.DOCKER);
    const roles = { ...props.roles, research_agent: { ...props.roles.research_agent, allowFileSystem: true } };
    const { synth: writable } = dockerStack({ ...props, roles });
    const openclaw = writable.resources("docker_container").find((c) => c.name === "openclaw-agent");
    expect(openclaw?.read_only).toBe(false);
    expect(openclaw?.tmpfs).toBeUndefined();
    expect(openclaw?.mounts).toBeUndefined();
  });

  it("uploads the squid.conf rendered for the plan, and runs Squid as the proxy user", () => {
    expect(proxy?.upload).toEqual([
      { file: "/etc/squid/squid.conf", content: terraformLiteral(renderSquidConfForPlan(planOf(stack.spec))), permissions: "0644" },
      { file: "/etc/squid/rapidclaw-sni-present.sh", content: SQUID_SNI_HELPER, permissions: "0644" },
    ]);
    // A throwaway certificate for the ssl-bump ports in its tmpfs (nothing is bumped), then Squid.
    expect(proxy?.entrypoint).toEqual(["sh", "-c", expect.stringMatching(/^openssl req -x509 .*-keyout \/dev\/shm\/.* \|\| exit 1; while .*\/var\/log\/squid\/events\.log.* kill -USR1 \$\$; done & exec squid -N -f \/etc\/squid\/squid\.conf$/)]);
    expect(proxy?.user).toBe("proxy");
    expect(proxy?.capabilities).toEqual({ drop: ["ALL"] });
  });

  it("runs agents as a non-root user with process and log limits, and limits the proxy", () => {
    for (const agent of agents) {
      expect(agent.user).toMatch(/^2\d{6}:2\d{6}$/); // its role's own uid (role-uids.test.ts)
      expect(agent.ulimit).toEqual([{ name: "nproc", soft: 512, hard: 512 }]);
      expect(agent.log_driver).toBe("json-file");
      expect(agent.log_opts).toEqual({ "max-file": "3", "max-size": "10m" });
    }
    expect(proxy).toMatchObject({ memory: 512, cpus: "1", ulimit: [{ name: "nproc", soft: 256, hard: 256 }], log_driver: "json-file", log_opts: { "max-file": "3", "max-size": "10m" } });
    const props = firewallScenario(AgentPlatform.DOCKER);
    const { synth: tuned } = dockerStack({
      ...props,
      agents: [{ ...props.agents![0], user: "0", processLimit: 64 }],
      proxy: { memory: "1G", cpus: 2, processLimit: 128 },
    });
    const root = tuned.resources("docker_container").find((c) => c.name === props.agents![0].name);
    expect(root).toMatchObject({ user: "0", ulimit: [{ name: "nproc", soft: 64, hard: 64 }] });
    expect(tuned.resources("docker_container").find((c) => c.name === "rapidclaw-egress-proxy")).toMatchObject({ memory: 1024, cpus: "2", ulimit: [{ name: "nproc", soft: 128, hard: 128 }] });
  });

  it("puts every upload of a read-only container in a writable volume (Docker refuses others)", () => {
    const inVolume = (container: any, file: string) =>
      (container.mounts ?? []).some((m: any) => m.type === "volume" && m.read_only !== true && file.startsWith(`${m.target}/`));
    for (const container of containers) {
      expect(container.read_only).toBe(true);
      expect(container.remove_volumes).toBe(true);
      for (const upload of container.upload ?? []) expect(inVolume(container, upload.file), `${container.name}: ${upload.file}`).toBe(true);
    }
    // The second: the event log's directory, which proxy-events mounts from the proxy.
    expect(proxy?.mounts).toEqual([{ target: "/etc/squid", type: "volume" }, { target: "/var/log/squid", type: "volume" }]);
    expect(agents[0].mounts).toEqual([{ target: "/etc/rapidclaw", type: "volume" }]);
  });

  it.skipIf(squidBinary === undefined)("synthesizes a squid.conf that real Squid accepts", () => {
    // What the provider writes: Terraform turns the escaped `%%{` back into `%{`.
    const conf = (proxy?.upload[0].content as string).replace(/%%\{/g, "%{").replace(/\$\$\{/g, "${");
    const result = squidParse(conf);
    expect(result.problems).toEqual([]);
    expect(result.status).toBe(0);
  });

  it("synthesizes byte-identical JSON for the same input", () => {
    expect(dockerStack().synth.json).toBe(synth.json);
  });

  it("refuses an invalid spec before adding the stack to the app", () => {
    const app = new App();
    const props = firewallScenario(AgentPlatform.DOCKER);
    expect(() => new RapidClawStack(app, "bad", { ...props, roles: { r: { tools: { web_serch: "READ" as any } } }, agents: [] })).toThrow(FirewallSpecError);
    expect(app.node.children).toHaveLength(0);
  });
});

/**
 * Findings of the security review (issue 11): each test fails on the design with one shared
 * agent network, source-address identity and name-order addresses.
 */
describe("Docker confinement by construction (review findings)", () => {
  const seed = firewallScenario(AgentPlatform.DOCKER);
  const roleNetworkName = (role: string) => `rapidclaw-agents-${role.replace(/_/g, "-")}`;
  const networksByName = (synth: ReturnType<typeof synthesize>) => new Map(synth.resources("docker_network").map((n) => [n.name, n]));
  const agentNetworks = (synth: ReturnType<typeof synthesize>) =>
    Object.fromEntries(synth.resources("docker_container").filter((c) => c.name !== "rapidclaw-egress-proxy").map((c) => [c.name, c.networks_advanced]));

  it("no two roles' agents share a network", () => {
    const { synth } = dockerStack();
    const joined = agentNetworks(synth);
    expect(joined["openclaw-agent"][0].name).not.toBe(joined["hermes-agent"][0].name);
  });

  it("no agent bridge holds a host address, and every agent bridge has a name host rules can match", () => {
    const { synth } = dockerStack();
    for (const role of Object.keys(seed.roles)) {
      const options = networksByName(synth).get(roleNetworkName(role))?.options ?? {};
      expect(options["com.docker.network.bridge.inhibit_ipv4"]).toBe("true");
      expect(options["com.docker.network.bridge.name"]).toMatch(/^rclaw-[0-9a-f]{8}$/);
    }
  });

  it("the proxy tells roles apart by the listener reached, never by source address", () => {
    const conf = renderSquidConfForPlan(planOf(dockerStack().stack.spec));
    expect(conf).not.toMatch(/^acl \S+ src /m);
    expect(conf.match(/^http_port \S+/gm)).toEqual(["http_port 172.30.76.2:3128", "http_port 172.30.16.2:3128"]);
  });

  it("adding an agent (first in name order) moves no other agent and no network", () => {
    const before = dockerStack().synth;
    const after = dockerStack({ ...seed, agents: [{ name: "aardvark-agent", image: "openclaw/agent:latest", role: "research_agent" }, ...seed.agents!] }).synth;
    const { "aardvark-agent": added, ...kept } = agentNetworks(after);
    expect(added).toBeDefined();
    expect(kept).toEqual(agentNetworks(before));
    expect(after.resources("docker_network")).toEqual(before.resources("docker_network"));
  });

  it("adding a role between two others in name order moves no existing role's subnet, proxy address or Vault binding", () => {
    const before = dockerStack().synth;
    const after = dockerStack({ ...seed, roles: { ...seed.roles, data_analyst: {} } }).synth;
    for (const role of Object.keys(seed.roles)) {
      expect(networksByName(after).get(roleNetworkName(role))).toEqual(networksByName(before).get(roleNetworkName(role)));
    }
    const bindings = (synth: ReturnType<typeof synthesize>) => synth.resources("vault_approle_auth_backend_role").map((r) => [r.role_name, r.secret_id_bound_cidrs, r.token_bound_cidrs]);
    expect(bindings(after).filter(([name]) => name !== "rapidclaw-data-analyst")).toEqual(bindings(before));
  });

  it("a container attached later gets an address from the upper half: never the proxy's or a pinned agent's", () => {
    const { synth } = dockerStack({ ...seed, agents: [{ ...seed.agents![0], ipv4Address: "172.30.16.10" }, seed.agents![1]] });
    const network = networksByName(synth).get(roleNetworkName("research_agent"));
    expect(network?.ipam_config).toEqual([{ subnet: "172.30.16.0/24", gateway: "172.30.16.1", ip_range: "172.30.16.128/25" }]);
    expect(agentNetworks(synth)["openclaw-agent"][0].ipv4_address).toBe("172.30.16.10");
  });

  it("binds each role's AppRole SecretIDs and tokens to the role's own subnet", () => {
    const { synth } = dockerStack();
    const logins = Object.fromEntries(synth.resources("vault_approle_auth_backend_role").map((r) => [r.role_name, [r.secret_id_bound_cidrs, r.token_bound_cidrs]]));
    expect(logins["rapidclaw-research-agent"]).toEqual([["172.30.16.0/24"], ["172.30.16.0/24"]]);
    expect(logins["rapidclaw-customer-support"]).toEqual([["172.30.76.0/24"], ["172.30.76.0/24"]]);
  });

  it("a role pinned in docker.roleSubnets keeps that subnet", () => {
    const { synth } = dockerStack({ ...seed, docker: { roleSubnets: { research_agent: "10.40.0.0/26" } } });
    expect(networksByName(synth).get(roleNetworkName("research_agent"))?.ipam_config).toEqual([{ subnet: "10.40.0.0/26", gateway: "10.40.0.1", ip_range: "10.40.0.32/27" }]);
  });
});
