import type { DockerEngine } from "./docker-engine";

/** A TCP probe from inside a container. */
export interface Probe {
  readonly id: string;
  readonly host: string;
  readonly port: number;
  /** Bytes sent first (printf escapes allowed): a CONNECT request for proxies, nothing for banner services. */
  readonly send?: string;
  /** Bytes sent half a second later (printf escapes), as a TLS client sends its ClientHello once the tunnel is open. */
  readonly then?: string;
}

/** A CONNECT request line and head for `target:443`, with printf escapes. */
export const connectRequest = (target: string) => `CONNECT ${target}:443 HTTP/1.1\\r\\nHost: ${target}:443\\r\\n\\r\\n`;

/** Bytes as printf octal escapes, such as a TLS ClientHello (`clientHello`) for `Probe.then`. */
export const printfBytes = (bytes: Buffer) => [...bytes].map((byte) => `\\${byte.toString(8).padStart(3, "0")}`).join("");

/**
 * Runs the probes inside a container at once; each gives what came back (empty when the target
 * could not be reached). busybox nc gives up connecting after 2 s, the whole probe after 4 s.
 */
export function probeFrom(engine: DockerEngine, container: string, probes: ReadonlyArray<Probe>): Map<string, string> {
  const lines = probes.map((p) => {
    const send = `${p.send ? `printf '${p.send}'; ` : ""}${p.then ? `sleep 0.5; printf '${p.then}'; ` : ""}`;
    return `( out=$( (${send}sleep 1) | timeout 4 nc -w 2 ${p.host} ${p.port} 2>/dev/null | head -c 400 | tr '\\r\\n' '  '); echo "${p.id}|$out" ) &`;
  });
  const script = [...lines, "wait"].join("\n");
  const output = engine.docker(["exec", container, "sh", "-c", script]).stdout;
  return new Map(output.split("\n").filter((l) => l.includes("|")).map((l) => [l.slice(0, l.indexOf("|")), l.slice(l.indexOf("|") + 1)] as [string, string]));
}

/** An HTTP/1.1 request an agent sends. */
export interface HttpCall {
  readonly method: string;
  /** Request target: path and query. */
  readonly path: string;
  readonly body?: string;
}

/** An HTTP response as the agent received it, bytes and all. */
export interface HttpAnswer {
  /** 0 when nothing (or no status line) came back. */
  readonly status: number;
  /** Lower-case header names. */
  readonly headers: ReadonlyMap<string, string>;
  readonly body: string;
  /** Everything received, head and body. */
  readonly raw: string;
}

const END = "@@end-of-answer@@";

/**
 * Sends the calls one after another, each on its own connection, from inside a container with
 * busybox nc (the request as bytes, base64 on the command line), and parses the answers. nc reads
 * the request from a FIFO the shell keeps open until the answer is in: a client that half-closes
 * after its request (nc at the end of its input) makes Node's HTTP server abort the request.
 */
export function httpFrom(engine: DockerEngine, container: string, target: { readonly host: string; readonly port: number }, calls: ReadonlyArray<HttpCall>): HttpAnswer[] {
  const fifo = "/tmp/http-from-$$.fifo";
  const script = ["trap '' PIPE", ...calls.map((call) => {
    const body = call.body ?? "";
    const head = [`${call.method} ${call.path} HTTP/1.1`, `Host: ${target.host}:${target.port}`, "Connection: close"];
    if (call.body !== undefined) head.push("Content-Type: application/json", `Content-Length: ${Buffer.byteLength(body)}`);
    const request = Buffer.from(`${head.join("\r\n")}\r\n\r\n${body}`).toString("base64");
    return [
      `rm -f ${fifo}; mkfifo ${fifo}`,
      `timeout 10 nc -w 2 ${target.host} ${target.port} <${fifo} 2>/dev/null & nc=$!`,
      `exec 3>${fifo}; echo ${request} | base64 -d >&3; wait $nc; exec 3>&-`,
      `printf '\\n${END}\\n'`,
    ].join("\n");
  }), `rm -f ${fifo}`].join("\n");
  const output = engine.docker(["exec", container, "sh", "-c", script]).stdout;
  return output.split(`\n${END}\n`).slice(0, calls.length).map(parseAnswer);
}

function parseAnswer(raw: string): HttpAnswer {
  const headEnd = raw.indexOf("\r\n\r\n");
  const [statusLine, ...lines] = (headEnd < 0 ? raw : raw.slice(0, headEnd)).split("\r\n");
  const headers = new Map(lines.map((line) => [line.slice(0, line.indexOf(":")).toLowerCase(), line.slice(line.indexOf(":") + 1).trim()] as [string, string]));
  return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine)?.[1] ?? 0), headers, body: headEnd < 0 ? "" : raw.slice(headEnd + 4), raw };
}
