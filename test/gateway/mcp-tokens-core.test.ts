import type { AnswerStage } from "../../src/gateway/answer-stage";
import { describe, expect, it } from "vitest";
import { decideMcpRequest, visibleMcpTools } from "../../src/gateway/mcp-guard";
import { toolsListFilter, UnreadableToolsList } from "../../src/gateway/mcp-tools-list";
import { SseParser } from "../../src/gateway/sse";
import { TokenUsageMeter } from "../../src/gateway/token-usage";
import { ToolAccess } from "../../src/model/types";

const TOOLS = { search: ToolAccess.READ, create: ToolAccess.WRITE, deploy: ToolAccess.EXECUTE };
const rpc = (message: unknown) => Buffer.from(JSON.stringify(message));

describe("MCP request guard", () => {
  it("decides tools/call by the access listed for the MCP tool, and hides unlisted ones", () => {
    expect(decideMcpRequest(TOOLS, ToolAccess.READ, "POST", rpc({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "search" } }))).toMatchObject({ allowed: true, mcpTool: "search" });
    expect(decideMcpRequest(TOOLS, ToolAccess.READ, "POST", rpc({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "create" } }))).toMatchObject({ allowed: false, status: 200, body: { id: 1, error: { code: -32001 } }, details: { mcp_tool: "create", required: "WRITE", granted: "READ" } });
    expect(decideMcpRequest(TOOLS, ToolAccess.EXECUTE, "POST", rpc({ jsonrpc: "2.0", id: "a", method: "tools/call", params: { name: "rm_rf" } }))).toMatchObject({ allowed: false, status: 200, body: { id: "a", error: { code: -32602, message: "Unknown tool: rm_rf" } } });
    // Names inherited from Object.prototype are not listed tools.
    expect(decideMcpRequest(TOOLS, ToolAccess.EXECUTE, "POST", rpc({ jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "constructor" } }))).toMatchObject({ allowed: false });
  });

  it("needs READ for every other message, and refuses what it cannot decide one by one", () => {
    expect(decideMcpRequest(TOOLS, ToolAccess.READ, "POST", rpc({ jsonrpc: "2.0", id: 3, method: "tools/list" }))).toMatchObject({ allowed: true, toolsListId: 3 });
    expect(decideMcpRequest(TOOLS, ToolAccess.DENY, "POST", rpc({ jsonrpc: "2.0", id: 3, method: "initialize" }))).toMatchObject({ allowed: false, status: 200 });
    expect(decideMcpRequest(TOOLS, ToolAccess.DENY, "POST", rpc({ jsonrpc: "2.0", method: "notifications/initialized" }))).toMatchObject({ allowed: false, status: 403, body: { id: null } });
    expect(decideMcpRequest(TOOLS, ToolAccess.DENY, "GET", Buffer.alloc(0))).toMatchObject({ allowed: false, status: 403 });
    expect(decideMcpRequest(TOOLS, ToolAccess.READ, "DELETE", Buffer.alloc(0))).toMatchObject({ allowed: true });
    expect(decideMcpRequest(TOOLS, ToolAccess.EXECUTE, "POST", rpc([{ jsonrpc: "2.0", id: 1, method: "ping" }]))).toMatchObject({ allowed: false, status: 400, body: { error: { code: -32600 } } });
    expect(decideMcpRequest(TOOLS, ToolAccess.EXECUTE, "POST", Buffer.from("{"))).toMatchObject({ allowed: false, status: 400, body: { error: { code: -32700 } } });
    expect(decideMcpRequest(TOOLS, ToolAccess.EXECUTE, "PATCH", Buffer.alloc(0))).toMatchObject({ allowed: false, status: 405 });
    expect([...visibleMcpTools(TOOLS, ToolAccess.WRITE)].sort()).toEqual(["create", "search"]);
  });
});

/** Runs chunks through a stage as the forwarding path does. */
const through = (stage: AnswerStage, chunks: ReadonlyArray<string | Buffer>): string => {
  const out = chunks.map((chunk) => stage.push(Buffer.from(chunk)).toString("utf8")).join("") + stage.end().toString("utf8");
  stage.close();
  return out;
};
const list = (id: number) => ({ jsonrpc: "2.0", id, result: { tools: [{ name: "search" }, { name: "create" }, { name: "secret" }] } });

describe("tools/list filter", () => {
  it("rewrites the answer to the request in JSON, and in SSE across chunk boundaries, leaving other events as they came", () => {
    const visible = new Set(["search"]);
    const json = through(toolsListFilter("application/json", 4, visible, 1_000), [JSON.stringify(list(4)).slice(0, 10), JSON.stringify(list(4)).slice(10)]);
    expect(JSON.parse(json).result.tools).toEqual([{ name: "search" }]);
    const progress = `event: message\ndata: ${JSON.stringify({ jsonrpc: "2.0", method: "notifications/progress", params: { progress: 1 } })}\n\n`;
    const sse = `${progress}id: 9\r\ndata: ${JSON.stringify(list(4))}\r\n\r\n`;
    const chunks = [...sse].reduce<string[]>((acc, ch, i) => (i % 7 === 0 ? [...acc, ch] : [...acc.slice(0, -1), acc[acc.length - 1] + ch]), []);
    const out = through(toolsListFilter("text/event-stream", 4, visible, 1_000), chunks);
    expect(out.startsWith(progress)).toBe(true);
    expect(out).not.toContain("secret");
    expect(out).toContain('"tools":[{"name":"search"}]');
  });

  it("ends an answer it cannot read instead of passing it unfiltered", () => {
    for (const filter of [toolsListFilter("text/plain", 1, new Set(), 1_000), toolsListFilter("application/json", 1, new Set(), 10), toolsListFilter("text/event-stream", 1, new Set(), 10)]) {
      expect(() => through(filter, [JSON.stringify(list(1))])).toThrow(UnreadableToolsList);
    }
    expect(() => through(toolsListFilter("application/json", 1, new Set(), 1_000), ["{\"jsonrpc\":"])).toThrow(UnreadableToolsList);
  });
});

describe("SSE parser and token usage", () => {
  it("parses events split anywhere, with CRLF, CR or LF line ends, and bounds an unfinished event", () => {
    const parser = new SseParser(64);
    expect(parser.push("data: a\r")).toEqual([]);
    expect(parser.push("\ndata: b\r\n\r")).toEqual([]);
    expect(parser.push("\n: comment\nevent: x\ndata: c\n\n").map((e) => [e.event, e.data])).toEqual([["message", "a\nb"], ["x", "c"]]);
    expect(() => parser.push("data: " + "x".repeat(100))).toThrow();
  });

  it("reads usage from each vendor's answers, and a running Anthropic output count", () => {
    const json = (body: unknown) => { const m = new TokenUsageMeter("application/json", 1_000); m.push(Buffer.from(JSON.stringify(body))); return m.usage(); };
    expect(json({ usage: { input_tokens: 5, output_tokens: 2, cache_read_input_tokens: 3 } })).toEqual({ input: 8, output: 2 });
    expect(json({ usage: { prompt_tokens: 5, completion_tokens: 2 } })).toEqual({ input: 5, output: 2 });
    expect(json({ error: { type: "overloaded" } })).toEqual({ input: 0, output: 0 });
    const sse = new TokenUsageMeter("text/event-stream", 1_000);
    sse.push(Buffer.from(`event: message_start\ndata: ${JSON.stringify({ type: "message_start", message: { usage: { input_tokens: 10, output_tokens: 1 } } })}\n\n`));
    sse.push(Buffer.from(`event: message_delta\ndata: ${JSON.stringify({ type: "message_delta", usage: { output_tokens: 7 } })}\n\n`));
    expect(sse.usage()).toEqual({ input: 10, output: 7 });
    const responses = new TokenUsageMeter("text/event-stream", 1_000);
    responses.push(Buffer.from(`data: ${JSON.stringify({ type: "response.completed", response: { usage: { input_tokens: 4, output_tokens: 6 } } })}\n\n`));
    expect(responses.usage()).toEqual({ input: 4, output: 6 });
    const big = new TokenUsageMeter("application/json", 10);
    big.push(Buffer.from(JSON.stringify({ usage: { input_tokens: 5, output_tokens: 2 } })));
    expect(big.usage()).toEqual({ input: 0, output: 0 });
  });
});
