import { createServer, type AddressInfo } from "node:net";
import { connect as tlsConnect } from "node:tls";

/**
 * The bytes of a real TLS ClientHello (Node's own), naming `servername` in SNI, or naming none
 * when it is undefined: what an agent's TLS client sends first inside a CONNECT tunnel. Captured
 * from a handshake against a local listener that never answers.
 */
export function clientHello(servername: string | undefined): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const server = createServer((socket) => {
      socket.once("data", (hello: Buffer) => {
        resolve(hello);
        socket.destroy();
        server.close();
      });
    });
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      // Node sends no SNI to an IP address unless told; an IP-literal servername is sent as given (RFC 6066 forbids it, Node warns).
      const client = tlsConnect({ host: "127.0.0.1", port: (server.address() as AddressInfo).port, servername, rejectUnauthorized: false });
      client.on("error", () => undefined);
      client.on("close", () => server.close());
    });
  });
}
