import type { Policy } from "@cdktf/provider-vault/lib/policy";

/**
 * Something that may be granted tool keys: a Vault identity whose login carries the grant's
 * policy. `AgentRoleProfile` is one; `KeyGrantee.fromName` names any other (a service, a job).
 */
export interface IKeyGrantee {
  /**
   * Name of the grantee in Vault; the grant's policy is named after it, so the login role that
   * attaches the policy refers to this name.
   */
  readonly keyGranteeName: string;
}

/** Grantees outside the firewall description. */
export class KeyGrantee implements IKeyGrantee {
  /**
   * A grantee known by the name of its Vault policy, such as `billing-service`: give the policy
   * of `ScopedAgentKeys.grantRead` to that service's own Vault login role.
   */
  public static fromName(keyGranteeName: string): IKeyGrantee {
    return new KeyGrantee(keyGranteeName);
  }

  /** Name of the grantee's Vault policy. */
  public readonly keyGranteeName: string;

  private constructor(keyGranteeName: string) {
    this.keyGranteeName = keyGranteeName;
  }
}

/** Options of `ScopedAgentKeys.grantRead`. */
export interface KeyGrantOptions {
  /**
   * Further secrets in the mount the grantee reads besides tool keys, by name, such as the tool
   * gateway's Redis login (`gateway.redis.credentialsSecret`); each gets `read` on exactly
   * `<mount>/data/<name>`.
   * @default - tool keys only
   */
  readonly secrets?: string[];
}

/** What `ScopedAgentKeys.grantRead` made: the policy and exactly what it grants. */
export interface KeyGrant {
  /** The grantee the policy was made for. */
  readonly grantee: IKeyGrantee;
  /** The Vault policy resource. */
  readonly policy: Policy;
  /** Name of the policy: the grantee's `keyGranteeName`. */
  readonly policyName: string;
  /** The policy HCL: `read` on exactly `<mount>/data/<secret>` of each granted tool and further secret. */
  readonly policyDocument: string;
  /** The granted tools, sorted. */
  readonly tools: string[];
  /** The KV v2 API paths the policy grants `read` on, by tool name. */
  readonly secretPaths: { [toolName: string]: string };
}
