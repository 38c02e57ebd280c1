// The host egress firewall's renderers, with the option types and names they take: re-exports only.
export { HostFirewallAction, HOST_FIREWALL_DEFAULTS, type HostFirewallEndpoint, type HostFirewallOptions } from "../../model/host-firewall-types";
export { HostFirewallError } from "../../model/errors";
export { hostFirewallChain, hostFirewallInstall, hostFirewallInstallFor, type HostFirewallInstall } from "../../plan/host-firewall-names";
export { renderHostFirewallRuleset } from "./ruleset";
export { HostFirewall, renderHostFirewall, type HostFirewallScripts } from "./scripts";
export { renderHostFirewallUnit } from "./boot-unit";
export { renderHostFirewallCloudInit } from "./cloud-init";
