// A lean HTTPS upstream for the gateway benchmark: answers every request 200 with a small JSON
// body. Certificate and key come in BENCH_CERT / BENCH_KEY; prints its port on stdout.
import { createServer } from "node:https";

const body = JSON.stringify({ results: [{ title: "benchmark", url: "https://example.com/" }] });
const server = createServer({ cert: process.env.BENCH_CERT, key: process.env.BENCH_KEY }, (req, res) => {
  req.resume();
  req.on("end", () => res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) }).end(body));
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => process.stdout.write(`${(server.address() as { port: number }).port}\n`));
