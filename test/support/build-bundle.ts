import { bundleHook } from "../../scripts/bundle-gateway";

/**
 * Vitest global setup: writes the hook bundle to dist/gateway, as `npm run build` does, since
 * agents with `runtime: hermes` carry it and the tests synthesize and run it.
 */
export default async function setup(): Promise<void> {
  const { warnings } = await bundleHook();
  if (warnings.length > 0) throw new Error(`the hook bundle built with warnings:\n${warnings.join("\n")}`);
}
