import { accessNeeded, agentToolNames, type NativeAgent } from "../model/agent-tools";
import { FirewallSpecError, type SpecProblem } from "../model/errors";
import { byString } from "../model/order";
import { unknownName } from "../model/suggest";
import { ToolAccess } from "../model/types";
import { accessAllows } from "../model/validate";
import { planOf, type FirewallSpec } from "../plan/firewall-spec";
import type { PlannedRole } from "../plan/plan";

/** One agent tool of a role: the tool of ours it stands for, the access it needs, and whether the role has it. */
export interface AgentToolGrant {
  /** The agent's name of the tool. */
  readonly agentTool: string;
  /** Our tool it is mapped from. */
  readonly tool: string;
  /** Access the role needs on `tool` for the agent to get `agentTool`. */
  readonly access: ToolAccess;
  readonly allowed: boolean;
}

/** The role of a spec, or a FirewallSpecError naming the known roles. */
export function roleOf(spec: FirewallSpec, roleName: string): PlannedRole {
  const role = planOf(spec).roles.find((r) => r.name === roleName);
  if (role === undefined) throw new FirewallSpecError([{ path: "role", message: unknownName("role", roleName, planOf(spec).roles.map((r) => r.name)) }]);
  return role;
}

/** Every agent tool mapped from a tool of the fleet, with the role's right to it, in agent-tool order. */
export function agentToolGrants(spec: FirewallSpec, role: PlannedRole, agent: NativeAgent): AgentToolGrant[] {
  return role.access
    .flatMap(({ tool, access: granted }) =>
      agentToolNames(tool, spec.props.tools[tool].agentTools, agent).map((agentTool) => {
        const access = accessNeeded(agent, agentTool);
        return { agentTool, tool, access, allowed: accessAllows(granted, access) };
      }),
    )
    .sort((a, b) => byString(a.agentTool, b.agentTool));
}

/**
 * The base URL of a tool through the role's gateway, `<gatewayUrl>/tools/<tool>`: the gateway
 * forwards what follows to the tool's upstream, base path included.
 */
export function gatewayToolUrl(gatewayUrl: string, tool: string): string {
  return `${gatewayUrl.replace(/\/+$/, "")}/tools/${tool}`;
}

/** Problems of a gateway URL option: an http(s) URL with no path, query, fragment or credentials. */
export function gatewayUrlProblems(gatewayUrl: string): SpecProblem[] {
  let url: URL | undefined;
  try { url = new URL(gatewayUrl); } catch { url = undefined; }
  const fine = url !== undefined && ["http:", "https:"].includes(url.protocol) && url.pathname === "/" && !url.search && !url.hash && !url.username && !url.password;
  return fine ? [] : [{ path: "gatewayUrl", message: `"${gatewayUrl}" is not a gateway address; write the role's gateway listener as http://<host>:<port>, such as http://172.30.16.3:8080` }];
}

/**
 * Problems of a model tool option at `path`: a tool with an upstream that the role holds at WRITE
 * or above (model calls are POSTs, which the gateway counts as WRITE).
 */
export function modelToolProblems(spec: FirewallSpec, role: PlannedRole, tool: string, path: string): SpecProblem[] {
  const props = spec.props.tools[tool];
  if (props === undefined) return [{ path, message: unknownName("tool", tool, Object.keys(spec.props.tools)) }];
  if (props.upstream === undefined) return [{ path, message: `tool "${tool}" has no upstream; give it the model API's URL (upstream: "https://api.anthropic.com")` }];
  const granted = role.access.find((a) => a.tool === tool)?.access ?? ToolAccess.DENY;
  if (!accessAllows(granted, ToolAccess.WRITE)) {
    return [{ path, message: `role "${role.name}" holds ${granted} on tool "${tool}"; model calls are POSTs, which need WRITE: grant roles.${role.name}.tools.${tool} WRITE` }];
  }
  return [];
}

/** A tool that fronts a model API for a role: the tool, and the API's path beyond the tool's upstream. */
export interface FrontedModelApi {
  readonly tool: string;
  /** What the API's base URL has beyond the tool's upstream, such as `/v1`; empty when they are equal. */
  readonly path: string;
}

/**
 * The first tool by name that the role may POST to (WRITE or above) whose upstream is the model
 * API's base URL `apiBaseUrl` or a prefix of it on a path boundary, or undefined.
 */
export function frontedModelApi(spec: FirewallSpec, role: PlannedRole, apiBaseUrl: string): FrontedModelApi | undefined {
  return role.access
    .filter((a) => accessAllows(a.access, ToolAccess.WRITE) && spec.props.tools[a.tool]?.upstream !== undefined)
    .map((a) => ({ tool: a.tool, upstream: (spec.props.tools[a.tool].upstream as string).replace(/\/+$/, "") }))
    .sort((a, b) => byString(a.tool, b.tool))
    .filter(({ upstream }) => apiBaseUrl === upstream || apiBaseUrl.startsWith(`${upstream}/`))
    .map(({ tool, upstream }) => ({ tool, path: apiBaseUrl.slice(upstream.length) }))[0];
}
