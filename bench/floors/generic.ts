// The generic floor: the library's synthesized JSON rebuilt with cdktf's generic classes only
// (`TerraformResource` with `terraformResourceType`, every attribute set by `addOverride`; a
// bare `TerraformProvider`; `TerraformOutput`), in the same construct tree, so it synthesizes the
// same bytes. It is the cost of cdktf itself for this JSON, without typed provider classes.
import { TerraformOutput, TerraformProvider, TerraformResource, TerraformStack } from "cdktf";
import { Construct } from "constructs";

/** A provider block from its name, source and version, with no typed class. */
class GenericProvider extends TerraformProvider {
  public toMetadata(): any {
    return {};
  }
}

/**
 * `TerraformResource` as it is, except that it does not list its overridden keys in the stack's
 * `//` metadata: here every attribute is set by `addOverride`, the library sets them as attributes,
 * and the JSON must be the same bytes.
 */
class GenericResource extends TerraformResource {
  public toMetadata(): any {
    return {};
  }
}

interface GenericResourceSpec {
  /** Construct ids between the stack and the resource. */
  readonly scopeIds: string[];
  readonly id: string;
  readonly type: string;
  /** The logical id in the JSON; the same path gives the same id. */
  readonly logicalId: string;
  /** Top-level attributes (including meta-arguments such as depends_on), metadata removed. */
  readonly attributes: ReadonlyArray<readonly [string, unknown]>;
}

/** Everything needed to rebuild a synthesized stack, digested from its JSON before any timing. */
export interface GenericStackPlan {
  readonly providers: ReadonlyArray<{ readonly name: string; readonly source: string; readonly version: string; readonly config: Record<string, unknown> }>;
  readonly resources: ReadonlyArray<GenericResourceSpec>;
  readonly outputs: ReadonlyArray<{ readonly scopeIds: string[]; readonly id: string; readonly logicalId: string; readonly value: unknown; readonly description?: string; readonly sensitive?: boolean }>;
  /** Stack-level overrides, in the order the stack metadata lists them. */
  readonly overrides: ReadonlyArray<readonly [string, unknown]>;
}

const KNOWN_TOP_LEVEL = new Set(["//", "terraform", "provider", "resource", "output", "ephemeral"]);
/** Parts of the `terraform` block cdktf writes by itself (providers, default local backend). */
const TERRAFORM_BLOCK_GENERATED = new Set(["required_providers", "backend"]);

/** Digests a synthesized stack (cdk.tf.json with its `//` metadata) into a GenericStackPlan. */
export function planGenericStack(doc: any): GenericStackPlan {
  for (const key of Object.keys(doc)) {
    if (!KNOWN_TOP_LEVEL.has(key)) throw new Error(`generic floor: top-level block "${key}" is not supported; extend bench/floors/generic.ts`);
  }
  const stackName: string = doc["//"].metadata.stackName;
  const splitPath = (path: string) => {
    const parts = path.split("/");
    if (parts[0] !== stackName) throw new Error(`generic floor: path ${path} is outside stack ${stackName}`);
    return { scopeIds: parts.slice(1, -1), id: parts[parts.length - 1] };
  };

  const providers = Object.entries<any>(doc.terraform?.required_providers ?? {}).map(([name, req]) => {
    const blocks: unknown[] = doc.provider?.[name] ?? [{}];
    if (blocks.length !== 1) throw new Error(`generic floor: provider ${name} has ${blocks.length} blocks (aliases are not supported)`);
    return { name, source: req.source, version: req.version, config: blocks[0] as Record<string, unknown> };
  });

  const resources: GenericResourceSpec[] = [];
  for (const [type, byName] of Object.entries<any>(doc.resource ?? {})) {
    for (const [logicalId, body] of Object.entries<any>(byName)) {
      const { "//": meta, ...attributes } = body;
      resources.push({ ...splitPath(meta.metadata.path), type, logicalId, attributes: Object.entries(attributes) });
    }
  }

  // `//.outputs` is the construct tree of the outputs: path segments down to the logical id.
  const outputs: GenericStackPlan["outputs"][number][] = [];
  const walk = (node: any, path: string[]) => {
    for (const [segment, child] of Object.entries<any>(node)) {
      if (typeof child === "string") {
        const block = doc.output[child];
        outputs.push({ ...splitPath([...path, segment].join("/")), logicalId: child, value: block.value, description: block.description, sensitive: block.sensitive });
      } else walk(child, [...path, segment]);
    }
  };
  walk(doc["//"].outputs ?? {}, []);

  const overrides: [string, unknown][] = [];
  for (const key of doc["//"].metadata.overrides?.stack ?? []) {
    if (key === "terraform") {
      for (const [name, value] of Object.entries(doc.terraform)) {
        if (!TERRAFORM_BLOCK_GENERATED.has(name)) overrides.push([`terraform.${name}`, value]);
      }
    } else overrides.push([key, doc[key]]);
  }
  return { providers, resources, outputs, overrides };
}

/** Rebuilds the planned stack under `scope` with generic classes only. */
export function buildGenericStack(scope: Construct, id: string, plan: GenericStackPlan): TerraformStack {
  const stack = new TerraformStack(scope, id);
  const scopes = new Map<string, Construct>();
  const scopeOf = (ids: string[]): Construct => {
    let current: Construct = stack;
    let key = "";
    for (const segment of ids) {
      key += "/" + segment;
      let next = scopes.get(key);
      if (next === undefined) {
        next = new Construct(current, segment);
        scopes.set(key, next);
      }
      current = next;
    }
    return current;
  };

  for (const provider of plan.providers) {
    const element = new GenericProvider(stack, provider.name, {
      terraformResourceType: provider.name,
      terraformGeneratorMetadata: { providerName: provider.name, providerVersion: provider.version },
      terraformProviderSource: provider.source,
    });
    for (const [name, value] of Object.entries(provider.config)) element.addOverride(name, value);
  }
  for (const [path, value] of plan.overrides) stack.addOverride(path, value);
  for (const spec of plan.resources) {
    // Same path, same logical id: the byte-for-byte check of the benchmark confirms it.
    const resource = new GenericResource(scopeOf(spec.scopeIds), spec.id, { terraformResourceType: spec.type });
    for (const [name, value] of spec.attributes) resource.addOverride(name, value);
  }
  for (const output of plan.outputs) {
    new TerraformOutput(scopeOf(output.scopeIds), output.id, { value: output.value, description: output.description, sensitive: output.sensitive });
  }
  return stack;
}
