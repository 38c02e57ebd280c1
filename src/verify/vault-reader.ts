/**
 * Vault: each login role (AppRole or Kubernetes auth) with the policies its tokens carry, each
 * policy's paths and capabilities (HCL as rendered, or Vault's JSON form), and what binds the
 * login to a caller (source ranges, ServiceAccounts).
 */
import type { Grant } from "./findings";
import type { TerraformDocument, TerraformResource } from "./terraform-document";

/** A login role and what its tokens may do. */
export interface VaultLogin {
  readonly resource: TerraformResource;
  readonly roleName: string;
  /** `read agent-keys/data/tools/x`, one per capability and path. */
  readonly grants: Grant[];
  /** Who may log in: `cidr 172.30.16.0/24`, `serviceaccount ai-agents/research-agent-agent`; empty: anyone holding the credential. */
  readonly bindings: Grant[];
}

const LOGIN_TYPES = ["vault_approle_auth_backend_role", "vault_kubernetes_auth_backend_role"];

/** Paths and capabilities of a policy document. */
export function policyPaths(text: string): { path: string; capabilities: string[] }[] {
  const trimmed = text.trim();
  if (trimmed.startsWith("{")) {
    const paths = (JSON.parse(trimmed).path ?? {}) as Record<string, { capabilities?: string[] }>;
    return Object.entries(paths).map(([path, body]) => ({ path, capabilities: body.capabilities ?? [] }));
  }
  const out: { path: string; capabilities: string[] }[] = [];
  const uncommented = trimmed.split("\n").map((l) => l.replace(/^\s*#.*$/, "")).join("\n");
  for (const match of uncommented.matchAll(/path\s+"([^"]*)"\s*\{([^}]*)\}/g)) {
    const capabilities = /capabilities\s*=\s*\[([^\]]*)\]/.exec(match[2])?.[1];
    out.push({ path: match[1], capabilities: [...(capabilities ?? "").matchAll(/"([^"]*)"/g)].map((m) => m[1]) });
  }
  return out;
}

/** Every login role of the document. */
export function readVaultLogins(doc: TerraformDocument): VaultLogin[] {
  const policies = doc.resources("vault_policy");
  const policyNamed = (value: unknown) => {
    const target = doc.referenced(value);
    return target?.type === "vault_policy" ? target : policies.find((p) => p.body.name === value);
  };
  return LOGIN_TYPES.flatMap((type) => doc.resources(type)).map((resource) => {
    const grants = ((resource.body.token_policies ?? []) as unknown[]).flatMap((name): Grant[] => {
      const policy = policyNamed(name);
      if (policy === undefined) return [{ item: `policy ${String(doc.resolve(name))} (not in this document)`, artifact: resource.address, rule: `token_policies ${String(name)}` }];
      return policyPaths(String(policy.body.policy ?? "")).flatMap(({ path, capabilities }) =>
        capabilities.map((capability) => ({ item: `${capability} ${path}`, artifact: policy.address, rule: `path "${path}"` })),
      );
    });
    if (resource.body.token_no_default_policy !== true) grants.push({ item: "policy default", artifact: resource.address, rule: "token_no_default_policy is not true" });
    const cidrs = [...new Set([...(resource.body.token_bound_cidrs ?? []), ...(resource.body.secret_id_bound_cidrs ?? [])] as string[])];
    const namespaces = ((resource.body.bound_service_account_namespaces ?? []) as unknown[]).map((n) => String(doc.resolve(n)));
    const accounts = ((resource.body.bound_service_account_names ?? []) as unknown[]).map((n) => String(doc.resolve(n)));
    const bindings: Grant[] = [
      ...cidrs.map((cidr) => ({ item: `cidr ${cidr}`, artifact: resource.address, rule: "token_bound_cidrs / secret_id_bound_cidrs" })),
      ...namespaces.flatMap((ns) => accounts.map((sa) => ({ item: `serviceaccount ${ns}/${sa}`, artifact: resource.address, rule: "bound_service_account_names × namespaces" }))),
    ];
    if (bindings.length === 0) bindings.push({ item: "any caller holding the login's credential", artifact: resource.address, rule: "no bound CIDRs or ServiceAccounts" });
    return { resource, roleName: String(doc.resolve(resource.body.role_name)), grants, bindings };
  });
}
