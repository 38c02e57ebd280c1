import { DockerProvider, type DockerProviderConfig } from "@cdktf/provider-docker/lib/provider";
import { KubernetesProvider, type KubernetesProviderConfig } from "@cdktf/provider-kubernetes/lib/provider";
import { RandomProvider } from "@cdktf/provider-random/lib/provider";
import { TimeProvider } from "@cdktf/provider-time/lib/provider";
import { VaultProvider, type VaultProviderConfig } from "@cdktf/provider-vault/lib/provider";
import { TerraformOutput, TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import { AgentFleet } from "./constructs/agent-fleet";
import { AgentRoleProfile } from "./constructs/agent-role-profile";
import { EgressProxy } from "./constructs/egress-proxy";
import { IsolatedAgentNetwork } from "./constructs/isolated-agent-network";
import { PrometheusAlertRules, prometheusRuleOptionProblems, type PrometheusRuleOptions } from "./constructs/prometheus-alert-rules";
import { ScopedAgentKeys } from "./constructs/scoped-agent-keys";
import { ToolGateway } from "./constructs/tool-gateway";
import { gatewayDeploymentProblems } from "./plan/gateway-plan";
import { FirewallSpec, planOf } from "./plan/firewall-spec";
import { FirewallSpecError, type SpecProblem } from "./model/errors";
import { loadFirewallSpec } from "./model/load";
import { AgentPlatform, type FirewallSpecProps } from "./model/types";

/** Provider settings of a firewall stack. */
export interface RapidClawStackProviders {
  /**
   * Settings of the Docker provider (platform docker).
   * @default - the local engine (DOCKER_HOST or the default socket)
   */
  readonly dockerProvider?: DockerProviderConfig;
  /**
   * Settings of the Kubernetes provider (platform kubernetes).
   * @default - the provider's defaults (KUBE_CONFIG_PATH and friends)
   */
  readonly kubernetesProvider?: KubernetesProviderConfig;
  /**
   * Settings of the Vault provider.
   * @default - the provider's defaults (VAULT_ADDR, VAULT_TOKEN)
   */
  readonly vaultProvider?: VaultProviderConfig;
}

/** Settings of a firewall stack beyond the firewall description: providers and opt-in resources. */
export interface RapidClawStackOptions extends RapidClawStackProviders {
  /**
   * Kubernetes: add a Prometheus Operator `PrometheusRule` holding the firewall's alerting rules
   * (`PrometheusAlertRules`), placed and labelled as given (`{}` for the defaults). The
   * Operator's CRD must exist before `terraform plan`. On Docker, refused: give your Prometheus
   * the rule file instead (`PrometheusAlertRules.rulesYaml`).
   * @default - no PrometheusRule
   */
  readonly prometheusRule?: PrometheusRuleOptions;
}

/** Props of a whole firewall stack: the firewall description plus the stack's options. */
export interface RapidClawStackProps extends FirewallSpecProps, RapidClawStackOptions {}

const STACK_OPTION_PROPS = ["dockerProvider", "kubernetesProvider", "vaultProvider", "prometheusRule"] as const;

/**
 * A whole agent firewall in one stack: providers, the isolated network, the egress proxy, the
 * scoped keys in Vault and the agents. Invalid props throw `FirewallSpecError` before anything is added to the app.
 */
export class RapidClawStack extends TerraformStack {
  /**
   * A stack from a YAML or JSON firewall file (see `loadFirewallSpec`); errors name the file,
   * line and column, and nothing is added to the app.
   */
  public static fromFile(scope: Construct, id: string, path: string, options: RapidClawStackOptions = {}): RapidClawStack {
    return new RapidClawStack(scope, id, { ...loadFirewallSpec(path), ...options });
  }

  /** The validated, compiled firewall. */
  public readonly spec: FirewallSpec;
  /** The isolated agent network (layer 3). */
  public readonly network: IsolatedAgentNetwork;
  /** The egress proxy, the agents' only way out (layer 3). */
  public readonly proxy: EgressProxy;
  /** The agent workloads. */
  public readonly fleet: AgentFleet;
  /** The scoped tool keys in Vault (layer 2); `keys.grantRead` grants them to other services. */
  public readonly keys: ScopedAgentKeys;
  /** Role profiles by role name. */
  public readonly profiles: { [roleName: string]: AgentRoleProfile } = {};
  /** The tool gateway, when a tool has an `upstream` or `gateway` options are set; undefined otherwise. */
  public readonly gateway?: ToolGateway;
  /** The alerting rules' `PrometheusRule`, with `prometheusRule` set; undefined without it. */
  public readonly prometheusRule?: PrometheusAlertRules;

  constructor(scope: Construct, id: string, props: RapidClawStackProps) {
    const spec = validatedSpec(props);
    super(scope, id);
    this.spec = spec;
    const plan = planOf(spec);
    if (plan.platform === AgentPlatform.DOCKER) new DockerProvider(this, "docker", props.dockerProvider ?? {});
    else new KubernetesProvider(this, "kubernetes", props.kubernetesProvider ?? {});
    new VaultProvider(this, "vault", props.vaultProvider ?? {});
    new RandomProvider(this, "random", {});
    new TimeProvider(this, "time", {});

    this.network = new IsolatedAgentNetwork(this, "network", { spec });
    this.proxy = new EgressProxy(this, "egress-proxy", { network: this.network });
    this.keys = new ScopedAgentKeys(this, "keys", { spec });
    for (const role of plan.roles) {
      this.profiles[role.name] = new AgentRoleProfile(this, `role-${role.resourceName}`, { spec, role: role.name, keys: this.keys });
    }
    if (plan.gateway !== undefined) this.gateway = new ToolGateway(this, "tool-gateway", { network: this.network, proxy: this.proxy, keys: this.keys });
    const files = Object.fromEntries(Object.entries(this.profiles).map(([name, profile]) => [name, profile.files]));
    this.fleet = new AgentFleet(this, "agents", { network: this.network, proxy: this.proxy, files, gatewayAddress: this.gateway && plan.platform === AgentPlatform.KUBERNETES ? this.gateway.kubernetes.serviceAddress : undefined });
    if (props.prometheusRule) {
      // In the created namespace by reference, so that it is created after the namespace.
      const namespace = props.prometheusRule.namespace ?? this.network.namespaceName;
      this.prometheusRule = new PrometheusAlertRules(this, "prometheus-rule", { spec, labels: props.prometheusRule.labels, namespace });
    }

    new TerraformOutput(this, "proxy_urls", {
      description: "Proxy URL (HTTPS_PROXY) of each role",
      value: this.proxy.proxyUrls,
    });
    if (this.gateway !== undefined) {
      new TerraformOutput(this, "gateway_urls", {
        description: "Tool gateway URL (RAPIDCLAW_GATEWAY_URL) of each role",
        value: this.gateway.urls,
      });
    }
  }
}

/** The validated firewall, or `FirewallSpecError` listing the description's and the stack options' problems together. */
function validatedSpec(props: RapidClawStackProps): FirewallSpec {
  const problems = props.prometheusRule ? prometheusRuleProblems(props.platform, props.prometheusRule) : [];
  let spec: FirewallSpec;
  try {
    spec = FirewallSpec.fromProps(specProps(props));
  } catch (error) {
    if (error instanceof FirewallSpecError && problems.length > 0) throw new FirewallSpecError([...error.problems, ...problems]);
    throw error;
  }
  problems.push(...gatewayDeploymentProblems(planOf(spec), spec.props));
  if (problems.length > 0) throw new FirewallSpecError(problems);
  return spec;
}

function prometheusRuleProblems(platform: AgentPlatform, options: PrometheusRuleOptions): SpecProblem[] {
  if (platform === AgentPlatform.DOCKER) {
    return [{ path: "prometheusRule", message: `a PrometheusRule is a Kubernetes resource (Prometheus Operator) and platform is ${platform}; remove prometheusRule and give your Prometheus the rule file: new PrometheusAlertRules(stack, "alerts", { spec: stack.spec }).rulesYaml` }];
  }
  return prometheusRuleOptionProblems(options, "prometheusRule");
}

/** The firewall description part of the stack props. */
function specProps(props: RapidClawStackProps): FirewallSpecProps {
  const rest: Record<string, unknown> = { ...props };
  for (const key of STACK_OPTION_PROPS) delete rest[key];
  return rest as unknown as FirewallSpecProps;
}
