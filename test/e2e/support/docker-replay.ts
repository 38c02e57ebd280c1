import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import type { DockerEngine } from "./docker-engine";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

/**
 * Settings of the synthesized resources this replay knows how to apply. Anything else in the
 * JSON fails the test: a new setting must be replayed (or deliberately ignored here), never
 * silently dropped.
 */
const NETWORK_KEYS = new Set(["name", "internal", "ipam_config", "options", "labels"]);
const CONTAINER_KEYS = new Set([
  "name", "image", "networks_advanced", "env", "memory", "cpus", "read_only", "remove_volumes", "tmpfs", "mounts", "upload",
  "capabilities", "security_opts", "restart", "must_run", "labels", "user", "ulimit", "log_driver", "log_opts", "entrypoint", "dns",
]);

/** `${docker_network.<id>.name}` → the network's name in the JSON. */
function networkName(doc: Json, reference: string): string {
  const id = /^\$\{docker_network\.([^.]+)\.name\}$/.exec(reference)?.[1];
  const network = id === undefined ? undefined : doc.resource.docker_network[id];
  if (!network) throw new Error(`unresolvable network reference ${reference}`);
  return network.name;
}

/** What Terraform writes for an upload's content: `%%{` and `$${` are its escapes for `%{` and `${`. */
const terraformText = (content: string) => content.replace(/%%\{/g, "%{").replace(/\$\$\{/g, "${");

/** Creates every synthesized `docker_network` with its real settings. */
export function replayNetworks(engine: DockerEngine, doc: Json): void {
  for (const network of Object.values<Json>(doc.resource.docker_network ?? {})) {
    const unknown = Object.keys(network).filter((k) => !NETWORK_KEYS.has(k));
    if (unknown.length > 0) throw new Error(`network ${network.name}: settings this replay does not apply: ${unknown.join(", ")}`);
    const args = ["network", "create", "--driver", "bridge"];
    if (network.internal) args.push("--internal");
    for (const ipam of network.ipam_config ?? []) {
      args.push("--subnet", ipam.subnet);
      if (ipam.gateway) args.push("--gateway", ipam.gateway);
      if (ipam.ip_range) args.push("--ip-range", ipam.ip_range);
    }
    for (const [key, value] of Object.entries<string>(network.options ?? {})) args.push("--opt", `${key}=${value}`);
    for (const label of network.labels ?? []) args.push("--label", `${label.label}=${label.value}`);
    engine.docker([...args, network.name]);
  }
}

/**
 * Creates and starts one synthesized `docker_container` with its real settings, as the Docker
 * provider does: created on its first network, connected to the others, uploads copied in, then
 * started. Only the image (and, for images without one, the command) is a stand-in.
 */
export function replayContainer(engine: DockerEngine, doc: Json, container: Json, standIn: { image: string; command?: string[] }): void {
  const unknown = Object.keys(container).filter((k) => !CONTAINER_KEYS.has(k));
  if (unknown.length > 0) throw new Error(`container ${container.name}: settings this replay does not apply: ${unknown.join(", ")}`);
  const [first, ...others] = container.networks_advanced as Json[];
  const args = ["create", "--name", container.name, "--network", networkName(doc, first.name)];
  if (first.ipv4_address) args.push("--ip", first.ipv4_address);
  for (const variable of container.env ?? []) args.push("--env", variable);
  if (container.memory) args.push("--memory", `${container.memory}m`);
  if (container.cpus) args.push("--cpus", container.cpus);
  if (container.read_only) args.push("--read-only");
  for (const [path, options] of Object.entries<string>(container.tmpfs ?? {})) args.push("--tmpfs", `${path}:${options}`);
  for (const mount of container.mounts ?? []) {
    if (mount.type !== "volume") throw new Error(`container ${container.name}: mount type ${mount.type} is not replayed`);
    args.push("--mount", `type=volume,target=${mount.target}`);
  }
  for (const cap of container.capabilities?.drop ?? []) args.push("--cap-drop", cap);
  for (const cap of container.capabilities?.add ?? []) args.push("--cap-add", cap);
  for (const option of container.security_opts ?? []) args.push("--security-opt", option);
  if (container.restart) args.push("--restart", container.restart);
  for (const label of container.labels ?? []) args.push("--label", `${label.label}=${label.value}`);
  if (container.user) args.push("--user", container.user);
  for (const limit of container.ulimit ?? []) args.push("--ulimit", `${limit.name}=${limit.soft}:${limit.hard}`);
  if (container.log_driver) args.push("--log-driver", container.log_driver);
  for (const [key, value] of Object.entries<string>(container.log_opts ?? {})) args.push("--log-opt", `${key}=${value}`);
  for (const server of container.dns ?? []) args.push("--dns", server);
  const entrypoint: string[] | undefined = container.entrypoint;
  if (entrypoint && entrypoint.length > 0) args.push("--entrypoint", entrypoint[0]);
  args.push(standIn.image, ...(entrypoint ? entrypoint.slice(1) : (standIn.command ?? [])));
  engine.docker(args);

  for (const network of others) {
    engine.docker(["network", "connect", ...(network.ipv4_address ? ["--ip", network.ipv4_address] : []), networkName(doc, network.name), container.name]);
  }
  const staging = mkdtempSync(join(tmpdir(), "rapidclaw-upload-"));
  try {
    for (const upload of container.upload ?? []) {
      const local = join(staging, basename(upload.file));
      writeFileSync(local, terraformText(upload.content));
      chmodSync(local, parseInt(upload.permissions ?? "0644", 8));
      engine.docker(["cp", local, `${container.name}:${upload.file}`]);
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  engine.docker(["start", container.name]);
}
