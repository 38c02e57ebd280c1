import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { skipLoudly } from "../e2e/support/prerequisites";
import type { GatewayEvent } from "../../src/gateway/events";
import { limiterKey } from "../../src/plan/redis-keys";
import { AlertSeverity, Enforcement, ToolAccess, type FirewallSpecProps } from "../../src/model/types";
import { stringify } from "yaml";
import { EXIT } from "../../src/cli/exit-codes";
import { GATEWAY_BUNDLE_PATH } from "../../src/constructs/gateway-bundle";
import { gatewayScenario } from "./fixture";
import { CliProcess } from "./support/cli";
import { ROLE_ADDRESSES, startTestGateway, type TestGateway } from "./support/harness";
import { TestMcpServer } from "./support/mcp-server";
import { call, untilReady } from "./support/net";
import { missingRedis, TestRedis } from "./support/redis";
import { selfSignedCertificate, TestUpstream, type TestCertificate } from "./support/upstream";

const skip = skipLoudly("shadow mode (enforcement audit) through the tool gateway against real Redis", missingRedis());

const AUDITED = "research_agent";
const ENFORCED = "customer_support";

/**
 * research_agent in audit, customer_support enforced; knowledge_base audited for every role
 * (the tool's setting wins over customer_support's), file_upload enforced for every role (over
 * research_agent's audit); web_search limited to 2 calls a minute; a permission alert at 4.
 */
function shadowScenario(): FirewallSpecProps {
  const base = gatewayScenario();
  return {
    ...base,
    tools: {
      ...base.tools,
      web_search: { ...base.tools.web_search, rateLimit: { maxCalls: 2, windowSec: 60 } },
      knowledge_base: { ...base.tools.knowledge_base, enforcement: Enforcement.AUDIT },
      file_upload: { ...base.tools.file_upload, enforcement: Enforcement.ENFORCE },
      issues: { upstream: "https://mcp.tools.test/mcp", key: {}, mcp: { tools: { search_issues: ToolAccess.READ, create_issue: ToolAccess.WRITE } } },
    },
    roles: {
      ...base.roles,
      [AUDITED]: { ...base.roles[AUDITED], enforcement: Enforcement.AUDIT, tools: { ...base.roles[AUDITED].tools, issues: ToolAccess.READ } },
    },
    monitoring: { permissionDenied: { count: 4, windowSec: 600, severity: AlertSeverity.WARNING } },
  };
}

describe.skipIf(skip)("shadow mode", () => {
  let redis: TestRedis;
  let certificate: TestCertificate;
  let upstream: TestUpstream;
  let mcp: TestMcpServer;
  let gw: TestGateway;
  const spec = shadowScenario();

  const send = (role: string, tool: string, path: string, method = "GET") =>
    call({ host: ROLE_ADDRESSES[role].listener, port: gw.rolePort, path: `/tools/${tool}${path}`, method, ...(method === "GET" ? {} : { body: "{}" }) });
  const eventsOf = (role: string, type: string): GatewayEvent[] => gw.events.filter((e) => e.agent_role === role && e.event_type === type);
  const metrics = async () => (await call({ host: "127.0.0.1", port: gw.gateway.admin.port, path: "/metrics" })).body;

  beforeAll(async () => {
    redis = await TestRedis.start();
    certificate = selfSignedCertificate([...new Set(Object.values(spec.tools).flatMap((t) => (t.upstream ? [new URL(t.upstream).hostname] : [])))]);
    upstream = await TestUpstream.start(certificate);
    mcp = await TestMcpServer.start(certificate, "json");
    gw = await startTestGateway(spec, redis.url, upstream, certificate, {}, new Map([["issues", mcp.port]]));
    await untilReady(gw.gateway.admin.port);
  });

  afterAll(async () => {
    await gw?.gateway.stop();
    await mcp?.stop();
    await upstream?.stop();
    await redis?.kill();
  });

  it("forwards an audited role's call its access refuses, and raises would_deny with the refusal's details and status", async () => {
    const before = upstream.received.length;
    const answer = await send(AUDITED, "send_email", "/v3/mail/send", "POST");
    expect(answer.status).toBe(200);
    expect(upstream.received.length).toBe(before + 1);
    expect(eventsOf(AUDITED, "would_deny")).toEqual([expect.objectContaining({
      tool: "send_email",
      details: { method: "POST", path: "/v3/mail/send", required: "EXECUTE", granted: "DENY", refusal: "permission_denied", status: 403 },
    })]);
    expect(eventsOf(AUDITED, "permission_denied")).toEqual([]);
  });

  it("forwards calls over the rate limit with would_deny rate_limited, and keeps the window as enforcement would (the shadowed call is not counted)", async () => {
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await send(AUDITED, "web_search", "/v1/search?q=x")).status);
    expect(statuses).toEqual([200, 200, 200]);
    const rate = eventsOf(AUDITED, "would_deny").filter((e) => e.details.refusal === "rate_limited");
    expect(rate).toEqual([expect.objectContaining({ tool: "web_search", details: expect.objectContaining({ method: "GET", path: "/v1/search", required: "READ", max_calls: 2, window_sec: 60, status: 429 }) })]);
    expect(Number(await redis.cli("ZCARD", limiterKey("rapidclaw", AUDITED, "web_search")))).toBe(2);
  });

  it("lets the check endpoint answer allowed for an audited refusal", async () => {
    const answer = await call({ host: ROLE_ADDRESSES[AUDITED].listener, port: gw.rolePort, path: "/v1/check", method: "POST", body: JSON.stringify({ tool: "send_email", access: "EXECUTE" }) });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({ allowed: true, tool: "send_email" });
    expect(eventsOf(AUDITED, "would_deny").filter((e) => e.details.method === "CHECK")).toHaveLength(1);
  });

  it("takes the most specific setting: a tool's audit over an enforced role, a tool's enforce over an audited role", async () => {
    expect((await send(ENFORCED, "knowledge_base", "/articles", "POST")).status).toBe(200);
    expect(eventsOf(ENFORCED, "would_deny")).toEqual([expect.objectContaining({ tool: "knowledge_base", details: expect.objectContaining({ refusal: "permission_denied", required: "WRITE", granted: "READ" }) })]);
    expect((await send(AUDITED, "file_upload", "/upload", "POST")).status).toBe(403);
    expect(eventsOf(AUDITED, "permission_denied")).toEqual([expect.objectContaining({ tool: "file_upload" })]);
  });

  it("changes nothing else for an audited role: an unknown tool and a bad request are refused", async () => {
    expect((await send(AUDITED, "no_such_tool", "/x")).status).toBe(404);
    expect((await send(AUDITED, "web_search", "/a/../../send_email/v3/mail/send", "POST")).status).toBe(400);
    expect(eventsOf(AUDITED, "unknown_tool")).toHaveLength(1);
    expect(eventsOf(AUDITED, "bad_request")).toHaveLength(1);
  });

  it("refuses an enforced role as before", async () => {
    const answer = await send(ENFORCED, "web_search", "/v1/search");
    expect(answer.status).toBe(403);
    expect(JSON.parse(answer.body)).toMatchObject({ error: "permission_denied", required: "READ", granted: "DENY" });
  });

  it("shows an audited MCP client every tool (tools/list unfiltered) and runs a call its access refuses, with would_deny naming the MCP tool", async () => {
    const client = new Client({ name: "shadow-test", version: "1.0.0" });
    await client.connect(new StreamableHTTPClientTransport(new URL(`http://${ROLE_ADDRESSES[AUDITED].listener}:${gw.rolePort}/tools/issues/`)));
    try {
      expect((await client.listTools()).tools.map((t) => t.name).sort()).toEqual(["create_issue", "delete_repo", "search_issues"]);
      const result = await client.callTool({ name: "create_issue", arguments: { title: "t" } });
      expect(result.isError ?? false).toBe(false);
      expect(mcp.ran).toContain("create_issue");
      expect(eventsOf(AUDITED, "would_deny").filter((e) => e.tool === "issues")).toEqual([
        expect.objectContaining({ details: expect.objectContaining({ refusal: "permission_denied", mcp_method: "tools/call", mcp_tool: "create_issue", required: "WRITE", granted: "READ", status: 200 }) }),
      ]);
    } finally {
      await client.close();
    }
  });

  it("counts would_deny apart in the metrics, and fires no enforce alert from it", async () => {
    // The audited role raised 3 refusals the permission rule counts (file_upload, an unknown tool, a
    // bad request) and 3 permission would_deny events: 6 if these counted, past the alert's 4.
    const text = await metrics();
    expect(text).toMatch(/rapidclaw_gateway_would_deny_total\{refusal="permission_denied",role="research_agent",tool="send_email"\} 2/);
    expect(text).toMatch(/rapidclaw_gateway_would_deny_total\{refusal="rate_limited",role="research_agent",tool="web_search"\} 1/);
    expect(text).toMatch(/rapidclaw_firewall_events_total\{event_type="would_deny",role="research_agent",tool="send_email"\} 2/);
    expect(text).not.toMatch(/rapidclaw_firewall_events_total\{event_type="permission_denied",role="research_agent",tool="send_email"\} [1-9]/);
    // Three more enforced refusals of customer_support reach the threshold: the alert is about it alone.
    for (let i = 0; i < 3; i++) expect((await send(ENFORCED, "web_search", "/v1/search")).status).toBe(403);
    await gw.gateway.drain(2_000);
    const firing = gw.lines.map((l) => JSON.parse(l) as { event_type: string; agent_role: string }).filter((e) => e.event_type === "alert_firing");
    expect(firing.map((e) => e.agent_role)).toEqual([ENFORCED]);
  });

  it("replays the lines it wrote (the bundle's rapidclaw replay): nothing changes under the same description; enforcing the audited role refuses exactly what it shadowed", async () => {
    const dir = mkdtempSync(join(tmpdir(), "rapidclaw-shadow-replay-"));
    const log = join(dir, "gateway.log");
    writeFileSync(log, `${gw.lines.join("\n")}\n`);
    const replay = async (name: string, candidate: FirewallSpecProps) => {
      writeFileSync(join(dir, name), stringify(candidate));
      const cli = new CliProcess(["replay", "--config", join(dir, name), "--json", log], { bundle: join(__dirname, "..", "..", GATEWAY_BUNDLE_PATH) });
      const code = await cli.exited;
      return { code, stderr: cli.stderr, report: cli.stdout === "" ? undefined : JSON.parse(cli.stdout) };
    };
    const same = await replay("same.yaml", spec);
    expect(same.stderr).toBe("");
    expect(same.code).toBe(EXIT.OK);
    // Every call decision the gateway logged: 5 shadowed (2 send_email, 1 web_search, 1 knowledge_base, 1 MCP), 5 refused (file_upload, web_search 4 times).
    expect(same.report).toMatchObject({ calls: 10, replayed: 10, changed: 0, notReplayed: [] });
    const enforced = await replay("enforced.yaml", { ...spec, roles: { ...spec.roles, [AUDITED]: { ...spec.roles[AUDITED], enforcement: undefined } } });
    expect(enforced.code).toBe(EXIT.REPLAY_CHANGED);
    expect(enforced.report.changes.map((c: Record<string, unknown>) => [c.layer, c.role, c.subject, c.wouldRefuse, c.wouldAllow])).toEqual([
      ["gateway_permission", AUDITED, "issues", 1, 0],
      ["gateway_permission", AUDITED, "send_email", 2, 0],
      ["gateway_rate", AUDITED, "web_search", 1, 0],
    ]);
  });
});
