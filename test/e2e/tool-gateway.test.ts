/**
 * The tool gateway as a firewall deploys it on Docker, on a real Docker Engine in a network
 * namespace. The networks, volumes and containers are created from the JSON `cdktf synth` writes
 * with their real settings (see support/docker-replay.ts): the egress proxy runs real Squid with
 * the synthesized squid.conf (its `tool_gateway` listener included), the gateway runs the real
 * bundle (`rapidclaw-gateway.cjs`, uploaded from the stack's file asset by path and hash) with the
 * synthesized firewall file and command, Redis is a real redis-server, and the agents are
 * busybox. Images are local stand-ins for the pinned stock ones, tagged with their names: this
 * machine's `node` and `redis-server` with their libraries. Last, the gateway image is built from
 * images/gateway/Dockerfile on the Node stand-in, and the stack with it as `gateway.image`
 * replaces the gateway: the same calls get the same answers, with no bundle uploaded.
 *
 * What the test changes, and nothing else:
 * - Squid gets a `hosts_file` so that the tools' test host names resolve to the stand-in upstream
 *   (TEST-NET-3, inside the namespace), as in the Docker confinement suite.
 * - The gateway gets the test CA (`NODE_EXTRA_CA_CERTS` and the CA file next to its config): the
 *   synthesized gateway trusts public roots only, and the stand-in upstream's certificate is the
 *   test's own.
 * - Vault cannot run here, so the Vault Agent container is not started; the test writes the key
 *   files into the gateway's key volume the way Vault Agent renders them (one file per tool named
 *   after it, the key alone, mode 0400).
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GATEWAY_BUNDLE_PATH } from "../../src/constructs/gateway-bundle";
import { AgentPlatform, ToolAccess, type FirewallSpecProps } from "../../src/model/types";
import type { PlannedGateway } from "../../src/plan/gateway-plan";
import { compileFirewall, type FirewallPlan } from "../../src/plan/plan";
import { SQUID_GATEWAY_LOG_ROLE } from "../../src/render/squid-conf";
import { selfSignedCertificate } from "../gateway/support/upstream";
import { DockerEngine } from "./support/docker-engine";
import { httpFrom, probeFrom, type HttpAnswer, type HttpCall } from "./support/docker-probe";
import { replayContainer, replayNetworks, replayVolumes } from "./support/docker-replay";
import { containerNamed, importGatewayStackImages, proxyWithHostsFile, renderAsVaultAgent, synthesizeToDisk, untilReady, withTestCa } from "./support/gateway-replay";
import { NetAgent } from "./support/net-agent-client";
import type { RecordedRequest } from "./support/net-agent-protocol";
import { missingPrerequisites, skipLoudly } from "./support/prerequisites";

const SKIP = skipLoudly("tool gateway on Docker e2e", missingPrerequisites(["ip", "unshare", "dockerd", "docker", "containerd", "runc", "squid", "busybox", "redis-server", "openssl", "ldd", "tar", "iptables"], { namespaces: true }));

/** The stand-in upstream of every tool (TEST-NET-3), on the namespace's loopback. */
const UPSTREAM = "203.0.113.10";
const HOSTS = { search: "search.tools.test", mail: "mail.tools.test", db: "db.tools.test", kb: "kb.tools.test" };
/** The rate limit the test drives to its end: a window far longer than the test. */
const DATABASE_LIMIT = { maxCalls: 3, windowSec: 3600 };

/** Two roles, tools fronted by the gateway with their keys, one EXECUTE-only operation, one limit to exhaust. */
const SPEC: FirewallSpecProps = {
  platform: AgentPlatform.DOCKER,
  modelHosts: ["api.anthropic.com"],
  vault: { address: "https://vault.tools.test:8200" },
  tools: {
    web_search: { upstream: `https://${HOSTS.search}/api`, keyHeader: { name: "x-api-key" }, rateLimit: { maxCalls: 50, windowSec: 60 }, key: {} },
    send_email: { upstream: `https://${HOSTS.mail}`, executeOperations: [{ method: "POST", path: "/v3/mail/send" }], key: {} },
    database: { upstream: `https://${HOSTS.db}`, rateLimit: DATABASE_LIMIT, key: {} },
    knowledge_base: { upstream: `https://${HOSTS.kb}` },
  },
  roles: {
    customer_support: {
      tools: { knowledge_base: ToolAccess.READ, send_email: ToolAccess.EXECUTE, web_search: ToolAccess.DENY },
      network: { allowEgress: false },
    },
    research_agent: {
      tools: { web_search: ToolAccess.READ, database: ToolAccess.READ, knowledge_base: ToolAccess.READ, send_email: ToolAccess.READ },
      network: { allowEgress: false },
    },
  },
  agents: [
    { name: "research-agent", image: "example/agent:1", role: "research_agent", memory: "512M", cpus: 0.5 },
    { name: "support-agent", image: "example/agent:1", role: "customer_support", memory: "512M", cpus: 0.5 },
  ],
};

/** This run's keys: random, so that finding one anywhere means it leaked from here. */
const KEYS: Record<string, string> = Object.fromEntries(
  Object.entries(SPEC.tools).filter(([, tool]) => tool.key !== undefined).map(([name]) => [name, `key-${name}-${randomBytes(12).toString("hex")}`]),
);
/** How each keyed tool's key reaches its upstream (the default header is `Authorization: Bearer <key>`). */
const INJECTED: Record<string, [string, string]> = {
  web_search: ["x-api-key", KEYS.web_search],
  send_email: ["authorization", `Bearer ${KEYS.send_email}`],
  database: ["authorization", `Bearer ${KEYS.database}`],
};

const AGENT_IMAGE = "rapidclaw-test/busybox";
const PROXY_IMAGE = "rapidclaw-test/squid";
/** The gateway image as built here from the repository's Dockerfile and bundle. */
const GATEWAY_IMAGE = "rapidclaw-test/gateway";
const REPO = join(__dirname, "..", "..");

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

describe.skipIf(SKIP)("the tool gateway on a real Docker Engine, replaying the synthesized JSON", () => {
  let engine: DockerEngine | undefined;
  let netAgent: NetAgent | undefined;
  let imageDir: string | undefined;
  let stackDir: string;
  let outdir: string | undefined;
  let plan: FirewallPlan;
  let certificate: ReturnType<typeof selfSignedCertificate>;
  let gateway: PlannedGateway;
  /** Everything any agent received from the gateway in this run. */
  const answers: HttpAnswer[] = [];

  beforeAll(async () => {
    plan = compileFirewall(SPEC);
    gateway = plan.gateway!;
    outdir = mkdtempSync(join(tmpdir(), "hgwe-synth-"));
    const synthesized = synthesizeToDisk(join(outdir, "default"), SPEC);
    const doc = synthesized.doc;
    stackDir = synthesized.stackDir;

    engine = await DockerEngine.start("hgwe-gw");
    console.info(`tool gateway e2e: Docker Engine ${engine.version()} in namespace ${engine.ns.name}`);
    engine.ns.addAddress(UPSTREAM);
    netAgent = await NetAgent.start(engine.ns);
    certificate = selfSignedCertificate(Object.values(HOSTS));
    await netAgent.call({ op: "serveHttps", host: UPSTREAM, port: 443, cert: certificate.cert, key: certificate.key });

    imageDir = mkdtempSync(join(tmpdir(), "hgwe-images-"));
    importGatewayStackImages(engine, imageDir, gateway, { agent: AGENT_IMAGE, proxy: PROXY_IMAGE });

    replayNetworks(engine, doc);
    replayVolumes(engine, doc);
    const containers = Object.values<Json>(doc.resource.docker_container);
    const named = (name: string) => containerNamed(doc, name);
    const hosts = Object.fromEntries(Object.values(HOSTS).map((name) => [name, UPSTREAM]));
    replayContainer(engine, doc, proxyWithHostsFile(named(plan.names.proxy), hosts), { image: PROXY_IMAGE });
    replayContainer(engine, doc, named(gateway.redis.name), { image: gateway.redis.image });

    const gatewayContainer = named(gateway.name);
    // The default deployment: the stock Node image, the bundle uploaded from the stack's asset.
    expect(gatewayContainer.upload.find((u: Json) => u.file === gateway.paths.bundle)).toMatchObject({ source: expect.stringMatching(/^assets\//), source_hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(gatewayContainer.upload.find((u: Json) => u.file === gateway.paths.bundle).content).toBeUndefined();
    replayContainer(engine, doc, withTestCa(gatewayContainer, gateway.paths.config, certificate.cert), { image: gateway.image }, stackDir);
    // Vault cannot run here: the Vault Agent container is not replayed; its work is done by writeKeys.
    const vaultAgent = named(gateway.docker!.vaultAgentName);
    writeKeys(engine, doc, vaultAgent, gateway);

    for (const agent of plan.agents) replayContainer(engine, doc, named(agent.name), { image: AGENT_IMAGE, command: ["sleep", "86400"] });

    const replayed = new Set([plan.names.proxy, gateway.name, gateway.redis.name, ...plan.agents.map((a) => a.name)]);
    // Left out: the Vault Agent (above) and proxy-events, which follows the proxy's log into the alert windows (not run here).
    expect(containers.map((c) => c.name).filter((name) => !replayed.has(name)).sort(), "containers left out").toEqual([vaultAgent.name, "rapidclaw-proxy-events"].sort());
    for (const name of replayed) {
      const state = JSON.parse(engine.docker(["inspect", name]).stdout)[0].State;
      expect(state.Running, `${name} is not running:\n${engine.docker(["logs", name], { allowFailure: true }).stderr}`).toBe(true);
    }
    await untilReady(engine, gateway.name, gateway.adminPort);
  });

  afterAll(async () => {
    await netAgent?.stop();
    await engine?.stop();
    if (imageDir) rmSync(imageDir, { recursive: true, force: true });
    if (outdir) rmSync(outdir, { recursive: true, force: true });
  });

  const roleOf = (name: string) => plan.roles.find((r) => r.name === name)!;
  const agentOf = (role: string) => plan.agents.find((a) => a.role === role)!.name;
  const listenerOf = (role: string) => gateway.roles.find((r) => r.role === role)!;
  const accessOf = (role: string, tool: string) => roleOf(role).access.find((a) => a.tool === tool)?.access ?? ToolAccess.DENY;
  const allows = (granted: ToolAccess, required: ToolAccess) => [ToolAccess.DENY, ToolAccess.READ, ToolAccess.WRITE, ToolAccess.EXECUTE].indexOf(granted) >= [ToolAccess.DENY, ToolAccess.READ, ToolAccess.WRITE, ToolAccess.EXECUTE].indexOf(required);

  /** Calls the role's own gateway listener from the role's agent. */
  const callAs = (role: string, calls: ReadonlyArray<HttpCall>) => {
    const listener = listenerOf(role);
    const got = httpFrom(engine!, agentOf(role), { host: listener.address!, port: listener.port }, calls);
    answers.push(...got);
    return got;
  };
  const upstreamGot = async (path: string): Promise<RecordedRequest[]> =>
    (await netAgent!.call<RecordedRequest[]>({ op: "httpsRequests" })).filter((r) => r.url.includes(path));

  describe.each(["customer_support", "research_agent"])("an agent of %s, at its own gateway listener", (role) => {
    it("reaches exactly its tools, with each tool's key injected upstream; the others are 403 and never leave the gateway", async () => {
      for (const tool of ["web_search", "send_email", "knowledge_base"]) {
        const probe = `/probe/${role}/${tool}`;
        const [answer] = callAs(role, [{ method: "GET", path: `/tools/${tool}${probe}?q=1` }]);
        const seen = await upstreamGot(probe);
        const context = `${role} GET ${tool}:\n${answer.raw}`;
        if (allows(accessOf(role, tool), ToolAccess.READ)) {
          expect(answer.status, context).toBe(200);
          expect(JSON.parse(answer.body), context).toMatchObject({ upstream: "ok", host: new URL(SPEC.tools[tool].upstream!).host });
          expect(seen, context).toHaveLength(1);
          expect(seen[0].url).toBe(`${new URL(SPEC.tools[tool].upstream!).pathname.replace(/\/$/, "")}${probe}?q=1`);
          if (INJECTED[tool]) expect(seen[0].headers[INJECTED[tool][0]], context).toBe(INJECTED[tool][1]);
          else expect(Object.values(seen[0].headers).join("\n"), context).not.toMatch(/key-/);
        } else {
          expect(answer.status, context).toBe(403);
          expect(JSON.parse(answer.body), context).toMatchObject({ error: "permission_denied", tool, agent_role: role });
          expect(seen, context).toEqual([]);
        }
      }
    });

    it("runs the EXECUTE-only operation only with EXECUTE; READ still reads", async () => {
      const probe = `/v3/mail/send?from=${role}`;
      const [execute, read] = callAs(role, [
        { method: "POST", path: `/tools/send_email${probe}`, body: JSON.stringify({ to: "someone@example.org" }) },
        { method: "GET", path: `/tools/send_email/v3/status?from=${role}` },
      ]);
      const sent = await upstreamGot(probe);
      expect(read.status, read.raw).toBe(200);
      if (accessOf(role, "send_email") === ToolAccess.EXECUTE) {
        expect(execute.status, execute.raw).toBe(200);
        expect(sent).toHaveLength(1);
        expect(sent[0]).toMatchObject({ method: "POST", body: JSON.stringify({ to: "someone@example.org" }) });
        expect(sent[0].headers[INJECTED.send_email[0]]).toBe(INJECTED.send_email[1]);
      } else {
        expect(execute.status, execute.raw).toBe(403);
        expect(JSON.parse(execute.body)).toMatchObject({ error: "permission_denied", required: "EXECUTE", granted: accessOf(role, "send_email") });
        expect(sent).toEqual([]);
      }
    });

    it("answers the check endpoint for its own role", () => {
      const asked = (["web_search", "send_email", "knowledge_base"] as const).flatMap((tool) =>
        [ToolAccess.READ, ToolAccess.WRITE, ToolAccess.EXECUTE].map((access) => ({ tool, access })));
      const got = callAs(role, asked.map((q) => ({ method: "POST", path: "/v1/check", body: JSON.stringify(q) })));
      asked.forEach(({ tool, access }, i) => {
        const context = `${role} check ${tool} ${access}:\n${got[i].raw}`;
        if (allows(accessOf(role, tool), access)) {
          expect(got[i].status, context).toBe(200);
          expect(JSON.parse(got[i].body), context).toEqual({ allowed: true, tool, agent_role: role, access });
        } else {
          expect(got[i].status, context).toBe(403);
          expect(JSON.parse(got[i].body), context).toMatchObject({ error: "permission_denied", agent_role: role });
        }
      });
    });

    it("cannot reach the other role's gateway listener, Redis, or the upstream", () => {
      const other = gateway.roles.find((r) => r.role !== role)!;
      const own = listenerOf(role);
      const redisAddresses = redisAddressesOf(engine!, gateway);
      const ping = "PING\\r\\n";
      const seen = probeFrom(engine!, agentOf(role), [
        // What a reachable listener answers: the check endpoint takes POST only.
        { id: "own-listener", host: own.address!, port: own.port, send: "GET /v1/check HTTP/1.0\\r\\n\\r\\n" },
        { id: "other-listener", host: other.address!, port: other.port, send: "GET /v1/check HTTP/1.0\\r\\n\\r\\n" },
        // Every role's listener is on gateway.port at its own address (stable allocations): a port
        // beside it on the agent's own gateway address answers nothing.
        { id: "own-address-other-port", host: own.address!, port: own.port + 1, send: "GET /v1/check HTTP/1.0\\r\\n\\r\\n" },
        ...redisAddresses.map((address, i) => ({ id: `redis-${i}`, host: address, port: 6379, send: ping })),
        { id: "redis-port-on-gateway", host: own.address!, port: 6379, send: ping },
        { id: "upstream", host: UPSTREAM, port: 443 },
      ]);
      const context = `${agentOf(role)} saw:\n${[...seen].map(([id, out]) => `  ${id}: ${out}`).join("\n")}`;
      expect(seen.size, context).toBe(5 + redisAddresses.length);
      expect(seen.get("own-listener"), context).toMatch(/^HTTP\/1\.1 400 /);
      for (const [id, out] of seen) if (id !== "own-listener") expect(out, `${id}\n${context}`).toBe("");
    });
  });

  it("holds the rate limit: its maxCalls succeed, the next is 429 and never reaches the upstream; a role without access gets 403", async () => {
    const calls = Array.from({ length: DATABASE_LIMIT.maxCalls + 1 }, (_, i) => ({ method: "GET", path: `/tools/database/limit/${i}` }));
    const got = callAs("research_agent", calls);
    expect(got.map((a) => a.status), got.map((a) => a.raw).join("\n")).toEqual([...Array<number>(DATABASE_LIMIT.maxCalls).fill(200), 429]);
    expect(JSON.parse(got[DATABASE_LIMIT.maxCalls].body)).toMatchObject({ error: "rate_limited", tool: "database" });
    expect(Number(got[DATABASE_LIMIT.maxCalls].headers.get("retry-after"))).toBeGreaterThan(0);
    const seen = await upstreamGot("/limit/");
    expect(seen.map((r) => r.url)).toEqual(calls.slice(0, DATABASE_LIMIT.maxCalls).map((c) => c.path.replace("/tools/database", "")));
    for (const request of seen) expect(request.headers[INJECTED.database[0]]).toBe(INJECTED.database[1]);

    const [refused] = callAs("customer_support", [{ method: "GET", path: "/tools/database/limit/other-role" }]);
    expect(refused.status, refused.raw).toBe(403);
  });

  it("never hands a key to an agent (not in any answer, not in its environment) and logs none", () => {
    expect(answers.length).toBeGreaterThan(20);
    for (const answer of answers) for (const key of Object.values(KEYS)) expect(answer.raw).not.toContain(key);
    const logs = (name: string) => { const out = engine!.docker(["logs", name]); return out.stdout + out.stderr; };
    const texts = [...plan.agents.map((a) => engine!.docker(["exec", a.name, "env"]).stdout), logs(gateway.name), logs(plan.names.proxy)];
    for (const text of texts) for (const key of Object.values(KEYS)) expect(text).not.toContain(key);
  });

  it("sends the gateway's upstream calls through Squid's gateway listener, logged under @gateway; the gateway cannot reach the upstream itself", async () => {
    // Squid logs a tunnel when it closes; the stand-in upstream closes each connection after its answer.
    const gatewayLines = () => engine!.docker(["logs", plan.names.proxy]).stdout.split("\n").filter(Boolean).map((line) => JSON.parse(line) as Json)
      .filter((l) => l.role === SQUID_GATEWAY_LOG_ROLE);
    for (let i = 0; i < 20 && new Set(gatewayLines().map((l) => l.host)).size < Object.keys(HOSTS).length; i++) await new Promise((r) => setTimeout(r, 250));
    const lines = gatewayLines();
    expect([...new Set(lines.map((l) => String(l.host)))].sort(), JSON.stringify(lines)).toEqual(Object.values(HOSTS).sort());
    for (const line of lines) expect(line, JSON.stringify(line)).toMatchObject({ event: "egress_allowed", method: "CONNECT", port: "443", client: gateway.docker!.egressNetwork.toolGatewayAddress });
    const direct = engine!.docker(["exec", gateway.name, "node", "-e", `
      const s = require("net").connect({ host: "${UPSTREAM}", port: 443 });
      s.setTimeout(2000, () => { console.log("timeout"); process.exit(0); });
      s.on("connect", () => { console.log("connected"); process.exit(0); });
      s.on("error", (e) => { console.log(e.code); process.exit(0); });
    `]).stdout.trim();
    expect(["ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ECONNREFUSED", "timeout"]).toContain(direct);
  });

  it("runs the image built from images/gateway/Dockerfile as gateway.image in the gateway's place: no bundle uploaded, a non-root user that cannot change the program, the same answers", async () => {
    engine!.buildImage(join(REPO, "images", "gateway", "Dockerfile"), join(REPO, GATEWAY_BUNDLE_PATH, ".."), GATEWAY_IMAGE);
    // gateway.image is pinned by digest; a local build has no registry digest, so its image ID
    // stands in for one, and the replay runs the built image by its tag (as for every stock image here).
    const id = engine!.docker(["image", "inspect", "--format", "{{.Id}}", GATEWAY_IMAGE]).stdout.trim();
    const image = `registry.test/rapidclaw-gateway@${id}`;
    const own = synthesizeToDisk(join(outdir!, "own-image"), { ...SPEC, gateway: { image } });
    const containers = Object.values<Json>(own.doc.resource.docker_container);
    const ownGateway = containers.find((c) => c.name === gateway.name)!;
    expect(ownGateway.upload.map((u: Json) => u.file)).toEqual([gateway.paths.config]);
    expect(containers.find((c) => c.name === "rapidclaw-proxy-events")!.upload.map((u: Json) => u.file)).toEqual([gateway.paths.config]);
    expect(Object.values<Json>(own.doc.resource.docker_image).map((i) => i.name)).toContain(image);

    engine!.docker(["rm", "-f", gateway.name]);
    replayContainer(engine!, own.doc, withTestCa(ownGateway, gateway.paths.config, certificate.cert), { image: GATEWAY_IMAGE }, own.stackDir);
    // The key volume is a tmpfs, emptied when its last container went: deployed, the Vault Agent
    // holds it; here the keys are written again, as before.
    writeKeys(engine!, own.doc, containers.find((c) => c.name === gateway.docker!.vaultAgentName)!, gateway);
    await untilReady(engine!, gateway.name, gateway.adminPort);

    const inside = (script: string) => engine!.docker(["exec", gateway.name, "node", "-e", script]).stdout.trim();
    expect(inside("console.log(process.getuid() + ':' + process.getgid())")).toBe("10002:10002");
    const bundle = readFileSync(join(REPO, GATEWAY_BUNDLE_PATH));
    expect(inside(`const fs = require("fs"); const s = fs.statSync("${gateway.paths.bundle}"); console.log(s.uid, s.size)`)).toBe(`0 ${bundle.length}`);
    expect(inside(`try { require("fs").appendFileSync("${gateway.paths.bundle}", "x"); console.log("written") } catch (e) { console.log(e.code) }`)).toMatch(/^(EACCES|EROFS|EPERM)$/);

    const [allowed] = callAs("research_agent", [{ method: "GET", path: "/tools/web_search/own-image?q=1" }]);
    expect(allowed.status, allowed.raw).toBe(200);
    const seen = await upstreamGot("/own-image");
    expect(seen).toHaveLength(1);
    expect(seen[0].headers[INJECTED.web_search[0]]).toBe(INJECTED.web_search[1]);
    const [refused] = callAs("customer_support", [{ method: "GET", path: "/tools/web_search/own-image-refused" }]);
    expect(refused.status, refused.raw).toBe(403);
    expect(await upstreamGot("/own-image-refused")).toEqual([]);
  });
});

/**
 * Does what the gateway's Vault Agent would (it needs a Vault, which cannot run here): renders
 * each key into the key volume, `<keyDir>/<tool>` holding the key alone, mode 0400.
 */
function writeKeys(engine: DockerEngine, doc: Json, vaultAgent: Json, gateway: PlannedGateway): void {
  renderAsVaultAgent(engine, doc, vaultAgent, gateway.paths.keyDir, KEYS, AGENT_IMAGE);
}

/** Redis' addresses on its networks. */
function redisAddressesOf(engine: DockerEngine, gateway: PlannedGateway): string[] {
  const inspect = JSON.parse(engine.docker(["inspect", gateway.redis.name]).stdout)[0];
  return Object.values<{ IPAddress: string }>(inspect.NetworkSettings.Networks).map((n) => n.IPAddress);
}
