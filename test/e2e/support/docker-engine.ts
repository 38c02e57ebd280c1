import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, chownSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { NetworkNamespace, run, type CommandResult } from "./netns";

const START_TIMEOUT_MS = 60_000;
const DOCKER_TIMEOUT_MS = 60_000;

/** cgroup v1 hierarchies runc needs; mounted inside the daemon's private mount namespace. */
const CGROUP_CONTROLLERS = ["cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids"];

/**
 * A Docker Engine of its own inside a network namespace: `vfs` storage, no default bridge, its
 * own data, exec root, pid file and socket under a temporary directory, iptables on (inside the
 * namespace, so the engine's isolation rules are the real ones). Images are made locally with
 * `docker import`, never pulled.
 */
export class DockerEngine {
  private constructor(
    public readonly ns: NetworkNamespace,
    public readonly dir: string,
    private readonly daemon: ChildProcess,
    private readonly logFile: string,
  ) {}

  get socket(): string {
    return join(this.dir, "docker.sock");
  }

  /**
   * Starts the engine; with `resolver`, the engine's own resolver configuration names that address
   * alone (`ip netns exec` mounts /etc/netns/<namespace>/resolv.conf over /etc/resolv.conf), so that
   * what the engine forwards for containers goes there.
   */
  static async start(prefix: string, options: { readonly resolver?: string } = {}): Promise<DockerEngine> {
    const ns = NetworkNamespace.create(prefix);
    if (options.resolver !== undefined) ns.setResolver(options.resolver);
    const dir = mkdtempSync(join(tmpdir(), `${prefix}-${process.pid}-`));
    const logFile = join(dir, "dockerd.log");
    const mounts = [
      "mount -t tmpfs cgroup_root /sys/fs/cgroup",
      ...CGROUP_CONTROLLERS.map((c) => `mkdir -p /sys/fs/cgroup/${c} && mount -t cgroup -o ${c} cgroup /sys/fs/cgroup/${c}`),
      "mkdir -p /sys/fs/cgroup/systemd && mount -t cgroup -o none,name=systemd cgroup /sys/fs/cgroup/systemd",
    ].join(" && ");
    const dockerd = [
      "dockerd", "--storage-driver", "vfs", "--bridge", "none", "--iptables=true", "--ip6tables=false",
      "--data-root", join(dir, "data"), "--exec-root", join(dir, "exec"), "--pidfile", join(dir, "docker.pid"),
      "-H", `unix://${join(dir, "docker.sock")}`,
    ].join(" ");
    // `ip netns exec` remounts /sys for the namespace, which hides the host's cgroup mounts.
    const script = `${mounts} && exec ${dockerd} >${logFile} 2>&1`;
    const daemon = spawn("ip", ["netns", "exec", ns.name, "unshare", "--mount", "--propagation", "private", "sh", "-c", script], { stdio: "ignore" });
    const engine = new DockerEngine(ns, dir, daemon, logFile);
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (engine.docker(["version", "--format", "{{.Server.Version}}"], { allowFailure: true }).status !== 0) {
      if (daemon.exitCode !== null || Date.now() > deadline) {
        const log = engine.log();
        await engine.stop();
        throw new Error(`dockerd did not start in namespace ${ns.name}:\n${log}`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    return engine;
  }

  /** The engine's version, as it reports it. */
  version(): string {
    return this.docker(["version", "--format", "{{.Server.Version}}"]).stdout.trim();
  }

  log(): string {
    return existsSync(this.logFile) ? run("tail", ["-n", "40", this.logFile], { allowFailure: true }).stdout : "(no log)";
  }

  /** Runs the docker CLI against this engine. */
  docker(args: ReadonlyArray<string>, options: { input?: string | Buffer; allowFailure?: boolean; env?: NodeJS.ProcessEnv } = {}): CommandResult {
    const result = spawnSync("docker", ["-H", `unix://${this.socket}`, ...args], { input: options.input, env: options.env, encoding: "utf8", timeout: DOCKER_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 });
    const out = { status: result.status ?? -1, stdout: result.stdout ?? "", stderr: result.stderr ?? "" };
    if (out.status !== 0 && !options.allowFailure) throw new Error(`docker ${args.join(" ")} failed (${result.error?.message ?? `exit ${out.status}`}):\n${out.stderr}${out.stdout}`);
    return out;
  }

  /**
   * Imports a directory as an image (`docker import` of its tar); `changes` are Dockerfile
   * instructions for the image's configuration (`CMD ["node"]`, `WORKDIR /data`).
   */
  importImage(root: string, name: string, changes: ReadonlyArray<string> = []): void {
    const tar = spawnSync("tar", ["-C", root, "-c", "."], { maxBuffer: 512 * 1024 * 1024 });
    if (tar.status !== 0) throw new Error(`tar of ${root} failed: ${tar.stderr}`);
    this.docker(["import", ...changes.flatMap((change) => ["--change", change]), "-", name], { input: tar.stdout });
  }

  /**
   * Builds an image from a Dockerfile with the classic builder (this machine has no BuildKit);
   * its base images must be local (nothing is pulled): import the stand-ins first.
   */
  buildImage(dockerfile: string, context: string, tag: string): void {
    this.docker(["build", "--file", dockerfile, "--tag", tag, context], { env: { ...process.env, DOCKER_BUILDKIT: "0" } });
  }

  /** Removes every container, stops the daemon, deletes the namespace and the directory. */
  async stop(): Promise<void> {
    if (this.daemon.exitCode === null) {
      const ids = this.docker(["ps", "-aq"], { allowFailure: true }).stdout.split(/\s+/).filter(Boolean);
      if (ids.length > 0) this.docker(["rm", "-f", "-v", ...ids], { allowFailure: true });
      const exited = new Promise((r) => this.daemon.once("exit", r));
      const pid = Number(run("cat", [join(this.dir, "docker.pid")], { allowFailure: true }).stdout.trim());
      if (pid > 0) process.kill(pid, "SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
    }
    this.ns.destroy();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** `/tmp` as every image has it: writable by all, sticky. */
function worldWritableTmp(root: string): void {
  mkdirSync(join(root, "tmp"), { recursive: true });
  chmodSync(join(root, "tmp"), 0o1777);
}

/** A root file system of busybox-static: the agents' and stand-ins' image. */
export function busyboxRoot(parent: string): string {
  const root = join(parent, "busybox-root");
  mkdirSync(join(root, "bin"), { recursive: true });
  copyFileSync("/bin/busybox", join(root, "bin", "busybox"));
  chmodSync(join(root, "bin", "busybox"), 0o755);
  for (const applet of run("/bin/busybox", ["--list"]).stdout.split("\n").filter(Boolean)) {
    if (applet !== "busybox") symlinkSync("busybox", join(root, "bin", applet));
  }
  mkdirSync(join(root, "etc"), { recursive: true });
  worldWritableTmp(root);
  return root;
}

/**
 * Copies an installed program into a root file system at `target` (default: where it is
 * installed), with the shared libraries `ldd` lists at their own paths.
 */
function copyProgram(root: string, program: string, target = program): void {
  mkdirSync(join(root, dirname(target)), { recursive: true });
  copyFileSync(program, join(root, target));
  chmodSync(join(root, target), 0o755);
  const libraries = run("ldd", [program]).stdout.split("\n").flatMap((line) => /(\/\S+) \(0x/.exec(line)?.[1] ?? []);
  for (const library of libraries) {
    mkdirSync(join(root, dirname(library)), { recursive: true });
    copyFileSync(library, join(root, library));
  }
}

const installed = (program: string) => run("sh", ["-c", `command -v ${program}`]).stdout.trim();

/** Writes /etc/passwd and /etc/group with root and one service user (its group named alike). */
function writeUsers(root: string, user: { readonly name: string; readonly uid: number; readonly gid: number; readonly home: string }): void {
  mkdirSync(join(root, "etc"), { recursive: true });
  writeFileSync(join(root, "etc", "passwd"), `root:x:0:0:root:/root:/sbin/nologin\n${user.name}:x:${user.uid}:${user.gid}::${user.home}:/sbin/nologin\n`);
  writeFileSync(join(root, "etc", "group"), `root:x:0:\n${user.name}:x:${user.gid}:\n`);
}

/**
 * A root file system with Debian's Squid (the OpenSSL build): the binary, the libraries `ldd`
 * lists, its data and config, the `proxy` user, and `sh` (dash) and `openssl`, which the
 * container's command needs to make its throwaway certificate and the SNI helper runs with.
 */
export function squidRoot(parent: string): string {
  const root = join(parent, "squid-root");
  const copy = (path: string) => {
    mkdirSync(join(root, dirname(path)), { recursive: true });
    cpSync(path, join(root, path), { recursive: true, dereference: false, verbatimSymlinks: true });
  };
  copyProgram(root, installed("squid"));
  copyProgram(root, installed("openssl"));
  // Debian's dash, not busybox: Squid starts helpers with argv[0] "(sh)", which busybox takes for an applet name.
  copyProgram(root, installed("dash"), "/bin/sh");
  for (const path of ["/etc/squid", "/usr/share/squid", "/usr/share/squid-langpack", "/usr/lib/squid", "/etc/ssl/openssl.cnf", "/usr/lib/ssl"]) if (existsSync(path)) copy(path);
  writeUsers(root, { name: "proxy", uid: 13, gid: 13, home: "/bin" });
  for (const d of ["var/spool/squid", "var/run/squid", "var/log/squid"]) mkdirSync(join(root, d), { recursive: true });
  // As the squid packages make it: the log directory is Squid's user's (the event log volume is created from it).
  chownSync(join(root, "var/log/squid"), 13, 13);
  worldWritableTmp(root);
  return root;
}

/** A local image: a root file system and the configuration (`docker import --change`) of the stock image it stands in for. */
export interface LocalImage {
  readonly root: string;
  readonly changes: ReadonlyArray<string>;
}

/**
 * Stands in for the stock Node image: this machine's `node` at /usr/local/bin/node (where the
 * official image has it) with its libraries, the `node` user (1000:1000) and `CMD ["node"]`.
 */
export function nodeImage(parent: string): LocalImage {
  const root = join(parent, "node-root");
  copyProgram(root, process.execPath, "/usr/local/bin/node");
  writeUsers(root, { name: "node", uid: 1000, gid: 1000, home: "/home/node" });
  mkdirSync(join(root, "home", "node"), { recursive: true });
  worldWritableTmp(root);
  return { root, changes: ['CMD ["node"]'] };
}

/**
 * Stands in for the stock Redis image: Debian's `redis-server` at /usr/local/bin/redis-server
 * (where the official image has it) with its libraries, the `redis` user (999:1000), `WORKDIR
 * /data` and `CMD ["redis-server"]`.
 */
export function redisImage(parent: string): LocalImage {
  const root = join(parent, "redis-root");
  copyProgram(root, installed("redis-server"), "/usr/local/bin/redis-server");
  writeUsers(root, { name: "redis", uid: 999, gid: 1000, home: "/data" });
  mkdirSync(join(root, "data"), { recursive: true });
  worldWritableTmp(root);
  return { root, changes: ["WORKDIR /data", 'CMD ["redis-server"]'] };
}
