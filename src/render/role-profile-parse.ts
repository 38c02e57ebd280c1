import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { byString } from "../model/order";
import { ToolAccess } from "../model/types";
import { roleProfileModel, type RoleProfile } from "./role-profile";

// Reading profile documents back (tests, tools that inspect a deployment): the only part of the
// profiles that needs zod, apart from rendering so that synthesis never loads it.

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

export const roleProfileSchema = z.strictObject({ role: z.string(), ...profileBodySchema.shape });

const profileDocumentSchema = z.strictObject({ profiles: z.record(z.string(), profileBodySchema) });

/** The value if it fits `schema`; else an Error naming every mismatch by its path. */
function checked<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `  - ${issue.path.map(String).join(".") || "(root)"}: ${issue.message}`);
  throw new Error(`not a ${what}:\n${problems.join("\n")}`);
}

/** Parses a role profile YAML document back into profiles, in role-name order. */
export function parseRoleProfileYaml(text: string): RoleProfile[] {
  const document = checked(profileDocumentSchema, parseYaml(text, { stringKeys: true }), "role profile document");
  return Object.entries(document.profiles)
    .map(([role, body]) => roleProfileModel({ role, ...body }))
    .sort((a, b) => byString(a.role, b.role));
}

/** Parses one role's profile JSON back into the model. */
export function parseRoleProfileJson(text: string): RoleProfile {
  return roleProfileModel(checked(roleProfileSchema, JSON.parse(text), "role profile"));
}
