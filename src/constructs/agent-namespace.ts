import type { Construct, IConstruct } from "constructs";
import { importedConstruct } from "./imported-construct";

/** A Kubernetes namespace agents run in: created by `IsolatedAgentNetwork`, or one that exists already. */
export interface IAgentNamespace extends IConstruct {
  /** Name of the namespace (a reference when Terraform creates it, so users are created after it). */
  readonly namespaceName: string;
}

/** Imports of Kubernetes namespaces made outside the firewall. */
export class AgentNamespace {
  /**
   * An existing namespace, adopted rather than created: give it as
   * `IsolatedAgentNetworkProps.namespace`. Its name must be the firewall's `namespace`. The file
   * form is `kubernetes.existingNamespace: true`.
   */
  public static fromNamespaceName(scope: Construct, id: string, namespaceName: string): IAgentNamespace {
    return importedConstruct(scope, id, { namespaceName });
  }

  private constructor() {}
}
