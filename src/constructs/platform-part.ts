import type { AgentPlatform } from "../model/types";

/** A platform-specific part, or an error naming the platform it needs. */
export function platformPart<T>(part: T | undefined, name: string, platform: AgentPlatform): T {
  if (part === undefined) throw new Error(`${name} exists only on platform "${platform}"; this firewall's platform is different`);
  return part;
}
