import { Construct, type IConstruct } from "constructs";

/** A Vault KV v2 secrets engine holding the tool keys: created by `ScopedAgentKeys`, or one that exists already. */
export interface IKeyMount extends IConstruct {
  /** Path the engine is mounted at, such as `agent-keys` (a reference when Terraform creates it). */
  readonly mountPath: string;
}

/** Imports of KV v2 mounts enabled outside the firewall. */
export class KeyMount {
  /**
   * An existing KV v2 mount, reused rather than created: give it as
   * `ScopedAgentKeysProps.keyMount`. Its path must be the firewall's `vault.mountPath`; the
   * keys construct still sets its versions kept and writes one secret per tool key into it.
   */
  public static fromMountPath(scope: Construct, id: string, mountPath: string): IKeyMount {
    return new ImportedKeyMount(scope, id, mountPath);
  }

  private constructor() {}
}

/** A KV v2 mount known by its path only; it adds nothing to the stack. */
class ImportedKeyMount extends Construct implements IKeyMount {
  public readonly mountPath: string;

  constructor(scope: Construct, id: string, mountPath: string) {
    super(scope, id);
    this.mountPath = mountPath;
  }
}
