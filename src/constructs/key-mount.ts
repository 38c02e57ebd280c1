import type { Construct, IConstruct } from "constructs";
import { importedConstruct } from "./imported-construct";

/** A Vault KV v2 secrets engine holding the tool keys: created by `ScopedAgentKeys`, or one that exists already. */
export interface IKeyMount extends IConstruct {
  /** Path the engine is mounted at, such as `agent-keys`: literal text, since policies name it. */
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
    return importedConstruct(scope, id, { mountPath });
  }

  private constructor() {}
}
