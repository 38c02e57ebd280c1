import { LABELS } from "../plan/plan";
import { DEFAULTS } from "../model/defaults";
import { byString } from "../model/order";

/** Values of the component label; Kubernetes policies, Services and Deployments select pods by them. */
export const COMPONENTS = {
  agent: "agent",
  egressProxy: "egress-proxy",
  toolGateway: "tool-gateway",
  gatewayRedis: "gateway-redis",
  /** The Redis of proxy-events' alert windows, when the firewall has no gateway Redis to share. */
  proxyEventsRedis: "proxy-events-redis",
} as const;

/**
 * The label that tells one firewall's workloads from another's in a shared namespace: the
 * firewall's name, or nothing under the default name. A Deployment's selector cannot change, so
 * firewalls deployed before the name existed keep their selectors (and output) as they were.
 */
export function firewallLabels(firewall: string): Record<string, string> {
  return firewall === DEFAULTS.name ? {} : { [LABELS.firewallName]: firewall };
}

/** Labels of a workload of the firewall named `firewall`, sorted by key so output is stable. */
export function workloadLabels(firewall: string, component: string, extra: Record<string, string> = {}): Record<string, string> {
  const all: Record<string, string> = { [LABELS.managedBy]: "rapidclaw", [LABELS.component]: component, ...firewallLabels(firewall), ...extra };
  return Object.fromEntries(Object.entries(all).sort(([a], [b]) => byString(a, b)));
}

/** The same labels as the Docker provider's list of `{ label, value }` blocks. */
export function dockerLabels(labels: Record<string, string>): { label: string; value: string }[] {
  return Object.entries(labels).map(([label, value]) => ({ label, value }));
}
