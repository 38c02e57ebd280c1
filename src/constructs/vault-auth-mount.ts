import type { Construct, IConstruct } from "constructs";
import { importedConstruct } from "./imported-construct";

/** A Vault auth backend agents log in with (Kubernetes auth or AppRole): created by `ScopedAgentKeys`, or one that exists already. */
export interface IVaultAuthMount extends IConstruct {
  /** Path the backend is mounted at, such as `kubernetes` (a reference when Terraform creates it). */
  readonly authPath: string;
}

/** Imports of Vault auth backends enabled outside the firewall. */
export class VaultAuthMount {
  /**
   * An existing auth backend, reused rather than created: give it as
   * `ScopedAgentKeysProps.authMount`. Its path must be the firewall's `vault.authPath`, and its
   * type must suit the platform (Kubernetes auth, or AppRole on Docker); its configuration is
   * left as it is. The file form is `vault.existingAuthMount: true`.
   */
  public static fromAuthPath(scope: Construct, id: string, authPath: string): IVaultAuthMount {
    return importedConstruct(scope, id, { authPath });
  }

  private constructor() {}
}
