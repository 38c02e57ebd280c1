import type { DockerProviderConfig } from "@cdktf/provider-docker/lib/provider";
import type { KubernetesProviderConfig } from "@cdktf/provider-kubernetes/lib/provider";
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
import { addProbeOutputs } from "./constructs/probe-outputs";
import { ProxyEvents } from "./constructs/proxy-events";
import { MetricsScrape, metricsScrapeProblems, type MetricsScrapeOptions } from "./constructs/metrics-scrape";
import { ScopedAgentKeys } from "./constructs/scoped-agent-keys";
import { ToolGateway } from "./constructs/tool-gateway";
import { gatewayDeploymentProblems } from "./plan/gateway-deployment";
import { webhookDeliveryProblems } from "./plan/webhook-delivery";
import { proxyImageProblems } from "./plan/proxy-image";
import { proxyEventsPortProblems } from "./plan/proxy-events-plan";
import { FirewallSpec, planOf } from "./plan/firewall-spec";
import { FirewallSpecError, raisedBy, type SpecProblem } from "./model/errors";
import { readAllocationFile, writeAllocationFile } from "./terraform/allocation-file";
import { AgentPlatform, type FirewallSpecProps } from "./model/types";
import { dockerClasses } from "./docker/provider-classes";
import { kubernetesClasses } from "./kubernetes/provider-classes";
import { pathOfChild } from "./constructs/construct-path";
import { widerLayerProblems } from "./verify/stack-validation";

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
  /**
   * Kubernetes: let your Prometheus scrape the firewall's `/metrics` (the gateway's admin port,
   * proxy-events' `events-admin`): a NetworkPolicy per port admitting the pods you name, and with
   * `podMonitorLabels` a Prometheus Operator `PodMonitor` (`MetricsScrape`), so the
   * `prometheusRule` has data. Docker: the network `dockerNetwork` on `dockerSubnet`, where the
   * gateway and proxy-events serve `/metrics` instead of on their loopback.
   * @default - Kubernetes: only the kubelet's probes reach the metrics ports; Docker: loopback only
   */
  readonly metricsScrape?: MetricsScrapeOptions;
  /**
   * Check the synthesized stack against the firewall description at synthesis (a cdktf
   * validation, as `rapidclaw verify` does on the output): `cdktf synth` fails when an escape
   * hatch or a construct added to the stack makes a layer wider than the description (another
   * host in squid.conf, a Vault policy path, a NetworkPolicy peer, a listener, a hook mapping, a
   * container's network). Turn off only to synthesize a stack you will verify otherwise.
   * @default true
   */
  readonly verifyLayers?: boolean;
  /**
   * Path of the allocation record, a small JSON file to commit beside the stack (in the manner of
   * `cdk.context.json`): what each role was handed out (Kubernetes: its port slot; Docker: its
   * subnet). It is read before planning, so recorded roles keep their ports and subnets whatever
   * roles are added, removed or renamed, and rewritten (sorted, one role a line) when a new role
   * gets something. Entries of removed roles stay, reserving their ports or subnet (a role added
   * back gets them again); delete an entry to free it. A rename is a removal and an addition: the
   * new name gets new ports or a new subnet. Synthesis fails, naming the entry, when the record
   * and the description disagree (a subnet outside `docker.subnet`, two roles on one slot, …).
   * Excludes `allocations`.
   * @default - no record: each synthesis hands out in role-name order (adding a role may move the roles after it)
   */
  readonly allocationFile?: string;
}

/** Props of a whole firewall stack: the firewall description plus the stack's options. */
export interface RapidClawStackProps extends FirewallSpecProps, RapidClawStackOptions {}

const STACK_OPTION_PROPS = ["dockerProvider", "kubernetesProvider", "vaultProvider", "prometheusRule", "metricsScrape", "verifyLayers", "allocationFile"] as const;

/** Ids of the stack's parts that check props of their own, which name them in errors. */
const PART_IDS = { proxy: "egress-proxy", gateway: "tool-gateway", prometheusRule: "prometheus-rule", metricsScrape: "metrics-scrape" } as const;

/**
 * A whole agent firewall in one stack: providers, the isolated network, the egress proxy, the
 * scoped keys in Vault and the agents. Invalid props throw `FirewallSpecError` before anything is added to the app.
 */
export class RapidClawStack extends TerraformStack {
  /**
   * A stack from a YAML or JSON firewall file (see `FirewallSpec.loadProps`); errors name the file,
   * line and column, and nothing is added to the app.
   */
  public static fromFile(scope: Construct, id: string, path: string, options: RapidClawStackOptions = {}): RapidClawStack {
    return new RapidClawStack(scope, id, { ...FirewallSpec.loadProps(path), ...options });
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
  /** `rapidclaw proxy-events` beside the proxy (Docker: a container; Kubernetes: a sidecar of each proxy pod). */
  public readonly proxyEvents?: ProxyEvents;
  /** The alerting rules' `PrometheusRule`, with `prometheusRule` set; undefined without it. */
  public readonly prometheusRule?: PrometheusAlertRules;
  /** Who may scrape the metrics, and the `PodMonitor`, with `metricsScrape` set; undefined without it. */
  public readonly metricsScrape?: MetricsScrape;

  /** Whether `app.synth()` is synthesizing this stack now. */
  private synthesizing = false;
  /** The JSON the layer check rendered during this synthesis, for the synthesizer to write. */
  private renderedForSynthesis?: { [key: string]: any };

  constructor(scope: Construct, id: string, props: RapidClawStackProps) {
    const spec = validatedSpec(pathOfChild(scope, id), props);
    super(scope, id);
    this.spec = spec;
    const plan = planOf(spec);
    if (props.allocationFile !== undefined) writeAllocationFile(props.allocationFile, plan.allocations);
    if (plan.platform === AgentPlatform.DOCKER) new dockerClasses.DockerProvider(this, "docker", props.dockerProvider ?? {});
    else new kubernetesClasses.KubernetesProvider(this, "kubernetes", props.kubernetesProvider ?? {});
    new VaultProvider(this, "vault", props.vaultProvider ?? {});
    new RandomProvider(this, "random", {});
    new TimeProvider(this, "time", {});

    this.network = new IsolatedAgentNetwork(this, "network", { spec });
    this.proxy = new EgressProxy(this, PART_IDS.proxy, { network: this.network });
    this.keys = new ScopedAgentKeys(this, "keys", { spec });
    for (const role of plan.roles) {
      this.profiles[role.name] = new AgentRoleProfile(this, `role-${role.resourceName}`, { spec, role: role.name, keys: this.keys });
    }
    if (props.metricsScrape) {
      const namespaceName = plan.platform === AgentPlatform.KUBERNETES ? this.network.namespaceName : undefined;
      this.metricsScrape = new MetricsScrape(this, PART_IDS.metricsScrape, { ...props.metricsScrape, spec, namespaceName });
    }
    const metricsScrape = this.metricsScrape;
    if (plan.gateway !== undefined) this.gateway = new ToolGateway(this, PART_IDS.gateway, { network: this.network, proxy: this.proxy, keys: this.keys, metricsScrape });
    if (plan.proxyEvents !== undefined) this.proxyEvents = new ProxyEvents(this, "proxy-events", { proxy: this.proxy, gateway: this.gateway, metricsScrape, keys: this.keys });
    const files = Object.fromEntries(Object.entries(this.profiles).map(([name, profile]) => [name, profile.files]));
    this.fleet = new AgentFleet(this, "agents", { network: this.network, proxy: this.proxy, files, gatewayAddress: this.gateway && plan.platform === AgentPlatform.KUBERNETES ? this.gateway.kubernetes.serviceAddress : undefined });
    if (props.prometheusRule) {
      // In the created namespace by reference, so that it is created after the namespace.
      const namespace = props.prometheusRule.namespace ?? this.network.namespaceName;
      this.prometheusRule = new PrometheusAlertRules(this, PART_IDS.prometheusRule, { spec, labels: props.prometheusRule.labels, namespace });
    }
    if (props.verifyLayers !== false) {
      this.node.addValidation({
        validate: () => {
          const json = this.toTerraform();
          // Within synthesis the JSON written next is this one: validations run right before it
          // is rendered, and may not change the stack. Rendering it once saves a second full pass.
          if (this.synthesizing) this.renderedForSynthesis = json;
          return widerLayerProblems(json, spec.props);
        },
      });
      const synthesizer = this.synthesizer;
      this.synthesizer = {
        synthesize: (session) => {
          this.synthesizing = true;
          try {
            synthesizer.synthesize(session);
          } finally {
            this.synthesizing = false;
            this.renderedForSynthesis = undefined;
          }
        },
      };
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
    addProbeOutputs(this, plan, this.proxy.proxyUrls, this.gateway);
  }

  /**
   * The stack's Terraform JSON. During `app.synth()` with `verifyLayers`, the JSON the layer check
   * rendered moments before (once); otherwise rendered afresh.
   */
  public toTerraform(): any {
    const rendered = this.renderedForSynthesis;
    this.renderedForSynthesis = undefined;
    return rendered ?? super.toTerraform();
  }
}

/**
 * The validated firewall, or one `FirewallSpecError` listing every problem at once: the
 * description's, the stack options' and those of a deployed gateway, of webhook delivery and of the
 * proxy image, each under the path of the construct that would raise it (the stack, its gateway,
 * its proxy or its PrometheusRule).
 */
function validatedSpec(stackPath: string, props: RapidClawStackProps): FirewallSpec {
  const problems = props.prometheusRule ? raisedBy(`${stackPath}/${PART_IDS.prometheusRule}`, prometheusRuleProblems(props.platform, props.prometheusRule)) : [];
  if (props.allocationFile !== undefined && props.allocations !== undefined) {
    problems.push(...raisedBy(stackPath, [{ path: "allocations", message: `allocationFile (${props.allocationFile}) holds the allocations; remove allocations, or allocationFile to keep them in the description` }]));
  }
  const allocations = props.allocationFile === undefined ? props.allocations : readAllocationFile(props.allocationFile);
  const description = allocations === undefined ? specProps(props) : { ...specProps(props), allocations };
  problems.push(...raisedBy(`${stackPath}/${PART_IDS.gateway}`, gatewayDeploymentProblems(description)));
  let spec: FirewallSpec | undefined;
  try {
    spec = FirewallSpec.fromProps(description);
  } catch (error) {
    if (!(error instanceof FirewallSpecError)) throw error;
    problems.unshift(...raisedBy(stackPath, error.problems));
  }
  if (spec !== undefined) {
    const plan = planOf(spec);
    problems.push(...raisedBy(stackPath, [...webhookDeliveryProblems(plan), ...proxyEventsPortProblems(plan)]));
    problems.push(...raisedBy(`${stackPath}/${PART_IDS.proxy}/kubernetes`, proxyImageProblems(plan)));
    if (props.metricsScrape) problems.push(...raisedBy(`${stackPath}/${PART_IDS.metricsScrape}`, metricsScrapeProblems(plan, props.metricsScrape, "metricsScrape")));
  }
  if (problems.length > 0 || spec === undefined) throw new FirewallSpecError(problems);
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
