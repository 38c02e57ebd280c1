import { bundleGateway, bundleHook } from "../../scripts/bundle-gateway";

/**
 * Builds the gateway and hook bundles where the package ships them (dist/gateway/), once per test
 * run: a firewall with a tool gateway uploads the one, agents with `runtime: hermes` carry the
 * other, so synthesizing them needs them, as `npm run build` makes them for a published package.
 * Rebuilt every run, so they always match the sources under test.
 */
export default async function setup(): Promise<void> {
  const warnings = (await Promise.all([bundleGateway(), bundleHook()])).flatMap((r) => r.warnings);
  if (warnings.length > 0) throw new Error(`bundles: ${warnings.join("; ")}`);
}
