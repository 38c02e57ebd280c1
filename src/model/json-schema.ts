import { z } from "zod";
import { firewallFileSchema } from "./load";

/** Where the JSON Schema of firewall files is shipped, relative to the package root. */
export const FIREWALL_SCHEMA_PATH = "schema/firewall.schema.json";

/**
 * The JSON Schema (draft-07, which editors such as the YAML language server read) of a firewall
 * file, generated from the zod schema the loader checks files against, so the two cannot drift.
 */
export function firewallFileJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(firewallFileSchema, { target: "draft-7" }) as Record<string, unknown>;
}

/** The schema file's exact text: two-space indented JSON with a final newline. */
export function renderFirewallJsonSchema(): string {
  return `${JSON.stringify(firewallFileJsonSchema(), null, 2)}\n`;
}
