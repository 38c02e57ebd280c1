/** Writes schema/firewall.schema.json from the zod schema (`npm run schema`). */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { FIREWALL_SCHEMA_PATH, renderFirewallJsonSchema } from "../src/model/json-schema";

const target = join(__dirname, "..", FIREWALL_SCHEMA_PATH);
writeFileSync(target, renderFirewallJsonSchema());
console.log(`wrote ${FIREWALL_SCHEMA_PATH}`);
