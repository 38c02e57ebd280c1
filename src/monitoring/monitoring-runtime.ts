import type { FirewallPlan } from "../plan/plan";
import { AlertDelivery, type DeliveryOptions } from "./alert-delivery";
import { AlertEvaluator } from "./alert-evaluator";
import { alertRules } from "./alert-rules";
import type { AlertWindowStore } from "./alert-window-store";
import { resolveWebhooks } from "./alert-webhooks";
import { FIREWALL_EVENT_TYPES } from "./events";
import { FirewallMetrics } from "./metrics";

/** What the gateway (or a proxy log reader) gives to start monitoring. */
export interface MonitoringRuntimeProps {
  readonly plan: FirewallPlan;
  /** RedisAlertWindowStore when replicas share windows; MemoryAlertWindowStore for one process alone. */
  readonly store: AlertWindowStore;
  /** Writes one event line (the gateway's stdout). */
  readonly emit: (line: string) => void;
  /** Where webhook secrets named by `urlEnv` / `routingKeyEnv` are looked up. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  readonly delivery?: DeliveryOptions;
}

/** The evaluator with its metrics and webhook delivery, wired together. */
export interface MonitoringRuntime {
  readonly evaluator: AlertEvaluator;
  readonly metrics: FirewallMetrics;
  readonly delivery: AlertDelivery;
}

/**
 * Builds monitoring for a plan. Throws WebhookConfigError, listing every webhook whose URL or
 * key is missing, before anything starts.
 */
export function createMonitoring(props: MonitoringRuntimeProps): MonitoringRuntime {
  const { plan } = props;
  const webhooks = resolveWebhooks(plan.monitoring.webhooks, props.env);
  const metrics = new FirewallMetrics({ roles: plan.roles.map((r) => r.name), tools: plan.tools.map((t) => t.name), eventTypes: FIREWALL_EVENT_TYPES });
  const rules = alertRules(plan.monitoring);
  metrics.initialise(rules.flatMap((r) => r.countedEventTypes));
  // The evaluator reports failed deliveries, and the delivery needs it to: tie the knot late.
  let evaluator: AlertEvaluator | undefined;
  const delivery = new AlertDelivery(webhooks, (failure) => evaluator?.deliveryFailed(failure), props.delivery);
  evaluator = new AlertEvaluator({ rules, store: props.store, emit: props.emit, metrics, delivery });
  return { evaluator, metrics, delivery };
}
