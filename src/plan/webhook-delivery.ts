import type { SpecProblem } from "../model/errors";
import { AgentPlatform, WebhookFormat, type AlertWebhookProps } from "../model/types";
import type { FirewallPlan } from "./plan";

/** Where a deployed evaluator finds the files of webhook number `index`, mounted from its Secret. */
export function webhookSecretDir(index: number): string {
  return `/run/rapidclaw/webhooks/${index}`;
}

/**
 * The webhooks as a deployed evaluator reads them: a `kubernetesSecret` becomes the files its
 * mount holds (`url`, `routingKey`), so the evaluator reads them like any `urlFile`.
 */
export function deployedWebhooks(webhooks: ReadonlyArray<AlertWebhookProps>): AlertWebhookProps[] {
  return webhooks.map((hook, i) => {
    if (hook.kubernetesSecret === undefined) return hook;
    const { kubernetesSecret: _secret, ...rest } = hook;
    const files = { urlFile: `${webhookSecretDir(i)}/url` };
    return hook.format === WebhookFormat.PAGERDUTY ? { ...rest, ...files, routingKeyFile: `${webhookSecretDir(i)}/routingKey` } : { ...rest, ...files };
  });
}

/**
 * Webhook secrets a deployed evaluator (the gateway, proxy-events) would not find, each at its
 * path: nothing in a deployment sets an evaluator's environment or writes a file named by the
 * description, so `urlEnv`, `urlFile`, `routingKeyEnv` and `routingKeyFile` would make it refuse
 * to start; only `kubernetesSecret` (Kubernetes) is delivered.
 */
export function webhookDeliveryProblems(plan: FirewallPlan): SpecProblem[] {
  const evaluators = [plan.gateway === undefined ? "" : "tool gateway", plan.proxyEvents === undefined ? "" : "proxy-events"].filter(Boolean);
  if (evaluators.length === 0) return [];
  const fix = plan.platform === AgentPlatform.KUBERNETES
    ? "give kubernetesSecret: the name of a Secret in the namespace with the key url (pagerduty: also routingKey)"
    : "on Docker no webhook can be delivered yet (no secret reaches the deployed evaluators, and proxy-events has no way out): remove the webhook, or run the evaluators yourself with it";
  return plan.monitoring.webhooks.flatMap((hook, i) =>
    (["urlEnv", "urlFile", "routingKeyEnv", "routingKeyFile"] as const).flatMap((key): SpecProblem[] => {
      const source = hook[key];
      if (source === undefined) return [];
      const what = key.endsWith("Env") ? `no environment variable ${source}` : `no file ${source}`;
      return [{ path: `monitoring.webhooks[${i}].${key}`, message: `the deployed ${evaluators.join(" and ")} would get ${what} and refuse to start; ${fix}` }];
    }),
  );
}
