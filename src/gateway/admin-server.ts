import { createServer, type Server } from "node:http";
import type { Registry } from "prom-client";

/**
 * The admin listener of the gateway and of `rapidclaw proxy-events`: `/metrics` (the one
 * registry), `/healthz` (200 while the process runs) and `/readyz` (200 only when `notReady`
 * lists no problem; 503 with them otherwise).
 */
export function adminServer(registry: Registry, notReady: () => Promise<string[]>): Server {
  return createServer((req, res) => {
    const path = (req.url ?? "").split("?")[0];
    if (path === "/metrics") {
      void registry.metrics().then((text) => { res.writeHead(200, { "content-type": registry.contentType }); res.end(text); });
    } else if (path === "/healthz") {
      res.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
    } else if (path === "/readyz") {
      void notReady().then((problems) => {
        res.writeHead(problems.length === 0 ? 200 : 503, { "content-type": "text/plain" }).end(problems.length === 0 ? "ready\n" : `not ready: ${problems.join("; ")}\n`);
      });
    } else {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
    }
  });
}
