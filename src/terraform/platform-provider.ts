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
 * Classes of a platform's provider, each read from its module (`lib/<module>` of the package)
 * when first used, not with the library: a Docker-only project has no Kubernetes provider
 * installed, and need not. `modules` names each class's module; a missing package is named with
 * the command that installs it.
 */
export function platformProviderClasses<T extends object>(platform: AgentPlatform, modules: { readonly [K in keyof T]: string }): T {
  const classes = {};
  for (const [name, module] of Object.entries<string>(modules)) {
    let loaded: unknown;
    Object.defineProperty(classes, name, { enumerable: true, get: () => (loaded ??= platformProviderModule(platform, module)[name]) });
  }
  return classes as T;
}

function platformProviderModule(platform: AgentPlatform, module: string): Record<string, unknown> {
  const packageName = PLATFORM_PROVIDER_PACKAGES[platform];
  const path = `${packageName}/lib/${module}`;
  try {
    return require(path) as Record<string, unknown>;
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
