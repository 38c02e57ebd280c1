import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundleGateway, NODE_BUILTINS } from "../../scripts/bundle-gateway";
import { skipLoudly } from "../e2e/support/prerequisites";
import { gatewayScenario } from "./fixture";
import { CliProcess } from "./support/cli";
import { ROLE_ADDRESSES, withTestListeners, writeKeys } from "./support/harness";
import { call, untilReady } from "./support/net";
import { missingRedis, TestRedis } from "./support/redis";
import { selfSignedCertificate, TestUpstream, type TestCertificate } from "./support/upstream";

/**
 * Kubernetes keeps a ConfigMap under 1 MiB, so the bundle travels in parts (config-map-parts.ts);
 * a bound on the whole keeps it to a few parts and notices a dependency that balloons it.
 */
const BUNDLE_LIMIT_BYTES = 2 * 1024 * 1024;

describe("the gateway as one bundled file", () => {
  const dirs = [mkdtempSync(join(tmpdir(), "hrun-bundle-a-")), mkdtempSync(join(tmpdir(), "hrun-bundle-b-"))];
  const bundles = dirs.map((dir) => join(dir, "rapidclaw-gateway.cjs"));
  let warnings: string[][] = [];

  beforeAll(async () => {
    // Two builds into different directories: the output must not depend on where it goes.
    warnings = [await bundleGateway(bundles[0]), await bundleGateway(bundles[1])].map((r) => r.warnings);
  }, 120_000);

  afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  it("is byte-identical on rebuild, without warnings, and under 2 MiB (it travels in ConfigMap parts)", () => {
    expect(warnings).toEqual([[], []]);
    const [a, b] = bundles.map((file) => readFileSync(file));
    expect(a.equals(b)).toBe(true);
    expect(readFileSync(join(dirs[0], "THIRD-PARTY-LICENSES.txt")).equals(readFileSync(join(dirs[1], "THIRD-PARTY-LICENSES.txt")))).toBe(true);
    console.info(`gateway bundle: ${a.length} bytes, ${gzipSync(a, { level: 9 }).length} gzipped`);
    expect(a.length).toBeLessThan(BUNDLE_LIMIT_BYTES);
    expect(a.toString("utf8")).not.toContain(dirname(dirname(__dirname)));
  });

  it("requires nothing at run time but Node's own modules, each by a literal name", () => {
    const text = readFileSync(bundles[0], "utf8");
    const required = [...text.matchAll(/\brequire\(([^)]*)\)/g)].map((m) => m[1]);
    expect(required.length).toBeGreaterThan(0);
    expect(required.filter((arg) => !/^"[^"]+"$/.test(arg))).toEqual([]);
    expect(required.map((arg) => arg.slice(1, -1)).filter((name) => !NODE_BUILTINS.has(name))).toEqual([]);
    expect(text).not.toMatch(/\bimport\(/);
  });

  it("carries rapidclaw probe: run alone, it reports every channel as JSON and exits 1 when the allowed host does not pass", () => {
    const config = join(dirs[1], "probe-firewall.json");
    writeFileSync(config, JSON.stringify(gatewayScenario()));
    const args = ["probe", "--config", config, "--role", "research_agent", "--proxy", "http://127.0.0.1:1", "--host-address", "127.0.0.1", "--host-port", "1", "--json", "--timeout-ms", "300"];
    const result = spawnSync(process.execPath, [bundles[1], ...args], { cwd: dirs[1], encoding: "utf8", env: { PATH: process.env.PATH, NODE_PATH: "" }, timeout: 30_000 });
    const report = JSON.parse(result.stdout) as { role: string; channels: Array<{ id: string; verdict: string; detail: string }> };
    expect(report.role).toBe("research_agent");
    expect(report.channels.find((c) => c.id === "allowed-host")).toMatchObject({ verdict: "FAIL", detail: "proxy 127.0.0.1:1: ECONNREFUSED" });
    expect(report.channels.find((c) => c.id === "host/127.0.0.1:1")).toMatchObject({ verdict: "pass", detail: "ECONNREFUSED" });
    expect(result.status, result.stderr).toBe(1);
  });

  it("ships the license of every bundled package", () => {
    const licenses = readFileSync(join(dirs[0], "THIRD-PARTY-LICENSES.txt"), "utf8");
    for (const name of ["commander", "ioredis", "prom-client", "tldts", "undici", "yaml", "zod"]) expect(licenses).toMatch(new RegExp(`^${name}@\\d`, "m"));
  });

  describe.skipIf(skipLoudly("bundled gateway against real Redis and an HTTPS upstream", missingRedis()))("run alone from a directory without node_modules", () => {
    let redis: TestRedis;
    let certificate: TestCertificate;
    let upstream: TestUpstream;
    let gateway: CliProcess;
    let rolePort = 0;
    let keys: Record<string, string> = {};

    beforeAll(async () => {
      expect(existsSync(join(dirs[1], "node_modules"))).toBe(false);
      redis = await TestRedis.start();
      certificate = selfSignedCertificate(["search.tools.test"]);
      upstream = await TestUpstream.start(certificate);
      const listening = await withTestListeners(gatewayScenario());
      rolePort = listening.rolePort;
      const written = writeKeys(listening.spec);
      keys = written.keys;
      const config = join(dirs[1], "firewall.json");
      writeFileSync(config, JSON.stringify(listening.spec));
      gateway = new CliProcess([
        "gateway", "--config", config, "--key-dir", written.dir, "--redis", redis.url, "--listen-host", "127.0.0.1",
        "--admin-port", "0", "--admin-host", "127.0.0.1",
        "--upstream-address", `web_search=127.0.0.1:${upstream.port}`, "--upstream-ca", certificate.certFile,
      ], { bundle: bundles[1], env: { NODE_PATH: "" } });
      await gateway.waitFor("listening");
    }, 60_000);

    afterAll(async () => {
      await gateway?.stop();
      await upstream?.stop();
      await redis?.kill();
    });

    it("serves an allowed call with the key injected and refuses a role without access", async () => {
      const admin = Number(/admin on [^ ]+:(\d+)/.exec(gateway.stderr)?.[1]);
      await untilReady(admin);
      const allowed = await call({ host: ROLE_ADDRESSES.research_agent.listener, port: rolePort, path: "/tools/web_search/q" });
      expect(allowed.status, allowed.body).toBe(200);
      expect(upstream.received.map((r) => r.headers["x-api-key"])).toEqual([keys.web_search]);
      const refused = await call({ host: ROLE_ADDRESSES.customer_support.listener, port: rolePort, path: "/tools/web_search/q" });
      expect(refused.status).toBe(403);
      expect(JSON.parse(refused.body)).toMatchObject({ error: "permission_denied", tool: "web_search", agent_role: "customer_support" });
      expect(upstream.received).toHaveLength(1);
      await gateway.waitFor('"permission_denied"', 5_000, "stdout");
      const events = gateway.stdout.split("\n").filter((line) => line.startsWith("{")).map((line) => JSON.parse(line));
      expect(events).toEqual(expect.arrayContaining([expect.objectContaining({ event_type: "permission_denied", tool: "web_search", agent_role: "customer_support" })]));
    });
  });
});
