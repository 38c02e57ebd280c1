/**
 * Two firewalls with different names on one redis-server are independent: team-a and team-b,
 * same roles and tools, each a real bundled gateway process with its own firewall file, and
 * `rapidclaw proxy-events` of team-b. One team's calls up to its limit, its refusals and its
 * proxy's blocked lines count nowhere in the other's limits and alert windows.
 */
import { appendFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GATEWAY_BUNDLE_PATH } from "../../src/constructs/gateway-bundle";
import { skipLoudly } from "../e2e/support/prerequisites";
import { until } from "../support/webhook-receiver";
import { gatewayScenario } from "./fixture";
import { CliProcess } from "./support/cli";
import { ROLE_ADDRESSES, withTestListeners, writeKeys } from "./support/harness";
import { call } from "./support/net";
import { missingRedis, TestRedis } from "./support/redis";

const skip = skipLoudly("two firewalls on one real redis-server", missingRedis());
const BUNDLE = join(__dirname, "..", "..", GATEWAY_BUNDLE_PATH);

/** One firewall's gateway process and the port of its role listeners. */
interface Team {
  readonly gateway: CliProcess;
  readonly rolePort: number;
  readonly config: string;
  readonly dir: string;
}

describe.skipIf(skip)("firewalls named apart on one Redis", () => {
  let redis: TestRedis;
  const teams: Record<string, Team> = {};
  const others: CliProcess[] = [];

  const check = (team: string, tool: string, access: string) =>
    call({ host: ROLE_ADDRESSES.research_agent.listener, port: teams[team].rolePort, path: "/v1/check", method: "POST", body: JSON.stringify({ tool, access }) });
  const alertLines = (process: CliProcess) => process.stdout.split("\n").filter((l) => l.includes('"alert_firing"'));

  beforeAll(async () => {
    redis = await TestRedis.start();
    for (const name of ["team-a", "team-b"]) {
      const { spec, rolePort } = await withTestListeners(gatewayScenario({ name }));
      const { dir } = writeKeys(spec);
      const config = join(dir, `${name}.json`);
      writeFileSync(config, JSON.stringify(spec));
      const gateway = new CliProcess(["gateway", "--config", config, "--key-dir", dir, "--redis", redis.url, "--listen-host", "127.0.0.1", "--admin-port", "0", "--admin-host", "127.0.0.1"], { bundle: BUNDLE });
      teams[name] = { gateway, rolePort, config, dir };
    }
    await Promise.all(Object.values(teams).map((t) => t.gateway.waitFor("listening")));
  }, 60_000);

  afterAll(async () => {
    await Promise.all([...Object.values(teams).map((t) => t.gateway.stop()), ...others.map((p) => p.stop())]);
    await redis?.kill();
    for (const team of Object.values(teams)) rmSync(team.dir, { recursive: true, force: true });
  });

  it("team-a's calls up to its limit leave team-b's limit whole", async () => {
    // web_search allows research_agent 20 calls in 60 s.
    for (let i = 0; i < 20; i++) expect((await check("team-a", "web_search", "READ")).status).toBe(200);
    expect((await check("team-a", "web_search", "READ")).status).toBe(429);
    expect((await check("team-b", "web_search", "READ")).status).toBe(200);
    expect(await redis.cli("ZCARD", "team-a:rl:{research_agent:web_search}")).toBe("20\n");
    expect(await redis.cli("ZCARD", "team-b:rl:{research_agent:web_search}")).toBe("1\n");
    // The seed's research_agent has task limits: each allowed check also counts in its team's role window.
    expect(await redis.cli("ZCARD", "team-a:tk:{research_agent}:calls")).toBe("20\n");
    expect(await redis.cli("ZCARD", "team-b:tk:{research_agent}:calls")).toBe("1\n");
  });

  it("team-a's refusals fire team-a's alert only; team-b's window and firing state are its own", async () => {
    for (let i = 0; i < 3; i++) expect((await check("team-a", "send_email", "WRITE")).status).toBe(403);
    await until("team-a's alert", () => alertLines(teams["team-a"].gateway).length > 0);
    for (let i = 0; i < 2; i++) expect((await check("team-b", "send_email", "WRITE")).status).toBe(403);
    await until("team-b's two refusals in its window", async () => (await redis.cli("ZCARD", "team-b:alert:{permission_denied|research_agent|}:w")) === "2\n");
    expect(await redis.cli("EXISTS", "team-b:alert:{permission_denied|research_agent|}:s")).toBe("0\n");
    expect(await redis.cli("EXISTS", "team-a:alert:{permission_denied|research_agent|}:s")).toBe("1\n");
    expect(alertLines(teams["team-b"].gateway)).toEqual([]);
  });

  it("proxy-events counts a team's proxy lines in that team's windows", async () => {
    const log = join(teams["team-b"].dir, "access.log");
    writeFileSync(log, "");
    const reader = new CliProcess(["proxy-events", "--config", teams["team-b"].config, "--log", log, "--redis", redis.url, "--admin-port", "0", "--admin-host", "127.0.0.1"], { bundle: BUNDLE });
    others.push(reader);
    await reader.waitFor("following");
    appendFileSync(log, `${JSON.stringify({ ts: new Date().toISOString(), event: "network_blocked", client: "172.30.0.11", role: "research_agent", method: "CONNECT", host: "x.example", port: "443", status: 403, result: "TCP_DENIED", bytes: 0 })}\n`);
    await until("the proxy line in team-b's window", async () => (await redis.cli("ZCARD", "team-b:alert:{network_blocked|research_agent|}:w")) === "1\n");
    expect(await redis.cli("EXISTS", "team-a:alert:{network_blocked|research_agent|}:w")).toBe("0\n");
    expect(await redis.cli("KEYS", "rapidclaw:*")).toBe("\n");
    expect(await redis.cli("KEYS", "rl:*")).toBe("\n");
    expect(await redis.cli("KEYS", "tk:*")).toBe("\n");
  });
});
