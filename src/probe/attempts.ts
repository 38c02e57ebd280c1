/** Makes the probe's attempts over the network, with Node's own modules only (the probe runs from the one-file bundle). */
import { promises as dns } from "node:dns";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { connect, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";
import type { Attempt } from "./channels";
import type { Endpoint } from "./probe-targets";
import type { Observation } from "./verdicts";

const hostPort = (e: Endpoint) => `${e.host.includes(":") ? `[${e.host}]` : e.host}:${e.port}`;
const errorText = (error: NodeJS.ErrnoException) => error.code ?? error.message;
/** Bytes as a short printable excerpt. */
const excerpt = (data: Buffer) => JSON.stringify(data.toString("latin1").slice(0, 60));

/** Connects, or says why not (refused, unreachable, no answer in time). */
function tcpConnect(target: Endpoint, timeoutMs: number): Promise<{ socket: Socket } | { error: string }> {
  return new Promise((resolve) => {
    const socket = connect({ host: target.host, port: target.port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ error: `no answer in ${timeoutMs} ms` });
    }, timeoutMs);
    socket.once("connect", () => {
      clearTimeout(timer);
      resolve({ socket });
    });
    socket.once("error", (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({ error: errorText(error) });
    });
  });
}

async function tcp(target: Endpoint, timeoutMs: number): Promise<Observation> {
  const result = await tcpConnect(target, timeoutMs);
  if ("error" in result) return { open: false, detail: result.error };
  result.socket.destroy();
  return { open: true, detail: `connected to ${hostPort(target)}` };
}

/** Reads an HTTP response head from the socket: the status and the bytes after the head. */
function responseHead(socket: Socket, timeoutMs: number): Promise<{ status: number; rest: Buffer } | { error: string }> {
  return new Promise((resolve) => {
    let received = Buffer.alloc(0);
    const done = (value: { status: number; rest: Buffer } | { error: string }) => {
      clearTimeout(timer);
      socket.removeListener("data", onData);
      socket.pause();
      resolve(value);
    };
    const timer = setTimeout(() => done({ error: `no answer in ${timeoutMs} ms` }), timeoutMs);
    const onData = (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const end = received.indexOf("\r\n\r\n");
      if (end < 0) return;
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(received.subarray(0, end).toString("latin1"))?.[1] ?? 0);
      done({ status, rest: received.subarray(end + 4) });
    };
    socket.on("data", onData);
    socket.once("close", () => done({ error: received.length > 0 ? `closed after ${excerpt(received)}` : "closed without an answer" }));
    socket.once("error", (error: NodeJS.ErrnoException) => done({ error: errorText(error) }));
  });
}

/**
 * Whether the far end of a tunnel answers a TLS ClientHello for `serverName`: a completed handshake
 * or any bytes that are not TLS (an OpenSSL error) mean it was reached; the tunnel closing without
 * an answer means the proxy cut it.
 */
function tlsThrough(socket: Socket, serverName: string, timeoutMs: number): Promise<Observation> {
  return new Promise((resolve) => {
    const tls = tlsConnect({ socket, servername: serverName, rejectUnauthorized: false, ALPNProtocols: ["http/1.1"] });
    const done = (observation: Observation) => {
      clearTimeout(timer);
      tls.destroy();
      resolve(observation);
    };
    const timer = setTimeout(() => done({ open: false, detail: `TLS for ${serverName}: no answer in ${timeoutMs} ms` }), timeoutMs);
    tls.once("secureConnect", () => done({ open: true, detail: `TLS handshake for ${serverName} completed` }));
    tls.once("error", (error: NodeJS.ErrnoException) => {
      const reached = (error.code ?? "").startsWith("ERR_SSL");
      done({ open: reached, detail: reached ? `TLS for ${serverName}: the far end answered (${errorText(error)})` : `TLS for ${serverName}: tunnel closed (${errorText(error)})` });
    });
  });
}

async function proxyConnect(attempt: Extract<Attempt, { kind: "proxy-connect" }>, timeoutMs: number): Promise<Observation> {
  const connected = await tcpConnect(attempt.proxy, timeoutMs);
  if ("error" in connected) return { open: false, detail: `proxy ${hostPort(attempt.proxy)}: ${connected.error}` };
  const { socket } = connected;
  try {
    const target = hostPort(attempt.target);
    socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`);
    const head = await responseHead(socket, timeoutMs);
    if ("error" in head) return { open: false, detail: `proxy: ${head.error}` };
    if (head.status !== 200) return { open: false, detail: `proxy answered ${head.status}` };
    if (attempt.serverName === undefined) return { open: true, detail: "proxy answered 200" };
    // The far end spoke first (a server that greets): it was reached before any ClientHello.
    if (head.rest.length > 0) return { open: true, detail: `proxy answered 200; the far end sent ${excerpt(head.rest)}` };
    socket.resume();
    const tls = await tlsThrough(socket, attempt.serverName, timeoutMs);
    return { open: tls.open, detail: `proxy answered 200; ${tls.detail}` };
  } finally {
    socket.destroy();
  }
}

function proxyHttp(attempt: Extract<Attempt, { kind: "proxy-http" }>, timeoutMs: number): Promise<Observation> {
  return new Promise((resolve) => {
    const request = httpRequest({ host: attempt.proxy.host, port: attempt.proxy.port, method: "GET", path: attempt.url, headers: { Host: new URL(attempt.url).host }, timeout: timeoutMs, agent: false }, (response) => {
      response.resume();
      const status = response.statusCode ?? 0;
      const refused = status === 403 || status === 407;
      resolve({ open: !refused, detail: refused ? `proxy refused (${status})` : `proxy forwarded it (${status})` });
    });
    request.on("timeout", () => request.destroy(new Error(`no answer in ${timeoutMs} ms`)));
    request.on("error", (error: NodeJS.ErrnoException) => resolve({ open: false, detail: `proxy ${hostPort(attempt.proxy)}: ${errorText(error)}` }));
    request.end();
  });
}

function http(url: string, timeoutMs: number): Promise<Observation> {
  return new Promise((resolve) => {
    const send = url.startsWith("https:") ? httpsRequest : httpRequest;
    const request = send(url, { method: "GET", timeout: timeoutMs, rejectUnauthorized: false, agent: false }, (response) => {
      response.resume();
      const status = response.statusCode ?? 0;
      resolve({ open: status === 200, detail: `answered ${status}` });
    });
    request.on("timeout", () => request.destroy(new Error(`no answer in ${timeoutMs} ms`)));
    request.on("error", (error: NodeJS.ErrnoException) => resolve({ open: false, detail: errorText(error) }));
    request.end();
  });
}

/** Addresses of `name`, or the resolver's error code. */
async function resolved(resolver: InstanceType<typeof dns.Resolver>, name: string): Promise<string[] | string> {
  try {
    return await resolver.resolve4(name);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? String(error);
  }
}

/**
 * Whether a resolver recurses to the internet: the random name resolves, or a name that exists
 * does. A local resolver that answers NXDOMAIN for everything (as Docker's embedded one does
 * with no upstream) carries nothing out, so no such answer counts as open.
 */
async function lookup(attempt: Extract<Attempt, { kind: "dns" }>, timeoutMs: number): Promise<Observation> {
  const resolver = new dns.Resolver({ timeout: timeoutMs, tries: 1 });
  if (resolver.getServers().length === 0) return { open: false, detail: "no resolver configured" };
  const random = await resolved(resolver, attempt.name);
  if (Array.isArray(random)) return { open: true, detail: `${attempt.name} resolved to ${random.join(", ")}` };
  const known = await resolved(resolver, attempt.knownName);
  if (Array.isArray(known)) return { open: true, detail: `a resolver recurses: ${attempt.knownName} resolved to ${known.join(", ")} (${random} for the random name)` };
  return { open: false, detail: `no name resolves (${random} for the random name, ${known} for ${attempt.knownName})` };
}

/** Makes one attempt; never throws (a failure to reach is an observation). */
export function makeAttempt(attempt: Attempt, timeoutMs: number): Promise<Observation> {
  switch (attempt.kind) {
    case "tcp": return tcp(attempt.target, timeoutMs);
    case "proxy-connect": return proxyConnect(attempt, timeoutMs);
    case "proxy-http": return proxyHttp(attempt, timeoutMs);
    case "http": return http(attempt.url, timeoutMs);
    case "dns": return lookup(attempt, timeoutMs);
  }
}
