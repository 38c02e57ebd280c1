import type { IncomingHttpHeaders } from "node:http";
import { createServer, type Server } from "node:https";
import type { TestCertificate } from "./upstream";

/**
 * A fake model API over HTTPS on 127.0.0.1 that answers as Anthropic Messages (`/v1/messages`),
 * OpenAI Chat Completions (`/v1/chat/completions`) and Responses (`/v1/responses`) do, in JSON or,
 * with `"stream": true`, in SSE, reporting the usage the request asks for in `x-test-input` and
 * `x-test-output`. `x-test-cut: 1` ends a stream's connection after its first usage report.
 */
export class TestModelUpstream {
  /** Requests it received, by path. */
  readonly paths: string[] = [];
  /** Their headers, in the same order. */
  readonly headers: IncomingHttpHeaders[] = [];
  private constructor(private readonly server: Server, readonly port: number) {}

  static async start(certificate: TestCertificate): Promise<TestModelUpstream> {
    const paths: string[] = [];
    const headers: IncomingHttpHeaders[] = [];
    const server = createServer({ cert: certificate.cert, key: certificate.key }, (req, res) => {
      let text = "";
      req.on("data", (d) => (text += d));
      req.on("end", () => {
        paths.push(req.url ?? "");
        headers.push(req.headers);
        const body = JSON.parse(text || "{}") as { stream?: boolean };
        const input = Number(req.headers["x-test-input"] ?? 0);
        const output = Number(req.headers["x-test-output"] ?? 0);
        const cut = req.headers["x-test-cut"] === "1";
        const answer = answers(req.url ?? "", input, output);
        if (!body.stream) {
          const json = JSON.stringify(answer.json);
          res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(json) }).end(json);
          return;
        }
        res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
        const events = cut ? answer.events.slice(0, answer.cutAfter) : answer.events;
        for (const [event, data] of events) res.write(`${event === undefined ? "" : `event: ${event}\n`}data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`);
        if (cut) setTimeout(() => res.socket?.destroy(), 20);
        else res.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const upstream = new TestModelUpstream(server, (server.address() as { port: number }).port);
    Object.assign(upstream, { paths, headers });
    return upstream;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => { this.server.close(() => resolve()); this.server.closeAllConnections(); });
  }
}

type SseEvent = [string | undefined, unknown];

/** The JSON answer and the SSE events of each API; `cutAfter` events hold the first usage report (input and part of the output). */
function answers(path: string, input: number, output: number): { json: unknown; events: SseEvent[]; cutAfter: number } {
  const partial = Math.floor(output / 2);
  if (path.endsWith("/v1/messages")) {
    return {
      json: { id: "msg_1", type: "message", role: "assistant", content: [{ type: "text", text: "hi" }], usage: { input_tokens: input, output_tokens: output } },
      events: [
        ["message_start", { type: "message_start", message: { id: "msg_1", type: "message", role: "assistant", content: [], usage: { input_tokens: input, output_tokens: 1 } } }],
        ["content_block_delta", { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "hi" } }],
        ["message_delta", { type: "message_delta", delta: { stop_reason: null }, usage: { output_tokens: partial } }],
        ["message_delta", { type: "message_delta", delta: { stop_reason: "end_turn" }, usage: { output_tokens: output } }],
        ["message_stop", { type: "message_stop" }],
      ],
      cutAfter: 3,
    };
  }
  if (path.endsWith("/v1/chat/completions")) {
    const usage = { prompt_tokens: input, completion_tokens: output, total_tokens: input + output };
    return {
      json: { id: "chatcmpl-1", object: "chat.completion", choices: [{ index: 0, message: { role: "assistant", content: "hi" } }], usage },
      events: [
        [undefined, { id: "chatcmpl-1", object: "chat.completion.chunk", choices: [{ index: 0, delta: { content: "hi" } }], usage: null }],
        [undefined, { id: "chatcmpl-1", object: "chat.completion.chunk", choices: [], usage }],
        [undefined, "[DONE]"],
      ],
      cutAfter: 1,
    };
  }
  const usage = { input_tokens: input, output_tokens: output, total_tokens: input + output };
  return {
    json: { id: "resp_1", object: "response", status: "completed", output: [], usage },
    events: [
      ["response.created", { type: "response.created", response: { id: "resp_1", status: "in_progress", usage: null } }],
      ["response.output_text.delta", { type: "response.output_text.delta", delta: "hi" }],
      ["response.completed", { type: "response.completed", response: { id: "resp_1", status: "completed", usage } }],
    ],
    cutAfter: 2,
  };
}
