import { readFileSync } from "node:fs";
import { join } from "node:path";
import { App } from "cdktf";
import { RapidClawStack } from "../../../src";
import type { FirewallSpecProps } from "../../../src/model/types";
import type { PlannedGateway } from "../../../src/plan/gateway-plan";
import { busyboxRoot, nodeImage, redisImage, squidRoot, type DockerEngine } from "./docker-engine";
import { until } from "../../support/webhook-receiver";
import { replayContainer, resourceName } from "./docker-replay";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

/**
 * The stack as `cdktf synth` writes it: its JSON (resources' `//` metadata left out, as in
 * `Testing.synth`) and its directory, which holds the file assets its uploads name.
 */
export function synthesizeToDisk(outdir: string, spec: FirewallSpecProps): { doc: Json; stackDir: string } {
  const app = new App({ outdir });
  new RapidClawStack(app, "agent-firewall", spec);
  app.synth();
  const stackDir = join(outdir, "stacks", "agent-firewall");
  const doc = JSON.parse(readFileSync(join(stackDir, "cdk.tf.json"), "utf8"));
  for (const resources of Object.values<Json>(doc.resource)) for (const resource of Object.values<Json>(resources)) delete resource["//"];
  return { doc, stackDir };
}

/** The synthesized container named `name`; fails listing the names there are. */
export function containerNamed(doc: Json, name: string): Json {
  const containers = Object.values<Json>(doc.resource.docker_container);
  const container = containers.find((c) => c.name === name);
  if (!container) throw new Error(`no container ${name} in the synthesized JSON: ${containers.map((c) => c.name).join(", ")}`);
  return container;
}

/**
 * A Node container (the gateway, proxy-events) as the test runs it: with the test CA
 * (`NODE_EXTRA_CA_CERTS` and the CA file next to its firewall file at `configPath`), since the
 * synthesized evaluators trust public roots only and the stand-in servers' certificate is the test's own.
 */
export function withTestCa(container: Json, configPath: string, cert: string): Json {
  const caFile = `${configPath.slice(0, configPath.lastIndexOf("/"))}/test-upstream-ca.pem`;
  return {
    ...container,
    env: [...(container.env ?? []), `NODE_EXTRA_CA_CERTS=${caFile}`],
    upload: [...(container.upload ?? []), { file: caFile, content: cert, permissions: "0444" }],
  };
}

/**
 * Waits until the admin port's /readyz of a Node container (the gateway: keys loaded and Redis
 * reachable; proxy-events: Redis reachable) answers 200, asked from inside the container.
 */
export async function untilReady(engine: DockerEngine, container: string, adminPort: number): Promise<void> {
  const ask = `require("http").get("http://127.0.0.1:${adminPort}/readyz", (r) => { r.pipe(process.stdout); r.on("end", () => process.exit(r.statusCode === 200 ? 0 : 1)); }).on("error", (e) => { console.log(e.message); process.exit(1); })`;
  let last = "";
  for (let i = 0; i < 60; i++) {
    const answer = engine.docker(["exec", container, "node", "-e", ask], { allowFailure: true });
    if (answer.status === 0) return;
    last = answer.stdout + answer.stderr;
    await new Promise((r) => setTimeout(r, 500));
  }
  const logs = engine.docker(["logs", container], { allowFailure: true });
  throw new Error(`${container} did not become ready (last /readyz: ${last}):\n${logs.stdout}${logs.stderr}`);
}

/**
 * The shell commands that render files as a Vault Agent's templates do: each `<dir>/<name>` holds
 * its value alone, mode 0400, written beside and renamed into place.
 */
function renderScript(dir: string, files: Readonly<Record<string, string>>): string {
  return Object.entries(files).map(([name, value]) => {
    const file = `${dir}/${name}`;
    return `mkdir -p "$(dirname ${file})" && printf '%s\\n' '${value}' > ${file}.tmp && chmod 0400 ${file}.tmp && mv ${file}.tmp ${file}`;
  }).join(" && ");
}

/**
 * Does what a Vault Agent container would (it needs a Vault, which cannot run here): renders
 * files into the volume it mounts at `dir`, as the Vault Agent's user and through a mount of the
 * same volume, from `image` (any image with a shell). A memory-backed volume keeps them only while
 * some container (the evaluator) holds it: see `replayVaultAgentStandIn` for files needed at start.
 */
export function renderAsVaultAgent(engine: DockerEngine, doc: Json, vaultAgent: Json, dir: string, files: Readonly<Record<string, string>>, image: string): void {
  const mount = (vaultAgent.mounts as Json[] | undefined)?.find((m) => m.target === dir);
  if (mount === undefined) throw new Error(`${vaultAgent.name} mounts no volume at ${dir}: ${JSON.stringify(vaultAgent.mounts)}`);
  const volume = resourceName(doc, "docker_volume", mount.source);
  engine.docker(["run", "--rm", "--user", vaultAgent.user, "--network", "none", "--mount", `type=volume,source=${volume},target=${dir}`, "--entrypoint", "/bin/sh", image, "-c", renderScript(dir, files)]);
}

/**
 * Replays a Vault Agent container with its synthesized settings (user, networks, hardening,
 * uploads, the volumes it renders into) but, since Vault cannot run here, with a stand-in program
 * from `image` (any image with a shell): it renders `files` under `dir` as Vault Agent's templates
 * would, then stays up holding its volumes, as Vault Agent does. Returns once the files are there.
 */
export async function replayVaultAgentStandIn(engine: DockerEngine, doc: Json, vaultAgent: Json, dir: string, files: Readonly<Record<string, string>>, image: string): Promise<void> {
  const rendered = "rendered";
  replayContainer(engine, doc, { ...vaultAgent, entrypoint: ["/bin/sh", "-c", `${renderScript(dir, files)} && echo ${rendered} && exec sleep 86400`] }, { image });
  await until(`${vaultAgent.name} rendering ${Object.keys(files).join(", ")}`, () => {
    const logs = engine.docker(["logs", vaultAgent.name]);
    if (logs.stdout.includes(rendered)) return true;
    if (engine.docker(["inspect", "--format", "{{.State.Running}}", vaultAgent.name]).stdout.trim() !== "true") throw new Error(`${vaultAgent.name} stopped before rendering its files:\n${logs.stderr}`);
    return false;
  }, 30_000, 250);
}

/** The local stand-ins of a stack with a gateway, by the names the replay runs them under. */
export interface GatewayStackImages {
  /** busybox, for the agents (and as any image with a shell). */
  readonly agent: string;
  /** This machine's Squid, for the proxy. */
  readonly proxy: string;
}

/**
 * Imports the stand-ins a stack with a gateway runs on: busybox and Squid under the given names,
 * the Node image under the gateway's (and proxy-events') image name, Redis under its Redis' image name.
 */
export function importGatewayStackImages(engine: DockerEngine, imageDir: string, gateway: PlannedGateway, names: GatewayStackImages): void {
  engine.importImage(busyboxRoot(imageDir), names.agent);
  engine.importImage(squidRoot(imageDir), names.proxy);
  const node = nodeImage(imageDir);
  engine.importImage(node.root, gateway.image, node.changes);
  const redis = redisImage(imageDir);
  engine.importImage(redis.root, gateway.redis.image, redis.changes);
}

/**
 * The proxy container with a `hosts_file` (appended to its squid.conf, the file uploaded beside
 * it), so that test host names resolve to stand-ins inside the namespace.
 */
export function proxyWithHostsFile(proxy: Json, hosts: Readonly<Record<string, string>>): Json {
  const conf = (proxy.upload as Json[]).find((u) => u.file === "/etc/squid/squid.conf");
  if (conf === undefined) throw new Error(`${proxy.name} uploads no /etc/squid/squid.conf`);
  const lines = Object.entries(hosts).map(([name, address]) => `${address} ${name}\n`).join("");
  return {
    ...proxy,
    upload: [...proxy.upload.filter((u: Json) => u !== conf), { ...conf, content: `${conf.content}hosts_file /etc/squid/hosts\n` }, { file: "/etc/squid/hosts", content: lines, permissions: "0644" }],
  };
}
