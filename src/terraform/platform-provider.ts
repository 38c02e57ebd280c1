import { readFileSync } from "node:fs";
import { join } from "node:path";
import { AgentPlatform } from "../model/types";
import { packageRoot } from "./package-files";

/** The npm package of each platform's provider: optional peers, so a project installs only its platform's. */
export const PLATFORM_PROVIDER_PACKAGES: Readonly<Record<AgentPlatform, string>> = {
  [AgentPlatform.DOCKER]: "@cdktf/provider-docker",
  [AgentPlatform.KUBERNETES]: "@cdktf/provider-kubernetes",
};

/**
 * A module of a platform's provider (`lib/<module>` of its package), loaded when a part of that
 * platform is built rather than with the library: a Docker-only project has no Kubernetes
 * provider installed, and need not. A missing package is named with the command that installs it.
 */
export function platformProviderModule<T>(platform: AgentPlatform, module: string): T {
  const packageName = PLATFORM_PROVIDER_PACKAGES[platform];
  const path = `${packageName}/lib/${module}`;
  try {
    return require(path) as T;
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === "MODULE_NOT_FOUND" && (error as Error).message.includes(`'${path}'`);
    if (!missing) throw error;
    throw new Error(`platform "${platform}" needs the ${packageName} package, which is not installed; install it beside cdktf: npm install ${packageName}@"${peerRange(packageName)}"`);
  }
}

/** The version range of a peer as this package declares it. */
function peerRange(packageName: string): string {
  const manifest = JSON.parse(readFileSync(join(packageRoot(), "package.json"), "utf8")) as { peerDependencies: Record<string, string> };
  return manifest.peerDependencies[packageName];
}
