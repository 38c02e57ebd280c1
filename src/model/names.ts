import { DEFAULTS } from "./defaults";

/** Kubernetes-safe form of a name: `web_search` becomes `web-search`. */
export function resourceName(name: string): string {
  return name.replace(/_/g, "-");
}

/**
 * A name made from one of the user's own names (an agent, a role's files, the Vault mount): bare
 * under the default firewall name, so existing deployments keep their names, and `<name>-` first
 * under any other, so that two firewalls' names never meet.
 */
export function scopedName(firewallName: string, base: string): string {
  return firewallName === DEFAULTS.name ? base : `${firewallName}-${base}`;
}

/** The firewall's own proxy: Docker container, Kubernetes Deployment, Service, PodDisruptionBudget and NetworkPolicy. */
export function proxyName(firewallName: string): string {
  return `${firewallName}-egress-proxy`;
}

/** Name of an agent's container (Docker) or Deployment (Kubernetes). */
export function agentWorkloadName(firewallName: string, agentName: string): string {
  return scopedName(firewallName, resourceName(agentName));
}
