import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { FirewallSpecProps } from "../../../src/model/types";
import { FirewallSpec, planOf } from "../../../src/plan/firewall-spec";
import { agentRuntimeMount, type AgentRuntimeMount } from "../../../src/render/agent-runtime-files";

const ROOT = join(__dirname, "..", "..", "..");

/** What the stack mounts into `agentName` for its runtime, and the gateway URL of its role as mounted. */
export function runtimeMountOf(props: FirewallSpecProps, agentName: string): { mount: AgentRuntimeMount; gatewayUrl: string } {
  const spec = FirewallSpec.fromProps(props);
  const agent = planOf(spec).agents.find((a) => a.name === agentName);
  const mount = agent && agentRuntimeMount(spec, agent, (path) => readFileSync(join(ROOT, path), "utf8"));
  const gatewayUrl = planOf(spec).gateway?.roles.find((r) => r.role === agent?.role)?.url;
  if (mount === undefined || gatewayUrl === undefined) throw new Error(`agent ${agentName} has no runtime mount or no gateway`);
  return { mount, gatewayUrl };
}

/** A file the stack mounts into an agent: its path there and its content. */
export interface MountedFile {
  readonly path: string;
  readonly content: string;
}

/** How a run ended: exit code and everything it wrote. */
export interface AgentRun {
  readonly code: number | null;
  readonly output: string;
}

/**
 * Runs `command` as an agent's container would see its mounts: every file at its path under /opt
 * (an overlay on /opt in a mount namespace of its own, so nothing reaches the machine's /opt),
 * with `env` alone as its environment. `dir` is the run's own scratch directory.
 */
export function runWithMounts(dir: string, files: ReadonlyArray<MountedFile>, command: ReadonlyArray<string>, env: NodeJS.ProcessEnv): Promise<AgentRun> {
  const upper = join(dir, "upper");
  for (const file of files) {
    if (!file.path.startsWith("/opt/")) throw new Error(`${file.path}: only mounts under /opt are laid out here`);
    const path = join(upper, file.path.slice("/opt/".length));
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, file.content);
  }
  mkdirSync(join(dir, "overlay-work"), { recursive: true });
  const script = 'mount -t overlay overlay -o "lowerdir=/opt,upperdir=$0/upper,workdir=$0/overlay-work" /opt && exec "$@"';
  const child = spawn("unshare", ["--mount", "sh", "-c", script, dir, ...command], { env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (d) => (output += d));
  child.stderr.on("data", (d) => (output += d));
  return new Promise((resolve) => child.once("exit", (code) => resolve({ code, output })));
}
