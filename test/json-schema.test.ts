import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { describe, expect, it } from "vitest";
import { firewallScenario } from "../examples/firewall-scenario";
import { FIREWALL_SCHEMA_PATH, firewallFileJsonSchema, renderFirewallJsonSchema } from "../src/model/json-schema";
import { AgentPlatform } from "../src/model/types";

type Schema = Record<string, any>;

const KNOWN_KEYWORDS = new Set([
  "$schema", "title", "description", "type", "properties", "required", "additionalProperties",
  "propertyNames", "enum", "pattern", "minimum", "maximum", "minItems", "items", "anyOf",
]);

/**
 * Checks a value against the subset of JSON Schema draft-07 the generated schema uses, and
 * returns where it does not fit. Throws on any other keyword, so that nothing is skipped unread.
 */
function mismatches(schema: Schema, value: unknown, at = "$"): string[] {
  const unknown = Object.keys(schema).filter((keyword) => !KNOWN_KEYWORDS.has(keyword));
  if (unknown.length > 0) throw new Error(`schema at ${at} uses keywords this checker does not know: ${unknown.join(", ")}`);
  const found: string[] = [];
  if (schema.anyOf && !(schema.anyOf as Schema[]).some((option) => mismatches(option, value, at).length === 0)) found.push(`${at}: fits no option of anyOf`);
  if (schema.enum && !(schema.enum as unknown[]).includes(value)) found.push(`${at}: not one of ${schema.enum.join(", ")}`);
  const type = Array.isArray(value) ? "array" : value === null ? "null" : typeof value;
  if (schema.type) {
    const fits = schema.type === "integer" ? Number.isInteger(value) : schema.type === type;
    if (!fits) return [...found, `${at}: expected ${schema.type}, got ${type}`];
  }
  if (typeof value === "string" && schema.pattern && !new RegExp(schema.pattern, "u").test(value)) found.push(`${at}: does not match ${schema.pattern}`);
  if (typeof value === "number") {
    if (schema.minimum !== undefined && value < schema.minimum) found.push(`${at}: below ${schema.minimum}`);
    if (schema.maximum !== undefined && value > schema.maximum) found.push(`${at}: above ${schema.maximum}`);
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) found.push(`${at}: fewer than ${schema.minItems} items`);
    if (schema.items) value.forEach((item, i) => found.push(...mismatches(schema.items, item, `${at}[${i}]`)));
  }
  if (type === "object") {
    const object = value as Record<string, unknown>;
    for (const name of schema.required ?? []) if (!(name in object)) found.push(`${at}: lacks ${name}`);
    for (const [name, property] of Object.entries(object)) {
      if (schema.propertyNames) found.push(...mismatches(schema.propertyNames, name, `${at} key ${name}`));
      const own = schema.properties?.[name];
      if (own) found.push(...mismatches(own, property, `${at}.${name}`));
      else if (schema.additionalProperties === false) found.push(`${at}: unknown property ${name}`);
      else if (typeof schema.additionalProperties === "object") found.push(...mismatches(schema.additionalProperties, property, `${at}.${name}`));
    }
  }
  return found;
}

const root = join(__dirname, "..");
const exampleFile = () => parseYaml(readFileSync(join(root, "examples", "firewall.yaml"), "utf8"));

describe("JSON Schema of firewall files", () => {
  it(`is committed at ${FIREWALL_SCHEMA_PATH} exactly as generated (run npm run schema)`, () => {
    expect(readFileSync(join(root, FIREWALL_SCHEMA_PATH), "utf8")).toBe(renderFirewallJsonSchema());
  });

  it("is draft-07 and describes the role profiles section", () => {
    const schema = firewallFileJsonSchema() as Schema;
    expect(schema.$schema).toBe("http://json-schema.org/draft-07/schema#");
    expect(schema.required).toEqual(["platform", "modelHosts", "tools"]);
    expect(Object.keys(schema.properties.profiles.additionalProperties.properties)).toEqual(["tools", "limits", "network", "allow_file_system", "enforcement"]);
  });

  it("accepts examples/firewall.yaml and the seed props", () => {
    const schema = firewallFileJsonSchema() as Schema;
    expect(mismatches(schema, exampleFile())).toEqual([]);
    expect(mismatches(schema, { $schema: "./firewall.schema.json", ...firewallScenario(AgentPlatform.KUBERNETES) })).toEqual([]);
  });

  it("refuses what the loader refuses in the structure", () => {
    const schema = firewallFileJsonSchema() as Schema;
    const example = exampleFile();
    const broken = {
      ...example,
      profiles: {
        ...example.profiles,
        customer_support: { ...example.profiles.customer_support, tools: { allowed: [{ tool: "web_search", access: "DENY" }, 5] } },
        research_agent: { ...example.profiles.research_agent, limits: { max_tokens_per_task: 0, maxTokensPerTask: 5 } },
      },
      platform: "nomad",
    };
    expect(mismatches(schema, broken)).toEqual([
      "$.platform: not one of docker, kubernetes",
      "$.profiles.customer_support.tools.allowed[0]: fits no option of anyOf",
      "$.profiles.customer_support.tools.allowed[1]: fits no option of anyOf",
      "$.profiles.research_agent.limits.max_tokens_per_task: below 1",
      "$.profiles.research_agent.limits: unknown property maxTokensPerTask",
    ]);
  });
});
