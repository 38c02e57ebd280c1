import { ApproleAuthBackendRole } from "@cdktf/provider-vault/lib/approle-auth-backend-role";
import { KubernetesAuthBackendRole } from "@cdktf/provider-vault/lib/kubernetes-auth-backend-role";
import type { Policy } from "@cdktf/provider-vault/lib/policy";
import { Construct } from "constructs";
import { planOf, type FirewallSpec } from "../plan/firewall-spec";
import type { PlannedRole } from "../plan/plan";
import { buildRoleProfile, renderRoleProfileYaml, renderRoleProfileJson, type RoleProfile } from "../render/role-profile";
import { renderVaultPolicy } from "../render/vault-policy";
import { FirewallSpecError, raisedBy } from "../model/errors";
import { unknownName } from "../model/suggest";
import { AgentPlatform, ToolAccess } from "../model/types";
import { accessAllows } from "../model/validate";
import { AGENT_PROFILE_PATH, type AgentFile } from "../plan/agent-environment";
import { VAULT_TOKEN_AUDIENCE } from "../kubernetes/agents";
import type { IKeyGrantee, KeyGrant } from "./key-grantee";
import type { ScopedAgentKeys } from "./scoped-agent-keys";
import { pathOfChild } from "./construct-path";

/** Properties of `AgentRoleProfile`. */
export interface AgentRoleProfileProps {
  /** The firewall the role belongs to. */
  readonly spec: FirewallSpec;
  /** Name of the role, a key of the spec's `roles`. */
  readonly role: string;
  /** The keys the role is granted (`keys.grantRead`) and the auth backend its binding is on. */
  readonly keys: ScopedAgentKeys;
}

/** Where agents find the YAML form of their profile. */
export const AGENT_PROFILE_YAML_PATH = "/etc/rapidclaw/profile.yaml";

/**
 * Layer 4, the permission boundary of one role: its profile document (JSON, the canonical one, and YAML, with
 * rate limits and alert thresholds), its Vault policy granting `read` on exactly the keys of the
 * tools it may use, and the binding agents log in with (Kubernetes auth role bound to the role's
 * ServiceAccount, or an AppRole role on Docker). A role that holds no key gets no policy and no
 * binding: it has nothing to read in Vault. The role is a key grantee named after its policy.
 */
export class AgentRoleProfile extends Construct implements IKeyGrantee {
  /** Where agents find their role profile document (JSON), when one is mounted. */
  public static readonly PROFILE_JSON_PATH = AGENT_PROFILE_PATH;
  /** Where agents find the YAML form of their profile. */
  public static readonly PROFILE_YAML_PATH = AGENT_PROFILE_YAML_PATH;

  /** Name of the role. */
  public readonly roleName: string;
  /** Name of the role's Vault policy and login role; the name the role's key grant is made for. */
  public readonly keyGranteeName: string;
  /** The profile model both documents are rendered from. */
  public readonly profile: RoleProfile;
  /** The profile as JSON. */
  public readonly profileJson: string;
  /** The profile as a YAML document (`profiles.<role>`), Rapid Claw's own format. */
  public readonly profileYaml: string;
  /** The role's Vault policy HCL (grants nothing when the role holds no key). */
  public readonly policyDocument: string;
  /** The role's key grant (`keys.grantRead(this, <its tools with keys>)`), when the role holds a key. */
  public readonly keyGrant?: KeyGrant;
  /** The Vault policy resource, when the role holds a key (the grant's). */
  public readonly policy?: Policy;
  /** Kubernetes: the Vault login role bound to the role's ServiceAccount. */
  public readonly kubernetesAuthRole?: KubernetesAuthBackendRole;
  /** Docker: the AppRole role agents log in with (SecretIDs are delivered outside Terraform). */
  public readonly appRole?: ApproleAuthBackendRole;
  private readonly role: PlannedRole;

  constructor(scope: Construct, id: string, props: AgentRoleProfileProps) {
    const plan = planOf(props.spec);
    const role = plan.roles.find((r) => r.name === props.role);
    if (role === undefined) throw new FirewallSpecError(raisedBy(pathOfChild(scope, id), [{ path: "role", message: unknownName("role", props.role, plan.roles.map((r) => r.name)) }]));
    super(scope, id);
    this.role = role;
    this.roleName = role.name;
    this.keyGranteeName = role.policyName;
    this.profile = buildRoleProfile(plan, role);
    this.profileJson = renderRoleProfileJson(this.profile);
    this.profileYaml = renderRoleProfileYaml([this.profile]);
    if (role.keyGrants.length === 0) {
      this.policyDocument = renderVaultPolicy(props.keys.mountPath, []);
      return;
    }

    this.keyGrant = props.keys.grantRead(this, role.keyGrants);
    this.policyDocument = this.keyGrant.policyDocument;
    this.policy = this.keyGrant.policy;
    const backend = props.keys.authPath;
    const token = { tokenPolicies: [this.policy.name], tokenNoDefaultPolicy: true, tokenTtl: plan.vault.tokenTtlSeconds, tokenMaxTtl: plan.vault.tokenTtlSeconds };
    if (plan.platform === AgentPlatform.KUBERNETES) {
      this.kubernetesAuthRole = new KubernetesAuthBackendRole(this, "login", {
        backend,
        roleName: role.policyName,
        boundServiceAccountNames: [role.serviceAccountName],
        boundServiceAccountNamespaces: [plan.namespace],
        audience: VAULT_TOKEN_AUDIENCE,
        ...token,
      });
    } else {
      this.appRole = new ApproleAuthBackendRole(this, "login", {
        backend,
        roleName: role.policyName,
        // The role's own network: another role's agent cannot use this role's SecretID or token.
        secretIdBoundCidrs: [role.docker?.subnet as string],
        tokenBoundCidrs: [role.docker?.subnet as string],
        secretIdTtl: 3600,
        secretIdNumUses: 1,
        ...token,
      });
    }
  }

  /** Whether this role may use `tool` at `access` (DENY < READ < WRITE < EXECUTE). */
  public allows(tool: string, access: ToolAccess): boolean {
    const granted = this.role.access.find((a) => a.tool === tool)?.access ?? ToolAccess.DENY;
    return access !== ToolAccess.DENY && accessAllows(granted, access);
  }

  /** The documents mounted read-only into the role's agents. */
  public get files(): AgentFile[] {
    return [
      { path: AGENT_PROFILE_PATH, content: this.profileJson },
      { path: AGENT_PROFILE_YAML_PATH, content: this.profileYaml },
    ];
  }
}
