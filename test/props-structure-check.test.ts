/**
 * Typed props are checked for structure without loading zod: their JSON Schema (generated from
 * the zod schema) recognises valid input, and zod is loaded only for input with a problem, for its
 * messages. These tests hold the two verdicts equal, and check that synthesizing valid props in a
 * fresh process loads no zod at all while a bad one does.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FIREWALL_PROPS_JSON_SCHEMA } from "../src/model/firewall-props-json-schema";
import { conformsTo } from "../src/model/json-schema-check";
import { zodSchemas } from "../src/model/schema";
import { anyFirewallSpecArb } from "./support/arbitraries";

const { firewallSpecSchema } = zodSchemas();

type Json = Record<string, unknown> | unknown[];

/** Every place in a value: the path to each object member and list item. */
function placesOf(value: unknown, path: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(value)) return [path, ...value.flatMap((item, i) => placesOf(item, [...path, i]))];
  if (typeof value === "object" && value !== null) return [path, ...Object.entries(value).flatMap(([k, v]) => placesOf(v, [...path, k]))];
  return [path];
}

type Mutation = { kind: "replace"; value: unknown } | { kind: "delete" } | { kind: "add"; key: string; value: unknown };

/** The spec with one mutation at one place (replace the value there, delete it, or add a member beside it). */
function mutate(spec: unknown, path: (string | number)[], mutation: Mutation): unknown {
  const copy = structuredClone(spec) as Json;
  if (path.length === 0) return mutation.kind === "replace" ? mutation.value : copy;
  const parent = path.slice(0, -1).reduce<any>((node, key) => node[key], copy);
  const key = path[path.length - 1];
  if (mutation.kind === "replace") parent[key] = mutation.value;
  else if (mutation.kind === "delete") { if (Array.isArray(parent)) parent.splice(Number(key), 1); else delete parent[key]; }
  else if (typeof parent[key] === "object" && parent[key] !== null && !Array.isArray(parent[key])) parent[key][mutation.key] = mutation.value;
  return copy;
}

const oddValueArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, undefined, 0, -1, 1.5, 65_536, 1e9, Number.NaN, Number.POSITIVE_INFINITY, "", "READ", "DENY", "docker", "info", true, false, [], {}),
  fc.string({ maxLength: 8 }),
  fc.integer(),
  fc.jsonValue({ maxDepth: 2 }),
);

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  oddValueArb.map((value) => ({ kind: "replace" as const, value })),
  fc.constant({ kind: "delete" as const }),
  fc.tuple(fc.constantFrom("extra", "maxCalls", "tools", "role", "constructor", "rateLimit"), oddValueArb).map(([key, value]) => ({ kind: "add" as const, key, value })),
);

/** Every regular expression the schema checks strings with. */
function patternsOf(schema: any, seen = new Set<unknown>()): RegExp[] {
  if (schema === undefined || seen.has(schema)) return [];
  seen.add(schema);
  const def = schema._zod?.def ?? {};
  const own: RegExp[] = (def.checks ?? []).map((check: any) => check._zod?.def?.pattern).filter((p: unknown) => p instanceof RegExp);
  const inner = [def.innerType, def.element, def.valueType, ...Object.values(def.shape ?? {})];
  return [...own, ...inner.flatMap((s) => patternsOf(s, seen))];
}

describe("the structure check without zod", () => {
  it("reads the schema's patterns as zod does: JSON Schema carries no regex flags, so none may have one", () => {
    const patterns = patternsOf(firewallSpecSchema);
    expect(patterns.length).toBeGreaterThan(5);
    expect(patterns.filter((p) => p.flags !== "").map(String)).toEqual([]);
  });


  it("accepts every generated firewall, as zod does", () => {
    fc.assert(fc.property(anyFirewallSpecArb, (spec) => {
      expect(firewallSpecSchema.safeParse(spec).success).toBe(true);
      expect(conformsTo(FIREWALL_PROPS_JSON_SCHEMA, spec)).toBe(true);
    }), { numRuns: 200 });
  });

  it("gives zod's verdict on every mutated firewall, never an undecided one", () => {
    const mutatedArb = anyFirewallSpecArb.chain((spec) =>
      fc.tuple(fc.constantFrom(...placesOf(spec)), mutationArb).map(([path, mutation]) => ({ path, mutation, input: mutate(spec, path, mutation) })));
    let refused = 0;
    fc.assert(fc.property(mutatedArb, ({ input }) => {
      const zod = firewallSpecSchema.safeParse(input).success;
      if (!zod) refused++;
      expect(conformsTo(FIREWALL_PROPS_JSON_SCHEMA, input)).toBe(zod);
    }), { numRuns: 2_000 });
    // The mutations must reach refusals often, or the property says little.
    expect(refused).toBeGreaterThan(500);
  });
});

describe("zod is loaded only for input with a problem", () => {
  const loadsZod = (props: string) => {
    const script = `
      const { App, Testing } = require("cdktf");
      const { RapidClawStack, AgentPlatform } = require("./src");
      const { firewallScenario } = require("./examples/firewall-scenario");
      const props = ${props};
      try { Testing.synth(new RapidClawStack(new App(), "agent-firewall", props)); } catch (error) { if (error.name !== "FirewallSpecError") throw error; }
      process.stdout.write(String(Object.keys(require.cache).some((path) => path.includes("/node_modules/zod/"))));`;
    const result = spawnSync(process.execPath, ["--import", "tsx", "-e", script], { cwd: join(__dirname, ".."), encoding: "utf8", timeout: 60_000 });
    expect(result.stderr).toBe("");
    return result.stdout;
  };

  it("synthesizes valid props on both platforms without loading zod", () => {
    expect(loadsZod("firewallScenario(AgentPlatform.DOCKER)")).toBe("false");
    expect(loadsZod("firewallScenario(AgentPlatform.KUBERNETES)")).toBe("false");
  });

  it("loads zod for props with a problem, for its messages", () => {
    expect(loadsZod(`{ ...firewallScenario(AgentPlatform.DOCKER), proxy: { port: "3128" } }`)).toBe("true");
  });
});
