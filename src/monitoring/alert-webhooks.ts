import { readFileSync } from "node:fs";
import type { AlertWebhookProps } from "../model/types";
import { WebhookFormat } from "../model/types";
import type { Severity } from "./alert-rules";

/** PagerDuty's Events API v2 endpoint, used when a pagerduty webhook names no URL. */
export const PAGERDUTY_EVENTS_URL = "https://events.pagerduty.com/v2/enqueue";

/** A webhook whose secrets are found: the URL and routing key are read on every send, so a re-rendered file takes effect. */
export interface ResolvedWebhook {
  /** `webhooks[i]`, for messages. */
  readonly name: string;
  readonly format: WebhookFormat;
  readonly minimum: Severity;
  readonly url: () => string;
  readonly routingKey: () => string;
}

/** The webhooks' secrets are missing or unreadable. */
export class WebhookConfigError extends Error {
  constructor(readonly problems: ReadonlyArray<string>) {
    super(`alert webhooks are not usable:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "WebhookConfigError";
  }
}

type Source = { readonly env?: string; readonly file?: string };

function secretReader(name: string, what: string, source: Source, env: NodeJS.ProcessEnv, problems: string[], fallback?: string): () => string {
  if (source.env !== undefined) {
    const value = env[source.env]?.trim();
    if (!value) problems.push(`${name}: environment variable ${source.env} (its ${what}) is not set; export it before starting`);
    return () => value ?? "";
  }
  if (source.file !== undefined) {
    const file = source.file;
    const read = () => readFileSync(file, "utf8").trim();
    try {
      if (read() === "") problems.push(`${name}: ${file} (its ${what}) is empty`);
    } catch (error) {
      problems.push(`${name}: cannot read ${file} (its ${what}): ${(error as Error).message}`);
    }
    return read;
  }
  if (fallback === undefined) problems.push(`${name}: no ${what} source`);
  return () => fallback ?? "";
}

/** Finds every webhook's secrets now, and reports every problem at once. */
export function resolveWebhooks(webhooks: ReadonlyArray<AlertWebhookProps>, env: NodeJS.ProcessEnv = process.env): ResolvedWebhook[] {
  const problems: string[] = [];
  const resolved = webhooks.map((hook, i): ResolvedWebhook => {
    const name = `monitoring.webhooks[${i}] (${hook.format})`;
    const pagerDuty = hook.format === WebhookFormat.PAGERDUTY;
    const url = secretReader(name, "URL", { env: hook.urlEnv, file: hook.urlFile }, env, problems, pagerDuty ? PAGERDUTY_EVENTS_URL : undefined);
    const routingKey = pagerDuty ? secretReader(name, "routing key", { env: hook.routingKeyEnv, file: hook.routingKeyFile }, env, problems) : () => "";
    return { name, format: hook.format, minimum: hook.severity as Severity, url, routingKey };
  });
  if (problems.length > 0) throw new WebhookConfigError(problems);
  return resolved;
}
