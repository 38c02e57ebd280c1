// Public surface of @rapidclaw/agent-firewall: re-exports only.
export { AgentPlatform, AlertSeverity, KeyMode, ToolAccess, WebhookFormat } from "./model/types";
export type {
  AgentIngressProps,
  AgentProps,
  AlertThresholdProps,
  AlertWebhookProps,
  DockerNetworkOptions,
  EgressCidrProps,
  EgressProxyOptions,
  FirewallSpecProps,
  GatewayListenerProps,
  GatewayOptions,
  GatewaySourceNetworkProps,
  KeyHeaderProps,
  KubernetesOptions,
  MonitoringOptions,
  RateLimitProps,
  RoleLimitsProps,
  RoleNetworkProps,
  RoleProps,
  ToolKeyProps,
  ToolOperationProps,
  ToolProps,
  VaultOptions,
} from "./model/types";
export { FirewallSpecError, type SpecProblem } from "./model/errors";
export { accessAllows } from "./model/validate";
export { FirewallSpec } from "./plan/firewall-spec";
export { loadFirewallSpec } from "./model/load";
export type { FirewallPlan, PlannedAgent, PlannedRole, PlannedTool } from "./plan/plan";
export { renderSquidConf, renderSquidConfForPlan } from "./render/squid-conf";
export { prometheusRuleGroups, renderPrometheusRules, type PrometheusAlertingRule, type PrometheusRuleGroup } from "./render/prometheus-rules";
export { IsolatedAgentNetwork, type IsolatedAgentNetworkProps } from "./constructs/isolated-agent-network";
export { EgressProxy, type EgressProxyProps } from "./constructs/egress-proxy";
export { AgentFleet, type AgentFleetProps } from "./constructs/agent-fleet";
export { AGENT_PROFILE_PATH, type AgentFiles } from "./plan/agent-environment";
export { AgentRoleProfile, AGENT_PROFILE_YAML_PATH, type AgentRoleProfileProps } from "./constructs/agent-role-profile";
export { RapidClawStack, type RapidClawStackOptions, type RapidClawStackProps, type RapidClawStackProviders } from "./rapid-claw-stack";
export { PrometheusAlertRules, PROMETHEUS_RULE_API_VERSION, type PrometheusAlertRulesProps, type PrometheusRuleOptions } from "./constructs/prometheus-alert-rules";
export { ScopedAgentKeys, type ScopedAgentKeysProps } from "./constructs/scoped-agent-keys";
export { HostEgressFirewall, type HostEgressFirewallProps } from "./constructs/host-egress-firewall";
export { HostFirewallAction, HostFirewallError, renderHostFirewall, type HostFirewallEndpoint, type HostFirewallOptions } from "./render/host-firewall";
