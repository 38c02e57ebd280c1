import { readFileSync } from "node:fs";
import { gatewayConfigFromSpec, type GatewayConfig } from "../gateway/config";
import { readRedisCredentials, type RedisCredentials } from "../gateway/redis-credentials";
import { FirewallSpecError } from "../model/errors";
import { loadFirewallSpec } from "../model/load";
import type { FirewallSpecProps } from "../model/types";
import { resolveWebhooks, WebhookConfigError } from "../monitoring/alert-webhooks";
import { compileFirewall, type FirewallPlan } from "../plan/plan";

/** The flags of `rapidclaw gateway` that name files read at start. */
export interface GatewayFileFlags {
  readonly config: string;
  readonly redisCredentialsFile?: string;
  readonly upstreamCa?: string;
}

/** What those files hold, once every one has been read and checked. */
export interface GatewaySetup {
  readonly spec: FirewallSpecProps;
  readonly config: GatewayConfig;
  readonly plan: FirewallPlan;
  readonly redisCredentials?: RedisCredentials;
  readonly upstreamCa?: string;
}

/**
 * Reads every file the gateway's flags name in one pass: the firewall file (and, when it is valid,
 * its webhooks' secrets), the Redis login and the upstream CA. Throws an AggregateError of every
 * FirewallSpecError and WebhookConfigError found, so that all problems are reported at once, not
 * the first file's alone.
 */
export function readGatewaySetup(flags: GatewayFileFlags, env: NodeJS.ProcessEnv = process.env): GatewaySetup {
  const errors: Error[] = [];
  const attempt = <T>(step: () => T): T | undefined => {
    try {
      return step();
    } catch (error) {
      if (!(error instanceof FirewallSpecError || error instanceof WebhookConfigError)) throw error;
      errors.push(error);
      return undefined;
    }
  };
  const spec = attempt(() => loadFirewallSpec(flags.config));
  const plan = spec === undefined ? undefined : attempt(() => compileFirewall(spec));
  if (plan !== undefined) attempt(() => resolveWebhooks(plan.monitoring.webhooks, env));
  const redisCredentials = flags.redisCredentialsFile === undefined ? undefined : attempt(() => readRedisCredentials(flags.redisCredentialsFile as string));
  const upstreamCa = flags.upstreamCa === undefined ? undefined : attempt(() => readUpstreamCa(flags.upstreamCa as string));
  if (errors.length > 0) throw new AggregateError(errors, errors.map((e) => e.message).join("\n"));
  return { spec: spec as FirewallSpecProps, config: gatewayConfigFromSpec(spec as FirewallSpecProps), plan: plan as FirewallPlan, redisCredentials, upstreamCa };
}

/** The extra CA certificate of `--upstream-ca`: a PEM file. */
function readUpstreamCa(file: string): string {
  let text = "";
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new FirewallSpecError([{ path: "--upstream-ca", message: `cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? String(error)}); give a PEM certificate file` }]);
  }
  if (!text.includes("-----BEGIN CERTIFICATE-----")) throw new FirewallSpecError([{ path: "--upstream-ca", message: `${file} holds no PEM certificate (-----BEGIN CERTIFICATE-----)` }]);
  return text;
}
