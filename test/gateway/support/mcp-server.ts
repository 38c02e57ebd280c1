import { randomUUID } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { createServer, type Server } from "node:https";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { z } from "zod";
import type { TestCertificate } from "./upstream";

/** A request as the MCP server received it. */
export interface McpReceived {
  readonly method: string;
  readonly headers: IncomingHttpHeaders;
}

/**
 * A real MCP server of the official SDK (Streamable HTTP, sessions on) over HTTPS on 127.0.0.1,
 * offering `search_issues`, `create_issue` and `delete_repo`, answering in JSON or in SSE.
 */
export class TestMcpServer {
  readonly received: McpReceived[] = [];
  /** Names of the tools it ran. */
  readonly ran: string[] = [];
  private readonly transports = new Map<string, StreamableHTTPServerTransport>();
  private server!: Server;
  port = 0;

  static async start(certificate: TestCertificate, answer: "json" | "sse"): Promise<TestMcpServer> {
    const mcp = new TestMcpServer();
    mcp.server = createServer({ cert: certificate.cert, key: certificate.key }, (req, res) => {
      mcp.received.push({ method: req.method ?? "", headers: req.headers });
      const session = req.headers["mcp-session-id"];
      let transport = typeof session === "string" ? mcp.transports.get(session) : undefined;
      if (transport === undefined) {
        const created = new StreamableHTTPServerTransport({
          sessionIdGenerator: () => randomUUID(),
          enableJsonResponse: answer === "json",
          onsessioninitialized: (id) => { mcp.transports.set(id, created); },
        });
        transport = created;
        void mcp.serverFor().connect(created);
      }
      transport.handleRequest(req, res).catch(() => res.destroy());
    });
    await new Promise<void>((resolve) => mcp.server.listen(0, "127.0.0.1", resolve));
    mcp.port = (mcp.server.address() as { port: number }).port;
    return mcp;
  }

  private serverFor(): McpServer {
    const server = new McpServer({ name: "issues", version: "1.0.0" });
    for (const name of ["search_issues", "create_issue", "delete_repo"]) {
      server.registerTool(name, { description: `${name} (test)`, inputSchema: { title: z.string() } }, async ({ title }) => {
        this.ran.push(name);
        return { content: [{ type: "text", text: `${name}: ${title}` }] };
      });
    }
    return server;
  }

  async stop(): Promise<void> {
    await Promise.all([...this.transports.values()].map((t) => t.close()));
    await new Promise<void>((resolve) => { this.server.close(() => resolve()); this.server.closeAllConnections(); });
  }
}
