import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import type { NetworkNamespace } from "./netns";

/**
 * The stub's program: on UDP port 53 of the address given, answers every A query with 192.0.2.1
 * (as the internet answers a recursive resolver for a name that exists) and prints each query's
 * name, one a line.
 */
const PROGRAM = `
const socket = require("node:dgram").createSocket("udp4");
socket.on("message", (query, peer) => {
  const labels = [];
  let i = 12;
  while (i < query.length && query[i] !== 0) { labels.push(query.subarray(i + 1, i + 1 + query[i]).toString("latin1")); i += query[i] + 1; }
  process.stdout.write(labels.join(".").toLowerCase() + "\\n");
  const isA = query.readUInt16BE(i + 1) === 1;
  const head = Buffer.from(query.subarray(0, i + 5));
  head[2] = 0x80 | (query[2] & 0x01); // a response; recursion desired as asked
  head[3] = 0x80; // recursion available, no error
  head.writeUInt16BE(1, 4); head.writeUInt16BE(isA ? 1 : 0, 6); head.writeUInt32BE(0, 8);
  const answer = Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 192, 0, 2, 1]);
  socket.send(isA ? Buffer.concat([head, answer]) : head, peer.port, peer.address);
});
socket.bind(53, process.argv[1], () => process.stdout.write("ready\\n"));
`;

/** A DNS server stand-in in a namespace: what a resolver that forwards a query reaches; it records the names asked. */
export class DnsStub {
  private output = "";

  private constructor(private readonly child: ChildProcess) {
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (this.output += chunk));
  }

  static async start(ns: NetworkNamespace, address: string): Promise<DnsStub> {
    const child = spawn(ns.execPrefix()[0], [...ns.execPrefix().slice(1), process.execPath, "-e", PROGRAM, address], { stdio: ["ignore", "pipe", "inherit"] });
    const stub = new DnsStub(child);
    const deadline = Date.now() + 10_000;
    while (!stub.output.startsWith("ready\n")) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`the DNS stub did not start on ${address} in ${ns.name}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return stub;
  }

  /** Names asked so far, lower case, once what the stub printed has been read (a synchronous spawn in between holds it back). */
  async names(): Promise<string[]> {
    await new Promise((r) => setTimeout(r, 300));
    return this.output.split("\n").slice(1).filter(Boolean);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = once(this.child, "exit");
    this.child.kill("SIGTERM");
    await exited;
  }
}
