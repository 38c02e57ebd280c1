/**
 * Role profiles: the permission boundary of one role as a document its agents load. One model,
 * `RoleProfile`, rendered two ways:
 *
 * - JSON (`renderRoleProfileJson`): the model of one role as is.
 * - YAML in the Hermes Agent profile format (`renderHermesProfileYaml`): a document
 *   `profiles: { <role>: <the model without "role"> }`, roles in name order.
 *
 * Keys are snake_case, as in Hermes profiles, so the documents are the model with no renaming:
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
import { stringify, parse as parseYaml } from "yaml";
import { z } from "zod";
import { hostPatternText } from "../spec/hosts";
import { snakeCaseOption } from "../spec/schema";
import { ToolAccess } from "../spec/types";
import type { FirewallPlan, PlannedRole, PlannedThreshold } from "../plan/plan";
import { grantedSecrets, vaultSecretDataPath } from "./vault-policy";

/** A tool's sliding-window limit, per agent. */
export interface ProfileRateLimit {
  readonly max_calls: number;
  readonly window_sec: number;
  /** Calls per minute, rounded down, at least 1. */
  readonly max_rpm: number;
}

/** A tool the role may use. */
export interface ProfileAllowedTool {
  readonly tool: string;
  /** READ, WRITE or EXECUTE. */
  readonly access: ToolAccess;
  /** Scopes of the tool's key, sorted; empty when it has none. */
  readonly permissions: ReadonlyArray<string>;
  /** Absent when the tool has no limit. */
  readonly rate_limit?: ProfileRateLimit;
}

/** Per-task limits; an absent key means no limit. */
export interface ProfileLimits {
  readonly max_concurrent_tasks?: number;
  readonly max_tokens_per_task?: number;
  readonly max_tool_calls_per_task?: number;
}

/** Egress by address range, bypassing the proxy. */
export interface ProfileEgressCidr {
  readonly cidr: string;
  readonly ports: ReadonlyArray<number>;
}

/** Network rights of the role. */
export interface ProfileNetwork {
  readonly allow_egress: boolean;
  /** Everything the proxy lets the role reach: model hosts plus its own hosts, sorted. */
  readonly allowed_hosts: ReadonlyArray<string>;
  readonly egress_cidrs: ReadonlyArray<ProfileEgressCidr>;
}

/** `count` events of one kind within `window_sec` raise an alert of `severity`. */
export interface ProfileAlertThreshold {
  readonly count: number;
  readonly window_sec: number;
  readonly severity: string;
}

/** Alert thresholds per firewall event kind. */
export interface ProfileAlerts {
  readonly rate_limited: ProfileAlertThreshold;
  readonly permission_denied: ProfileAlertThreshold;
  readonly network_blocked: ProfileAlertThreshold;
}

/** Where the role's tool keys are in Vault. */
export interface ProfileVault {
  /** Path of the KV v2 mount. */
  readonly mount: string;
  /** API read path of each key the role may read, by tool: exactly what its policy grants. */
  readonly secret_paths: { readonly [tool: string]: string };
}

/** The permission boundary of one role, as its agents load it. */
export interface RoleProfile {
  readonly role: string;
  readonly tools: {
    /** Tools above DENY, in tool-name order. */
    readonly allowed: ReadonlyArray<ProfileAllowedTool>;
    /** Every other tool of the fleet, sorted. */
    readonly denied: ReadonlyArray<string>;
  };
  readonly limits: ProfileLimits;
  readonly network: ProfileNetwork;
  readonly allow_file_system: boolean;
  readonly alerts: ProfileAlerts;
  readonly vault: ProfileVault;
}

const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function alertThreshold(threshold: PlannedThreshold): ProfileAlertThreshold {
  return { count: threshold.count, window_sec: threshold.windowSec, severity: threshold.severity };
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
      ...(limit && { rate_limit: { max_calls: limit.maxCalls, window_sec: limit.windowSec, max_rpm: limit.maxRpm } }),
    });
  }
  // Limit keys in name order, so the output does not depend on the order the spec listed them.
  const limits = Object.fromEntries(
    Object.entries(role.limits)
      .filter(([, value]) => value !== undefined)
      .map(([name, value]) => [snakeCaseOption(name), value] as const)
      .sort(([a], [b]) => byString(a, b)),
  ) as ProfileLimits;
  const mount = plan.vault.mountPath;
  return {
    role: role.name,
    tools: { allowed: allowed.sort((a, b) => byString(a.tool, b.tool)), denied: denied.sort(byString) },
    limits,
    network: {
      allow_egress: role.allowEgress,
      allowed_hosts: role.proxyAllowlist.map(hostPatternText).sort(byString),
      egress_cidrs: role.egressCidrs.map((c) => ({ cidr: c.cidr, ports: [...c.ports] })),
    },
    allow_file_system: role.allowFileSystem,
    alerts: {
      rate_limited: alertThreshold(plan.monitoring.rateLimited),
      permission_denied: alertThreshold(plan.monitoring.permissionDenied),
      network_blocked: alertThreshold(plan.monitoring.networkBlocked),
    },
    vault: {
      mount,
      secret_paths: Object.fromEntries(
        grantedSecrets(plan, role)
          .map((grant) => [grant.tool, vaultSecretDataPath(mount, grant.secretName)] as const)
          .sort(([a], [b]) => byString(a, b)),
      ),
    },
  };
}

/** The profiles of every role of a plan, in role-name order. */
export function buildRoleProfiles(plan: FirewallPlan): RoleProfile[] {
  return plan.roles.map((role) => buildRoleProfile(plan, role)).sort((a, b) => byString(a.role, b.role));
}

/** One role's profile as JSON: the model as is, two-space indented, with a final newline. */
export function renderRoleProfileJson(profile: RoleProfile): string {
  return `${JSON.stringify(profile, null, 2)}\n`;
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
 * Profiles as one Hermes YAML document, `profiles: { <role>: ... }` in role-name order. Shared
 * values are written out in full: YAML anchors and aliases would be correct but surprise readers.
 */
export function renderHermesProfileYaml(profiles: ReadonlyArray<RoleProfile>): string {
  const document = { profiles: Object.fromEntries(sortedByRole(profiles).map(({ role, ...body }) => [role, body])) };
  const yaml = stringify(document, { aliasDuplicateObjects: false, lineWidth: 0 });
  return `# Rapid Claw role profiles (Hermes format), generated from the firewall spec: edit the spec, not this file.\n${yaml}`;
}

const positiveInt = (what: string) => z.number({ error: `${what} must be a number` }).int({ error: `${what} must be a whole number` }).min(1, { error: `${what} must be at least 1` });

const alertThresholdSchema = z.strictObject({
  count: positiveInt("count"),
  window_sec: positiveInt("window_sec"),
  severity: z.enum(["info", "warning", "critical"]),
});

/** A profile without its role name: the value under `profiles.<role>` in the YAML form. */
const profileBodySchema = z.strictObject({
  tools: z.strictObject({
    allowed: z.array(
      z.strictObject({
        tool: z.string(),
        access: z.enum([ToolAccess.READ, ToolAccess.WRITE, ToolAccess.EXECUTE]),
        permissions: z.array(z.string()),
        rate_limit: z.strictObject({ max_calls: positiveInt("max_calls"), window_sec: positiveInt("window_sec"), max_rpm: positiveInt("max_rpm") }).optional(),
      }),
    ),
    denied: z.array(z.string()),
  }),
  limits: z.strictObject({
    max_concurrent_tasks: positiveInt("max_concurrent_tasks").optional(),
    max_tokens_per_task: positiveInt("max_tokens_per_task").optional(),
    max_tool_calls_per_task: positiveInt("max_tool_calls_per_task").optional(),
  }),
  network: z.strictObject({
    allow_egress: z.boolean(),
    allowed_hosts: z.array(z.string()),
    egress_cidrs: z.array(z.strictObject({ cidr: z.string(), ports: z.array(z.number().int().min(1).max(65_535)) })),
  }),
  allow_file_system: z.boolean(),
  alerts: z.strictObject({ rate_limited: alertThresholdSchema, permission_denied: alertThresholdSchema, network_blocked: alertThresholdSchema }),
  vault: z.strictObject({ mount: z.string(), secret_paths: z.record(z.string(), z.string()) }),
});

const roleProfileSchema = z.strictObject({ role: z.string(), ...profileBodySchema.shape });

const hermesDocumentSchema = z.strictObject({ profiles: z.record(z.string(), profileBodySchema) });

/** The value if it fits `schema`; else an Error naming every mismatch by its path. */
function checked<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `  - ${issue.path.map(String).join(".") || "(root)"}: ${issue.message}`);
  throw new Error(`not a ${what}:\n${problems.join("\n")}`);
}

/** Parses a Hermes profile YAML document back into profiles, in role-name order. */
export function parseHermesProfileYaml(text: string): RoleProfile[] {
  const document = checked(hermesDocumentSchema, parseYaml(text, { stringKeys: true }), "Hermes profile document");
  return Object.entries(document.profiles)
    .map(([role, body]): RoleProfile => ({ role, ...body }))
    .sort((a, b) => byString(a.role, b.role));
}

/** Parses one role's profile JSON back into the model. */
export function parseRoleProfileJson(text: string): RoleProfile {
  return checked(roleProfileSchema, JSON.parse(text), "role profile");
}
