/**
 * Role profiles: the permission boundary of one role as a document its agents load. One model,
 * `RoleProfile`, rendered two ways:
 *
 * - JSON (`renderRoleProfileJson`): the document of one role.
 * - YAML, Rapid Claw's own profile document (`renderRoleProfileYaml`; no agent reads it natively:
 *   see `OpenClawConfig` and `HermesConfig` for that): a document
 *   `profiles: { <role>: <the document without "role"> }`, roles in name order.
 *
 * The model is camelCase, like every public type (jsii requires it); the documents' keys are
 * snake_case in both forms (`roleProfileDocument` maps one to the other):
 *
 * ```yaml
 * profiles:
 *   customer_support:
 *     tools:
 *       allowed:                      # access above DENY, in tool-name order
 *         - tool: send_email
 *           access: EXECUTE           # READ, WRITE or EXECUTE
 *           permissions: [email:send] # scopes of the tool's key
 *           rate_limit: { max_calls: 5, window_sec: 300, max_rpm: 1 }  # absent: no limit
 *       denied: [database, file_upload, web_search]  # every other tool of the fleet
 *     limits: { max_concurrent_tasks: 3, max_tokens_per_task: 20000 }  # absent: no limit
 *     network:
 *       allow_egress: false
 *       allowed_hosts: [api.anthropic.com, api.openai.com]  # model hosts + the role's own
 *       egress_cidrs: []              # [{ cidr, ports }] reached directly, not via the proxy
 *     allow_file_system: false
 *     alerts:                         # `count` events of a kind within `window_sec` raise an alert
 *       rate_limited: { count: 10, window_sec: 300, severity: warning }
 *       permission_denied: { count: 3, window_sec: 60, severity: critical }
 *       network_blocked: { count: 5, window_sec: 300, severity: critical }
 *     vault:
 *       mount: agent-keys
 *       secret_paths: { send_email: agent-keys/data/tools/send-email }  # what the role's policy grants
 * ```
 */
import type { z } from "zod";
import { hostPatternText } from "../model/hosts";
import { ToolAccess } from "../model/types";
import type { FirewallPlan, PlannedRole, PlannedThreshold } from "../plan/plan";
import { grantedSecrets, vaultSecretDataPath } from "./vault-policy";
import { byString } from "../model/order";

/** A tool's sliding-window limit, per agent. */
export interface ProfileRateLimit {
  /** Calls allowed within the window. */
  readonly maxCalls: number;
  /** Length of the sliding window, in seconds. */
  readonly windowSec: number;
  /** Calls per minute, rounded down, at least 1. */
  readonly maxRpm: number;
}

/** A tool the role may use. */
export interface ProfileAllowedTool {
  /** Tool name. */
  readonly tool: string;
  /** READ, WRITE or EXECUTE. */
  readonly access: ToolAccess;
  /** Scopes of the tool's key, sorted; empty when it has none. */
  readonly permissions: string[];
  /**
   * The tool's limit.
   * @default - no limit
   */
  readonly rateLimit?: ProfileRateLimit;
}

/** Per-task limits; an absent one means no limit. */
export interface ProfileLimits {
  /**
   * Tasks an agent of the role may run at once.
   * @default - no limit
   */
  readonly maxConcurrentTasks?: number;
  /**
   * Model tokens one task may use.
   * @default - no limit
   */
  readonly maxTokensPerTask?: number;
  /**
   * Tool calls one task may make.
   * @default - no limit
   */
  readonly maxToolCallsPerTask?: number;
}

/** Egress by address range, bypassing the proxy. */
export interface ProfileEgressCidr {
  /** The range, canonical. */
  readonly cidr: string;
  /** TCP ports reachable in it, sorted. */
  readonly ports: number[];
}

/** Network rights of the role. */
export interface ProfileNetwork {
  /** Whether the role may reach hosts beyond the model hosts. */
  readonly allowEgress: boolean;
  /** Everything the proxy lets the role reach: model hosts plus its own hosts, sorted. */
  readonly allowedHosts: string[];
  /** Ranges the role reaches directly, not through the proxy. */
  readonly egressCidrs: ProfileEgressCidr[];
}

/** `count` events of one kind within `windowSec` raise an alert of `severity`. */
export interface ProfileAlertThreshold {
  /** Events that raise the alert. */
  readonly count: number;
  /** Window the events are counted in, in seconds. */
  readonly windowSec: number;
  /** Severity of the alert, such as `warning` or `critical`. */
  readonly severity: string;
}

/** Alert thresholds per firewall event kind. */
export interface ProfileAlerts {
  /** Calls refused by a rate limit. */
  readonly rateLimited: ProfileAlertThreshold;
  /** Calls refused by the role's access. */
  readonly permissionDenied: ProfileAlertThreshold;
  /** Connections refused by the proxy. */
  readonly networkBlocked: ProfileAlertThreshold;
}

/** Where the role's tool keys are in Vault. */
export interface ProfileVault {
  /** Path of the KV v2 mount. */
  readonly mount: string;
  /** API read path of each key the role may read, by tool: exactly what its policy grants. */
  readonly secretPaths: { [tool: string]: string };
}

/** The tools of the fleet, as one role may use them. */
export interface ProfileTools {
  /** Tools above DENY, in tool-name order. */
  readonly allowed: ProfileAllowedTool[];
  /** Every other tool of the fleet, sorted. */
  readonly denied: string[];
}

/**
 * The permission boundary of one role. Its fields are camelCase, like every public type; the
 * documents its agents load (`AgentRoleProfile.profileJson`, `.profileYaml`) write the same
 * fields in snake_case (`allow_file_system`, `network.allowed_hosts`).
 */
export interface RoleProfile {
  /** Role name. */
  readonly role: string;
  /** What the role may do with each tool. */
  readonly tools: ProfileTools;
  /** Per-task limits. */
  readonly limits: ProfileLimits;
  /** Network rights. */
  readonly network: ProfileNetwork;
  /** Whether the agents' root file system is writable. */
  readonly allowFileSystem: boolean;
  /** Alert thresholds. */
  readonly alerts: ProfileAlerts;
  /** Where the role's keys are in Vault. */
  readonly vault: ProfileVault;
}

/** The value without its undefined entries, so that absent stays absent in documents and models. */
function present<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

function alertThreshold(threshold: PlannedThreshold): ProfileAlertThreshold {
  return { count: threshold.count, windowSec: threshold.windowSec, severity: threshold.severity };
}

/** The profile of one role of a plan. */
export function buildRoleProfile(plan: FirewallPlan, role: PlannedRole): RoleProfile {
  const allowed: ProfileAllowedTool[] = [];
  const denied: string[] = [];
  for (const { tool: toolName, access } of role.access) {
    if (access === ToolAccess.DENY) { denied.push(toolName); continue; }
    const tool = plan.tools.find((t) => t.name === toolName);
    if (tool === undefined) throw new Error(`role "${role.name}" lists tool "${toolName}", which the plan does not have`);
    const limit = tool.rateLimit;
    allowed.push({
      tool: toolName,
      access,
      permissions: [...tool.permissions],
      ...(limit && { rateLimit: { maxCalls: limit.maxCalls, windowSec: limit.windowSec, maxRpm: limit.maxRpm } }),
    });
  }
  const mount = plan.vault.mountPath;
  return {
    role: role.name,
    tools: { allowed: allowed.sort((a, b) => byString(a.tool, b.tool)), denied: denied.sort(byString) },
    limits: present({ maxConcurrentTasks: role.limits.maxConcurrentTasks, maxTokensPerTask: role.limits.maxTokensPerTask, maxToolCallsPerTask: role.limits.maxToolCallsPerTask }),
    network: {
      allowEgress: role.allowEgress,
      allowedHosts: role.proxyAllowlist.map(hostPatternText).sort(byString),
      egressCidrs: role.egressCidrs.map((c) => ({ cidr: c.cidr, ports: [...c.ports] })),
    },
    allowFileSystem: role.allowFileSystem,
    alerts: {
      rateLimited: alertThreshold(plan.monitoring.rateLimited),
      permissionDenied: alertThreshold(plan.monitoring.permissionDenied),
      networkBlocked: alertThreshold(plan.monitoring.networkBlocked),
    },
    vault: {
      mount,
      secretPaths: Object.fromEntries(
        grantedSecrets(plan, role)
          .map((grant) => [grant.tool, vaultSecretDataPath(mount, grant.secretName)] as const)
          .sort(([a], [b]) => byString(a, b)),
      ),
    },
  };
}

/** A profile document as written: the model's fields in snake_case, in this order. */
export type RoleProfileDocument = z.infer<typeof import("./role-profile-parse").roleProfileSchema>;
type ThresholdDocument = RoleProfileDocument["alerts"]["rate_limited"];

function thresholdDocument(threshold: ProfileAlertThreshold): ThresholdDocument {
  return { count: threshold.count, window_sec: threshold.windowSec, severity: threshold.severity as ThresholdDocument["severity"] };
}

/**
 * The document of a profile: keys in snake_case (as in agents' own profile files), in the order
 * the documents have always had, so the rendered text is unchanged by the camelCase model.
 */
export function roleProfileDocument(profile: RoleProfile): RoleProfileDocument {
  const { limits, network, alerts } = profile;
  return {
    role: profile.role,
    tools: {
      allowed: profile.tools.allowed.map((t) => ({
        tool: t.tool,
        access: t.access as RoleProfileDocument["tools"]["allowed"][number]["access"],
        permissions: t.permissions,
        ...(t.rateLimit && { rate_limit: { max_calls: t.rateLimit.maxCalls, window_sec: t.rateLimit.windowSec, max_rpm: t.rateLimit.maxRpm } }),
      })),
      denied: profile.tools.denied,
    },
    limits: present({ max_concurrent_tasks: limits.maxConcurrentTasks, max_tokens_per_task: limits.maxTokensPerTask, max_tool_calls_per_task: limits.maxToolCallsPerTask }),
    network: { allow_egress: network.allowEgress, allowed_hosts: network.allowedHosts, egress_cidrs: network.egressCidrs.map((c) => ({ cidr: c.cidr, ports: c.ports })) },
    allow_file_system: profile.allowFileSystem,
    alerts: { rate_limited: thresholdDocument(alerts.rateLimited), permission_denied: thresholdDocument(alerts.permissionDenied), network_blocked: thresholdDocument(alerts.networkBlocked) },
    vault: { mount: profile.vault.mount, secret_paths: profile.vault.secretPaths },
  };
}

function thresholdModel(threshold: ThresholdDocument): ProfileAlertThreshold {
  return { count: threshold.count, windowSec: threshold.window_sec, severity: threshold.severity };
}

/** The model of a checked document (read back by `role-profile-parse.ts`). */
export function roleProfileModel(document: RoleProfileDocument): RoleProfile {
  const { limits, network, alerts } = document;
  return {
    role: document.role,
    tools: {
      allowed: document.tools.allowed.map((t) => ({
        tool: t.tool,
        access: t.access,
        permissions: t.permissions,
        ...(t.rate_limit && { rateLimit: { maxCalls: t.rate_limit.max_calls, windowSec: t.rate_limit.window_sec, maxRpm: t.rate_limit.max_rpm } }),
      })),
      denied: document.tools.denied,
    },
    limits: present({ maxConcurrentTasks: limits.max_concurrent_tasks, maxTokensPerTask: limits.max_tokens_per_task, maxToolCallsPerTask: limits.max_tool_calls_per_task }),
    network: { allowEgress: network.allow_egress, allowedHosts: network.allowed_hosts, egressCidrs: network.egress_cidrs },
    allowFileSystem: document.allow_file_system,
    alerts: { rateLimited: thresholdModel(alerts.rate_limited), permissionDenied: thresholdModel(alerts.permission_denied), networkBlocked: thresholdModel(alerts.network_blocked) },
    vault: { mount: document.vault.mount, secretPaths: document.vault.secret_paths },
  };
}

/** The profiles of every role of a plan, in role-name order. */
export function buildRoleProfiles(plan: FirewallPlan): RoleProfile[] {
  return plan.roles.map((role) => buildRoleProfile(plan, role)).sort((a, b) => byString(a.role, b.role));
}

/** One role's profile as JSON: its document, two-space indented, with a final newline. */
export function renderRoleProfileJson(profile: RoleProfile): string {
  return `${JSON.stringify(roleProfileDocument(profile), null, 2)}\n`;
}

/** Roles in name order; throws on a role given twice, which one document cannot hold. */
function sortedByRole(profiles: ReadonlyArray<RoleProfile>): RoleProfile[] {
  const sorted = [...profiles].sort((a, b) => byString(a.role, b.role));
  sorted.forEach((p, i) => {
    if (i > 0 && sorted[i - 1].role === p.role) throw new Error(`role "${p.role}" is given twice; a profile document holds each role once`);
  });
  return sorted;
}

/**
 * Profiles as one YAML document, `profiles: { <role>: ... }` in role-name order. Shared
 * values are written out in full: YAML anchors and aliases would be correct but surprise readers.
 */
export function renderRoleProfileYaml(profiles: ReadonlyArray<RoleProfile>): string {
  const document = { profiles: Object.fromEntries(sortedByRole(profiles).map((profile) => {
    const { role, ...body } = roleProfileDocument(profile);
    return [role, body];
  })) };
  const yaml = blockYaml(document) ?? yamlPackage().stringify(document, { aliasDuplicateObjects: false, lineWidth: 0 });
  return `# Rapid Claw role profiles (Rapid Claw's own format, not an agent's config file), generated from the firewall spec: edit the spec, not this file.\n${yaml}`;
}

/** The yaml package, loaded on first use (a fallback of the writer below, and parsing), not at every cold start. */
const yamlPackage = (): typeof import("yaml") => require("yaml");

/*
 * A direct writer for the block YAML of profile documents. `yaml.stringify` builds a node tree
 * of the whole document first and took about 1 ms per role (15 % of synthesizing 1,000 roles on
 * Docker); this writes the same text as `stringify(document, { aliasDuplicateObjects: false,
 * lineWidth: 0 })` for the values profiles hold, and returns undefined for anything it is not
 * sure about, which then goes to `yaml.stringify`.
 */

/**
 * The tests of yaml's YAML 1.2 core schema (null, bool, int, float in yaml/dist/schema/core) under
 * which a plain scalar would read back as something other than a string: yaml quotes such strings.
 */
const NOT_A_STRING_WHEN_PLAIN = [
  /^(?:~|[Nn]ull|NULL)?$/,
  /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/,
  /^0o[0-7]+$/,
  /^[-+]?[0-9]+$/,
  /^0x[0-9a-fA-F]+$/,
  /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/,
  /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/,
  /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/,
];
/** Strings written plain: no white space, no indicator first, no `:` last (and not NOT_A_STRING_WHEN_PLAIN). */
const SURELY_PLAIN = /^[A-Za-z0-9_][A-Za-z0-9_./:@+-]*$/;
/** yaml's own test of strings it refuses to write plain (stringifyString.js, plainString). */
const PLAIN_REFUSED = /^[\n\t ,[\]{}#&*!|>'"%@`]|^[?-]$|^[?-][ \t]|[\n:][ \t]|[ \t]\n|[\n\t ]#|[\n\t :]$/;
/** Strings whose double-quoted form is just the text in quotes: printable ASCII without quotes or backslash. */
const QUOTES_VERBATIM = /^[\x20-\x21\x23-\x26\x28-\x5b\x5d-\x7e]*$/;

function scalarYaml(value: unknown): string | undefined {
  if (typeof value === "boolean") return String(value);
  if (typeof value === "number") return Number.isSafeInteger(value) && !Object.is(value, -0) ? String(value) : undefined;
  if (typeof value !== "string") return undefined;
  const readsAsOther = NOT_A_STRING_WHEN_PLAIN.some((test) => test.test(value));
  if (!readsAsOther && SURELY_PLAIN.test(value) && !value.endsWith(":")) return value;
  // yaml falls back to double quotes (no single quote or double quote in the text to prefer otherwise).
  if ((readsAsOther || PLAIN_REFUSED.test(value)) && QUOTES_VERBATIM.test(value)) return `"${value}"`;
  return undefined;
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value) && Object.getPrototypeOf(value) === Object.prototype;

/** Appends the lines of a block mapping at `indent`; false when some key or value needs yaml itself. */
function mappingYaml(map: Record<string, unknown>, indent: string, lines: string[]): boolean {
  for (const [key, value] of Object.entries(map)) {
    // yaml writes keys over 1024 characters as explicit `? ` keys.
    const keyText = key.length <= 1024 ? scalarYaml(key) : undefined;
    if (keyText === undefined || !valueYaml(`${indent}${keyText}:`, value, indent, lines)) return false;
  }
  return true;
}

/** Appends `head` (a key and its colon) with `value`: inline when scalar or empty, else nested below `indent`. */
function valueYaml(head: string, value: unknown, indent: string, lines: string[]): boolean {
  if (Array.isArray(value) && value.length > 0) {
    lines.push(head);
    return sequenceYaml(value, `${indent}  `, lines);
  }
  if (isPlainObject(value) && Object.keys(value).length > 0) {
    lines.push(head);
    return mappingYaml(value, `${indent}  `, lines);
  }
  const text = Array.isArray(value) ? "[]" : isPlainObject(value) ? "{}" : scalarYaml(value);
  if (text === undefined) return false;
  lines.push(`${head} ${text}`);
  return true;
}

/** Appends the lines of a block sequence at `indent`: scalars after `- `, mappings starting on the dash line. */
function sequenceYaml(items: ReadonlyArray<unknown>, indent: string, lines: string[]): boolean {
  for (const item of items) {
    if (isPlainObject(item) && Object.keys(item).length > 0) {
      const first = lines.length;
      if (!mappingYaml(item, `${indent}  `, lines)) return false;
      lines[first] = `${indent}- ${lines[first].slice(indent.length + 2)}`;
      continue;
    }
    const text = Array.isArray(item) || isPlainObject(item) ? undefined : scalarYaml(item);
    if (text === undefined) return false;
    lines.push(`${indent}- ${text}`);
  }
  return true;
}

/** The block YAML `yaml.stringify` writes for a mapping of plain data, or undefined to let it decide. */
function blockYaml(document: Record<string, unknown>): string | undefined {
  const lines: string[] = [];
  if (Object.keys(document).length === 0 || !mappingYaml(document, "", lines)) return undefined;
  return `${lines.join("\n")}\n`;
}
