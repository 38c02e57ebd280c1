import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import type { NetworkNamespace } from "./netns";
import type {
  ConnectOutcome,
  ConnectTcpRequest,
  NetAgentRequest,
  NetAgentResponse,
  ProxyOutcome,
  ProxyRequest,
  QueryUdpRequest,
} from "./net-agent-protocol";

const REPO_ROOT = resolve(__dirname, "..", "..", "..");
const AGENT_SCRIPT = join(__dirname, "net-agent.ts");
const START_TIMEOUT_MS = 15_000;
/** Margin on top of a request's own timeout before the agent itself counts as stuck. */
const REPLY_MARGIN_MS = 5_000;

/** Identity to run the agent as (setpriv), instead of root. */
export interface RunAs {
  readonly uid: number;
  readonly gid: number;
}

/** A running net agent inside a namespace; see net-agent.ts. */
export class NetAgent {
  private nextId = 1;
  private readonly pending = new Map<number, (response: NetAgentResponse) => void>();
  private stderr = "";

  private constructor(private readonly child: ChildProcessWithoutNullStreams, public readonly label: string) {
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (this.stderr += chunk));
    createInterface({ input: child.stdout }).on("line", (line) => {
      const response = JSON.parse(line) as NetAgentResponse;
      this.pending.get(response.id)?.(response);
      this.pending.delete(response.id);
    });
  }

  /** Starts an agent in the namespace, as root or as `runAs`; resolves once it is ready. */
  static async start(ns: NetworkNamespace, runAs?: RunAs): Promise<NetAgent> {
    const identity = runAs ? ["setpriv", `--reuid=${runAs.uid}`, `--regid=${runAs.gid}`, "--clear-groups"] : [];
    const [command, ...args] = [...ns.execPrefix(), ...identity, process.execPath, "--import", "tsx", AGENT_SCRIPT];
    const child = spawn(command, args, { cwd: REPO_ROOT, stdio: ["pipe", "pipe", "pipe"] });
    const agent = new NetAgent(child, `${ns.name}${runAs ? ` uid ${runAs.uid}` : " root"}`);
    const ready = await agent.await<{ ready: boolean; uid: number }>(0, START_TIMEOUT_MS);
    if (runAs && ready.uid !== runAs.uid) throw new Error(`net agent ${agent.label} runs as uid ${ready.uid}`);
    return agent;
  }

  private await<T>(id: number, timeoutMs: number): Promise<T> {
    return new Promise<T>((resolvePromise, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`net agent ${this.label}: no answer to request ${id} within ${timeoutMs} ms\n${this.stderr}`));
      }, timeoutMs);
      const onExit = (code: number | null) => reject(new Error(`net agent ${this.label} exited (${code}):\n${this.stderr}`));
      this.child.once("exit", onExit);
      this.pending.set(id, (response) => {
        clearTimeout(timer);
        this.child.off("exit", onExit);
        if (response.ok) resolvePromise(response.result as T);
        else reject(new Error(`net agent ${this.label}: ${response.error}`));
      });
    });
  }

  /** Sends one request and waits for its answer. */
  call<T>(request: NetAgentRequest): Promise<T> {
    const id = this.nextId++;
    const answer = this.await<T>(id, ("timeoutMs" in request ? request.timeoutMs : 0) + REPLY_MARGIN_MS);
    this.child.stdin.write(`${JSON.stringify({ id, request })}\n`);
    return answer;
  }

  connectTcp(request: Omit<ConnectTcpRequest, "op">): Promise<ConnectOutcome> {
    return this.call({ op: "connectTcp", ...request });
  }

  queryUdp(request: Omit<QueryUdpRequest, "op">): Promise<ConnectOutcome> {
    return this.call({ op: "queryUdp", ...request });
  }

  proxy(request: Omit<ProxyRequest, "op">): Promise<ProxyOutcome> {
    return this.call({ op: "proxy", ...request });
  }

  /** Stops the agent: closing stdin ends it; SIGKILL if it lingers. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolvePromise) => this.child.once("exit", () => resolvePromise()));
    this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 3_000);
    await exited;
    clearTimeout(timer);
  }
}
