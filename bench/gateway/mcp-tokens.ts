// What the MCP path and token counting add per call (`tsx bench/gateway/mcp-tokens.ts`): CPU of
// the MCP request decision, of filtering a tools/list answer (JSON and SSE), of reading usage from
// a streamed model answer, and the Redis round trip of a token-budget check next to a rate-limit
// decision, on a real redis-server. Components in-process, not end to end through the gateway.
import type { AnswerStage } from "../../src/gateway/answer-stage";
import { decideMcpRequest } from "../../src/gateway/mcp-guard";
import { toolsListFilter } from "../../src/gateway/mcp-tools-list";
import { RedisLimiter } from "../../src/gateway/redis-limiter";
import { RedisTokenBudget } from "../../src/gateway/redis-token-budget";
import { TokenUsageMeter } from "../../src/gateway/token-usage";
import { ToolAccess } from "../../src/model/types";
import { TestRedis } from "../../test/gateway/support/redis";

const N = Number(process.env.BENCH_CALLS ?? 5_000);

async function perCall(name: string, run: () => unknown): Promise<void> {
  for (let i = 0; i < Math.min(500, N); i++) await run();
  const samples: number[] = [];
  for (let i = 0; i < N; i++) {
    const started = process.hrtime.bigint();
    await run();
    samples.push(Number(process.hrtime.bigint() - started) / 1_000);
  }
  samples.sort((a, b) => a - b);
  process.stdout.write(`${name.padEnd(58)} p50 ${samples[Math.floor(N / 2)].toFixed(1).padStart(7)} µs   p99 ${samples[Math.floor(N * 0.99)].toFixed(1).padStart(7)} µs\n`);
}

/** Runs one answer through a stage as the forwarding path does. */
function through(stage: AnswerStage, answer: Buffer): number {
  const length = stage.push(answer).length + stage.end().length;
  stage.close();
  return length;
}

async function main(): Promise<void> {
  const mcpTools = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`tool_${i}`, i % 2 === 0 ? ToolAccess.READ : ToolAccess.WRITE]));
  const call = Buffer.from(JSON.stringify({ jsonrpc: "2.0", id: 42, method: "tools/call", params: { name: "tool_7", arguments: { query: "x".repeat(200) } } }));
  await perCall("MCP decision (tools/call, 50 listed tools)", () => decideMcpRequest(mcpTools, ToolAccess.WRITE, "POST", call));

  const list = JSON.stringify({ jsonrpc: "2.0", id: 1, result: { tools: Object.keys(mcpTools).map((name) => ({ name, description: "d".repeat(200), inputSchema: { type: "object", properties: { q: { type: "string" } } } })) } });
  const visible = new Set(Object.keys(mcpTools).filter((_, i) => i % 2 === 0));
  const sse = Buffer.from(`event: message\ndata: ${list}\n\n`);
  await perCall(`tools/list filter, JSON (${(list.length / 1024).toFixed(0)} KiB, 50 tools)`, () => through(toolsListFilter("application/json", 1, visible, 4 << 20), Buffer.from(list)));
  await perCall(`tools/list filter, SSE (${(sse.length / 1024).toFixed(0)} KiB, 50 tools)`, () => through(toolsListFilter("text/event-stream", 1, visible, 4 << 20), sse));

  const deltas = Array.from({ length: 200 }, () => Buffer.from(`event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"hello there"}}\n\n`));
  const start = Buffer.from(`event: message_start\ndata: {"type":"message_start","message":{"usage":{"input_tokens":1200,"output_tokens":1}}}\n\n`);
  const end = Buffer.from(`event: message_delta\ndata: {"type":"message_delta","usage":{"output_tokens":400}}\n\n`);
  await perCall("usage read from an Anthropic SSE answer (202 events)", () => {
    const meter = new TokenUsageMeter("text/event-stream", 4 << 20);
    meter.push(start);
    for (const d of deltas) meter.push(d);
    meter.push(end);
    return meter.usage();
  });

  const redis = await TestRedis.start();
  const limiter = new RedisLimiter({ firewall: "bench", url: redis.url, timeoutMs: 1_000 });
  while (!(await limiter.ready())) await new Promise((r) => setTimeout(r, 20));
  const budget = new RedisTokenBudget(limiter);
  await perCall("rate-limit decision (Redis round trip, for comparison)", () => limiter.take("r", "t", { maxCalls: 1_000_000_000, windowSec: 60 }));
  await perCall("token-budget check (Redis round trip)", () => budget.check("r", "t", { maxTokens: 1_000_000_000, windowSec: 60 }));
  await perCall("token-budget record (Redis round trip, after the answer)", () => budget.record("r", "t", { maxTokens: 1_000_000_000, windowSec: 60 }, 1_600));
  await limiter.close();
  await redis.kill();
}

main().catch((error) => { process.stderr.write(`${String(error)}\n`); process.exit(1); });
