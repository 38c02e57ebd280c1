// Public surface of @rapidclaw/agent-firewall: re-exports only. Every function and constant is a
// static member of a class (jsii, and so every other language, sees no free functions).
export { AgentPlatform, AgentRuntime, AlertSeverity, Enforcement, KeyDelivery, KeyMode, ToolAccess, WebhookFormat } from "./model/types";
export type {
  AgentIngressProps,
  AgentToolNamesProps,
  AgentProps,
  AlertThresholdProps,
  AlertWebhookProps,
  DockerNetworkOptions,
  EgressCidrProps,
  EgressProxyOptions,
  FirewallSpecProps,
  GatewayListenerProps,
  GatewayOptions,
  GatewayRedisProps,
  GatewaySourceNetworkProps,
  KeyHeaderProps,
  KubernetesOptions,
  McpToolsProps,
  MonitoringOptions,
  RateLimitProps,
  RoleAllocation,
  RoleLimitsProps,
  RoleNetworkProps,
  DirectToolHostProps,
  RoleProps,
  TokenLimitProps,
  ToolKeyProps,
  ToolOperationProps,
  ToolProps,
  VaultOptions,
} from "./model/types";
export { FirewallSpecError, type SpecProblem } from "./model/errors";
export { ToolAccessOrder } from "./model/tool-access-order";
export { FirewallSpec } from "./plan/firewall-spec";
export type { HostPattern } from "./model/hosts";
export { SquidConf, type SquidConfInput, type SquidGatewayListener, type SquidPlacementOptions, type SquidRole } from "./render/squid-conf";
export type { PrometheusAlertingRule, PrometheusRuleGroup } from "./render/prometheus-rules";
export type {
  ProfileAlerts,
  ProfileAlertThreshold,
  ProfileAllowedTool,
  ProfileEgressCidr,
  ProfileLimits,
  ProfileNetwork,
  ProfileRateLimit,
  ProfileTools,
  ProfileVault,
  RoleProfile,
} from "./render/role-profile";
export { AgentNamespace, type IAgentNamespace } from "./constructs/agent-namespace";
export { AgentNetwork, type IAgentNetwork } from "./constructs/agent-network";
export { IsolatedAgentNetwork, type IsolatedAgentNetworkProps } from "./constructs/isolated-agent-network";
export { EgressProxy, type EgressProxyProps, type IEgressProxy } from "./constructs/egress-proxy";
export { AgentFleet, type AgentFleetProps } from "./constructs/agent-fleet";
export { DockerAgents, type DockerAgentsProps } from "./docker/agents";
export { DockerEgressProxy, type DockerEgressProxyProps } from "./docker/egress-proxy";
export { ToolGateway, type ToolGatewayProps } from "./constructs/tool-gateway";
export { ProxyEvents, type ProxyEventsProps } from "./constructs/proxy-events";
export { DockerProxyEvents, type DockerEvaluatorVault, type DockerProxyEventsProps } from "./docker/proxy-events";
export { KubernetesProxyEvents, type KubernetesProxyEventsProps } from "./kubernetes/proxy-events";
export { KubernetesProxyEventsSidecar, type KubernetesProxyEventsSidecarProps } from "./kubernetes/proxy-events-sidecar";
export { KubernetesBundledRedis, type KubernetesBundledRedisProps } from "./kubernetes/bundled-redis";
export { MetricsScrape, type DockerMetricsAddresses, type DockerMetricsAttachment, type MetricsScrapeOptions, type MetricsScrapeProps } from "./constructs/metrics-scrape";
export { GatewayBundle } from "./constructs/gateway-bundle";
export { DockerToolGateway, type DockerToolGatewayProps } from "./docker/tool-gateway";
export { KubernetesToolGateway, type KubernetesToolGatewayProps } from "./kubernetes/tool-gateway";
export { KubernetesAgentNetwork, type KubernetesAgentNetworkProps } from "./kubernetes/agent-network";
export { KubernetesAgents, type KubernetesAgentsProps } from "./kubernetes/agents";
export { KubernetesEgressProxy, type KubernetesEgressProxyProps, type ProxyPodSidecar } from "./kubernetes/egress-proxy";
export type { AgentFile, AgentFiles } from "./plan/agent-environment";
export { AgentRoleProfile, type AgentRoleProfileProps } from "./constructs/agent-role-profile";
export { KeyGrantee, type IKeyGrantee, type KeyGrant, type KeyGrantOptions } from "./constructs/key-grantee";
export { KeyMount, type IKeyMount } from "./constructs/key-mount";
export { VaultAuthMount, type IVaultAuthMount } from "./constructs/vault-auth-mount";
export { RapidClawStack, type RapidClawStackOptions, type RapidClawStackProps, type RapidClawStackProviders } from "./rapid-claw-stack";
export { PrometheusAlertRules, type PrometheusAlertRulesProps, type PrometheusRuleOptions } from "./constructs/prometheus-alert-rules";
export { ScopedAgentKeys, type ScopedAgentKeysProps } from "./constructs/scoped-agent-keys";
export { HostEgressFirewall, type HostEgressFirewallProps } from "./constructs/host-egress-firewall";
export { HostFirewall, HostFirewallAction, HostFirewallError, type HostFirewallEndpoint, type HostFirewallOptions, type HostFirewallScripts } from "./render/host-firewall";
export { OpenClawConfig, type OpenClawConfigDocument, type OpenClawConfigOptions, type OpenClawPluginTool } from "./render/openclaw-config";
export { HermesConfig, type HermesConfigDocument, type HermesConfigOptions } from "./render/hermes-config";
export type { HostFirewallReservedEndpoint } from "./model/host-firewall-types";
export type { VmGatewayUsersProps } from "./plan/vm-gateway-reservations";
export { GatewayServiceError } from "./model/errors";
export type { GatewayServiceOptions } from "./model/gateway-service-types";
export { GatewayServiceUnit } from "./render/gateway-service-unit";
