import { mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { findOnPath } from "./prerequisites";

/** The iptables programs the host firewall's scripts run. */
export const IPTABLES_TOOLS = ["iptables", "ip6tables", "iptables-restore", "ip6tables-restore", "iptables-save", "ip6tables-save"];

/** An iptables backend: the programs to put first on PATH (none for the system's default). */
export interface IptablesBackend {
  readonly name: string;
  readonly links: Record<string, string>;
}

/**
 * iptables binaries to test with: the system's default (nft on Debian 12) and, where installed,
 * the legacy backend, each through a directory of links put first on PATH.
 */
export function iptablesBackends(): IptablesBackend[] {
  const legacyLinks = Object.fromEntries(IPTABLES_TOOLS.map((tool) => [tool, findOnPath(tool.replace(/^(ip6?tables)/, "$1-legacy"))]));
  return [
    { name: "default", links: {} },
    ...(Object.values(legacyLinks).every((path) => path !== undefined) ? [{ name: "legacy", links: legacyLinks as Record<string, string> }] : []),
  ];
}

/** Makes `<dir>/bin` hold the backend's links and returns an environment with it first on PATH. */
export function backendEnvironment(backend: IptablesBackend, dir: string): NodeJS.ProcessEnv {
  const bin = join(dir, "bin");
  mkdirSync(bin);
  for (const [name, target] of Object.entries(backend.links)) symlinkSync(target, join(bin, name));
  return { PATH: `${bin}:${process.env.PATH}` };
}
