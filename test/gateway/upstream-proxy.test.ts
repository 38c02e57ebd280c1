import { createServer, type AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { missingPrerequisites, skipLoudly } from "../e2e/support/prerequisites";
import { HOST_NAMESPACE, prepareSquidFiles, removeSquidFiles, SquidProcess, type SquidFiles } from "../e2e/support/squid";
import { parseUpstreamProxy } from "../../src/gateway/upstream-proxy";
import { renderSquidConf, squidGatewayAllowlist, SQUID_GATEWAY_LOG_ROLE } from "../../src/render/squid-conf";
import { gatewayScenario } from "./fixture";
import { ROLE_ADDRESSES, startTestGateway, type TestGateway } from "./support/harness";
import { call, freePort, untilReady } from "./support/net";
import { missingRedis, TestRedis } from "./support/redis";
import { selfSignedCertificate, TestUpstream, type TestCertificate } from "./support/upstream";

const skip = skipLoudly("gateway egress through a real Squid", missingPrerequisites(["squid", "setpriv"]) ?? missingRedis());

/** A loopback address of this run for the upstream's port 443 (Squid's gateway listener allows 443 only). */
const UPSTREAM_ADDRESS = `127.${200 + (process.pid % 50)}.${(process.pid >> 8) % 256}.${1 + (process.pid % 250)}`;
/** Hosts of the scenario's upstreams the gateway's Squid listener allows; `db.tools.test` (database) is not among them. */
const ALLOWED_UPSTREAMS = ["https://search.tools.test/api", "https://kb.tools.test"];

describe.skipIf(skip)("gateway egress through the egress proxy (real Squid)", () => {
  const spec = gatewayScenario();
  const hosts = Object.values(spec.tools).flatMap((t) => (t.upstream ? [new URL(t.upstream).hostname] : []));
  let redis: TestRedis;
  let certificate: TestCertificate;
  let upstream: TestUpstream;
  let files: SquidFiles;
  let squid: SquidProcess;
  let gw: TestGateway;
  const asResearch = (path: string) => call({ host: ROLE_ADDRESSES.research_agent.listener, port: gw.rolePort, path });

  beforeAll(async () => {
    redis = await TestRedis.start();
    certificate = selfSignedCertificate(hosts);
    upstream = await TestUpstream.start(certificate, UPSTREAM_ADDRESS, 443);
    files = prepareSquidFiles("hrun-gateway-egress", hosts.map((name) => ({ name, address: UPSTREAM_ADDRESS })));
    const proxyPort = await freePort();
    const conf = renderSquidConf({
      roles: [],
      allowPlainHttp: false,
      gateway: { allowlist: squidGatewayAllowlist(ALLOWED_UPSTREAMS), port: proxyPort },
      listenAddress: "127.0.0.1",
      hostsFile: files.hostsFile,
      accessLog: `stdio:${files.accessLog}`,
      cacheLog: files.cacheLog,
      // The test upstream is on loopback, which the real list refuses.
      forbiddenDestinations: ["169.254.169.254/32"],
    });
    squid = await SquidProcess.start(HOST_NAMESPACE, files, conf);
    gw = await startTestGateway(spec, redis.url, upstream, certificate, {}, new Map(), { env: {} }, {
      upstreamAddresses: new Map(),
      upstreamProxy: { host: "127.0.0.1", port: proxyPort },
    });
    await untilReady(gw.gateway.admin.port);
  });

  afterAll(async () => {
    await gw?.gateway.stop();
    await squid?.stop();
    if (files) removeSquidFiles(files);
    await upstream?.stop();
    await redis?.kill();
  });

  it("reaches an allowed upstream through a CONNECT tunnel, TLS to the upstream's own name inside, and injects the key", async () => {
    const before = upstream.received.length;
    const answer = await asResearch("/tools/web_search/q?x=1");
    expect(answer.status, answer.body).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({ upstream: "ok", host: "search.tools.test", url: "/api/q?x=1" });
    expect(upstream.received.length).toBe(before + 1);
    expect(upstream.received[before].headers["x-api-key"]).toBe(gw.keys.web_search);
  });

  it("fails closed with 502 and an upstream_error event when the proxy refuses the upstream's host", async () => {
    const before = upstream.received.length;
    const eventsBefore = gw.events.length;
    const answer = await asResearch("/tools/database/rows");
    expect(answer.status).toBe(502);
    expect(JSON.parse(answer.body)).toMatchObject({ error: "upstream_error", tool: "database" });
    expect(upstream.received.length, "nothing reached the upstream").toBe(before);
    // The proxy decides a CONNECT before answering it and closes a refused one unanswered (no TLS is ever terminated).
    expect(gw.events.slice(eventsBefore)).toEqual([expect.objectContaining({ event_type: "upstream_error", tool: "database", details: { code: "ECONNRESET" } })]);
    expect(answer.body).not.toContain(gw.keys.database);
  });

  it("leaves one line per CONNECT in Squid's log, under the gateway's own role", async () => {
    // Squid logs a tunnel when it closes; stopping the gateway closes its kept-alive tunnels.
    await gw.gateway.stop();
    await squid.nextAccessLogLine(1);
    const lines = squid.accessLogLines().map((line) => JSON.parse(line));
    expect(lines).toEqual(expect.arrayContaining([
      expect.objectContaining({ event: "egress_allowed", role: SQUID_GATEWAY_LOG_ROLE, method: "CONNECT", host: "search.tools.test", port: "443", status: 200 }),
      expect.objectContaining({ event: "network_blocked", role: SQUID_GATEWAY_LOG_ROLE, method: "CONNECT", host: "db.tools.test", port: "443", status: 0 }),
    ]));
    expect(lines).toHaveLength(2);
  });

  it.each([
    { case: "down", code: "ECONNREFUSED" },
    { case: "silent (accepts, never answers CONNECT)", code: "ETIMEDOUT" },
  ])("fails closed with 502 when the proxy is $case", async ({ code }) => {
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const port = code === "ETIMEDOUT" ? (silent.address() as AddressInfo).port : await freePort();
    const down = await startTestGateway(spec, redis.url, upstream, certificate, {}, new Map(), { env: {} }, {
      upstreamAddresses: new Map(),
      upstreamProxy: { host: "127.0.0.1", port },
      upstreamTimeoutMs: 300,
    });
    try {
      await untilReady(down.gateway.admin.port);
      const before = upstream.received.length;
      const answer = await call({ host: ROLE_ADDRESSES.research_agent.listener, port: down.rolePort, path: "/tools/web_search/q" });
      expect(answer.status).toBe(502);
      expect(upstream.received.length).toBe(before);
      expect(down.events).toEqual([expect.objectContaining({ event_type: "upstream_error", tool: "web_search", details: { code } })]);
    } finally {
      await down.gateway.stop();
      silent.close();
    }
  });
});

describe("upstream proxy option", () => {
  it("takes http://host:port only, and says how to fix anything else", () => {
    expect(parseUpstreamProxy("http://egress-proxy:3130")).toEqual({ host: "egress-proxy", port: 3130 });
    expect(parseUpstreamProxy("http://[::1]:3130")).toEqual({ host: "::1", port: 3130 });
    expect(parseUpstreamProxy("https://egress-proxy:3130")).toMatch(/is not http:\/\//);
    expect(parseUpstreamProxy("http://u:p@egress-proxy:3130")).toMatch(/user name or password/);
    expect(parseUpstreamProxy("http://egress-proxy:3130/x")).toMatch(/path, query or fragment/);
    expect(parseUpstreamProxy("http://egress-proxy")).toMatch(/names no port/);
    expect(parseUpstreamProxy("egress-proxy:3130")).toMatch(/is not http:\/\//);
  });
});
