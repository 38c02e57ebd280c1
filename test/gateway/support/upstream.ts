import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { IncomingHttpHeaders } from "node:http";
import { isIPv4 } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A test-only CA-less certificate: self-signed, valid for the given names, trusted via `--upstream-ca`. */
export interface TestCertificate {
  readonly certFile: string;
  readonly cert: string;
  readonly key: string;
}

/** Makes a self-signed certificate for `names` (host names, or IPv4 addresses) with openssl. */
export function selfSignedCertificate(names: ReadonlyArray<string>): TestCertificate {
  const dir = mkdtempSync(join(tmpdir(), "h3-gateway-tls-"));
  const certFile = join(dir, "cert.pem");
  const keyFile = join(dir, "key.pem");
  execFileSync("openssl", [
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
    "-subj", "/CN=rapidclaw test upstream", "-addext", `subjectAltName=${names.map((n) => `${isIPv4(n) ? "IP" : "DNS"}:${n}`).join(",")}`,
    "-addext", "basicConstraints=critical,CA:TRUE",
    "-keyout", keyFile, "-out", certFile,
  ], { stdio: "ignore" });
  return { certFile, cert: readFileSync(certFile, "utf8"), key: readFileSync(keyFile, "utf8") };
}

/** A request as the upstream received it. */
export interface Received {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** A real HTTPS upstream on 127.0.0.1 that records what reaches it and answers 200 with the path. */
export class TestUpstream {
  readonly received: Received[] = [];
  private constructor(private readonly server: Server, readonly port: number) {}

  /** Listens on `host:port` (default: a free port of 127.0.0.1). */
  static async start(certificate: TestCertificate, host = "127.0.0.1", port = 0): Promise<TestUpstream> {
    const received: Received[] = [];
    const server = createServer({ cert: certificate.cert, key: certificate.key }, (req, res) => {
      let body = "";
      req.on("data", (d) => (body += d));
      req.on("end", () => {
        received.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body });
        const text = JSON.stringify({ upstream: "ok", host: req.headers.host, url: req.url });
        res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(text) }).end(text);
      });
    });
    await new Promise<void>((resolve, reject) => { server.once("error", reject); server.listen(port, host, resolve); });
    const upstream = new TestUpstream(server, (server.address() as { port: number }).port);
    (upstream as { received: Received[] }).received = received;
    return upstream;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => { this.server.close(() => resolve()); this.server.closeAllConnections(); });
  }
}
