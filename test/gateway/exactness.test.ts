import { writeFileSync } from "node:fs";
import { Agent } from "node:http";
import { join } from "node:path";
import Redis from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { skipLoudly } from "../e2e/support/prerequisites";
import type { FirewallSpecProps } from "../../src/model/types";
import { gatewayScenario } from "./fixture";
import { CliProcess } from "./support/cli";
import { withTestListeners, writeKeys, ROLE_ADDRESSES } from "./support/harness";
import { call, type Answer } from "./support/net";
import { missingRedis, TestRedis } from "./support/redis";
import { selfSignedCertificate, TestUpstream, type TestCertificate } from "./support/upstream";

const skip = skipLoudly("rapidclaw gateway processes against real Redis", missingRedis());

const MAX_CALLS = 10;
const WINDOW_SEC = 1;
const CALLERS = 64;

describe.skipIf(skip)("rapidclaw gateway: two processes, one Redis", () => {
  let redis: TestRedis;
  let certificate: TestCertificate;
  let upstream: TestUpstream;
  const gateways: Array<{ process: CliProcess; port: number }> = [];
  let keys: Record<string, string> = {};
  const spec: FirewallSpecProps = (() => {
    const base = gatewayScenario();
    // Exactness is measured here, not the limiter's timeout (gateway.test.ts covers that): on a
    // loaded 2-core CI machine a decision once took longer than the harness's 200 ms.
    return {
      ...base,
      gateway: { ...base.gateway, limiterTimeoutMs: 5_000 },
      tools: { ...base.tools, web_search: { ...base.tools.web_search, rateLimit: { maxCalls: MAX_CALLS, windowSec: WINDOW_SEC } } },
    };
  })();

  beforeAll(async () => {
    redis = await TestRedis.start();
    certificate = selfSignedCertificate(["search.tools.test"]);
    upstream = await TestUpstream.start(certificate);
    const written = writeKeys(spec);
    keys = written.keys;
    for (let i = 0; i < 2; i++) {
      const { spec: withListeners, rolePort } = await withTestListeners(spec);
      const file = join(written.dir, `..`, `h3-firewall-${process.pid}-${i}.json`);
      writeFileSync(file, JSON.stringify(withListeners));
      const gateway = new CliProcess([
        "gateway", "--config", file, "--key-dir", written.dir, "--redis", redis.url, "--listen-host", "127.0.0.1",
        "--admin-port", "0", "--admin-host", "127.0.0.1",
        "--upstream-address", `web_search=127.0.0.1:${upstream.port}`, "--upstream-ca", certificate.certFile,
      ]);
      gateways.push({ process: gateway, port: rolePort });
    }
    await Promise.all(gateways.map((g) => g.process.waitFor("listening")));
  }, 60_000);

  afterAll(async () => {
    await Promise.all(gateways.map((g) => g.process.stop()));
    await upstream?.stop();
    await redis?.kill();
  });

  it(`allows at most ${MAX_CALLS} per rolling ${WINDOW_SEC} s window, exactly ${MAX_CALLS} under saturation, shared by both replicas`, async () => {
    const watcher = new Redis(redis.url);
    const key = "rl:{research_agent:web_search}";
    const allowedScores = new Map<string, number>();
    let watching = true;
    // Every entry stays in the set for at least one window, so polling faster than that sees them all.
    const watch = (async () => {
      while (watching) {
        const reply = await watcher.zrange(key, 0, -1, "WITHSCORES");
        for (let i = 0; i < reply.length; i += 2) allowedScores.set(reply[i], Number(reply[i + 1]));
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const agents = gateways.map(() => new Agent({ keepAlive: true, maxSockets: CALLERS }));
    const answers: Answer[] = [];
    let running = true;
    const caller = async (i: number) => {
      while (running) {
        const g = i % 2;
        const path = i % 4 < 2 ? "/tools/web_search/q" : "/v1/check";
        answers.push(await call({
          host: ROLE_ADDRESSES.research_agent.listener, port: gateways[g].port, agent: agents[g], path,
          ...(path === "/v1/check" ? { method: "POST", body: JSON.stringify({ tool: "web_search", access: "READ" }) } : {}),
        }));
      }
    };
    const callers = Array.from({ length: CALLERS }, (_, i) => caller(i));
    await new Promise((r) => setTimeout(r, 3_300 * WINDOW_SEC));
    running = false;
    await Promise.all(callers);
    await new Promise((r) => setTimeout(r, 150));
    watching = false;
    await watch;
    watcher.disconnect();
    agents.forEach((a) => a.destroy());

    const allowed = answers.filter((a) => a.status === 200);
    const refused = answers.filter((a) => a.status === 429);
    expect(allowed.length + refused.length, "every answer is 200 or 429").toBe(answers.length);
    expect(refused.length).toBeGreaterThan(allowed.length);
    expect(allowedScores.size, "every allowed call is in Redis, nothing else").toBe(allowed.length);
    for (const a of refused) expect(Number(a.headers["retry-after"])).toBeLessThanOrEqual(WINDOW_SEC);

    // Scores are Redis TIME in microseconds: the check is exact, not subject to the test's clock.
    const scores = [...allowedScores.values()].sort((a, b) => a - b);
    const windowUs = WINDOW_SEC * 1_000_000;
    for (let i = 0; i + MAX_CALLS < scores.length; i++) {
      expect(scores[i + MAX_CALLS] - scores[i], `calls ${i} and ${i + MAX_CALLS} within one window`).toBeGreaterThanOrEqual(windowUs);
    }
    expect(scores.filter((s) => s < scores[0] + windowUs), "first window under saturating demand").toHaveLength(MAX_CALLS);
    expect(scores.length, "demand saturated several windows").toBeGreaterThanOrEqual(3 * MAX_CALLS);
    // Across each window boundary: never the 2N burst of a fixed window.
    for (let k = 1; k <= 3; k++) {
      const boundary = scores[0] + k * windowUs;
      expect(scores.filter((s) => s >= boundary - windowUs / 2 && s < boundary + windowUs / 2).length).toBeLessThanOrEqual(MAX_CALLS);
    }
  });

  it("writes each refusal as one JSON event line on stdout, the shared rate_limited alert once, and no key anywhere", async () => {
    await Promise.all(gateways.map((g) => g.process.stop()));
    const lines = gateways.flatMap((g) => g.process.stdout.split("\n").filter((l) => l !== "")).map((line) => JSON.parse(line));
    const refusals = lines.filter((event) => event.event_type !== "alert_firing");
    expect(refusals.length).toBeGreaterThanOrEqual(10);
    for (const event of lines) expect(Object.keys(event)).toEqual(["timestamp", "event_type", "tool", "agent_role", "details"]);
    for (const event of refusals) {
      expect(event).toMatchObject({ event_type: "rate_limited", tool: "web_search", agent_role: "research_agent", details: { max_calls: MAX_CALLS, window_sec: WINDOW_SEC } });
    }
    // The default rule (10 rate_limited in 300 s per role and tool) counts both replicas' refusals in one window: it fires in one of them, once.
    expect(lines.filter((event) => event.event_type === "alert_firing")).toEqual([
      expect.objectContaining({ tool: "web_search", agent_role: "research_agent", details: expect.objectContaining({ rule: "rate_limited", count: 10, threshold: 10 }) }),
    ]);
    const everything = gateways.map((g) => g.process.stdout + g.process.stderr).join("\n");
    for (const key of Object.values(keys)) expect(everything.includes(key)).toBe(false);
    expect(upstream.received.every((r) => r.headers["x-api-key"] === keys.web_search)).toBe(true);
  });

  it("refuses to start on a bad firewall file with the path-by-path errors", async () => {
    const file = join(certificate.certFile, "..", "bad-firewall.yaml");
    writeFileSync(file, [
      "platform: kubernetes",
      "modelHosts: [api.anthropic.com]",
      "tools:",
      "  web_search: { upstream: 'http://search.example.com', keyHeader: { name: x-api-key } }",
      "roles:",
      "  research_agent: { tools: { web_serch: READ } }",
      "",
    ].join("\n"));
    const bad = new CliProcess(["gateway", "--config", file, "--key-dir", "/nonexistent"]);
    expect(await bad.exited).toBe(2);
    expect(bad.stderr).toContain("invalid firewall spec");
    expect(bad.stderr).toMatch(/tools\.web_search\.upstream \(.*bad-firewall\.yaml:4:\d+\): "http:\/\/search\.example\.com" is not https/);
    expect(bad.stderr).toContain('tools.web_search.keyHeader');
    expect(bad.stderr).toContain('did you mean "web_search"');
  });
});
