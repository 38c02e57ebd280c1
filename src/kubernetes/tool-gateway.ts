import { Construct } from "constructs";
import type { KeyGrant } from "../constructs/key-grantee";
import type { FirewallSpec } from "../plan/firewall-spec";

/** Properties of `KubernetesToolGateway`: what `ToolGateway` passes it. */
export interface KubernetesToolGatewayProps {
  /** The firewall whose gateway this is (its plan's `gateway`). */
  readonly spec: FirewallSpec;
  /** The agents' namespace (created or adopted). */
  readonly namespaceName: string;
  /** The gateway's key grant, when it holds keys: its policy goes to the gateway's Vault login. */
  readonly grant?: KeyGrant;
  /** Path of the Vault auth backend the gateway logs in with (a reference when created in the stack). */
  readonly authPath: string;
  /** The rendered Vault Agent configuration (Kubernetes auto-auth as the gateway's login role), when it holds keys. */
  readonly vaultAgentConfig?: string;
}

/**
 * Kubernetes part of ToolGateway. PLACEHOLDER: the Deployment, Service, PodDisruptionBudget,
 * NetworkPolicies and Vault login are built on another branch; until that lands, a Kubernetes
 * firewall with a gateway is refused here rather than synthesized without one.
 */
export class KubernetesToolGateway extends Construct {
  constructor(scope: Construct, id: string, props: KubernetesToolGatewayProps) {
    super(scope, id);
    throw new Error(`the Kubernetes tool gateway of namespace ${props.namespaceName} is not available in this build; deploy on Docker, or run the gateway yourself`);
  }
}
