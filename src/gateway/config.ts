import { DEFAULTS } from "../model/defaults";
import { accessAllows } from "../model/validate";
import { KEY_PLACEHOLDER } from "../model/validate-gateway";
import { byString } from "../model/order";
import { parseOperationPath } from "../model/operation-path";
import { KeyDelivery, ToolAccess, type Enforcement, type FirewallSpecProps, type ToolOperationProps } from "../model/types";
import { keyDeliveryOf } from "../plan/gateway-plan";
import { foldText } from "./effective-path";
import { taskLimitsOf, type TaskLimits } from "./task-limits";
import type { EnforcementSettings } from "./enforcement";

/** How a tool's key travels upstream: `name: format` with the key in place of `{key}`. */
export interface KeyHeader {
  /** Lower-case header name. */
  readonly name: string;
  /** Text before the key. */
  readonly prefix: string;
  /** Text after the key. */
  readonly suffix: string;
}

/** A call pattern that needs EXECUTE. */
export interface ExecuteOperation {
  readonly method: string;
  /** The path's segments folded as `effectivePath` folds a request's; undefined for a `{name}`, which matches any one segment. */
  readonly segments: ReadonlyArray<string | undefined>;
  /** Also every path below the segments (written `/*`). */
  readonly below: boolean;
}

/** A tool as the gateway enforces it. */
export interface GatewayTool {
  readonly name: string;
  /** Base URL calls are forwarded to; undefined when the tool is reachable only through the check endpoint. */
  readonly upstream?: URL;
  /** Set when the gateway holds the tool's key (`KeyDelivery.GATEWAY`): it injects it, and the key must be loaded. */
  readonly keyHeader?: KeyHeader;
  readonly executeOperations: ReadonlyArray<ExecuteOperation>;
  readonly rateLimit?: { readonly maxCalls: number; readonly windowSec: number };
  /** Token budget per role, counted from the usage the upstream reports. */
  readonly tokenLimit?: { readonly maxTokens: number; readonly windowSec: number };
  /** Set when the upstream is an MCP server: the access each listed MCP tool needs. */
  readonly mcpTools?: Readonly<Record<string, ToolAccess>>;
  /** Limits per role on `tools/call` of single MCP tools. */
  readonly mcpRateLimits?: Readonly<Record<string, { readonly maxCalls: number; readonly windowSec: number }>>;
  readonly failOpen: boolean;
}

/** Where callers connect, and how their role is told. */
export interface GatewayListener {
  /** Local address; undefined for the gateway's listen host. */
  readonly address?: string;
  readonly port: number;
  /** Role of every caller here; undefined to tell by source network. */
  readonly role?: string;
}

/** Everything the gateway enforces, compiled from a validated firewall description. */
export interface GatewayConfig {
  readonly tools: ReadonlyMap<string, GatewayTool>;
  /** Access of each role to each tool; absent means DENY. */
  readonly roles: ReadonlyMap<string, ReadonlyMap<string, ToolAccess>>;
  readonly listeners: ReadonlyArray<GatewayListener>;
  readonly sourceNetworks: ReadonlyArray<{ readonly cidr: string; readonly role: string }>;
  readonly limiterTimeoutMs: number;
  /** Task limits of the roles that have any (`limits`); absent: the role's task ids are not counted. */
  readonly taskLimits: ReadonlyMap<string, TaskLimits>;
  /** Shadow mode: where refusals are only reported (`would_deny`). */
  readonly enforcement: EnforcementSettings;
}

/** An operation compiled for matching; validation has refused every path for which this throws. */
function executeOperation(op: ToolOperationProps, where: string): ExecuteOperation {
  const path = parseOperationPath(op.path);
  if (typeof path === "string") throw new Error(`internal error: ${where}.executeOperations: ${path}`);
  return { method: op.method, segments: path.segments.map((s) => (s.literal === undefined ? undefined : foldText(s.literal))), below: path.below };
}

/** Compiles the gateway's view of a firewall description that `validateFirewallSpec` accepted. */
export function gatewayConfigFromSpec(spec: FirewallSpecProps): GatewayConfig {
  const tools = new Map<string, GatewayTool>();
  for (const name of Object.keys(spec.tools).sort(byString)) {
    const tool = spec.tools[name];
    const header = tool.keyHeader ?? DEFAULTS.gateway.keyHeader;
    const [prefix, suffix] = (header.format ?? DEFAULTS.gateway.keyFormat).split(KEY_PLACEHOLDER);
    tools.set(name, {
      name,
      upstream: tool.upstream === undefined ? undefined : new URL(tool.upstream),
      keyHeader: tool.key !== undefined && keyDeliveryOf(tool.key, tool.upstream) === KeyDelivery.GATEWAY ? { name: header.name.toLowerCase(), prefix, suffix } : undefined,
      executeOperations: (tool.executeOperations ?? []).map((op) => executeOperation(op, `tools.${name}`)),
      rateLimit: tool.rateLimit,
      tokenLimit: tool.tokenLimit,
      mcpTools: tool.mcp === undefined ? undefined : { ...tool.mcp.tools },
      mcpRateLimits: tool.mcp?.rateLimits === undefined ? undefined : { ...tool.mcp.rateLimits },
      failOpen: tool.failOpen ?? DEFAULTS.gateway.failOpen,
    });
  }
  const roleNames = Object.keys(spec.roles).sort(byString);
  const roles = new Map(roleNames.map((role) => [role, new Map(Object.entries(spec.roles[role].tools ?? {}).filter(([, access]) => accessAllows(access, ToolAccess.READ)))]));
  const options = spec.gateway ?? {};
  const firstPort = options.port ?? DEFAULTS.gateway.port;
  const listeners = options.listeners ?? roleNames.map((role, i) => ({ port: firstPort + i, role }));
  return {
    tools,
    roles,
    listeners,
    sourceNetworks: options.sourceNetworks ?? [],
    limiterTimeoutMs: options.limiterTimeoutMs ?? DEFAULTS.gateway.limiterTimeoutMs,
    taskLimits: new Map(roleNames.flatMap((role) => {
      const limits = taskLimitsOf(spec.roles[role].limits);
      return limits === undefined ? [] : [[role, limits] as const];
    })),
    enforcement: enforcementSettings(spec),
  };
}

/** The `enforcement` settings of a firewall description, its roles and its tools. */
function enforcementSettings(spec: FirewallSpecProps): EnforcementSettings {
  const set = <T extends { readonly enforcement?: Enforcement }>(entries: { [name: string]: T }) =>
    new Map(Object.entries(entries).flatMap(([name, entry]) => (entry.enforcement === undefined ? [] : [[name, entry.enforcement] as const])));
  return { firewall: spec.enforcement ?? DEFAULTS.enforcement, roles: set(spec.roles), tools: set(spec.tools) };
}
