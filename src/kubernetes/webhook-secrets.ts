import type { AlertWebhookProps } from "../model/types";
import { webhookSecretDir } from "../plan/webhook-delivery";

/**
 * Each webhook's `kubernetesSecret` as a volume and a read-only mount where the deployed firewall
 * file points the evaluator (`deployedWebhooks`): the gateway and proxy-events mount them alike.
 */
export function webhookSecretVolumes(webhooks: ReadonlyArray<AlertWebhookProps>) {
  const hooks = webhooks.flatMap((hook, i) => (hook.kubernetesSecret === undefined ? [] : [{ name: `webhook-${i}`, secret: hook.kubernetesSecret, dir: webhookSecretDir(i) }]));
  return {
    volumes: hooks.map((h) => ({ name: h.name, secret: { secretName: h.secret, defaultMode: "0444" } })),
    mounts: hooks.map((h) => ({ name: h.name, mountPath: h.dir, readOnly: true })),
  };
}
