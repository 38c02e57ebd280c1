import type { FirewallPlan, PlannedAgent } from "./plan";
import { byString } from "../model/order";
import { ToolAccess } from "../model/types";

/** Where agents find their role profile document (JSON), when one is mounted. */
export const AGENT_PROFILE_PATH = "/etc/rapidclaw/profile.json";

/** Hosts every agent reaches directly, never through the proxy. */
const LOCAL_HOSTS = ["localhost", "127.0.0.1", "::1"];

/**
 * Model APIs whose SDKs read a base URL from the environment: the variable, and the path the SDK's
 * own default base URL has below the host (`https://api.openai.com/v1`, `https://api.anthropic.com`).
 */
export const MODEL_BASE_URL_ENV: ReadonlyArray<{ readonly host: string; readonly name: string; readonly defaultPath: string }> = [
  { host: "api.anthropic.com", name: "ANTHROPIC_BASE_URL", defaultPath: "" },
  { host: "api.openai.com", name: "OPENAI_BASE_URL", defaultPath: "/v1" },
];

/** Environment variable names the firewall sets on agents; user `env` may not override them (every `RAPIDCLAW_*` too). */
export const RESERVED_AGENT_ENV = [
  "HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY", "https_proxy", "http_proxy", "no_proxy", "RAPIDCLAW_ROLE", "RAPIDCLAW_PROFILE", "RAPIDCLAW_GATEWAY_URL",
  ...MODEL_BASE_URL_ENV.map((m) => m.name),
];

/** What an agent is told about its role's gateway. */
export interface AgentGatewayEnvironment {
  /** Host of the gateway as the role reaches it, which agents reach directly (NO_PROXY). */
  readonly host: string;
  /** Variables: RAPIDCLAW_GATEWAY_URL, per-tool URLs, model API base URLs. */
  readonly variables: ReadonlyArray<readonly [string, string]>;
}

/** `RAPIDCLAW_TOOL_<TOOL>_URL`: the tool's name in upper case, `-` as `_`. */
export function toolUrlVariable(tool: string): string {
  return `RAPIDCLAW_TOOL_${tool.toUpperCase().replace(/-/g, "_")}_URL`;
}

/**
 * The gateway variables of a role's agents: RAPIDCLAW_GATEWAY_URL (the role's listener), for
 * each fronted tool the role may use (access above DENY) `RAPIDCLAW_TOOL_<TOOL>_URL` =
 * `<url>/tools/<tool>`, and a model SDK's base URL (ANTHROPIC_BASE_URL, OPENAI_BASE_URL) when
 * such a tool's upstream is that API's host and its path leads to the SDK's default base path
 * (the first such tool in name order). Undefined without a gateway. No key: the gateway holds them.
 * `host` replaces the planned listener's host (Kubernetes: the gateway Service's cluster IP, a
 * Terraform reference, since agents resolve no names); it is never parsed.
 */
export function agentGatewayEnvironment(plan: FirewallPlan, roleName: string, host?: string): AgentGatewayEnvironment | undefined {
  const gateway = plan.gateway;
  const listener = gateway?.roles.find((r) => r.role === roleName);
  const role = plan.roles.find((r) => r.name === roleName);
  if (gateway === undefined || listener === undefined || role === undefined) return undefined;
  const url = host === undefined ? listener.url : `http://${host}:${listener.port}`;
  const variables = new Map<string, string>([["RAPIDCLAW_GATEWAY_URL", url]]);
  const usable = new Set(role.access.filter((a) => a.access !== ToolAccess.DENY).map((a) => a.tool));
  for (const tool of plan.tools) {
    if (tool.upstream === undefined || !usable.has(tool.name)) continue;
    const base = `${url}/tools/${tool.name}`;
    variables.set(toolUrlVariable(tool.name), base);
    const upstream = new URL(tool.upstream);
    const path = upstream.pathname.replace(/\/$/, "");
    const model = MODEL_BASE_URL_ENV.find((m) => m.host === upstream.hostname && upstream.port === "" && m.defaultPath.startsWith(path));
    if (model && !variables.has(model.name)) variables.set(model.name, `${base}${model.defaultPath.slice(path.length)}`);
  }
  return { host: host ?? new URL(listener.url).hostname, variables: [...variables] };
}

/** The environment of an agent: its own variables, then the proxy, role and gateway variables (sorted by name). */
export function agentEnvironment(agent: PlannedAgent, proxyUrl: string, noProxy: ReadonlyArray<string>, profilePath?: string, gateway?: AgentGatewayEnvironment): [string, string][] {
  const env = new Map<string, string>(agent.env);
  for (const name of ["HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"]) env.set(name, proxyUrl);
  const direct = [...LOCAL_HOSTS, ...noProxy, ...(gateway ? [gateway.host] : [])].join(",");
  env.set("NO_PROXY", direct);
  env.set("no_proxy", direct);
  env.set("RAPIDCLAW_ROLE", agent.role);
  if (profilePath) env.set("RAPIDCLAW_PROFILE", profilePath);
  for (const [name, value] of gateway?.variables ?? []) env.set(name, value);
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
