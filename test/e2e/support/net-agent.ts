/**
 * Network helper that runs inside a network namespace (`ip netns exec NS node --import tsx
 * net-agent.ts`), as root to serve test upstreams or as an agent user to probe: reads requests
 * (net-agent-protocol.ts) from stdin, one JSON per line, and answers each on stdout.
 */
import { createSocket } from "node:dgram";
import { createServer as createHttpServer } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { connect, createServer, isIPv6, type Socket } from "node:net";
import { createInterface } from "node:readline";
import type { ConnectOutcome, NetAgentRequest, NetAgentResponse, ProxyOutcome, RecordedRequest } from "./net-agent-protocol";
import { clientHello } from "./client-hello";

const family = (host: string) => (isIPv6(host) ? "udp6" : "udp4");

function serveTcp(host: string, port: number, banner: string): Promise<void> {
  const server = createServer((socket) => {
    socket.on("error", () => undefined);
    socket.end(`${banner}\n`);
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host, port }, () => resolve());
  });
}

function serveUdp(host: string, port: number, banner: string): Promise<void> {
  const socket = createSocket(family(host));
  socket.on("message", (_message, peer) => socket.send(banner, peer.port, peer.address));
  return new Promise((resolve, reject) => {
    socket.once("error", reject);
    socket.bind({ address: host, port }, () => resolve());
  });
}

function serveHttp(host: string, port: number, banner: string): Promise<void> {
  const server = createHttpServer((_request, response) => {
    response.writeHead(200, { "content-type": "text/plain", "content-length": Buffer.byteLength(banner) });
    response.end(banner);
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host, port }, () => resolve());
  });
}

const recorded: RecordedRequest[] = [];

function serveHttps(host: string, port: number, cert: string, key: string): Promise<void> {
  const server = createHttpsServer({ cert, key }, (request, response) => {
    let body = "";
    request.setEncoding("utf8").on("data", (chunk: string) => (body += chunk));
    request.on("end", () => {
      recorded.push({ method: request.method ?? "", url: request.url ?? "", headers: request.headers, body });
      const text = JSON.stringify({ upstream: "ok", host: request.headers.host, url: request.url });
      // One request per connection: a proxy in between logs a tunnel when it closes.
      response.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(text), connection: "close" }).end(text);
    });
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host, port }, () => resolve());
  });
}

/** Settles once: the first of data, error or timeout wins. */
function once<T>(timeoutMs: number, onTimeout: () => T, start: (settle: (value: T) => void) => () => void): Promise<T> {
  return new Promise((resolve) => {
    let done = false;
    let cleanup = () => undefined as void;
    const settle = (value: T) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      cleanup();
      resolve(value);
    };
    const timer = setTimeout(() => settle(onTimeout()), timeoutMs);
    cleanup = start(settle);
  });
}

function connectTcp(host: string, port: number, timeoutMs: number): Promise<ConnectOutcome> {
  return once<ConnectOutcome>(timeoutMs, () => ({ outcome: "timeout" }), (settle) => {
    let received = "";
    const socket = connect({ host, port });
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      received += chunk;
      if (received.includes("\n")) settle({ outcome: "data", data: received.split("\n")[0] });
    });
    socket.on("end", () => settle({ outcome: "data", data: received }));
    socket.on("error", (error: NodeJS.ErrnoException) => settle({ outcome: "error", code: error.code ?? error.message }));
    return () => socket.destroy();
  });
}

function queryUdp(host: string, port: number, timeoutMs: number): Promise<ConnectOutcome> {
  return once<ConnectOutcome>(timeoutMs, () => ({ outcome: "timeout" }), (settle) => {
    const socket = createSocket(family(host));
    socket.on("message", (message) => settle({ outcome: "data", data: message.toString("utf8") }));
    socket.on("error", (error: NodeJS.ErrnoException) => settle({ outcome: "error", code: error.code ?? error.message }));
    // A connected UDP socket also reports an ICMP refusal as an error on the socket.
    socket.connect(port, host, () =>
      socket.send("query", (error) => {
        if (error) settle({ outcome: "error", code: (error as NodeJS.ErrnoException).code ?? error.message });
      }),
    );
    return () => socket.close();
  });
}

const HEADER_END = "\r\n\r\n";

/** Parses what the proxy sent so far: the status and, once complete, the body. */
function parseProxyResponse(method: string, received: string, ended: boolean): ProxyOutcome | undefined {
  const headerEnd = received.indexOf(HEADER_END);
  if (headerEnd < 0) return ended ? { status: 0, statusLine: received.split("\r\n")[0], body: "", error: "connection closed before a complete response" } : undefined;
  const [statusLine, ...headerLines] = received.slice(0, headerEnd).split("\r\n");
  const status = Number(/^HTTP\/\d\.\d (\d{3})/.exec(statusLine)?.[1] ?? 0);
  const rest = received.slice(headerEnd + HEADER_END.length);
  if (method === "CONNECT" && status === 200) {
    // The tunnel is open: what follows is the upstream's banner.
    if (rest.includes("\n")) return { status, statusLine, body: rest.split("\n")[0] };
    return ended ? { status, statusLine, body: rest } : undefined;
  }
  const lengthHeader = headerLines.find((line) => /^content-length:/i.test(line));
  const length = lengthHeader === undefined ? undefined : Number(lengthHeader.split(":")[1]);
  if (length !== undefined && Buffer.byteLength(rest) >= length) return { status, statusLine, body: rest };
  return ended ? { status, statusLine, body: rest } : undefined;
}

function proxy(request: Extract<NetAgentRequest, { op: "proxy" }>): Promise<ProxyOutcome> {
  const { method, target } = request;
  const hostHeader = method === "CONNECT" ? target : new URL(target).host;
  return once<ProxyOutcome>(
    request.timeoutMs,
    () => ({ status: 0, statusLine: "", body: "", error: `no complete answer within ${request.timeoutMs} ms` }),
    (settle) => {
      let received = "";
      let helloSent = false;
      // As TLS clients send it: lower case, no trailing dot.
      const connectHost = target.replace(/:\d+$/, "").replace(/^\[|\]$/g, "").toLowerCase().replace(/\.$/, "");
      const hello = method === "CONNECT" ? clientHello(request.sni === undefined ? connectHost : request.sni ?? undefined) : undefined;
      const socket: Socket = connect({ host: request.proxyHost, port: request.proxyPort, localAddress: request.localAddress });
      socket.setEncoding("utf8");
      socket.on("connect", () => socket.write(`${method} ${target} HTTP/1.1\r\nHost: ${hostHeader}\r\nConnection: close\r\n\r\n`));
      // Like a TLS client: the ClientHello once the tunnel is open (a proxy that peeks waits for it).
      const sendHello = () => {
        if (helloSent || hello === undefined || !/^HTTP\/\d\.\d 200 [^]*\r\n\r\n/.test(received)) return;
        helloSent = true;
        void hello.then((bytes) => socket.write(bytes), () => undefined);
      };
      const check = (ended: boolean) => {
        const outcome = parseProxyResponse(method, received, ended);
        if (outcome) settle(outcome);
      };
      socket.on("data", (chunk: string) => {
        received += chunk;
        sendHello();
        check(false);
      });
      socket.on("end", () => check(true));
      socket.on("error", (error) => settle({ status: 0, statusLine: "", body: "", error: error.message }));
      return () => socket.destroy();
    },
  );
}

function rawProxy(request: Extract<NetAgentRequest, { op: "rawProxy" }>): Promise<{ statusLine: string }> {
  return once(request.timeoutMs, () => ({ statusLine: "" }), (settle) => {
    let received = "";
    const socket = connect({ host: request.proxyHost, port: request.proxyPort, localAddress: request.localAddress });
    socket.setEncoding("latin1");
    socket.on("connect", () => socket.write(Buffer.from(request.base64, "base64")));
    socket.on("data", (chunk: string) => {
      received += chunk;
      if (received.includes("\r\n")) settle({ statusLine: received.split("\r\n")[0] });
    });
    socket.on("end", () => settle({ statusLine: received.split("\r\n")[0] }));
    socket.on("error", () => settle({ statusLine: received.split("\r\n")[0] }));
    return () => socket.destroy();
  });
}

async function holdConnections(request: Extract<NetAgentRequest, { op: "holdConnections" }>): Promise<Array<"open" | "closed">> {
  const sockets: Socket[] = [];
  const closed = new Set<number>();
  for (let i = 0; i < request.count; i++) {
    const socket = connect({ host: request.proxyHost, port: request.proxyPort, localAddress: request.localAddress });
    sockets.push(socket);
    socket.on("end", () => closed.add(i));
    socket.on("close", () => closed.add(i));
    socket.on("error", () => closed.add(i));
    socket.resume();
    await new Promise<void>((resolvePromise) => {
      socket.once("connect", () => resolvePromise());
      socket.once("error", () => resolvePromise());
    });
  }
  const deadline = Date.now() + request.timeoutMs;
  while (Date.now() < deadline && closed.size < (request.closedAtLeast ?? Infinity)) await new Promise((r) => setTimeout(r, 50));
  // Settle: a connection closed late beside the awaited ones still shows.
  if (request.closedAtLeast !== undefined) await new Promise((r) => setTimeout(r, 500));
  const states = sockets.map((_, i) => (closed.has(i) ? "closed" : "open") as "open" | "closed");
  for (const socket of sockets) socket.destroy();
  return states;
}

async function handle(request: NetAgentRequest): Promise<unknown> {
  switch (request.op) {
    case "serveTcp":
      return serveTcp(request.host, request.port, request.banner);
    case "serveUdp":
      return serveUdp(request.host, request.port, request.banner);
    case "serveHttp":
      return serveHttp(request.host, request.port, request.banner);
    case "serveHttps":
      return serveHttps(request.host, request.port, request.cert, request.key);
    case "httpsRequests":
      return recorded;
    case "connectTcp":
      return connectTcp(request.host, request.port, request.timeoutMs);
    case "queryUdp":
      return queryUdp(request.host, request.port, request.timeoutMs);
    case "proxy":
      return proxy(request);
    case "rawProxy":
      return rawProxy(request);
    case "holdConnections":
      return holdConnections(request);
  }
}

const reply = (response: NetAgentResponse) => process.stdout.write(`${JSON.stringify(response)}\n`);

createInterface({ input: process.stdin }).on("line", (line) => {
  const { id, request } = JSON.parse(line) as { id: number; request: NetAgentRequest };
  handle(request).then(
    (result) => reply({ id, ok: true, result: result ?? null }),
    (error: Error) => reply({ id, ok: false, error: error.message }),
  );
});
// The parent closing stdin is the signal to stop (servers would otherwise keep the process alive).
process.stdin.on("end", () => process.exit(0));
reply({ id: 0, ok: true, result: { ready: true, uid: process.getuid?.() } });
