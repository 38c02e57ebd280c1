import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { skipLoudly } from "../e2e/support/prerequisites";
import { ToolAccess, type FirewallSpecProps } from "../../src/model/types";
import { gatewayScenario } from "./fixture";
import { ROLE_ADDRESSES, startTestGateway, type TestGateway } from "./support/harness";
import { TestMcpServer } from "./support/mcp-server";
import { call, untilReady } from "./support/net";
import { missingRedis, TestRedis } from "./support/redis";
import { selfSignedCertificate, TestUpstream, type TestCertificate } from "./support/upstream";

const skip = skipLoudly("MCP servers behind the tool gateway, with real Redis and the official MCP SDK", missingRedis());

const READER = "customer_support";
const WRITER = "research_agent";
/** One MCP tool per answer format of the server: JSON answers and SSE answers. */
const MCP_TOOLS = { issues_json: "json", issues_sse: "sse" } as const;

function mcpScenario(): FirewallSpecProps {
  const base = gatewayScenario();
  const mcpTool = { upstream: "https://mcp.tools.test/mcp", key: {}, rateLimit: { maxCalls: 10_000, windowSec: 60 }, mcp: { tools: { search_issues: ToolAccess.READ, create_issue: ToolAccess.WRITE } } };
  return {
    ...base,
    tools: { ...base.tools, issues_json: mcpTool, issues_sse: mcpTool, issues_limited: { ...mcpTool, mcp: { ...mcpTool.mcp, rateLimits: { search_issues: { maxCalls: 2, windowSec: 600 } } } } },
    roles: {
      ...base.roles,
      [READER]: { ...base.roles[READER], tools: { ...base.roles[READER].tools, issues_json: ToolAccess.READ, issues_sse: ToolAccess.READ, issues_limited: ToolAccess.READ } },
      [WRITER]: { ...base.roles[WRITER], tools: { ...base.roles[WRITER].tools, issues_json: ToolAccess.WRITE, issues_sse: ToolAccess.WRITE, issues_limited: ToolAccess.WRITE } },
    },
  };
}

describe.skipIf(skip)("MCP servers as tools", () => {
  let redis: TestRedis;
  let certificate: TestCertificate;
  let upstream: TestUpstream;
  let gw: TestGateway;
  const servers = new Map<string, TestMcpServer>();
  const clients: Client[] = [];

  /** An MCP client of the official SDK, connected through the gateway as `role`. */
  async function connect(role: string, tool: string): Promise<Client> {
    const client = new Client({ name: `test-${role}`, version: "1.0.0" });
    await client.connect(new StreamableHTTPClientTransport(new URL(`http://${ROLE_ADDRESSES[role].listener}:${gw.rolePort}/tools/${tool}/`)));
    clients.push(client);
    return client;
  }
  const post = (role: string, tool: string, body: unknown, method = "POST") =>
    call({ host: ROLE_ADDRESSES[role].listener, port: gw.rolePort, path: `/tools/${tool}/`, method, headers: { accept: "application/json, text/event-stream" }, body: JSON.stringify(body) });

  beforeAll(async () => {
    const spec = mcpScenario();
    redis = await TestRedis.start();
    certificate = selfSignedCertificate([...new Set(Object.values(spec.tools).flatMap((t) => (t.upstream ? [new URL(t.upstream).hostname] : [])))]);
    upstream = await TestUpstream.start(certificate);
    for (const [tool, answer] of Object.entries(MCP_TOOLS)) servers.set(tool, await TestMcpServer.start(certificate, answer));
    gw = await startTestGateway(spec, redis.url, upstream, certificate, {}, new Map([...[...servers].map(([tool, server]) => [tool, server.port] as const), ["issues_limited", (servers.get("issues_json") as TestMcpServer).port]]));
    await untilReady(gw.gateway.admin.port);
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await gw?.gateway.stop();
    await Promise.all([...servers.values()].map((s) => s.stop()));
    await upstream?.stop();
    await redis?.kill();
  });

  for (const tool of Object.keys(MCP_TOOLS)) {
    describe(`${tool}: answers in ${MCP_TOOLS[tool as keyof typeof MCP_TOOLS].toUpperCase()}`, () => {
      it("lists to each role only the MCP tools its access allows, and never an unlisted one", async () => {
        const reader = await connect(READER, tool);
        const writer = await connect(WRITER, tool);
        expect((await reader.listTools()).tools.map((t) => t.name).sort()).toEqual(["search_issues"]);
        expect((await writer.listTools()).tools.map((t) => t.name).sort()).toEqual(["create_issue", "search_issues"]);
      });

      it("refuses the reader's call of a writer-only tool with a JSON-RPC error and a permission_denied event naming it; the writer's call runs with the key injected", async () => {
        const server = servers.get(tool) as TestMcpServer;
        const reader = await connect(READER, tool);
        const writer = await connect(WRITER, tool);
        const before = gw.events.length;
        await expect(reader.callTool({ name: "create_issue", arguments: { title: "from the reader" } })).rejects.toMatchObject({ code: -32001 });
        expect(server.ran).not.toContain("create_issue");
        expect(gw.events.slice(before)).toEqual([expect.objectContaining({ event_type: "permission_denied", tool, agent_role: READER, details: expect.objectContaining({ mcp_tool: "create_issue", mcp_method: "tools/call", required: "WRITE", granted: "READ" }) })]);

        const answer = await reader.callTool({ name: "search_issues", arguments: { title: "q" } });
        expect(answer.content).toEqual([{ type: "text", text: "search_issues: q" }]);
        const written = await writer.callTool({ name: "create_issue", arguments: { title: "from the writer" } });
        expect(written.content).toEqual([{ type: "text", text: "create_issue: from the writer" }]);
        expect(server.ran).toContain("create_issue");
        const posts = server.received.filter((r) => r.method === "POST");
        expect(posts.every((r) => r.headers.authorization === `Bearer ${gw.keys[tool]}`)).toBe(true);
        expect(posts.at(-1)?.headers["mcp-session-id"]).toMatch(/^[0-9a-f-]{36}$/);
      });

      it("refuses an MCP tool the firewall does not list, for every role, as an unknown tool", async () => {
        const server = servers.get(tool) as TestMcpServer;
        const writer = await connect(WRITER, tool);
        const before = gw.events.length;
        await expect(writer.callTool({ name: "delete_repo", arguments: { title: "x" } })).rejects.toMatchObject({ code: -32602 });
        expect(server.ran).not.toContain("delete_repo");
        expect(gw.events.slice(before)[0]).toMatchObject({ event_type: "permission_denied", details: { mcp_tool: "delete_repo" } });
      });
    });
  }

  it("refuses batches, other HTTP methods and paths below the endpoint before the server sees them", async () => {
    const server = servers.get("issues_json") as TestMcpServer;
    const seen = server.received.length;
    const batch = await post(WRITER, "issues_json", [{ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "delete_repo", arguments: {} } }]);
    expect(batch.status).toBe(400);
    expect(JSON.parse(batch.body)).toMatchObject({ jsonrpc: "2.0", id: null, error: { code: -32600 } });
    expect((await post(WRITER, "issues_json", {}, "PUT")).status).toBe(405);
    expect((await post(WRITER, "issues_json", "not json-rpc")).status).toBe(400);
    const below = await call({ host: ROLE_ADDRESSES[WRITER].listener, port: gw.rolePort, path: "/tools/issues_json/admin" });
    expect(below.status).toBe(404);
    // A refused notification has no answer of its own: the POST is refused.
    const notification = await post(READER, "issues_json", { jsonrpc: "2.0", method: "tools/call", params: { name: "create_issue" } });
    expect(notification.status).toBe(403);
    expect(server.received.length).toBe(seen);
  });

  it("limits calls of one MCP tool per role apart from the others (mcp.rateLimits)", async () => {
    const search = (role: string, id: number) => post(role, "issues_limited", { jsonrpc: "2.0", id, method: "tools/call", params: { name: "search_issues", arguments: { title: "q" } } });
    expect((await search(READER, 1)).status).not.toBe(429);
    expect((await search(READER, 2)).status).not.toBe(429);
    const refused = await search(READER, 3);
    expect(refused.status).toBe(429);
    expect(JSON.parse(refused.body)).toMatchObject({ error: "rate_limited", tool: "issues_limited" });
    expect(gw.events.at(-1)).toMatchObject({ event_type: "rate_limited", agent_role: READER, details: { mcp_tool: "search_issues", max_calls: 2 } });
    // Other MCP requests, and another role's calls, are not counted in that window.
    expect((await post(READER, "issues_limited", { jsonrpc: "2.0", id: 4, method: "ping" })).status).not.toBe(429);
    expect((await search(WRITER, 5)).status).not.toBe(429);
  });

  it("counts every MCP request against the tool's rate limit", async () => {
    // On the tool no SDK client holds a session with (their clients may reopen the server's GET stream at any time).
    const key = `rl:{${WRITER}:issues_limited}`;
    const before = Number(await redis.cli("ZCARD", key));
    await post(WRITER, "issues_limited", { jsonrpc: "2.0", id: 7, method: "ping" });
    await post(WRITER, "issues_limited", { jsonrpc: "2.0", id: 8, method: "tools/list" });
    expect(Number(await redis.cli("ZCARD", key))).toBe(before + 2);
  });
});
