import { LABELS } from "../plan/plan";
import { byString } from "../model/order";

/** Values of the component label; Kubernetes policies, Services and Deployments select pods by them. */
export const COMPONENTS = {
  agent: "agent",
  egressProxy: "egress-proxy",
  toolGateway: "tool-gateway",
  gatewayRedis: "gateway-redis",
} as const;

/** Labels of a generated workload, sorted by key so output is stable. */
export function workloadLabels(component: string, extra: Record<string, string> = {}): Record<string, string> {
  const all: Record<string, string> = { [LABELS.managedBy]: "rapidclaw", [LABELS.component]: component, ...extra };
  return Object.fromEntries(Object.entries(all).sort(([a], [b]) => byString(a, b)));
}

/** The same labels as the Docker provider's list of `{ label, value }` blocks. */
export function dockerLabels(labels: Record<string, string>): { label: string; value: string }[] {
  return Object.entries(labels).map(([label, value]) => ({ label, value }));
}
