import type { NamespaceV1 } from "@cdktf/provider-kubernetes/lib/namespace-v1";
import type { NetworkPolicyV1, NetworkPolicyV1SpecEgress } from "@cdktf/provider-kubernetes/lib/network-policy-v1";
import { Construct } from "constructs";
import type { IAgentNamespace } from "../constructs/agent-namespace";
import { planOf, type FirewallSpec } from "../plan/firewall-spec";
import { LABELS } from "../plan/plan";
import { COMPONENTS } from "../terraform/labels";
import { agentPodSelector, componentSelector, dnsEgressRule, firewallPolicy, tcpPorts } from "./network-policy";
import { kubernetesClasses } from "./provider-classes";

/** Properties of `KubernetesAgentNetwork`. */
export interface KubernetesAgentNetworkProps {
  /** The firewall whose agents the policies isolate. */
  readonly spec: FirewallSpec;
  /**
   * An existing namespace to adopt, named as the firewall's `namespace`.
   * @default - adopted when `kubernetes.existingNamespace` is set, else created
   */
  readonly namespace?: IAgentNamespace;
}

/**
 * Kubernetes part of IsolatedAgentNetwork: the namespace (created or adopted) and the agents'
 * NetworkPolicies. Policies add up: an agent pod may do what any policy selecting it allows.
 *
 * - `<firewall>-agents-default-deny`: every agent pod, Ingress and Egress, no rule.
 * - `<firewall>-agents-ingress` (only with `kubernetes.ingress`): ingress from the listed namespaces on one port.
 * - `<firewall>-role-<role>-egress`, per role: that role's pods to the proxy on the role's own
 *   port, to the role's explicit egress CIDRs on their ports, and to the cluster DNS only when
 *   the role opts in (`network.dnsReason`, with a synthesis warning). No other agent reaches a
 *   resolver: a recursive one is a way out (DNS tunnelling).
 */
export class KubernetesAgentNetwork extends Construct {
  /**
   * Name of the agents' namespace. When the namespace is created this is a reference to it, so
   * everything placed in it is created after it.
   */
  public readonly namespaceName: string;
  /** The namespace, or undefined when an existing one is adopted (a `namespace` import, or `kubernetes.existingNamespace`). */
  public readonly namespace?: NamespaceV1;
  /** Isolates every agent pod in both directions. */
  public readonly defaultDenyPolicy: NetworkPolicyV1;
  /** Ingress to agent pods from the namespaces of `kubernetes.ingress`; undefined without it. */
  public readonly ingressPolicy?: NetworkPolicyV1;
  /** Per role name: egress of the role's pods to its proxy port and its CIDRs. */
  public readonly roleEgressPolicies: { [roleName: string]: NetworkPolicyV1 } = {};

  constructor(scope: Construct, id: string, props: KubernetesAgentNetworkProps) {
    super(scope, id);
    const plan = planOf(props.spec);
    const firewall = plan.names.firewall;
    if (props.namespace === undefined && !plan.kubernetes.existingNamespace) {
      this.namespace = new kubernetesClasses.NamespaceV1(this, "namespace", {
        metadata: {
          name: plan.namespace,
          labels: {
            [LABELS.managedBy]: "rapidclaw",
            // Every pod the firewall generates meets the restricted Pod Security Standard; refuse others.
            "pod-security.kubernetes.io/enforce": "restricted",
            [LABELS.firewall]: "true",
          },
        },
      });
      this.namespaceName = this.namespace.metadata.name;
    } else {
      this.namespaceName = props.namespace?.namespaceName ?? plan.namespace;
    }
    const namespace = this.namespaceName;
    const allAgents = agentPodSelector(firewall);

    this.defaultDenyPolicy = firewallPolicy(this, "default-deny", {
      firewall,
      namespace,
      name: plan.names.agentsDefaultDenyPolicy,
      podSelector: allAgents,
      policyTypes: ["Ingress", "Egress"],
    });
    const ingress = plan.kubernetes.ingress;
    if (ingress) {
      this.ingressPolicy = firewallPolicy(this, "ingress", {
        firewall,
        namespace,
        name: plan.names.agentsIngressPolicy,
        podSelector: allAgents,
        policyTypes: ["Ingress"],
        ingress: [{ from: [{ namespaceSelector: { matchLabels: Object.fromEntries(ingress.namespaceLabels) } }], ports: tcpPorts([ingress.port]) }],
      });
    }
    for (const role of plan.roles) {
      const egress: NetworkPolicyV1SpecEgress[] = [
        { to: [{ podSelector: componentSelector(firewall, COMPONENTS.egressProxy) }], ports: tcpPorts([role.proxyPort]) },
        ...role.egressCidrs.map((c) => ({ to: [{ ipBlock: { cidr: c.cidr } }], ports: tcpPorts(c.ports) })),
      ];
      if (role.dnsReason !== undefined) egress.push(dnsEgressRule(plan));
      this.roleEgressPolicies[role.name] = firewallPolicy(this, `role-${role.resourceName}-egress`, {
        firewall,
        namespace,
        name: role.egressPolicyName,
        podSelector: agentPodSelector(firewall, role),
        policyTypes: ["Egress"],
        egress,
      });
    }
  }
}
