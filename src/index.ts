// Public surface of @rapidclaw/agent-firewall: re-exports only.
export { AgentPlatform, KeyMode, ToolAccess } from "./spec/types";
export type {
  AgentIngressProps,
  AgentProps,
  AlertThresholdProps,
  DockerNetworkOptions,
  EgressCidrProps,
  EgressProxyOptions,
  FirewallSpecProps,
  KubernetesOptions,
  MonitoringOptions,
  RateLimitProps,
  RoleLimitsProps,
  RoleNetworkProps,
  RoleProps,
  ToolKeyProps,
  ToolProps,
  VaultOptions,
} from "./spec/types";
export { FirewallSpecError, type SpecProblem } from "./spec/errors";
export { accessAllows } from "./spec/validate";
export { FirewallSpec } from "./plan/firewall-spec";
export type { FirewallPlan, PlannedAgent, PlannedRole, PlannedTool } from "./plan/plan";
export { renderSquidConf, renderSquidConfForPlan } from "./render/squid-conf";
export { IsolatedAgentNetwork, type IsolatedAgentNetworkProps } from "./constructs/isolated-agent-network";
export { EgressProxy, type EgressProxyProps } from "./constructs/egress-proxy";
export { AgentFleet, AGENT_PROFILE_PATH, type AgentFleetProps } from "./constructs/agent-fleet";
export { RapidClawStack, type RapidClawStackProps } from "./rapid-claw-stack";
export { ScopedAgentKeys, type ScopedAgentKeysProps } from "./constructs/scoped-agent-keys";
