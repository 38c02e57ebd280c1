import type { IncomingHttpHeaders } from "node:http";
import { createServer, type Server } from "node:https";
import type { FirewallSpecProps } from "../../../src/model/types";
import { ROLE_ADDRESSES, startTestGateway, type TestGateway } from "../../gateway/support/harness";
import { TestRedis } from "../../gateway/support/redis";
import { selfSignedCertificate, TestUpstream, type TestCertificate } from "../../gateway/support/upstream";

/** What the scripted model answers: a tool call, or a final text. */
export type ModelTurn = { readonly tool: string; readonly args: Record<string, unknown> } | { readonly text: string };

/** A model request as the stub received it. */
export interface ModelRequest {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly body: any;
  /** The whole request body as text (for markers and tool results). */
  readonly text: string;
}

/**
 * A scripted model API on HTTPS, standing in for the model provider behind the gateway: it
 * answers Anthropic's Messages API (`/v1/messages`, streamed or not) and OpenAI's chat
 * completions (`/chat/completions`, streamed or not) with the turn `script` picks for each request.
 * It is the upstream, not the thing under test: the agents, their hooks and the gateway are real.
 */
export class ModelStub {
  readonly requests: ModelRequest[] = [];
  private constructor(private readonly server: Server, readonly port: number) {}

  static async start(certificate: TestCertificate, script: (request: ModelRequest) => ModelTurn): Promise<ModelStub> {
    const requests: ModelRequest[] = [];
    const server = createServer({ cert: certificate.cert, key: certificate.key }, (req, res) => {
      let text = "";
      req.on("data", (d) => (text += d));
      req.on("end", () => {
        const request: ModelRequest = { path: req.url ?? "", headers: req.headers, body: text === "" ? {} : JSON.parse(text), text };
        requests.push(request);
        const turn = script(request);
        const anthropic = request.path.endsWith("/messages");
        if (!anthropic && !request.path.endsWith("/chat/completions")) {
          res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: { message: `no model API at ${request.path}` } }));
          return;
        }
        const events = anthropic ? anthropicEvents(turn) : openAiEvents(turn, request.body.model);
        if (request.body.stream === true) {
          res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
          for (const [event, data] of events.stream) res.write(`${event === undefined ? "" : `event: ${event}\n`}data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`);
          res.end();
        } else {
          const body = JSON.stringify(events.whole);
          res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) }).end(body);
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const stub = new ModelStub(server, (server.address() as { port: number }).port);
    (stub as { requests: ModelRequest[] }).requests = requests;
    return stub;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

type Events = { stream: [string | undefined, unknown][]; whole: unknown };

function anthropicEvents(turn: ModelTurn): Events {
  const block = "tool" in turn ? { type: "tool_use", id: "toolu_stub_1", name: turn.tool, input: turn.args } : { type: "text", text: turn.text };
  const stop = "tool" in turn ? "tool_use" : "end_turn";
  const message = { id: "msg_stub", type: "message", role: "assistant", model: "stub", usage: { input_tokens: 1, output_tokens: 1 } };
  const delta = "tool" in turn ? { type: "input_json_delta", partial_json: JSON.stringify(turn.args) } : { type: "text_delta", text: turn.text };
  return {
    stream: [
      ["message_start", { type: "message_start", message: { ...message, content: [], stop_reason: null } }],
      ["content_block_start", { type: "content_block_start", index: 0, content_block: "tool" in turn ? { ...block, input: {} } : { type: "text", text: "" } }],
      ["content_block_delta", { type: "content_block_delta", index: 0, delta }],
      ["content_block_stop", { type: "content_block_stop", index: 0 }],
      ["message_delta", { type: "message_delta", delta: { stop_reason: stop }, usage: { output_tokens: 1 } }],
      ["message_stop", { type: "message_stop" }],
    ],
    whole: { ...message, content: [block], stop_reason: stop },
  };
}

function openAiEvents(turn: ModelTurn, model: string): Events {
  const base = { id: "chatcmpl-stub", object: "chat.completion.chunk", created: 0, model };
  const call = "tool" in turn ? { index: 0, id: "call_stub_1", type: "function", function: { name: turn.tool, arguments: JSON.stringify(turn.args) } } : undefined;
  const finish = call ? "tool_calls" : "stop";
  const message = call ? { role: "assistant", content: null, tool_calls: [call] } : { role: "assistant", content: (turn as { text: string }).text };
  return {
    stream: [
      [undefined, { ...base, choices: [{ index: 0, delta: message, finish_reason: null }] }],
      [undefined, { ...base, choices: [{ index: 0, delta: {}, finish_reason: finish }], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } }],
      [undefined, "[DONE]"],
    ],
    whole: { ...base, object: "chat.completion", choices: [{ index: 0, message, finish_reason: finish }], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } },
  };
}

/** The real gateway (with its own Redis) in front of a scripted model: what the agent suites run against. */
export interface ModelGateway {
  readonly stub: ModelStub;
  readonly gw: TestGateway;
  /** The gateway's Redis. */
  readonly redis: TestRedis;
  /** The test listener of a role, `http://<address>:<port>`. */
  listener(role: keyof typeof ROLE_ADDRESSES): string;
  stop(): Promise<void>;
}

/**
 * Starts Redis, an HTTPS upstream for the spec's other tools, the model stub (its certificate
 * names `hosts`) as the upstream of `modelTool`, and the gateway in process.
 */
export async function startModelGateway(spec: FirewallSpecProps, hosts: string[], modelTool: string, script: (request: ModelRequest) => ModelTurn): Promise<ModelGateway> {
  const certificate = selfSignedCertificate(hosts);
  const redis = await TestRedis.start();
  const upstream = await TestUpstream.start(certificate);
  const stub = await ModelStub.start(certificate, script);
  const gw = await startTestGateway(spec, redis.url, upstream, certificate, {}, new Map([[modelTool, stub.port]]));
  return {
    stub,
    gw,
    redis,
    listener: (role) => `http://${ROLE_ADDRESSES[role].listener}:${gw.rolePort}`,
    stop: async () => {
      await gw.gateway.stop();
      await stub.stop();
      await upstream.stop();
      await redis.kill();
    },
  };
}
