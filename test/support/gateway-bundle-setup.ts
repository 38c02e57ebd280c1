import { bundleGateway } from "../../scripts/bundle-gateway";

/**
 * Builds the gateway bundle where the package ships it (dist/gateway/), once per test run: a
 * firewall with a tool gateway uploads it, so synthesizing one needs it, as `npm run build` makes
 * it for a published package. Rebuilt every run, so it always matches the sources under test.
 */
export default async function setup(): Promise<void> {
  const { warnings } = await bundleGateway();
  if (warnings.length > 0) throw new Error(`gateway bundle: ${warnings.join("; ")}`);
}
