import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import Redis from "ioredis";

/** A free TCP port on 127.0.0.1 (listen on 0, read it back, close). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A redis-server of this test's own, on a free port of 127.0.0.1, without persistence. */
export class RedisServer {
  private constructor(private readonly child: ChildProcess, readonly port: number) {}

  /** Starts on `port` (a restart of a stopped one), or a free port. */
  static async start(port?: number): Promise<RedisServer> {
    port ??= await freePort();
    const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: "ignore" });
    const server = new RedisServer(child, port);
    const client = server.client();
    client.on("error", () => {}); // refused until the server listens: the loop below retries
    try {
      for (let i = 0; ; i++) {
        try {
          await client.ping();
          break;
        } catch (error) {
          if (i > 100 || child.exitCode !== null) throw error;
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    } finally {
      client.disconnect();
    }
    return server;
  }

  client(): Redis {
    return new Redis({ host: "127.0.0.1", port: this.port, lazyConnect: false, maxRetriesPerRequest: 1, retryStrategy: () => 50 });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child.once("exit", r));
    this.child.kill("SIGTERM");
    await exited;
  }
}
