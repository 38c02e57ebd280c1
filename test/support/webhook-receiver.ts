import { createServer, type IncomingMessage, type Server } from "node:http";

/** What a receiver got: path and JSON body of every POST. */
export interface Received {
  readonly path: string;
  readonly body: Record<string, unknown>;
}

/** A webhook receiver on 127.0.0.1 that records every POST; the path `/down` answers 503 (a receiver that is down), others 202. */
export async function startReceiver(received: Received[]): Promise<{ server: Server; url: string }> {
  const server = createServer((req: IncomingMessage, res) => {
    let text = "";
    req.setEncoding("utf8").on("data", (c: string) => (text += c));
    req.on("end", () => {
      received.push({ path: req.url ?? "", body: JSON.parse(text) as Record<string, unknown> });
      res.statusCode = req.url === "/down" ? 503 : 202;
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}` };
}

/** Waits until `check` holds, asking every `intervalMs` (a costly check asks less often), or fails naming `what`. */
export async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 15_000, intervalMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
