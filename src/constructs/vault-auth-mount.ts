import { Construct, type IConstruct } from "constructs";

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
    return new ImportedAuthMount(scope, id, authPath);
  }

  private constructor() {}
}

/** An auth backend known by its path only; it adds nothing to the stack. */
class ImportedAuthMount extends Construct implements IVaultAuthMount {
  public readonly authPath: string;

  constructor(scope: Construct, id: string, authPath: string) {
    super(scope, id);
    this.authPath = authPath;
  }
}
