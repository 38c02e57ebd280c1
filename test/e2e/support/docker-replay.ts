import { createHash } from "node:crypto";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
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
const VOLUME_KEYS = new Set(["name", "labels", "driver", "driver_opts"]);
const CONTAINER_KEYS = new Set([
  "name", "image", "networks_advanced", "env", "memory", "cpus", "read_only", "remove_volumes", "tmpfs", "mounts", "volumes", "upload",
  "capabilities", "security_opts", "restart", "must_run", "labels", "user", "ulimit", "log_driver", "log_opts", "entrypoint", "command",
  "working_dir", "dns", "stop_signal", "stop_timeout",
  // How the provider removes the container (stop first, then remove): Terraform's, not the engine's.
  "destroy_grace_seconds",
]);
const NETWORK_ATTACHMENT_KEYS = new Set(["name", "ipv4_address", "aliases"]);
const MOUNT_KEYS = new Set(["target", "type", "source", "read_only"]);
const VOLUME_MOUNT_KEYS = new Set(["container_path", "volume_name", "from_container", "read_only"]);
const UPLOAD_KEYS = new Set(["file", "content", "content_base64", "source", "source_hash", "permissions"]);
const IMAGE_KEYS = new Set(["name", "keep_locally", "build", "triggers"]);
const IMAGE_BUILD_KEYS = new Set(["context"]);

/** Fails on settings of `what` this replay does not apply. */
function onlyKnown(what: string, settings: Json, known: ReadonlySet<string>): void {
  const unknown = Object.keys(settings).filter((k) => !known.has(k));
  if (unknown.length > 0) throw new Error(`${what}: settings this replay does not apply: ${unknown.join(", ")}`);
}

/** `${docker_<type>.<id>.name}` → that resource's name in the JSON; a plain name stays as it is. */
export function resourceName(doc: Json, type: "docker_network" | "docker_volume" | "docker_container", reference: string): string {
  if (!reference.includes("${")) return reference;
  const id = new RegExp(`^\\$\\{${type}\\.([^.]+)\\.name\\}$`).exec(reference)?.[1];
  const resource = id === undefined ? undefined : doc.resource[type]?.[id];
  if (!resource) throw new Error(`unresolvable ${type} reference ${reference}`);
  return resource.name;
}

const networkName = (doc: Json, reference: string) => resourceName(doc, "docker_network", reference);

/** What Terraform writes for an upload's content: `%%{` and `$${` are its escapes for `%{` and `${`. */
const terraformText = (content: string) => content.replace(/%%\{/g, "%{").replace(/\$\$\{/g, "${");

/** Creates every synthesized `docker_network` with its real settings. */
export function replayNetworks(engine: DockerEngine, doc: Json): void {
  for (const network of Object.values<Json>(doc.resource.docker_network ?? {})) {
    onlyKnown(`network ${network.name}`, network, NETWORK_KEYS);
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

/** Creates every synthesized `docker_volume` with its driver, driver options and labels. */
export function replayVolumes(engine: DockerEngine, doc: Json): void {
  for (const volume of Object.values<Json>(doc.resource.docker_volume ?? {})) {
    onlyKnown(`volume ${volume.name}`, volume, VOLUME_KEYS);
    const args = ["volume", "create"];
    if (volume.driver) args.push("--driver", volume.driver);
    for (const [key, value] of Object.entries<string>(volume.driver_opts ?? {})) args.push("--opt", `${key}=${value}`);
    for (const label of volume.labels ?? []) args.push("--label", `${label.label}=${label.value}`);
    engine.docker([...args, volume.name]);
  }
}

/**
 * The synthesized `docker_image`s the provider builds (a `build` block): each is tagged, under its
 * own name, from `standIn`, an image made here from the same Debian packages its Dockerfile
 * installs (nothing is pulled). Returns the built images' names; images pulled by name are left
 * to the caller's stand-ins.
 */
export function replayBuiltImages(engine: DockerEngine, doc: Json, standIn: string): string[] {
  const built: string[] = [];
  for (const image of Object.values<Json>(doc.resource.docker_image ?? {})) {
    onlyKnown(`image ${image.name}`, image, IMAGE_KEYS);
    if (image.build === undefined) continue;
    onlyKnown(`image ${image.name}, build`, image.build, IMAGE_BUILD_KEYS);
    engine.docker(["tag", standIn, image.name]);
    built.push(image.name);
  }
  return built;
}

/**
 * An upload's bytes: `content` as Terraform writes it, `content_base64` decoded, or the file at
 * `source` (relative to the stack's directory, where Terraform runs), which must match its
 * `source_hash` (the sha256 the stack gave it).
 */
function uploadBytes(upload: Json, stackDir: string | undefined): Buffer | string {
  if (typeof upload.content_base64 === "string") return Buffer.from(upload.content_base64, "base64");
  if (typeof upload.source === "string") {
    if (stackDir === undefined) throw new Error(`upload ${upload.file} comes from ${upload.source}: give the synthesized stack's directory`);
    const bytes = readFileSync(join(stackDir, upload.source));
    const hash = createHash("sha256").update(bytes).digest("hex");
    if (hash !== upload.source_hash) throw new Error(`upload ${upload.file}: ${upload.source} has sha256 ${hash}, the stack says ${upload.source_hash}`);
    return bytes;
  }
  return terraformText(upload.content);
}

/**
 * Creates and starts one synthesized `docker_container` with its real settings, as the Docker
 * provider does: created on its first network, connected to the others, uploads copied in, then
 * started. Only the image (and, for images without one, the command) is a stand-in. Uploads from a
 * file (`source`) are read from `stackDir`, the directory `cdktf synth` wrote the stack to.
 */
export function replayContainer(engine: DockerEngine, doc: Json, container: Json, standIn: { image: string; command?: string[] }, stackDir?: string): void {
  const what = `container ${container.name}`;
  onlyKnown(what, container, CONTAINER_KEYS);
  const [first, ...others] = container.networks_advanced as Json[];
  for (const network of container.networks_advanced as Json[]) onlyKnown(`${what}, network ${network.name}`, network, NETWORK_ATTACHMENT_KEYS);
  const aliases = (network: Json) => (network.aliases ?? []).flatMap((alias: string) => ["--network-alias", alias]);
  const args = ["create", "--name", container.name, "--network", networkName(doc, first.name), ...aliases(first)];
  if (first.ipv4_address) args.push("--ip", first.ipv4_address);
  for (const variable of container.env ?? []) args.push("--env", variable);
  if (container.memory) args.push("--memory", `${container.memory}m`);
  if (container.cpus) args.push("--cpus", container.cpus);
  if (container.read_only) args.push("--read-only");
  for (const [path, options] of Object.entries<string>(container.tmpfs ?? {})) args.push("--tmpfs", `${path}:${options}`);
  for (const mount of container.mounts ?? []) {
    onlyKnown(`${what}, mount ${mount.target}`, mount, MOUNT_KEYS);
    if (mount.type !== "volume") throw new Error(`${what}: mount type ${mount.type} is not replayed`);
    const source = mount.source === undefined ? "" : `,source=${resourceName(doc, "docker_volume", mount.source)}`;
    args.push("--mount", `type=volume,target=${mount.target}${source}${mount.read_only ? ",readonly" : ""}`);
  }
  for (const volume of container.volumes ?? []) {
    onlyKnown(`${what}, volume ${volume.container_path ?? volume.from_container}`, volume, VOLUME_MOUNT_KEYS);
    // Every volume of another container (proxy-events reads the proxy's log volume): replay that one first.
    if (volume.from_container !== undefined) {
      args.push("--volumes-from", `${resourceName(doc, "docker_container", volume.from_container)}${volume.read_only ? ":ro" : ""}`);
      continue;
    }
    args.push("--mount", `type=volume,target=${volume.container_path},source=${resourceName(doc, "docker_volume", volume.volume_name)}${volume.read_only ? ",readonly" : ""}`);
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
  if (container.working_dir) args.push("--workdir", container.working_dir);
  if (container.stop_signal) args.push("--stop-signal", container.stop_signal);
  if (container.stop_timeout !== undefined) args.push("--stop-timeout", String(container.stop_timeout));
  const entrypoint: string[] | undefined = container.entrypoint;
  if (entrypoint && entrypoint.length > 0) args.push("--entrypoint", entrypoint[0]);
  // As Docker runs them: the entrypoint's arguments, then the command (the image's own when unset).
  const command: string[] = container.command ?? (entrypoint ? [] : (standIn.command ?? []));
  args.push(standIn.image, ...(entrypoint ? entrypoint.slice(1) : []), ...command);
  engine.docker(args);

  for (const network of others) {
    engine.docker(["network", "connect", ...aliases(network), ...(network.ipv4_address ? ["--ip", network.ipv4_address] : []), networkName(doc, network.name), container.name]);
  }
  const staging = mkdtempSync(join(tmpdir(), "rapidclaw-upload-"));
  try {
    for (const upload of container.upload ?? []) {
      onlyKnown(`${what}, upload ${upload.file}`, upload, UPLOAD_KEYS);
      const local = join(staging, basename(upload.file));
      writeFileSync(local, uploadBytes(upload, stackDir));
      chmodSync(local, parseInt(upload.permissions ?? "0644", 8));
      engine.docker(["cp", local, `${container.name}:${upload.file}`]);
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  engine.docker(["start", container.name]);
}
