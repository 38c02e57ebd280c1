import { createServer, type Server, type TLSSocket } from "node:tls";
import type { TestCertificate } from "./upstream";

/** A request as the raw upstream read it off the wire. */
export interface RawRequest {
  readonly method: string;
  readonly target: string;
  /** Header names lower-cased; a repeated header keeps its last value. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

/** What the raw upstream writes back: bytes as they are (any HTTP, or none), then what becomes of the connection. */
export interface RawAnswer {
  /** Written one by one, `gapMs` apart, so that they tend to arrive as separate reads. */
  readonly chunks: ReadonlyArray<Buffer | string>;
  readonly gapMs?: number;
  /** `keep`: read the next request; `close`: end the connection; `destroy`: drop it (no TLS close); `hold`: leave it open, silent, until `release`. */
  readonly then: "keep" | "close" | "destroy" | "hold";
}

/**
 * A TLS upstream on 127.0.0.1 that answers with whatever bytes a test scripts: well-formed HTTP,
 * a status line Node would refuse, a reset mid-body, an endless body. It records every request it
 * read, so a test can check what the gateway let through.
 */
export class RawUpstream {
  readonly received: RawRequest[] = [];
  private readonly held = new Set<TLSSocket>();
  private readonly sockets = new Set<TLSSocket>();

  private constructor(private readonly server: Server, readonly port: number) {}

  static async start(certificate: TestCertificate, answer: (request: RawRequest) => RawAnswer): Promise<RawUpstream> {
    let upstream: RawUpstream | undefined;
    const server = createServer({ cert: certificate.cert, key: certificate.key }, (socket) => upstream?.serve(socket, answer));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    upstream = new RawUpstream(server, (server.address() as { port: number }).port);
    return upstream;
  }

  /** Connections held by a `hold` answer now. */
  get holding(): number {
    return this.held.size;
  }

  /** Answers every held connection with a short 200 and closes it. */
  release(): void {
    for (const socket of this.held) socket.end("HTTP/1.1 200 OK\r\nContent-Length: 4\r\nConnection: close\r\n\r\nlate");
    this.held.clear();
  }

  stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private serve(socket: TLSSocket, answer: (request: RawRequest) => RawAnswer): void {
    this.sockets.add(socket);
    socket.on("close", () => { this.sockets.delete(socket); this.held.delete(socket); });
    socket.on("error", () => undefined);
    let buffer = Buffer.alloc(0);
    let busy = false;
    const next = (): void => {
      if (busy) return;
      const end = buffer.indexOf("\r\n\r\n");
      if (end < 0) return;
      const [line, ...fields] = buffer.subarray(0, end).toString("latin1").split("\r\n");
      const headers: Record<string, string> = {};
      for (const field of fields) {
        const colon = field.indexOf(":");
        headers[field.slice(0, colon).trim().toLowerCase()] = field.slice(colon + 1).trim();
      }
      const length = Number(headers["content-length"] ?? 0);
      if (buffer.length < end + 4 + length) return;
      const [method, target] = line.split(" ");
      const request = { method, target, headers, body: buffer.subarray(end + 4, end + 4 + length) };
      buffer = buffer.subarray(end + 4 + length);
      this.received.push(request);
      busy = true;
      void this.write(socket, answer(request)).then((more) => { busy = false; if (more) next(); });
    };
    socket.on("data", (data: Buffer) => { buffer = Buffer.concat([buffer, data]); next(); });
  }

  private async write(socket: TLSSocket, answer: RawAnswer): Promise<boolean> {
    for (const [i, chunk] of answer.chunks.entries()) {
      if (i > 0 && answer.gapMs) await new Promise((resolve) => setTimeout(resolve, answer.gapMs));
      if (socket.destroyed) return false;
      socket.write(chunk);
    }
    if (answer.then === "close") socket.end();
    else if (answer.then === "destroy") socket.destroy();
    else if (answer.then === "hold") this.held.add(socket);
    return answer.then === "keep";
  }
}

/** A well-formed HTTP/1.1 answer with a Content-Length. */
export function httpAnswer(status: number, body: string | Buffer, headers: Record<string, string> = {}): string | Buffer {
  const bytes = Buffer.from(body);
  const head = [`HTTP/1.1 ${status} X`, ...Object.entries({ "content-length": String(bytes.length), ...headers }).map(([k, v]) => `${k}: ${v}`)].join("\r\n");
  return Buffer.concat([Buffer.from(`${head}\r\n\r\n`, "latin1"), bytes]);
}
