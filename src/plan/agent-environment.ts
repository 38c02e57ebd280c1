import type { PlannedAgent } from "./plan";
import { byString } from "../model/order";

/** Where agents find their role profile document (JSON), when one is mounted. */
export const AGENT_PROFILE_PATH = "/etc/rapidclaw/profile.json";

/** Hosts every agent reaches directly, never through the proxy. */
const LOCAL_HOSTS = ["localhost", "127.0.0.1", "::1"];

/** Environment variable names the firewall sets on every agent; user `env` may not override them. */
export const RESERVED_AGENT_ENV = ["HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY", "https_proxy", "http_proxy", "no_proxy", "RAPIDCLAW_ROLE", "RAPIDCLAW_PROFILE"];

/** The environment of an agent: its own variables, then the proxy and role variables (sorted by name). */
export function agentEnvironment(agent: PlannedAgent, proxyUrl: string, noProxy: ReadonlyArray<string>, profilePath?: string): [string, string][] {
  const env = new Map<string, string>(agent.env);
  for (const name of ["HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"]) env.set(name, proxyUrl);
  const direct = [...LOCAL_HOSTS, ...noProxy].join(",");
  env.set("NO_PROXY", direct);
  env.set("no_proxy", direct);
  env.set("RAPIDCLAW_ROLE", agent.role);
  if (profilePath) env.set("RAPIDCLAW_PROFILE", profilePath);
  return [...env.entries()].sort(([a], [b]) => byString(a, b));
}

/** A file put read-only into an agent. */
export interface AgentFile {
  /** Absolute path in the agent. */
  readonly path: string;
  /** Text of the file. */
  readonly content: string;
}

/** Files put read-only into every agent of a role (its profile documents), by role name. */
export type AgentFiles = { [roleName: string]: AgentFile[] };

/** The profile path to announce (RAPIDCLAW_PROFILE): `AGENT_PROFILE_PATH` when some role's files hold it. */
export function announcedProfilePath(files: AgentFiles): string | undefined {
  return Object.values(files).some((list) => list.some((f) => f.path === AGENT_PROFILE_PATH)) ? AGENT_PROFILE_PATH : undefined;
}
