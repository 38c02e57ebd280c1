import type { SpecProblem } from "../model/errors";
import { AgentPlatform, WebhookFormat, type AlertWebhookProps } from "../model/types";
import type { FirewallPlan } from "./plan";

/** Where a deployed evaluator finds the files of webhook number `index`: its Secret's mount, or its Vault Agent's rendering. */
export function webhookSecretDir(index: number): string {
  return `${WEBHOOK_SECRETS_ROOT}/${index}`;
}

/** The directory every webhook's files are under; on Docker the Vault Agent's volume, mounted read-only. */
export const WEBHOOK_SECRETS_ROOT = "/run/rapidclaw/webhooks";

/** Where webhook secrets live in the firewall's KV v2 key mount: `<mount>/data/webhooks/<vaultSecret>`. */
export function webhookVaultSecretName(vaultSecret: string): string {
  return `webhooks/${vaultSecret}`;
}

/**
 * The webhooks as a deployed evaluator reads them: a `kubernetesSecret` (its mount) or a
 * `vaultSecret` (its Vault Agent's rendering) becomes the files `url` and, for PagerDuty,
 * `routingKey` under `webhookSecretDir(i)`, so the evaluator reads them like any `urlFile`.
 */
export function deployedWebhooks(webhooks: ReadonlyArray<AlertWebhookProps>): AlertWebhookProps[] {
  return webhooks.map((hook, i) => {
    if (hook.kubernetesSecret === undefined && hook.vaultSecret === undefined) return hook;
    const { kubernetesSecret: _secret, vaultSecret: _vault, ...rest } = hook;
    const files = { urlFile: `${webhookSecretDir(i)}/url` };
    return hook.format === WebhookFormat.PAGERDUTY ? { ...rest, ...files, routingKeyFile: `${webhookSecretDir(i)}/routingKey` } : { ...rest, ...files };
  });
}

/** A webhook read from Vault: its index (its directory) and its KV v2 secret's name in the key mount. */
export interface VaultWebhookSecret {
  readonly index: number;
  /** `webhooks/<vaultSecret>`. */
  readonly secretName: string;
  /** PagerDuty: the secret also holds `routingKey`. */
  readonly routingKey: boolean;
}

/** The webhooks given as `vaultSecret`, which each deployed evaluator's Vault Agent renders. */
export function vaultWebhookSecrets(webhooks: ReadonlyArray<AlertWebhookProps>): VaultWebhookSecret[] {
  return webhooks.flatMap((hook, index) => (hook.vaultSecret === undefined ? [] : [{ index, secretName: webhookVaultSecretName(hook.vaultSecret), routingKey: hook.format === WebhookFormat.PAGERDUTY }]));
}

/**
 * Webhook secrets a deployed evaluator (the gateway, proxy-events) would not find, each at its
 * path: nothing in a deployment sets an evaluator's environment or writes a file named by the
 * description, so `urlEnv`, `urlFile`, `routingKeyEnv` and `routingKeyFile` would make it refuse
 * to start; only `kubernetesSecret` (Kubernetes) and `vaultSecret` (Docker) are delivered.
 */
export function webhookDeliveryProblems(plan: FirewallPlan): SpecProblem[] {
  const evaluators = [plan.gateway === undefined ? "" : "tool gateway", plan.proxyEvents === undefined ? "" : "proxy-events"].filter(Boolean);
  if (evaluators.length === 0) return [];
  const fix = plan.platform === AgentPlatform.KUBERNETES
    ? "give kubernetesSecret: the name of a Secret in the namespace with the key url (pagerduty: also routingKey)"
    : "give vaultSecret: the name of a KV v2 secret under webhooks/ in the firewall's key mount with the field url (pagerduty: also routingKey), which each evaluator's Vault Agent renders";
  const vault = plan.platform === AgentPlatform.DOCKER && plan.vault.address === undefined
    ? plan.monitoring.webhooks.flatMap((hook, i): SpecProblem[] => (hook.vaultSecret === undefined ? [] : [{ path: "vault.address", message: `webhook ${i} is read from Vault (vaultSecret ${hook.vaultSecret}) by the ${evaluators.join(" and ")}'s Vault Agent, which needs Vault's URL; set vault.address (such as https://vault.example.com:8200)` }])).slice(0, 1)
    : [];
  return [...vault, ...plan.monitoring.webhooks.flatMap((hook, i) =>
    (["urlEnv", "urlFile", "routingKeyEnv", "routingKeyFile"] as const).flatMap((key): SpecProblem[] => {
      const source = hook[key];
      if (source === undefined) return [];
      const what = key.endsWith("Env") ? `no environment variable ${source}` : `no file ${source}`;
      return [{ path: `monitoring.webhooks[${i}].${key}`, message: `the deployed ${evaluators.join(" and ")} would get ${what} and refuse to start; ${fix}` }];
    }),
  )];
}
