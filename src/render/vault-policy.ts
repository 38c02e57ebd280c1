import type { FirewallPlan, PlannedRole } from "../plan/plan";

/**
 * A mount path or secret name safe to place in a policy path: lower-case segments of letters,
 * digits, `_` and `-`. This keeps out `*` and `+` (Vault globs), quotes and `${` (HCL syntax).
 */
export const POLICY_PATH_SEGMENTS = /^[a-z0-9][a-z0-9_-]*(\/[a-z0-9][a-z0-9_-]*)*$/;

/** A tool key a role may read: the tool and its secret's name inside the KV v2 mount. */
export interface GrantedSecret {
  /** Tool name, e.g. `web_search`. */
  readonly tool: string;
  /** Secret name inside the mount, e.g. `tools/web-search`. */
  readonly secretName: string;
}

/**
 * The API path a KV v2 secret is read at, and the path a policy grants:
 * `agent-keys` + `tools/web-search` gives `agent-keys/data/tools/web-search`.
 */
export function vaultSecretDataPath(mountPath: string, secretName: string): string {
  if (!POLICY_PATH_SEGMENTS.test(mountPath)) throw new Error(`Vault mount path "${mountPath}" is not a plain path (lower case, digits, _ and -, "/" between segments)`);
  if (!POLICY_PATH_SEGMENTS.test(secretName)) throw new Error(`Vault secret name "${secretName}" is not a plain path; wildcards and quotes must never reach a policy`);
  return `${mountPath}/data/${secretName}`;
}

/**
 * Vault policy HCL granting `read` on `<mount>/data/<secret>` for exactly the given secrets,
 * sorted and without duplicates: no wildcards, no `list`, no other capability. With no secrets
 * the policy is a comment only: Vault refuses an empty policy text, and a body without `path`
 * blocks parses to a policy that grants nothing (policies deny by default).
 */
export function renderVaultPolicy(mountPath: string, secretNames: string[]): string {
  const paths = [...new Set(secretNames.map((name) => vaultSecretDataPath(mountPath, name)))].sort();
  if (paths.length === 0) return "# Grants nothing: the role holds no tool key.\n";
  const blocks = paths.map((path) => `path "${path}" {\n  capabilities = ["read"]\n}\n`);
  return `# Read-only access to exactly the tool keys the role may use.\n${blocks.join("")}`;
}

/**
 * The keys of the given tools, each with its secret name, in the order given. Throws when a tool
 * has no key: callers check the names first (a plan's `keyGrants` only hold tools with keys).
 */
export function toolSecrets(plan: FirewallPlan, toolNames: ReadonlyArray<string>): GrantedSecret[] {
  return toolNames.map((toolName) => {
    const secretName = plan.tools.find((tool) => tool.name === toolName)?.key?.secretName;
    if (secretName === undefined) throw new Error(`tool "${toolName}" has no key to grant`);
    return { tool: toolName, secretName };
  });
}

/** The keys a role may read: tools it holds above DENY that have a key (`PlannedRole.keyGrants`). */
export function grantedSecrets(plan: FirewallPlan, role: PlannedRole): GrantedSecret[] {
  return toolSecrets(plan, role.keyGrants);
}

/** The Vault policy of one role of a plan: read on exactly its granted tool keys. */
export function vaultPolicyForRole(plan: FirewallPlan, role: PlannedRole): string {
  return renderVaultPolicy(plan.vault.mountPath, grantedSecrets(plan, role).map((grant) => grant.secretName));
}
