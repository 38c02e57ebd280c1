// The baselines for the gateway benchmark: bare reverse proxies doing no checks, HTTP in and
// keep-alive HTTPS out to the upstream, either on Node's own client (`node`: node:https Agent,
// 256 sockets) or on undici (`undici`: one Pool of 32 connections driven by a raw dispatch
// handler, the way the gateway forwards, so the gateway's CPU above it is its own work).
// Arguments: node|undici, upstream port, upstream host name (TLS), CA file. Prints its port on stdout.
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { Agent, request } from "node:https";
import { connect as tlsConnect, createSecureContext, rootCertificates } from "node:tls";
import { Pool, type Dispatcher } from "undici";

const [mode, upstreamPort, upstreamHost, caFile] = process.argv.slice(2);
const secureContext = createSecureContext({ ca: [...rootCertificates, readFileSync(caFile, "utf8")] });

/** Reads the agent's body, then hands it on. */
function withBody(req: IncomingMessage, then: (body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => then(Buffer.concat(chunks)));
}

function viaNode(): (req: IncomingMessage, res: ServerResponse) => void {
  const agent = new Agent({ keepAlive: true, maxSockets: 256, secureContext });
  return (req, res) => withBody(req, (body) => {
    const headers = { ...req.headers, host: upstreamHost };
    delete headers.connection;
    const out = request({ agent, host: "127.0.0.1", port: Number(upstreamPort), servername: upstreamHost, method: req.method, path: req.url, headers }, (upstream) => {
      res.writeHead(upstream.statusCode ?? 502, upstream.headers);
      upstream.pipe(res);
    });
    out.on("error", () => res.writeHead(502).end());
    out.end(body);
  });
}

function viaUndici(): (req: IncomingMessage, res: ServerResponse) => void {
  const pool = new Pool(`https://${upstreamHost}`, {
    connections: 32,
    pipelining: 1,
    connect: (_target, done) => {
      const tls = tlsConnect({ host: "127.0.0.1", port: Number(upstreamPort), servername: upstreamHost, secureContext, ALPNProtocols: ["http/1.1"] });
      tls.once("secureConnect", () => done(null, tls)).once("error", (e) => done(e, null));
    },
  });
  return (req, res) => withBody(req, (body) => {
    const headers: Record<string, string | string[]> = {};
    for (const name in req.headers) if (name !== "connection" && name !== "host") headers[name] = req.headers[name] as string | string[];
    headers.host = upstreamHost;
    let resume: () => void = () => undefined;
    const handler: Dispatcher.DispatchHandler = {
      onConnect: () => undefined,
      onHeaders: (status, raw, resumeUpstream) => {
        resume = resumeUpstream;
        const out: string[] = [];
        for (let i = 0; i < raw.length; i += 2) {
          const name = raw[i].toString("latin1").toLowerCase();
          if (name !== "connection" && name !== "keep-alive" && name !== "transfer-encoding") out.push(name, raw[i + 1].toString("latin1"));
        }
        res.writeHead(status, out);
        return true;
      },
      onData: (chunk) => res.write(chunk) || (res.once("drain", resume), false),
      onComplete: () => res.end(),
      onError: () => (res.headersSent ? res.destroy() : res.writeHead(502).end()),
    };
    pool.dispatch({ path: req.url ?? "/", method: req.method as Dispatcher.HttpMethod, headers, body: body.length > 0 ? body : null }, handler);
  });
}

const server = createServer(mode === "undici" ? viaUndici() : viaNode());
server.listen(0, "127.0.0.1", () => process.stdout.write(`${(server.address() as { port: number }).port}\n`));
