/**
 * A synthesized Terraform JSON document (`cdk.tf.json`), read as data: resources by type, the
 * values behind `${type.id.attribute}` references, and the files the stack ships into containers
 * (Docker `upload` blocks, Kubernetes ConfigMap data). Nothing here knows the firewall.
 */

/** One resource of the document. */
export interface TerraformResource {
  readonly type: string;
  readonly id: string;
  /** `type.id`, as Terraform addresses it and as findings name it. */
  readonly address: string;
  readonly body: Record<string, any>;
}

/** A file a resource carries: a container upload or a ConfigMap key. */
export interface ShippedFile {
  /** Path in the container (upload) or the ConfigMap key. */
  readonly path: string;
  readonly content: string;
  /** Where it is, for findings: `docker_container.x upload /etc/squid/squid.conf`. */
  readonly where: string;
  readonly resource: TerraformResource;
}

const REFERENCE = /^\$\{([a-z0-9_]+)\.([^.\s}]+)\.([^}]+)\}$/i;

/** A Terraform string as the value it stands for: `$${` and `%%{` are its escapes of `${` and `%{`. */
const unescapeTerraform = (text: string) => text.replace(/\$\$\{/g, "${").replace(/%%\{/g, "%{");

/** A shipped file whose text is unescaped on first read. */
function shippedFile(path: string, written: string, where: string, resource: TerraformResource): ShippedFile {
  let content: string | undefined;
  return {
    path,
    where,
    resource,
    get content() {
      return (content ??= unescapeTerraform(written));
    },
  };
}

const asList = (value: unknown): any[] => (Array.isArray(value) ? value : value === undefined || value === null ? [] : [value]);

export class TerraformDocument {
  constructor(readonly json: Record<string, any>) {}

  /** Every resource of `type`, in document order. */
  public resources(type: string): TerraformResource[] {
    return Object.entries((this.json.resource?.[type] ?? {}) as Record<string, Record<string, any>>).map(([id, body]) => ({ type, id, address: `${type}.${id}`, body }));
  }

  /**
   * The value a `${type.id.attr…}` reference stands for when the referenced resource sets it in
   * the document (`${docker_network.x.name}`, `${kubernetes_namespace_v1.x.metadata[0].name}`);
   * anything else is returned as written.
   */
  public resolve(value: unknown): unknown {
    if (typeof value !== "string") return value;
    const match = REFERENCE.exec(value);
    if (!match) return value;
    let current: unknown = this.json.resource?.[match[1]]?.[match[2]];
    for (const step of match[3].split(/\.|\[(\d+)\]/).filter((s) => s !== undefined && s !== "")) {
      if (current === undefined || current === null) return value;
      // Blocks Terraform lists (`metadata[0]`) are single objects in cdktf's JSON.
      current = /^\d+$/.test(step) && !Array.isArray(current) ? current : (current as Record<string, unknown>)[step];
    }
    return current === undefined ? value : current;
  }

  /** The resource a `${type.id.…}` reference points at, if it is in the document. */
  public referenced(value: unknown): TerraformResource | undefined {
    const match = typeof value === "string" ? REFERENCE.exec(value) : null;
    if (!match) return undefined;
    const body = this.json.resource?.[match[1]]?.[match[2]];
    return body === undefined ? undefined : { type: match[1], id: match[2], address: `${match[1]}.${match[2]}`, body };
  }

  private shipped?: ShippedFile[];

  /**
   * Files shipped by Docker uploads and Kubernetes ConfigMaps, listed once per document; each
   * file's text is unescaped when first read (most readers look at a few files, not a bundle's
   * megabyte).
   */
  public files(): ShippedFile[] {
    if (this.shipped !== undefined) return this.shipped;
    const uploads = this.resources("docker_container").flatMap((resource) =>
      asList(resource.body.upload).filter((u) => typeof u?.file === "string" && typeof u.content === "string").map((u) => shippedFile(u.file, u.content, `${resource.address} upload ${u.file}`, resource)),
    );
    const configMaps = this.resources("kubernetes_config_map_v1").flatMap((resource) =>
      Object.entries((resource.body.data ?? {}) as Record<string, unknown>).filter(([, content]) => typeof content === "string").map(([key, content]) => shippedFile(key, content as string, `${resource.address} data["${key}"]`, resource)),
    );
    return (this.shipped = [...uploads, ...configMaps]);
  }
}

/** A list-valued block of a resource body (cdktf writes single blocks as objects, repeated ones as lists). */
export function blocks(value: unknown): any[] {
  return asList(value);
}

/** `labels` of a Docker resource (`[{label, value}]`) or a Kubernetes metadata map, as a map. */
export function labelsOf(value: unknown): Record<string, string> {
  if (Array.isArray(value)) return Object.fromEntries(value.filter((l) => typeof l?.label === "string").map((l) => [l.label, String(l.value)]));
  return value && typeof value === "object" ? (value as Record<string, string>) : {};
}
