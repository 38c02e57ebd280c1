import { existsSync } from "node:fs";
import { join } from "node:path";
import { bundleGateway } from "../../scripts/bundle-gateway";
import { GATEWAY_BUNDLE_PATH } from "../../src/constructs/gateway-bundle";

/**
 * Vitest global setup: stacks with a tool gateway ship the package's bundle, which `npm run build`
 * makes; the suite builds it once when it is missing (a fresh checkout, CI), as the build would.
 */
export default async function setup(): Promise<void> {
  const bundle = join(__dirname, "..", "..", GATEWAY_BUNDLE_PATH);
  if (existsSync(bundle)) return;
  const { warnings } = await bundleGateway(bundle);
  if (warnings.length > 0) throw new Error(`building the gateway bundle warned:\n${warnings.join("\n")}`);
}
