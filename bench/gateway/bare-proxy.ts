// The baseline for the gateway benchmark: a bare Node reverse proxy doing no checks, with the
// same upstream connection pool settings as the gateway (keep-alive HTTPS agent, 256 sockets).
// Arguments: upstream port, upstream host name (TLS), CA file. Prints its port on stdout.
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { Agent, request } from "node:https";
import { createSecureContext, rootCertificates } from "node:tls";

const [upstreamPort, upstreamHost, caFile] = process.argv.slice(2);
const agent = new Agent({ keepAlive: true, maxSockets: 256, secureContext: createSecureContext({ ca: [...rootCertificates, readFileSync(caFile, "utf8")] }) });
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    const headers = { ...req.headers, host: upstreamHost };
    delete headers.connection;
    const out = request({ agent, host: "127.0.0.1", port: Number(upstreamPort), servername: upstreamHost, method: req.method, path: req.url, headers }, (upstream) => {
      res.writeHead(upstream.statusCode ?? 502, upstream.headers);
      upstream.pipe(res);
    });
    out.on("error", () => res.writeHead(502).end());
    out.end(Buffer.concat(chunks));
  });
});
server.listen(0, "127.0.0.1", () => process.stdout.write(`${(server.address() as { port: number }).port}\n`));
