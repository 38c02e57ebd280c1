import type { Manifest } from "@cdktf/provider-kubernetes/lib/manifest";
import { TerraformStack, Token } from "cdktf";
import { Construct } from "constructs";
import { planOf, type FirewallSpec } from "../plan/firewall-spec";
import { prometheusRuleGroups, renderPrometheusRules, type PrometheusRuleGroup } from "../render/prometheus-rules";
import { FirewallSpecError, raisedBy, type SpecProblem } from "../model/errors";
import { labelProblems, NAMESPACE_NAME } from "../model/kubernetes-names";
import { AgentPlatform } from "../model/types";
import { workloadLabels } from "../terraform/labels";
import { missingProviders } from "../terraform/required-providers";
import { kubernetesClasses } from "../kubernetes/provider-classes";
import { pathOfChild } from "./construct-path";

/** Where the Kubernetes `PrometheusRule` goes and how the Prometheus Operator finds it. */
export interface PrometheusRuleOptions {
  /**
   * Labels added to the `PrometheusRule`, for the Prometheus Operator's `ruleSelector`
   * (kube-prometheus-stack selects `release: <its Helm release>` by default). Kubernetes only.
   * @default - only the firewall's own labels (`app.kubernetes.io/managed-by`, `app.kubernetes.io/component`)
   */
  readonly labels?: { [key: string]: string };
  /**
   * Namespace of the `PrometheusRule`: one the Operator's `ruleNamespaceSelector` covers.
   * Kubernetes only. The rules match the firewall's namespace wherever they are placed.
   * @default - the firewall's namespace
   */
  readonly namespace?: string;
}

/** Properties of `PrometheusAlertRules`. */
export interface PrometheusAlertRulesProps extends PrometheusRuleOptions {
  /** The firewall whose alert thresholds (`monitoring`) become alerting rules. */
  readonly spec: FirewallSpec;
}

/** API version of the Prometheus Operator's custom resources. */
export const PROMETHEUS_RULE_API_VERSION = "monitoring.coreos.com/v1";

/**
 * The firewall's alert thresholds as Prometheus alerting rules (`renderPrometheusRules`). On
 * Kubernetes, a `PrometheusRule` of the Prometheus Operator holding exactly those rule groups;
 * the Operator's CRD must exist before `terraform plan` (the provider's `kubernetes_manifest`
 * reads the type's schema then). On Docker nothing is created: give `rulesYaml` to your
 * Prometheus as a rule file. Invalid props throw `FirewallSpecError` before anything is added.
 */
export class PrometheusAlertRules extends Construct {
  /** API version of the `PrometheusRule` objects created on Kubernetes. */
  public static readonly RULE_API_VERSION = PROMETHEUS_RULE_API_VERSION;

  /** The alerting rule file (YAML) of a firewall's thresholds, without a construct. */
  public static rulesYamlOf(spec: FirewallSpec): string {
    return renderPrometheusRules(planOf(spec));
  }

  /** The rule groups of a firewall's thresholds, as data (the groups of `rulesYamlOf`). */
  public static ruleGroupsOf(spec: FirewallSpec): PrometheusRuleGroup[] {
    return prometheusRuleGroups(planOf(spec));
  }

  /** The rule file (YAML), for a Prometheus the Operator does not manage (Docker, VMs). */
  public readonly rulesYaml: string;
  /** The rule groups, as the `PrometheusRule`'s `spec.groups` holds them. */
  public readonly groups: PrometheusRuleGroup[];
  /** Kubernetes: the `PrometheusRule` (a `kubernetes_manifest`); undefined on Docker. */
  public readonly resource?: Manifest;

  constructor(scope: Construct, id: string, props: PrometheusAlertRulesProps) {
    const plan = planOf(props.spec);
    const problems = prometheusRuleOptionProblems(props, "");
    if (plan.platform !== AgentPlatform.KUBERNETES) {
      for (const key of ["labels", "namespace"] as const) {
        if (props[key] !== undefined) problems.push({ path: key, message: `${key} places the Kubernetes PrometheusRule, and platform is ${plan.platform}, where none is created; remove ${key} and give your Prometheus the rule file rulesYaml (rule_files)` });
      }
    }
    if (problems.length > 0) throw new FirewallSpecError(raisedBy(pathOfChild(scope, id), problems));
    super(scope, id);
    this.groups = prometheusRuleGroups(plan);
    this.rulesYaml = renderPrometheusRules(plan);
    if (plan.platform !== AgentPlatform.KUBERNETES) return;

    this.resource = new kubernetesClasses.Manifest(this, "prometheus-rule", {
      manifest: {
        apiVersion: PROMETHEUS_RULE_API_VERSION,
        kind: "PrometheusRule",
        metadata: {
          // Named after the firewall's namespace: two firewalls' rules can share a namespace.
          name: plan.names.alertRules,
          namespace: props.namespace ?? plan.namespace,
          labels: workloadLabels(plan.names.firewall, "alert-rules", props.labels),
        },
        spec: { groups: this.groups },
      },
    });
    const stack = TerraformStack.of(this);
    this.node.addValidation({ validate: () => missingProviders("PrometheusAlertRules", stack, [kubernetesClasses.KubernetesProvider]) });
  }
}

/** Problems with the labels and namespace of a `PrometheusRule`, each at `<prefix>.<key>`. */
export function prometheusRuleOptionProblems(options: PrometheusRuleOptions, prefix: string): SpecProblem[] {
  const at = (...keys: string[]) => [prefix, ...keys].filter((k) => k !== "").join(".");
  const problems: SpecProblem[] = [];
  for (const [key, value] of Object.entries(options.labels ?? {})) {
    for (const message of labelProblems(key, value)) problems.push({ path: at("labels", key), message });
  }
  const namespace = options.namespace;
  if (namespace !== undefined && !Token.isUnresolved(namespace) && !NAMESPACE_NAME.test(namespace)) {
    problems.push({ path: at("namespace"), message: `namespace "${namespace}" is not a valid Kubernetes name; use lower-case letters, digits and "-" (at most 63), such as monitoring` });
  }
  return problems;
}
