import { request, Agent, type IncomingHttpHeaders } from "node:http";

export { freePort } from "../../support/redis-server";

/** An answer as the agent saw it. */
export interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** Wall time from sending to the last byte, in ms. */
  readonly ms: number;
}

/** What a test agent sends. */
export interface Call {
  readonly host: string;
  readonly port: number;
  readonly path: string;
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  /** Source address (127.0.0.x). */
  readonly from?: string;
  readonly agent?: Agent;
  /** Gives up (and fails the test) after this long: no call may hang. */
  readonly giveUpMs?: number;
}

/** One HTTP call; rejects on a network error or when no answer comes within `giveUpMs`. */
export function call(c: Call): Promise<Answer> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request({
      host: c.host,
      port: c.port,
      path: c.path,
      method: c.method ?? "GET",
      headers: { ...(c.body === undefined ? {} : { "content-type": "application/json" }), ...c.headers },
      localAddress: c.from,
      agent: c.agent ?? false,
    });
    const timer = setTimeout(() => req.destroy(new Error(`no answer to ${c.method ?? "GET"} ${c.path} within ${c.giveUpMs ?? 10_000} ms`)), c.giveUpMs ?? 10_000);
    req.on("response", (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (body += d));
      res.on("end", () => { clearTimeout(timer); resolve({ status: res.statusCode ?? 0, headers: res.headers, body, ms: performance.now() - started }); });
      // An answer cut off after its head (the gateway or the give-up timer closed the connection).
      res.on("error", (e) => { clearTimeout(timer); reject(e); });
    });
    req.on("error", (e) => { clearTimeout(timer); reject(e); });
    req.end(c.body);
  });
}

/** The raw text of a response header block and body, for scanning captured bytes. */
export function answerText(answer: Answer): string {
  return `${answer.status} ${JSON.stringify(answer.headers)}\n${answer.body}`;
}

/** Waits until a gateway's `/readyz` answers 200 (Redis connected, keys loaded). */
export async function untilReady(adminPort: number, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const status = await call({ host: "127.0.0.1", port: adminPort, path: "/readyz" }).then((a) => a.status, () => 0);
    if (status === 200) return;
    if (Date.now() > deadline) throw new Error(`the gateway on admin port ${adminPort} was not ready within ${ms} ms (last status ${status})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
