import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { agentProgram } from "./agent-programs";
import { run, type NetworkNamespace } from "./netns";

/** Port of the server inside its own namespace (nothing else listens there). */
const PORT = 8200;
/** Where a pod finds its ServiceAccount's CA and token. */
const SERVICE_ACCOUNT_DIR = "/run/secrets/kubernetes.io/serviceaccount";

/** An answer of the server: status and parsed body (undefined when empty). */
export interface BaoAnswer {
  readonly status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly body: any;
}

/** Options of one request. */
export interface BaoRequest {
  readonly token?: string;
  readonly body?: unknown;
  /** Source address of the connection, one of the namespace's; the server's loopback otherwise. */
  readonly from?: string;
}

/**
 * A real OpenBao dev server (`bao server -dev`: in memory, unsealed, its own random root token) in a
 * network namespace of its own, listening on every address of the namespace. Requests go through
 * curl inside the namespace from a chosen source address, so that the server sees the client
 * address bound CIDRs are checked against.
 */
export class OpenBaoServer {
  private log = "";
  private constructor(readonly ns: NetworkNamespace, private readonly child: ChildProcess, readonly address: string, readonly rootToken: string) {}

  /**
   * Starts the server in `ns`; `address` is one of the namespace's where clients reach it. With
   * `serviceAccountDir` (holding `ca.crt` and `token`), the server sees it where a pod sees its
   * ServiceAccount, as a Vault running in the cluster does: Kubernetes auth reads its CA and
   * reviewer token from there when its config names none.
   */
  static async start(ns: NetworkNamespace, address: string, options: { serviceAccountDir?: string } = {}): Promise<OpenBaoServer> {
    const bao = agentProgram("bao") as string;
    const rootToken = `root-${randomBytes(12).toString("hex")}`;
    const serve = [bao, "server", "-dev", `-dev-root-token-id=${rootToken}`, `-dev-listen-address=0.0.0.0:${PORT}`, "-dev-no-store-token"];
    // ip netns exec runs the command in a mount namespace of its own: the tmpfs over /run stays there.
    const command = options.serviceAccountDir === undefined ? serve : ["sh", "-c", `mount -t tmpfs tmpfs /run && mkdir -p ${SERVICE_ACCOUNT_DIR} && cp "$0"/ca.crt "$0"/token ${SERVICE_ACCOUNT_DIR}/ && exec "$@"`, options.serviceAccountDir, ...serve];
    const child = spawn("ip", ["netns", "exec", ns.name, ...command], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, BAO_ADDR: "", VAULT_ADDR: "" },
    });
    const server = new OpenBaoServer(ns, child, address, rootToken);
    child.stdout?.on("data", (d) => (server.log += d));
    child.stderr?.on("data", (d) => (server.log += d));
    for (let i = 0; i < 200; i++) {
      if (child.exitCode !== null) break;
      if (server.request("GET", "sys/health").status === 200) return server;
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill("SIGKILL");
    throw new Error(`bao server -dev did not start:\n${server.log}`);
  }

  /** The server's URL as clients in the namespace reach it. */
  get url(): string {
    return `http://${this.address}:${PORT}`;
  }

  /** What the server logged so far. */
  get output(): string {
    return this.log;
  }

  /** One API call (`/v1/<path>`); the root token unless `options.token` says otherwise. */
  request(method: string, path: string, options: BaoRequest = {}): BaoAnswer {
    const args = ["-s", "-o", "-", "-w", "\n%{http_code}", "-X", method, "-H", `X-Vault-Token: ${options.token ?? this.rootToken}`];
    if (options.from !== undefined) args.push("--interface", options.from);
    if (options.body !== undefined) args.push("-H", "Content-Type: application/json", "--data-binary", "@-");
    const host = options.from === undefined ? `127.0.0.1:${PORT}` : `${this.address}:${PORT}`;
    const result = run("ip", ["netns", "exec", this.ns.name, "curl", ...args, `http://${host}/v1/${path}`], {
      input: options.body === undefined ? undefined : JSON.stringify(options.body),
      allowFailure: true,
    });
    // No HTTP answer at all (connection refused while starting): status 0.
    if (result.status !== 0) return { status: 0, body: result.stderr };
    const cut = result.stdout.lastIndexOf("\n");
    const text = result.stdout.slice(0, cut);
    return { status: Number(result.stdout.slice(cut + 1)), body: text.trim() === "" ? undefined : JSON.parse(text) };
  }

  /** Like `request`, but throws unless the server answers 2xx; returns the body. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  write(method: string, path: string, body?: unknown): any {
    const answer = this.request(method, path, { body });
    if (answer.status < 200 || answer.status > 299) throw new Error(`${method} ${path}: ${answer.status} ${JSON.stringify(answer.body)}`);
    return answer.body;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    await new Promise((resolve) => {
      this.child.once("exit", resolve);
      this.child.kill("SIGTERM");
    });
  }
}

/** The tenth host address of an IPv4 CIDR: a source address inside a bound CIDR for the tests. */
export function addressInside(cidr: string): string {
  const parts = cidr.split("/")[0].split(".").map(Number);
  parts[3] += 10;
  return parts.join(".");
}
