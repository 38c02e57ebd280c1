import type { FirewallSpecProps } from "../model/types";
import { deployedWebhooks } from "./webhook-delivery";

/**
 * The description as the deployed evaluators load it: without the allocation record (the
 * deployment carries what it says) and with each webhook's secrets where the deployment puts them.
 */
export function deployedDescription(spec: FirewallSpecProps): FirewallSpecProps {
  const webhooks = spec.monitoring?.webhooks;
  return {
    ...spec,
    allocations: undefined,
    monitoring: spec.monitoring && { ...spec.monitoring, webhooks: webhooks && deployedWebhooks(webhooks) },
  };
}
