/**
 * `rapidclaw probe`: the channels a role is probed on and what each must be (pure), the verdicts
 * and the report, the attempts against real local servers (a stand-in proxy that refuses, tunnels
 * or cuts; a TLS server), and the command's exit codes.
 */
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect as createConnection, createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { createServer as createTlsServer } from "node:tls";
import { Command } from "commander";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CliIo } from "../src/cli/cli-io";
import { EXIT } from "../src/cli/exit-codes";
import { registerProbeCommand } from "../src/cli/probe-command";
import { AgentPlatform } from "../src/model/types";
import { compileFirewall } from "../src/plan/plan";
import { makeAttempt } from "../src/probe/attempts";
import { probeChannels, type ProbeChannel } from "../src/probe/channels";
import { probeTargets, type ProbeTargets } from "../src/probe/probe-targets";
import { probeReport, renderProbeReport } from "../src/probe/verdicts";
import { fronted } from "./support/gateway-spec";
import { selfSignedCertificate } from "./gateway/support/upstream";

const targets = (over: Partial<ProbeTargets> = {}): ProbeTargets => ({ proxy: { host: "172.30.16.2", port: 3128 }, hostAddresses: [], hostPorts: [22], nonce: "n0nce", ...over });
const byId = (channels: ProbeChannel[]) => new Map(channels.map((c) => [c.id, c]));

describe("the channels of a role", () => {
  const docker = compileFirewall(fronted(AgentPlatform.DOCKER));
  const kubernetes = compileFirewall(fronted(AgentPlatform.KUBERNETES));

  it("on Docker, from the role's network: the allowed host must pass, every other way out must be closed, each at its address", () => {
    const channels = probeChannels(docker, "research_agent", targets({ gateway: { host: "172.30.16.3", port: 8080 }, vaultAddress: "http://vault:8200/" }));
    expect(channels.filter((c) => c.expect === "open").map((c) => c.id)).toEqual(["allowed-host"]);
    expect(channels.filter((c) => c.skipped !== undefined).map((c) => [c.id, c.skipped])).toEqual([
      ["other-role-host/customer_support", "customer_support allows no exact host this role does not"],
    ]);
    const c = byId(channels);
    const proxy = { host: "172.30.16.2", port: 3128 };
    expect(c.get("allowed-host")!.attempt).toEqual({ kind: "proxy-connect", proxy, target: { host: "api.github.com", port: 443 }, serverName: "api.github.com" });
    expect(c.get("unlisted-host")!.attempt).toEqual({ kind: "proxy-connect", proxy, target: { host: "example.com", port: 443 } });
    expect(c.get("sni-mismatch")!.attempt).toEqual({ kind: "proxy-connect", proxy, target: { host: "api.github.com", port: 443 }, serverName: "rapidclaw-probe-n0nce.example.com" });
    expect(c.get("dns-tunnel")!.attempt).toEqual({ kind: "dns", name: "rapidclaw-probe-n0nce.example.com", knownName: "example.com" });
    expect(c.get("plain-http")!.attempt).toEqual({ kind: "proxy-http", proxy, url: "http://api.github.com/" });
    expect(c.get("other-role-proxy/customer_support")!.attempt).toEqual({ kind: "tcp", target: { host: "172.30.76.2", port: 3128 } });
    expect(c.get("other-role-gateway/customer_support")!.attempt).toEqual({ kind: "tcp", target: { host: "172.30.76.3", port: 8080 } });
    expect(c.get("redis")!.attempt).toEqual({ kind: "tcp", target: { host: "172.31.128.67", port: 6379 } });
    expect(c.get("gateway-proxy-listener")!.attempt).toEqual({ kind: "tcp", target: { host: docker.gateway!.docker!.egressNetwork.peerAddress, port: 3128 } });
    expect(c.get("host/172.30.16.1:22")!.attempt).toEqual({ kind: "tcp", target: { host: "172.30.16.1", port: 22 } });
    expect(channels.filter((x) => x.id.startsWith("vault/")).map((x) => x.attempt)).toEqual(
      ["anthropic", "database", "file_upload", "send_email", "web_search"].map((tool) => ({ kind: "http", url: `http://vault:8200/v1/agent-keys/data/tools/${tool.replace("_", "-")}` })));
    for (const id of ["proxy-ipv4-literal", "proxy-ipv6-literal", "direct-ipv4", "direct-ipv6", "metadata-direct", "metadata-direct-ipv6", "metadata-via-proxy", "private-range"]) expect(c.get(id)?.attempt, id).toBeDefined();
  });

  it("names another role's host when it has one the role lacks, and an unlisted host the role does not allow", () => {
    const c = byId(probeChannels(docker, "customer_support", targets({ proxy: { host: "172.30.76.2", port: 3128 } })));
    expect(c.get("other-role-host/research_agent")!.attempt).toMatchObject({ target: { host: "api.github.com" } });
    const allowsExampleCom = compileFirewall(fronted(AgentPlatform.DOCKER, (s) => (s.roles = { ...s.roles, research_agent: { ...s.roles.research_agent, network: { allowEgress: true, allowedHosts: ["example.com", "example.net"] } } })));
    expect(byId(probeChannels(allowsExampleCom, "research_agent", targets())).get("unlisted-host")!.attempt).toMatchObject({ target: { host: "example.org" } });
  });

  it("on Kubernetes: other roles' listeners are the same Services on their own ports; the host needs --host-address", () => {
    const c = byId(probeChannels(kubernetes, "customer_support", targets({ proxy: { host: "10.96.0.20", port: 3128 }, gateway: { host: "10.96.0.30", port: 8080 } })));
    expect(c.get("other-role-proxy/research_agent")!.attempt).toEqual({ kind: "tcp", target: { host: "10.96.0.20", port: 3129 } });
    expect(c.get("other-role-gateway/research_agent")!.attempt).toEqual({ kind: "tcp", target: { host: "10.96.0.30", port: 8081 } });
    expect(c.get("gateway-proxy-listener")!.attempt).toEqual({ kind: "tcp", target: { host: "10.96.0.20", port: 3127 } });
    expect(c.get("host")!.skipped).toMatch(/give --host-address/);
    const given = probeChannels(kubernetes, "customer_support", targets({ proxy: { host: "10.96.0.20", port: 3128 }, hostAddresses: ["192.0.2.7", "2001:db8::7"], hostPorts: [22, 10250] }));
    expect(given.filter((x) => x.id.startsWith("host/")).map((x) => x.id)).toEqual(["host/192.0.2.7:22", "host/192.0.2.7:10250", "host/[2001:db8::7]:22", "host/[2001:db8::7]:10250"]);
  });

  it("off the role's Docker network (a VM pointing at the proxy), another role's listener on the same port is skipped, not guessed", () => {
    const c = byId(probeChannels(docker, "research_agent", targets({ proxy: { host: "198.51.100.1", port: 3128 } })));
    expect(c.get("other-role-proxy/customer_support")!.skipped).toMatch(/shares this proxy's port/);
  });

  it("expects plain HTTP open when the proxy allows it; refuses an unknown role naming the roles", () => {
    const plain = compileFirewall(fronted(AgentPlatform.DOCKER, (s) => (s.proxy = { allowPlainHttp: true })));
    expect(byId(probeChannels(plain, "research_agent", targets())).get("plain-http")!.expect).toBe("open");
    expect(() => probeChannels(docker, "nobody", targets())).toThrow('no role "nobody" in the description; roles: customer_support, research_agent');
  });
});

describe("the targets", () => {
  it("come from the agents' variables, flags first; a missing proxy names the variable and the flag", () => {
    const env = { HTTPS_PROXY: "http://172.30.16.2:3128", RAPIDCLAW_GATEWAY_URL: "http://[fd00::3]:8080", VAULT_ADDR: "https://vault.internal:8200" };
    expect(probeTargets(env, {}, { nonce: "x" })).toEqual({ proxy: { host: "172.30.16.2", port: 3128 }, gateway: { host: "fd00::3", port: 8080 }, hostAddresses: [], hostPorts: [22, 80, 443, 2375], vaultAddress: "https://vault.internal:8200", nonce: "x" });
    expect(probeTargets(env, { proxy: "http://10.0.0.9:3130", hostAddress: ["10.0.0.1"], hostPorts: [7000] }, { nonce: "x" })).toMatchObject({ proxy: { host: "10.0.0.9", port: 3130 }, hostAddresses: ["10.0.0.1"], hostPorts: [7000] });
    expect(probeTargets({ HTTPS_PROXY: "http://p:3128" }, {}, { vaultAddress: "http://vault:8200", nonce: "x" }).vaultAddress).toBe("http://vault:8200");
    expect(() => probeTargets({}, {}, { nonce: "x" })).toThrow("no proxy: run the probe with the role's environment (HTTPS_PROXY) or give --proxy http://<address>:<port>");
    expect(() => probeTargets({ HTTPS_PROXY: "proxy 3128" }, {}, { nonce: "x" })).toThrow('HTTPS_PROXY "proxy 3128" is not a URL');
  });
});

describe("verdicts and the report", () => {
  const channels: ProbeChannel[] = [
    { id: "allowed-host", what: "a", expect: "open", attempt: { kind: "dns", name: "a", knownName: "k" } },
    { id: "dns-tunnel", what: "b", expect: "closed", attempt: { kind: "dns", name: "b", knownName: "k" } },
    { id: "redis", what: "c", expect: "closed", attempt: { kind: "dns", name: "c", knownName: "k" } },
    { id: "host", what: "d", expect: "closed", skipped: "not known" },
  ];

  it("pass when as expected, FAIL otherwise (an allowed host that does not pass too), skip when not tried", () => {
    const report = probeReport("r", channels, new Map([["allowed-host", { open: false, detail: "proxy answered 403" }], ["dns-tunnel", { open: true, detail: "a resolver answered (ENOTFOUND)" }], ["redis", { open: false, detail: "ECONNREFUSED" }]]));
    expect(report.channels.map((c) => [c.id, c.observed, c.verdict])).toEqual([["allowed-host", "closed", "FAIL"], ["dns-tunnel", "open", "FAIL"], ["redis", "closed", "pass"], ["host", undefined, "skip"]]);
    expect(report.failed).toBe(2);
    expect(renderProbeReport(report)).toBe([
      "rapidclaw probe: role r",
      "",
      "  channel       must be  is      verdict  detail",
      "  allowed-host  open     closed  FAIL     proxy answered 403",
      "  dns-tunnel    closed   open    FAIL     a resolver answered (ENOTFOUND)",
      "  redis         closed   closed  pass     ECONNREFUSED",
      "  host          closed   -       skip     not known",
      "",
      "2 channels not as they must be: allowed-host, dns-tunnel.",
      "",
    ].join("\n"));
    expect(renderProbeReport(probeReport("r", channels.slice(2), new Map([["redis", { open: false, detail: "x" }]])))).toMatch(/\nEvery channel is as it must be\.\n$/);
  });
});

/** A stand-in proxy: CONNECT to `refused.test` gets 403; `greets.test` a tunnel to a server that speaks first; `cut.test` 200 then a close at the first byte (as Squid's SNI check terminates); anything else a tunnel to `tunnelTo`. */
async function standInProxy(tunnelTo: number, greeter: number): Promise<Server> {
  const server = createServer((client: Socket) => {
    client.once("data", (head: Buffer) => {
      const text = head.toString("latin1");
      const target = /^(?:CONNECT|GET) (?:http:\/\/)?([^/: ]+)/.exec(text)?.[1] ?? "";
      if (text.startsWith("GET ")) return void client.end(`HTTP/1.1 ${target === "refused.test" ? 403 : 502} x\r\nContent-Length: 0\r\n\r\n`);
      if (target === "refused.test") return void client.end("HTTP/1.1 403 Forbidden\r\n\r\n");
      client.write("HTTP/1.1 200 Connection established\r\n\r\n");
      if (target === "cut.test") return void client.once("data", () => client.destroy());
      const upstream = createConnection(target === "greets.test" ? greeter : tunnelTo);
      client.pipe(upstream).pipe(client);
      upstream.on("error", () => client.destroy());
      client.on("error", () => upstream.destroy());
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return server;
}
const portOf = (server: Server) => (server.address() as AddressInfo).port;

describe("the attempts, against real local servers", () => {
  const servers: Server[] = [];
  let proxy: { host: string; port: number };
  let closedPort = 0;

  beforeAll(async () => {
    const certificate = selfSignedCertificate(["allowed.test"]);
    const tls = createTlsServer({ cert: certificate.cert, key: certificate.key }, (s) => s.end());
    tls.listen(0, "127.0.0.1");
    const greeter = createServer((s) => s.end("SSH-2.0-greeter\r\n"));
    greeter.listen(0, "127.0.0.1");
    await Promise.all([once(tls, "listening"), once(greeter, "listening")]);
    const p = await standInProxy(portOf(tls), portOf(greeter));
    servers.push(tls, greeter, p);
    proxy = { host: "127.0.0.1", port: portOf(p) };
    const unused = createServer().listen(0, "127.0.0.1");
    await once(unused, "listening");
    closedPort = portOf(unused);
    unused.close();
  });

  afterAll(() => servers.forEach((s) => s.close()));

  it("CONNECT: 403 is closed; 200 and a TLS handshake, or a far end that greets, is open; a tunnel cut at the ClientHello is closed", async () => {
    const connectTo = (host: string, serverName?: string) => makeAttempt({ kind: "proxy-connect", proxy, target: { host, port: 443 }, serverName }, 2_000);
    expect(await connectTo("refused.test")).toEqual({ open: false, detail: "proxy answered 403" });
    expect(await connectTo("allowed.test")).toEqual({ open: true, detail: "proxy answered 200" });
    expect(await connectTo("allowed.test", "allowed.test")).toEqual({ open: true, detail: "proxy answered 200; TLS handshake for allowed.test completed" });
    // The greeting comes with the 200 or after it (then it is not TLS): the far end was reached either way.
    expect(await connectTo("greets.test", "greets.test")).toEqual({ open: true, detail: expect.stringMatching(/^proxy answered 200; (the far end sent "SSH-2\.0-greeter\\r\\n"|TLS for greets\.test: the far end answered \(ERR_SSL_WRONG_VERSION_NUMBER\))$/) });
    expect(await connectTo("cut.test", "other.test")).toMatchObject({ open: false, detail: expect.stringMatching(/^proxy answered 200; TLS for other\.test: tunnel closed \(ECONNRESET\)$/) });
    expect(await makeAttempt({ kind: "proxy-connect", proxy: { host: "127.0.0.1", port: closedPort }, target: { host: "a.test", port: 443 } }, 1_000)).toEqual({ open: false, detail: `proxy 127.0.0.1:${closedPort}: ECONNREFUSED` });
  });

  it("plain HTTP through the proxy: 403 is closed, any other answer (the proxy forwarded) is open", async () => {
    expect(await makeAttempt({ kind: "proxy-http", proxy, url: "http://refused.test/" }, 2_000)).toEqual({ open: false, detail: "proxy refused (403)" });
    expect(await makeAttempt({ kind: "proxy-http", proxy, url: "http://other.test/" }, 2_000)).toEqual({ open: true, detail: "proxy forwarded it (502)" });
  });

  it("TCP: a handshake is open, a refusal is closed", async () => {
    expect(await makeAttempt({ kind: "tcp", target: proxy }, 1_000)).toEqual({ open: true, detail: `connected to 127.0.0.1:${proxy.port}` });
    expect(await makeAttempt({ kind: "tcp", target: { host: "127.0.0.1", port: closedPort } }, 1_000)).toEqual({ open: false, detail: "ECONNREFUSED" });
  });

  describe("the command", () => {
    const dir = mkdtempSync(join(tmpdir(), "rapidclaw-probe-"));
    const config = join(dir, "firewall.json");
    writeFileSync(config, JSON.stringify(fronted(AgentPlatform.DOCKER)));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    async function rapidclaw(args: string[], env: NodeJS.ProcessEnv): Promise<{ out: string; err: string; code: number | undefined }> {
      const result = { out: "", err: "", code: undefined as number | undefined };
      const io: CliIo = { stdin: Readable.from([""]), out: (t) => (result.out += t), err: (t) => (result.err += t), exit: (c) => (result.code = c) };
      const program = new Command("rapidclaw").exitOverride();
      registerProbeCommand(program, io, env);
      await program.parseAsync(args, { from: "user" });
      return result;
    }

    it("reports every channel as JSON and exits 1 when the allowed host does not pass", async () => {
      const { out, code } = await rapidclaw(["probe", "--config", config, "--json", "--timeout-ms", "300", "--host-address", "127.0.0.1", "--host-port", String(closedPort)],
        { HTTPS_PROXY: `http://127.0.0.1:${closedPort}`, RAPIDCLAW_ROLE: "research_agent" });
      const report = JSON.parse(out);
      expect(report.role).toBe("research_agent");
      expect(report.channels.find((c: { id: string }) => c.id === "allowed-host")).toMatchObject({ expect: "open", observed: "closed", verdict: "FAIL" });
      expect(report.channels.find((c: { id: string }) => c.id === `host/127.0.0.1:${closedPort}`)).toMatchObject({ verdict: "pass", detail: "ECONNREFUSED" });
      expect(report.failed).toBeGreaterThanOrEqual(1);
      expect(code).toBe(EXIT.CHANNEL_WRONG);
    });

    it("exits 2 with the reason when the role or the proxy is unknown", async () => {
      expect(await rapidclaw(["probe", "--config", config], { HTTPS_PROXY: "http://127.0.0.1:1" })).toEqual({ out: "", err: "rapidclaw: no role: run the probe with the role's environment (RAPIDCLAW_ROLE) or give --role\n", code: EXIT.USAGE });
      expect(await rapidclaw(["probe", "--config", config, "--role", "research_agent"], {})).toMatchObject({ err: expect.stringContaining("no proxy"), code: EXIT.USAGE });
      expect(await rapidclaw(["probe", "--config", config, "--role", "ops"], { HTTPS_PROXY: "http://127.0.0.1:1" })).toMatchObject({ err: expect.stringContaining('no role "ops" in the description'), code: EXIT.USAGE });
    });
  });
});
