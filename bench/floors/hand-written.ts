// The hand-written floor: the program a user would write by hand to get the library's JSON without
// the library. Every resource and provider through the same prebuilt typed provider class (deep
// import), with its configuration as literals (documents, references as `${...}` strings), every
// output, asset and stack override as the library makes them, under plain `Construct` scopes that
// give every element the library's construct path (so the logical ids, and the JSON, are
// byte-identical). The literals are read off the library's own construct tree before any timing
// (`planHandWrittenStack`), so the floor can never drift from the library as the old hand-kept
// copies (bench/floors/hand-written-*.ts until 2026-12) did; what is timed is only what the
// hand-written program does: construct the typed classes with literal configurations and synthesize.
// The library's validation, planning and rendering count against the library.
import { LocalBackend, TerraformAsset, TerraformElement, TerraformOutput, TerraformProvider, TerraformResource, TerraformStack, type AssetType } from "cdktf";
import { Construct, type IConstruct } from "constructs";
// cdktf's own resolution (what synthesis does to every value), not exported from the package root.
const { resolve } = require("cdktf/lib/_tokens") as { resolve: <T>(scope: Construct, value: T) => T };

/** A typed provider class named by the module it is exported from, so a fresh process can load it. */
interface ClassRef {
  /** Deep module path, e.g. `@cdktf/provider-docker/lib/container`. */
  readonly module: string;
  readonly name: string;
}

/** One construct of the library's tree, in creation order (parents before children). */
type PlannedNode =
  | { readonly kind: "scope"; readonly path: string[] }
  | { readonly kind: "resource" | "provider"; readonly path: string[]; readonly class: ClassRef; readonly config: Record<string, unknown>; readonly logicalId?: string; readonly overrides: Record<string, unknown> }
  | { readonly kind: "output"; readonly path: string[]; readonly config: Record<string, unknown>; readonly logicalId?: string }
  | { readonly kind: "asset"; readonly path: string[]; readonly source: string; readonly type: AssetType; readonly assetHash: string };

/** Everything the hand-written program writes as literals; plain JSON, so cold children read it from a file. */
export interface HandWrittenPlan {
  readonly nodes: ReadonlyArray<PlannedNode>;
  /** The stack's own overrides (ephemeral blocks, `terraform.required_version`). */
  readonly stackOverrides: Record<string, unknown>;
}

/** Meta-arguments every resource and provider carries outside its typed fields. */
const META_ARGUMENTS = ["dependsOn", "count", "provider", "lifecycle", "forEach", "provisioners", "connection"] as const;

/** The typed class's module, found among the loaded modules that export it. */
function classRef(type: Function): ClassRef {
  for (const [file, module] of Object.entries(require.cache)) {
    const match = /[/\\]node_modules[/\\](@cdktf[/\\]provider-[^/\\]+[/\\]lib[/\\][^/\\]+)[/\\]index\.js$/.exec(file);
    if (match === null || module === undefined) continue;
    for (const [name, value] of Object.entries(module.exports as Record<string, unknown>)) {
      if (value === type) return { module: match[1].replace(/\\/g, "/"), name };
    }
  }
  throw new Error(`hand-written floor: ${type.name} is not exported by a loaded @cdktf/provider-*/lib/<name> module; extend bench/floors/hand-written.ts`);
}

/** Whether `key` is set on a typed class through a setter (attributes) or `put<Key>` (blocks). */
function settable(element: object, key: string): boolean {
  const put = `put${key[0].toUpperCase()}${key.slice(1)}`;
  for (let proto = Object.getPrototypeOf(element); proto !== null; proto = Object.getPrototypeOf(proto)) {
    if (Object.getOwnPropertyDescriptor(proto, key)?.set !== undefined || Object.getOwnPropertyDescriptor(proto, put) !== undefined) return true;
  }
  return false;
}

/**
 * The configuration a typed class was constructed with: each settable attribute's or block's field
 * (`_name`, configured as `name`, or as `nameAttribute` where the name collides with a member of
 * the class), a block's `internalValue`, `dependsOn` as the addresses it synthesizes to; tokens
 * resolved to the literal text they synthesize to.
 */
function typedConfig(stack: TerraformStack, element: TerraformResource | TerraformProvider): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  const fields = element as unknown as Record<string, any>;
  for (const field of Object.keys(element)) {
    if (!field.startsWith("_")) continue;
    const key = [field.slice(1), `${field.slice(1)}Attribute`].find((name) => settable(element, name));
    if (key === undefined) continue; // computed, or cdktf's own
    const raw = fields[field];
    const value = raw !== null && typeof raw === "object" && "internalValue" in raw ? raw.internalValue : raw;
    if (value !== undefined) config[key] = value;
  }
  for (const meta of META_ARGUMENTS) if (meta !== "dependsOn" && fields[meta] !== undefined) config[meta] = fields[meta];
  const resolved = resolve(stack, config);
  if (element instanceof TerraformResource && element.dependsOn !== undefined && element.dependsOn.length > 0) {
    resolved.dependsOn = Object.values<any>(resolve(stack, element.toTerraform()).resource)
      .flatMap((byId) => Object.values<any>(byId))[0].depends_on;
  }
  return resolved;
}

/** What `addOverride` recorded on an element or the stack (kept private by cdktf). */
const rawOverrides = (element: TerraformElement | TerraformStack) => (element as unknown as { rawOverrides: Record<string, unknown> }).rawOverrides;

/** Reads the hand-written program's literals off a synthesized-ready stack of the library. */
export function planHandWrittenStack(stack: TerraformStack): HandWrittenPlan {
  const nodes: PlannedNode[] = [];
  const visit = (node: IConstruct, path: string[]) => {
    // cdktf's default backend, added at synthesis when the program declares none.
    if (node instanceof LocalBackend && path.join("/") === "backend") return;
    const logicalId = (node as unknown as { _logicalIdOverride?: string })._logicalIdOverride;
    if (node instanceof TerraformResource || node instanceof TerraformProvider) {
      nodes.push({ kind: node instanceof TerraformResource ? "resource" : "provider", path, class: classRef(node.constructor), config: typedConfig(stack, node), logicalId, overrides: resolve(stack, rawOverrides(node)) });
    } else if (node instanceof TerraformOutput) {
      const config = { value: node.value, description: node.description, sensitive: node.sensitive, dependsOn: node.dependsOn, staticId: node.staticId || undefined, precondition: node.precondition };
      nodes.push({ kind: "output", path, config: resolve(stack, config), logicalId });
    } else if (node instanceof TerraformAsset) {
      const asset = node as unknown as { sourcePath: string; type: AssetType; assetHash: string };
      nodes.push({ kind: "asset", path, source: asset.sourcePath, type: asset.type, assetHash: asset.assetHash });
    } else if (!(node instanceof TerraformElement)) {
      // The library's own constructs are plain scopes in the hand-written program.
      nodes.push({ kind: "scope", path });
    } else {
      throw new Error(`hand-written floor: ${path.join("/")} is a ${node.constructor.name}, which bench/floors/hand-written.ts does not replay; extend it`);
    }
    if (!(node instanceof TerraformAsset)) for (const child of node.node.children) visit(child, [...path, child.node.id]);
  };
  for (const child of stack.node.children) visit(child, [child.node.id]);
  return { nodes, stackOverrides: resolve(stack, rawOverrides(stack)) };
}

/** The hand-written program: builds the planned stack under `scope` from literals. */
export function buildHandWrittenStack(scope: Construct, id: string, plan: HandWrittenPlan): TerraformStack {
  const stack = new TerraformStack(scope, id);
  const built = new Map<string, Construct>([["", stack]]);
  for (const node of plan.nodes) {
    const parent = built.get(node.path.slice(0, -1).join("/")) as Construct;
    const name = node.path[node.path.length - 1];
    let construct: Construct;
    switch (node.kind) {
      case "scope":
        construct = new Construct(parent, name);
        break;
      case "resource":
      case "provider": {
        const Class = require(node.class.module)[node.class.name] as new (scope: Construct, id: string, config: unknown) => TerraformResource;
        // A hand-written program passes the resources it depends on; cdktf needs only their address.
        const dependsOn = (node.config.dependsOn as string[] | undefined)?.map((fqn) => ({ fqn }));
        const element = new Class(parent, name, dependsOn === undefined ? node.config : { ...node.config, dependsOn });
        if (node.logicalId !== undefined) element.overrideLogicalId(node.logicalId);
        for (const [path, value] of Object.entries(node.overrides)) element.addOverride(path, value);
        construct = element;
        break;
      }
      case "output": {
        const output = new TerraformOutput(parent, name, node.config as any);
        if (node.logicalId !== undefined) output.overrideLogicalId(node.logicalId);
        construct = output;
        break;
      }
      case "asset":
        construct = new TerraformAsset(parent, name, { path: node.source, type: node.type, assetHash: node.assetHash });
        break;
    }
    built.set(node.path.join("/"), construct);
  }
  for (const [path, value] of Object.entries(plan.stackOverrides)) stack.addOverride(path, value);
  return stack;
}
