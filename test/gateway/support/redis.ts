import { spawn, type ChildProcess } from "node:child_process";
import { createConnection } from "node:net";
import { findOnPath } from "../../e2e/support/prerequisites";
import { freePort } from "./net";

/** Why the Redis-backed gateway tests cannot run here, or undefined. */
export function missingRedis(): string | undefined {
  const missing = ["redis-server", "redis-cli", "openssl"].filter((b) => findOnPath(b) === undefined);
  return missing.length === 0 ? undefined : `not installed or not on PATH: ${missing.join(", ")} (Debian: apt-get install redis-server openssl)`;
}

/** A redis-server of the test's own on a free local port, without persistence. */
export class TestRedis {
  private process: ChildProcess | undefined;

  private constructor(readonly port: number, private readonly extraArgs: ReadonlyArray<string>, private readonly cliAuth: ReadonlyArray<string>) {}

  /** `extraArgs` go to redis-server (e.g. `--requirepass`); `cliAuth` to every `cli` call (e.g. `--user`, `--pass`). */
  static async start(extraArgs: ReadonlyArray<string> = [], cliAuth: ReadonlyArray<string> = []): Promise<TestRedis> {
    const redis = new TestRedis(await freePort(), extraArgs, cliAuth);
    await redis.restart();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.process?.pid;
  }

  /** Starts (again) on the same port and waits until it answers. */
  async restart(): Promise<void> {
    this.process = spawn("redis-server", ["--port", String(this.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "no", ...this.extraArgs], { stdio: "ignore" });
    for (let i = 0; i < 100; i++) {
      if (await answers(this.port)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`redis-server did not start on port ${this.port}`);
  }

  /** SIGKILL, and waits until the process is gone. */
  async kill(): Promise<void> {
    const child = this.process;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise((resolve) => { child.once("exit", resolve); child.kill("SIGKILL"); });
  }

  signal(signal: NodeJS.Signals): void {
    this.process?.kill(signal);
  }

  /** Runs one command with redis-cli and returns its output. */
  async cli(...args: string[]): Promise<string> {
    const child = spawn("redis-cli", ["-p", String(this.port), ...this.cliAuth, ...args]);
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    await new Promise((resolve) => child.once("exit", resolve));
    return out;
  }
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.once("data", (d) => { socket.destroy(); resolve(/^(\+PONG|-NOAUTH)/.test(d.toString())); }); // NOAUTH: up, with a password
    socket.once("error", () => resolve(false));
  });
}
