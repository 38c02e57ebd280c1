import { spawn, type ChildProcess } from "node:child_process";
import { dirname, join } from "node:path";

const ROOT = join(__dirname, "..", "..", "..");

/** A `rapidclaw` process run from the sources, with everything it writes captured. */
export class CliProcess {
  stdout = "";
  stderr = "";
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;

  /**
   * Runs the sources through tsx, or with `built` the compiled `dist/gateway-bench/src/cli/main.js`
   * (`tsc -p bench/gateway/tsconfig.cli.json`, as `npm run bench:gateway` does), or with `bundle`
   * that single file from its own directory (as a container runs it).
   */
  constructor(args: ReadonlyArray<string>, options: { built?: boolean; bundle?: string; nodeArgs?: ReadonlyArray<string>; env?: NodeJS.ProcessEnv } = {}) {
    const entry = options.bundle !== undefined ? [options.bundle] : options.built ? [join(ROOT, "dist", "gateway-bench", "src", "cli", "main.js")] : ["--import", "tsx", join(ROOT, "src", "cli", "main.ts")];
    const cwd = options.bundle !== undefined ? dirname(options.bundle) : ROOT;
    this.child = spawn(process.execPath, [...(options.nodeArgs ?? []), ...entry, ...args], { cwd, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...options.env } });
    this.child.stdout!.on("data", (d) => (this.stdout += d));
    this.child.stderr!.on("data", (d) => (this.stderr += d));
    this.exited = new Promise((resolve) => this.child.once("exit", (code) => resolve(code)));
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /**
   * Waits until stderr (or, with `stream: "stdout"`, the event stream) holds `text`, or fails with
   * what the process said. Events are written after the response, so a test reads them by waiting.
   */
  async waitFor(text: string, ms = 20_000, stream: "stderr" | "stdout" = "stderr"): Promise<void> {
    const deadline = Date.now() + ms;
    while (!this[stream].includes(text)) {
      if (this.child.exitCode !== null || Date.now() > deadline) throw new Error(`rapidclaw did not write "${text}" to ${stream}: ${this[stream]}\n${this.stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null) this.child.kill("SIGTERM");
    await this.exited;
  }
}
