/**
 * The host egress firewall scripts on a real kernel: a "VM" network namespace joined by a veth
 * pair to a "network" namespace that serves a DNS resolver, a proxy port and other endpoints.
 * The apply script runs inside the VM namespace; clients run there as agent users and as
 * another user. Blocked packets are counted on the firewall's LOG rule (a LOG target inside a
 * network namespace writes nothing to the kernel log unless the host enables nf_log_all_netns,
 * so the counters are what shows that blocked attempts were logged).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HostFirewallAction, renderHostFirewall, renderHostFirewallRuleset, type HostFirewallOptions } from "../../src/render/host-firewall";
import { NetAgent, type RunAs } from "./support/net-agent-client";
import type { ConnectOutcome } from "./support/net-agent-protocol";
import { connectNamespaces, NetworkNamespace, type CommandResult } from "./support/netns";
import { backendEnvironment, IPTABLES_TOOLS, iptablesBackends } from "./support/iptables-backends";
import { missingPrerequisites, skipLoudly } from "./support/prerequisites";
import { firewallScenario } from "../../examples/firewall-scenario";
import { AgentPlatform } from "../../src/model/types";
import { compileFirewall } from "../../src/plan/plan";
import { renderSquidConfForPlan } from "../../src/render/squid-conf";
import { DnsStub } from "./support/dns-stub";
import { confinedVerdicts, runBundledProbeAs, verdictsOf } from "./support/probe-run";
import { prepareSquidFiles, removeSquidFiles, SquidProcess, type SquidFiles } from "./support/squid";

const SKIP = skipLoudly("host egress firewall e2e", missingPrerequisites(["ip", "setpriv", "unshare", ...IPTABLES_TOOLS], { namespaces: true }));

// Addresses of the "network" side; the VM is 198.51.100.2 and 2001:db8:1::2.
const RESOLVER = "198.51.100.1";
const OTHER_RESOLVER = "198.51.100.9";
const BACKEND = "198.51.100.200";
const RESOLVER6 = "2001:db8:1::1";
const OTHER_RESOLVER6 = "2001:db8:1::9";
const VM = "198.51.100.2";
const PROXY_PORT = 3128;

/**
 * `rapidclaw probe` as an agent user of the VM: the role's Squid (the example description on
 * Kubernetes, one port per role) on the network side, its allowed host resolving to BACKEND:443,
 * and the VM's resolver a DNS stand-in that resolves every name but is not a listed resolver.
 */
const PROBE_SPEC = firewallScenario(AgentPlatform.KUBERNETES);
const PROBE_PLAN = compileFirewall(PROBE_SPEC);
const PROBE_ROLE = PROBE_PLAN.roles.find((r) => r.name === "research_agent")!;
const PROBE_OTHER_ROLE = PROBE_PLAN.roles.find((r) => r.name !== PROBE_ROLE.name)!;
const SQUID_ADDRESS = "198.51.100.3";
const VM_RESOLVER = "198.51.100.10";
const VM_SERVICE_PORT = 8080;

/** Agent users: one by name (nobody, also listed by its uid) and one by a bare uid with no passwd entry. */
const NOBODY: RunAs = { uid: 65534, gid: 65534 };
const AGENT_UID: RunAs = { uid: 4242, gid: 4242 };
const OTHER_USER: RunAs = { uid: 4243, gid: 4243 };

const OPTIONS: HostFirewallOptions = {
  users: ["nobody", String(NOBODY.uid), String(AGENT_UID.uid)],
  dnsResolvers: [RESOLVER, RESOLVER6],
  dnsReason: "the suite checks the opted-in resolvers stay reachable",
  proxyEndpoints: [
    { address: RESOLVER, port: PROXY_PORT },
    { address: RESOLVER6, port: PROXY_PORT },
    // The probed role's own listener; the other role's is not the VM's.
    { address: SQUID_ADDRESS, port: PROBE_ROLE.proxyPort },
  ],
  cidrs: [{ cidr: "198.51.100.128/25", ports: [5432, 6543] }],
  namePrefix: "RCTEST",
  // High enough that every blocked packet of the test is logged, so counters can be exact.
  logRatePerMinute: 10_000,
  logBurst: 100,
};
const CHAIN = "RCTEST-EGRESS";

/**
 * Rules the host already has. The ACCEPT for [RESOLVER6]:443 sits above where the firewall's
 * jumps go; the REJECT of 6543 applies to everyone, also after the firewall allowed it.
 */
const FOREIGN_RULES: Record<4 | 6, string[][]> = {
  4: [
    ["-N", "SITE-AUDIT"],
    ["-A", "SITE-AUDIT", "-j", "RETURN"],
    ["-A", "OUTPUT", "-j", "SITE-AUDIT"],
    ["-A", "OUTPUT", "-p", "tcp", "-d", BACKEND, "--dport", "6543", "-j", "REJECT", "--reject-with", "tcp-reset"],
  ],
  6: [["-A", "OUTPUT", "-p", "tcp", "-d", RESOLVER6, "--dport", "443", "-j", "ACCEPT"]],
};

type Protocol = "tcp" | "udp";

interface Attempt {
  readonly protocol: Protocol;
  readonly host: string;
  readonly port: number;
  /** What the firewall's chain does with an agent user's packet. */
  readonly firewall: "allow" | "block";
  /** A foreign rule rejects this for every user, whatever the firewall says. */
  readonly foreignReject?: boolean;
  readonly why: string;
}

const ATTEMPTS: Attempt[] = [
  { protocol: "udp", host: RESOLVER, port: 53, firewall: "allow", why: "DNS to the listed resolver" },
  { protocol: "tcp", host: RESOLVER, port: 53, firewall: "allow", why: "DNS over TCP to the listed resolver" },
  { protocol: "udp", host: OTHER_RESOLVER, port: 53, firewall: "block", why: "DNS to an unlisted resolver" },
  { protocol: "tcp", host: OTHER_RESOLVER, port: 53, firewall: "block", why: "DNS over TCP to an unlisted resolver" },
  { protocol: "tcp", host: RESOLVER, port: PROXY_PORT, firewall: "allow", why: "the proxy endpoint" },
  { protocol: "tcp", host: RESOLVER, port: 443, firewall: "block", why: "direct HTTPS, bypassing the proxy" },
  { protocol: "tcp", host: BACKEND, port: 5432, firewall: "allow", why: "a CIDR port" },
  { protocol: "tcp", host: BACKEND, port: 5433, firewall: "block", why: "an unlisted port in the CIDR" },
  { protocol: "tcp", host: BACKEND, port: 6543, firewall: "allow", foreignReject: true, why: "a CIDR port a foreign rule rejects for everyone" },
  { protocol: "tcp", host: "127.0.0.1", port: 8080, firewall: "allow", why: "loopback" },
  { protocol: "tcp", host: VM, port: 8080, firewall: "block", why: "the host's own non-loopback address" },
  { protocol: "udp", host: RESOLVER6, port: 53, firewall: "allow", why: "IPv6 DNS to the listed resolver" },
  { protocol: "tcp", host: RESOLVER6, port: 53, firewall: "allow", why: "IPv6 DNS over TCP to the listed resolver" },
  { protocol: "udp", host: OTHER_RESOLVER6, port: 53, firewall: "block", why: "IPv6 DNS to an unlisted resolver" },
  { protocol: "tcp", host: RESOLVER6, port: PROXY_PORT, firewall: "allow", why: "the IPv6 proxy endpoint" },
  { protocol: "tcp", host: RESOLVER6, port: 443, firewall: "block", why: "IPv6 direct HTTPS, despite a foreign ACCEPT above" },
  { protocol: "tcp", host: "::1", port: 8080, firewall: "allow", why: "IPv6 loopback" },
];
const DIRECT_HTTPS = ATTEMPTS.find((a) => a.host === RESOLVER && a.port === 443) as Attempt;

const versionOf = (host: string): 4 | 6 => (host.includes(":") ? 6 : 4);
const banner = (protocol: Protocol, host: string, port: number) => `${protocol} ${host}:${port}`;

/** Every listener the attempts need: the network side serves all but the VM's own. */
function listeners(onVm: boolean): Array<{ protocol: Protocol; host: string; port: number }> {
  const isVm = (host: string) => host === VM || host === "127.0.0.1" || host === "::1";
  const unique = new Map(ATTEMPTS.filter((a) => isVm(a.host) === onVm).map((a) => [`${a.protocol} ${a.host} ${a.port}`, a]));
  return [...unique.values()];
}

const BACKENDS = iptablesBackends();
if (!SKIP && BACKENDS.length === 1) console.warn("SKIPPED host egress firewall e2e on the legacy iptables backend: iptables-legacy is not installed");

describe.skipIf(SKIP).each(BACKENDS)("host egress firewall, $name iptables backend", (backend) => {
  let vm: NetworkNamespace | undefined;
  let network: NetworkNamespace | undefined;
  const agents: NetAgent[] = [];
  let clients: Map<number, NetAgent>;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let original: Record<4 | 6, string>;
  let installed: Record<4 | 6, string>;
  let squid: SquidProcess | undefined;
  let squidFiles: SquidFiles | undefined;
  let dns: DnsStub | undefined;

  const sh = (script: string, options: { allowFailure?: boolean } = {}): CommandResult => {
    const path = join(dir, "script.sh");
    writeFileSync(path, script);
    return (vm as NetworkNamespace).run("sh", [path], { env, ...options });
  };
  const iptables = (version: 4 | 6, args: string[]) => (vm as NetworkNamespace).run(version === 4 ? "iptables" : "ip6tables", args, { env });
  /** The whole ruleset as iptables-save prints it, without counters and comment lines. */
  const ruleset = (version: 4 | 6, counters = false) =>
    (vm as NetworkNamespace)
      .run(version === 4 ? "iptables-save" : "ip6tables-save", counters ? ["-c"] : [], { env })
      .stdout.split("\n")
      .filter((line) => !line.startsWith("#"))
      .map((line) => (counters ? line : line.replace(/ \[\d+:\d+\]$/, "")))
      .join("\n");
  /** Packets counted so far on the firewall's LOG rule. */
  const loggedPackets = (version: 4 | 6): number => {
    const line = ruleset(version, true).split("\n").find((l) => l.includes(`-A ${CHAIN} `) && l.includes("-j LOG"));
    if (!line) throw new Error(`no LOG rule in ${CHAIN}:\n${ruleset(version, true)}`);
    return Number(/^\[(\d+):/.exec(line)?.[1]);
  };

  const attempt = (client: NetAgent, a: Attempt): Promise<ConnectOutcome> =>
    a.protocol === "tcp" ? client.connectTcp({ host: a.host, port: a.port, timeoutMs: 2_000 }) : client.queryUdp({ host: a.host, port: a.port, timeoutMs: 1_000 });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "rapidclaw-hostfw-"));
    env = backendEnvironment(backend, dir);

    vm = NetworkNamespace.create(`rc-hfw-vm-${backend.name}`);
    network = NetworkNamespace.create(`rc-hfw-net-${backend.name}`);
    connectNamespaces(
      { ns: vm, device: "vm0", addresses: [`${VM}/24`, "2001:db8:1::2/64"] },
      { ns: network, device: "net0", addresses: [`${RESOLVER}/24`, `${OTHER_RESOLVER}/24`, `${BACKEND}/24`, `${SQUID_ADDRESS}/24`, `${VM_RESOLVER}/24`, `${RESOLVER6}/64`, `${OTHER_RESOLVER6}/64`] },
    );
    // Everything else leaves towards the network side, as from a VM with a default route.
    vm.ip(["route", "add", "default", "dev", "vm0"]);
    vm.ip(["-6", "route", "add", "default", "dev", "vm0"]);
    vm.setResolver(VM_RESOLVER);
    const servers = [await NetAgent.start(network), await NetAgent.start(vm)];
    agents.push(...servers);
    for (const [server, onVm] of [[servers[0], false], [servers[1], true]] as const) {
      for (const l of listeners(onVm)) await server.call({ op: l.protocol === "tcp" ? "serveTcp" : "serveUdp", host: l.host, port: l.port, banner: banner(l.protocol, l.host, l.port) });
    }
    await servers[0].call({ op: "serveTcp", host: BACKEND, port: 443, banner: "backend-443" });
    squidFiles = prepareSquidFiles("hfw-probe", PROBE_PLAN.modelHosts.map((h) => ({ name: h.domain, address: BACKEND })));
    squid = await SquidProcess.start(network, squidFiles, renderSquidConfForPlan(PROBE_PLAN, { listenAddress: SQUID_ADDRESS, hostsFile: squidFiles.hostsFile }));
    dns = await DnsStub.start(network, VM_RESOLVER);
    clients = new Map();
    for (const user of [NOBODY, AGENT_UID, OTHER_USER]) {
      const client = await NetAgent.start(vm, user);
      agents.push(client);
      clients.set(user.uid, client);
    }
    for (const version of [4, 6] as const) for (const rule of FOREIGN_RULES[version]) iptables(version, rule);
    original = { 4: ruleset(4), 6: ruleset(6) };
  });

  afterAll(async () => {
    for (const agent of agents) await agent.stop();
    await squid?.stop();
    if (squidFiles) removeSquidFiles(squidFiles);
    await dns?.stop();
    vm?.destroy();
    network?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("uninstall succeeds when nothing is installed and changes nothing", () => {
    sh(renderHostFirewall(OPTIONS).uninstallScript);
    expect(ruleset(4)).toBe(original[4]);
    expect(ruleset(6)).toBe(original[6]);
  });

  it("apply refuses a user that does not exist, before changing anything", () => {
    const result = sh(renderHostFirewall({ ...OPTIONS, users: ["nobody", "rapidclaw-no-such-user"] }).applyScript, { allowFailure: true });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('agent user "rapidclaw-no-such-user" does not exist');
    expect(ruleset(4)).toBe(original[4]);
    expect(ruleset(6)).toBe(original[6]);
  });

  it("apply installs its chain and one jump per agent user above the foreign rules", () => {
    sh(renderHostFirewall(OPTIONS).applyScript);
    installed = { 4: ruleset(4), 6: ruleset(6) };
    for (const version of [4, 6] as const) {
      const output = iptables(version, ["-S", "OUTPUT"]).stdout.split("\n").filter((l) => l.startsWith("-A "));
      const jumps = [NOBODY.uid, AGENT_UID.uid].map((uid) => `-A OUTPUT -m owner --uid-owner ${uid} -j ${CHAIN}`).sort();
      expect(output.slice(0, 2).sort(), `IPv${version} OUTPUT`).toEqual(jumps);
      expect(output.slice(2), `IPv${version} foreign rules keep their order`).toEqual(original[version].split("\n").filter((l) => l.startsWith("-A OUTPUT")));
      // The chain holds exactly the rendered rules (iptables-save spells matches its own way, so compare counts).
      const rendered = renderHostFirewallRuleset(OPTIONS, version).split("\n").filter((l) => l.startsWith("-A "));
      expect(iptables(version, ["-S", CHAIN]).stdout.split("\n").filter((l) => l.startsWith("-A "))).toHaveLength(rendered.length);
    }
  });

  describe.each([
    { user: "agent user nobody (by name)", runAs: NOBODY, confined: true },
    { user: `agent user uid ${AGENT_UID.uid} (by number)`, runAs: AGENT_UID, confined: true },
    { user: `other user uid ${OTHER_USER.uid}`, runAs: OTHER_USER, confined: false },
  ])("$user", ({ runAs, confined }) => {
    it.each(ATTEMPTS.map((a) => ({ ...a, label: `${a.protocol} ${a.host}:${a.port}: ${a.why}` })))("$label", async (a) => {
      const blockedHere = confined && a.firewall === "block";
      const version = versionOf(a.host);
      const loggedBefore = loggedPackets(version);
      const outcome = await attempt(clients.get(runAs.uid) as NetAgent, a);
      const context = `uid ${runAs.uid} ${a.protocol} ${a.host}:${a.port} (${a.why}): ${JSON.stringify(outcome)}`;
      if (blockedHere || a.foreignReject) expect(outcome.outcome, context).not.toBe("data");
      else expect(outcome, context).toEqual({ outcome: "data", data: banner(a.protocol, a.host, a.port) });
      // REJECT answers TCP with a reset; a UDP send fails at once, as the packet is dropped in OUTPUT.
      if (blockedHere) expect(outcome, context).toEqual({ outcome: "error", code: a.protocol === "tcp" ? "ECONNREFUSED" : "EPERM" });
      expect(loggedPackets(version) - loggedBefore, `${context}: packets on the LOG rule`).toBe(blockedHere ? 1 : 0);
    });
  });

  it("rapidclaw probe as an agent user: the role's allowed host passes through its proxy, every other channel is closed", async () => {
    const run = runBundledProbeAs(vm!, NOBODY, {
      description: PROBE_SPEC,
      env: { HTTPS_PROXY: `http://${SQUID_ADDRESS}:${PROBE_ROLE.proxyPort}`, RAPIDCLAW_ROLE: PROBE_ROLE.name },
      args: ["--host-address", VM, "--host-port", String(VM_SERVICE_PORT), "--json", "--timeout-ms", "2000"],
    });
    const context = JSON.stringify(run.report.channels, null, 1);
    expect(verdictsOf(run.report), context).toEqual(confinedVerdicts(PROBE_OTHER_ROLE.name, false, `${VM}:${VM_SERVICE_PORT}`));
    // The firewall refused them (REJECT answers TCP with a reset), not a missing route.
    const detail = (id: string) => run.report.channels.find((c) => c.id === id)!.detail;
    for (const id of ["direct-ipv4", "direct-ipv6", "metadata-direct", `other-role-proxy/${PROBE_OTHER_ROLE.name}`, `host/${VM}:${VM_SERVICE_PORT}`]) expect(detail(id), `${id}\n${context}`).toBe("ECONNREFUSED");
    expect(run.report.failed, context).toBe(0);
    expect(run.status, run.stderr).toBe(0);
    // The resolver answers any other user of the VM: the agent user's query never reached it.
    const asked = /^resolve (\S+) /.exec(run.report.channels.find((c) => c.id === "dns-tunnel")!.what)![1];
    expect(await dns!.names(), context).not.toContain(asked);
    const lookup = `new (require("node:dns").promises.Resolver)().resolve4("control.example.com").then((a) => console.log(a.join()))`;
    expect(vm!.run(process.execPath, ["-e", lookup]).stdout.trim()).toBe("192.0.2.1");
    expect(await dns!.names()).toContain("control.example.com");
  });

  it("an agent user's listener cannot send to a peer that connected to it; another user's listener can", async () => {
    const peer = agents[0]; // on the network side
    const listeners = [
      { runAs: NOBODY, port: 9701, confined: true },
      { runAs: OTHER_USER, port: 9702, confined: false },
    ];
    for (const l of listeners) await (clients.get(l.runAs.uid) as NetAgent).call({ op: "serveTcp", host: VM, port: l.port, banner: `listener ${l.port}` });
    for (const l of listeners) {
      const loggedBefore = loggedPackets(4);
      const outcome = await peer.connectTcp({ host: VM, port: l.port, timeoutMs: 2_000 });
      const context = `uid ${l.runAs.uid} listening on ${VM}:${l.port}: ${JSON.stringify(outcome)}`;
      if (l.confined) {
        // The reply leaves in conntrack's REPLY direction: refused and logged like any other packet.
        expect(outcome.outcome, context).not.toBe("data");
        expect(loggedPackets(4) - loggedBefore, `${context}: packets on the LOG rule`).toBeGreaterThan(0);
      } else {
        expect(outcome, context).toEqual({ outcome: "data", data: `listener ${l.port}` });
      }
    }
  });

  it("a second apply changes nothing", () => {
    sh(renderHostFirewall(OPTIONS).applyScript);
    expect(ruleset(4)).toBe(installed[4]);
    expect(ruleset(6)).toBe(installed[6]);
  });

  it("apply with a shorter user list drops the stale jump, and the dropped user is free again", async () => {
    sh(renderHostFirewall({ ...OPTIONS, users: ["nobody"] }).applyScript);
    for (const version of [4, 6] as const) {
      const jumps = iptables(version, ["-S", "OUTPUT"]).stdout.split("\n").filter((l) => l.endsWith(`-j ${CHAIN}`));
      expect(jumps, `IPv${version}`).toEqual([`-A OUTPUT -m owner --uid-owner ${NOBODY.uid} -j ${CHAIN}`]);
    }
    expect(await attempt(clients.get(AGENT_UID.uid) as NetAgent, DIRECT_HTTPS)).toMatchObject({ outcome: "data" });
    expect(await attempt(clients.get(NOBODY.uid) as NetAgent, DIRECT_HTTPS)).toMatchObject({ outcome: "error" });
  });

  it("uninstall restores the original ruleset exactly, and a second uninstall succeeds", async () => {
    const { uninstallScript } = renderHostFirewall(OPTIONS);
    sh(uninstallScript);
    expect(ruleset(4)).toBe(original[4]);
    expect(ruleset(6)).toBe(original[6]);
    sh(uninstallScript);
    expect(ruleset(4)).toBe(original[4]);
    expect(await attempt(clients.get(NOBODY.uid) as NetAgent, DIRECT_HTTPS)).toMatchObject({ outcome: "data" });
  });

  it("DROP instead of REJECT: blocked TCP is never answered, and logged", async () => {
    const dropping = { ...OPTIONS, action: HostFirewallAction.DROP };
    sh(renderHostFirewall(dropping).applyScript);
    try {
      const loggedBefore = loggedPackets(4);
      const outcome = await attempt(clients.get(NOBODY.uid) as NetAgent, DIRECT_HTTPS);
      expect(outcome).toEqual({ outcome: "timeout" });
      // The SYN and its retransmissions within the wait.
      expect(loggedPackets(4)).toBeGreaterThan(loggedBefore);
    } finally {
      sh(renderHostFirewall(dropping).uninstallScript);
    }
    expect(ruleset(4)).toBe(original[4]);
    expect(ruleset(6)).toBe(original[6]);
  });
});
