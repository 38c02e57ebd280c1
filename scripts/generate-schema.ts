/** Writes schema/firewall.schema.json and the typed props' schema module from the zod schemas (`npm run schema`). */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { FIREWALL_PROPS_SCHEMA_MODULE, FIREWALL_SCHEMA_PATH, renderFirewallJsonSchema, renderFirewallPropsSchemaModule } from "../src/model/json-schema";

for (const [path, text] of [[FIREWALL_SCHEMA_PATH, renderFirewallJsonSchema()], [FIREWALL_PROPS_SCHEMA_MODULE, renderFirewallPropsSchemaModule()]]) {
  writeFileSync(join(__dirname, "..", path), text);
  console.log(`wrote ${path}`);
}
