/**
 * The host firewall of a bare VM that runs the tool gateway, on a real kernel: one network
 * namespace stands for the VM. The gateway's per-role listeners (served here by a process running
 * as the gateway's user, which is confined too), Redis, one proxy port per role and another
 * loopback service listen inside; clients run as each role's agent user, as the gateway's user
 * and as a user the firewall does not know. Each agent user must reach only its own role's
 * gateway and proxy ports, on every local address, and the gateway's user Redis and its own
 * proxy port, none of the agents' ports.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HostEgressFirewall } from "../../src/constructs/host-egress-firewall";
import type { HostFirewallOptions } from "../../src/model/host-firewall-types";
import { AgentPlatform, ToolAccess, type FirewallSpecProps } from "../../src/model/types";
import { renderHostFirewall } from "../../src/render/host-firewall/scripts";
import { backendEnvironment, IPTABLES_TOOLS, iptablesBackends } from "./support/iptables-backends";
import { NetAgent, type RunAs } from "./support/net-agent-client";
import { NetworkNamespace } from "./support/netns";
import { missingPrerequisites, skipLoudly } from "./support/prerequisites";

const SKIP = skipLoudly("VM gateway firewall e2e", missingPrerequisites(["ip", "setpriv", "unshare", ...IPTABLES_TOOLS], { namespaces: true }));

const SPEC: FirewallSpecProps = {
  platform: AgentPlatform.DOCKER,
  modelHosts: ["api.anthropic.com"],
  tools: { web_search: { upstream: "https://search.example.com", key: {} } },
  roles: { research: { tools: { web_search: ToolAccess.READ } }, support: {} },
  agents: [],
};

const RESEARCH: RunAs = { uid: 4301, gid: 4301 };
const SUPPORT: RunAs = { uid: 4302, gid: 4302 };
const GATEWAY: RunAs = { uid: 4303, gid: 4303 };
const OUTSIDER: RunAs = { uid: 4304, gid: 4304 };
const REDIS = 6379;
const PROXY = { research: 3129, support: 3130, gateway: 3131 };
const OTHER_SERVICE = 5000;

const RESERVED = [
  ...HostEgressFirewall.gatewayReservations(SPEC, {
    roleUsers: { research: [String(RESEARCH.uid)], support: [String(SUPPORT.uid)] },
    gatewayUser: String(GATEWAY.uid),
    redis: { address: "127.0.0.1", port: REDIS },
    upstreamProxy: { address: "127.0.0.1", port: PROXY.gateway },
  }),
  { address: "127.0.0.1", port: PROXY.research, users: [String(RESEARCH.uid)] },
  { address: "127.0.0.1", port: PROXY.support, users: [String(SUPPORT.uid)] },
];
const [RESEARCH_PORT, SUPPORT_PORT] = [RESERVED[0].port, RESERVED[1].port];
const OPTIONS: HostFirewallOptions = { users: [String(RESEARCH.uid), String(SUPPORT.uid)], reservedEndpoints: RESERVED, namePrefix: "HVM" };

/** Where the listeners are: the gateway's research port also on ::1, its support port on every IPv4 address (`served`). */
const TARGETS: Array<{ name: string; host: string; port: number; served?: string; reach: RunAs[] }> = [
  { name: "research's gateway port", host: "127.0.0.1", port: RESEARCH_PORT, reach: [RESEARCH] },
  { name: "research's gateway port over IPv6", host: "::1", port: RESEARCH_PORT, reach: [RESEARCH] },
  { name: "support's gateway port", host: "127.0.0.1", port: SUPPORT_PORT, served: "0.0.0.0", reach: [SUPPORT] },
  { name: "support's gateway port on another loopback address", host: "127.0.0.2", port: SUPPORT_PORT, served: "0.0.0.0", reach: [SUPPORT] },
  { name: "research's proxy port", host: "127.0.0.1", port: PROXY.research, reach: [RESEARCH] },
  { name: "support's proxy port", host: "127.0.0.1", port: PROXY.support, reach: [SUPPORT] },
  { name: "Redis", host: "127.0.0.1", port: REDIS, reach: [GATEWAY] },
  { name: "the gateway's proxy port", host: "127.0.0.1", port: PROXY.gateway, reach: [GATEWAY] },
  { name: "another loopback service", host: "127.0.0.1", port: OTHER_SERVICE, reach: [RESEARCH, SUPPORT, GATEWAY] },
];
const USERS = [
  { user: "research's agent user", runAs: RESEARCH },
  { user: "support's agent user", runAs: SUPPORT },
  { user: "the gateway's user", runAs: GATEWAY },
  { user: "a user the firewall does not know", runAs: OUTSIDER },
];

describe.skipIf(SKIP).each(iptablesBackends())("VM gateway firewall, $name iptables backend", (backend) => {
  let vm: NetworkNamespace | undefined;
  const agents: NetAgent[] = [];
  const clients = new Map<number, NetAgent>();
  let dir: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "hvm-vmgw-"));
    env = backendEnvironment(backend, dir);
    vm = NetworkNamespace.create(`hvm-vmgw-${backend.name}`);
    const gateway = await NetAgent.start(vm, GATEWAY);
    const services = await NetAgent.start(vm);
    agents.push(gateway, services);
    const serve = (agent: NetAgent, host: string, port: number) => agent.call({ op: "serveTcp", host, port, banner: `${host} ${port}` });
    await serve(gateway, "127.0.0.1", RESEARCH_PORT);
    await serve(gateway, "::1", RESEARCH_PORT);
    await serve(gateway, "0.0.0.0", SUPPORT_PORT);
    for (const port of [REDIS, PROXY.research, PROXY.support, PROXY.gateway, OTHER_SERVICE]) await serve(services, "127.0.0.1", port);
    for (const { runAs } of USERS) {
      const client = await NetAgent.start(vm, runAs);
      agents.push(client);
      clients.set(runAs.uid, client);
    }
    const script = join(dir, "apply.sh");
    writeFileSync(script, renderHostFirewall(OPTIONS).applyScript);
    vm.run("sh", [script], { env });
  });

  afterAll(async () => {
    for (const agent of agents) await agent.stop();
    vm?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  describe.each(USERS)("$user", ({ runAs }) => {
    it.each(TARGETS.map((t) => ({ ...t, label: `${t.name} (${t.host}:${t.port})` })))("$label", async (target) => {
      const confined = [RESEARCH, SUPPORT, GATEWAY].includes(runAs);
      const allowed = !confined || target.reach.includes(runAs);
      const outcome = await (clients.get(runAs.uid) as NetAgent).connectTcp({ host: target.host, port: target.port, timeoutMs: 2_000 });
      const context = `uid ${runAs.uid} to ${target.host}:${target.port}: ${JSON.stringify(outcome)}`;
      if (allowed) expect(outcome, context).toEqual({ outcome: "data", data: `${target.served ?? target.host} ${target.port}` });
      else expect(outcome, context).toEqual({ outcome: "error", code: "ECONNREFUSED" });
    });
  });
});
