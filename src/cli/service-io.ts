import { InvalidArgumentError } from "commander";
import { WebhookConfigError } from "../monitoring/alert-webhooks";
import { FirewallSpecError } from "../model/errors";
import { EXIT } from "./exit-codes";

/**
 * Runs a long-running command's set-up step; a bad firewall file or webhooks whose secrets are
 * missing end the process with every problem listed and EXIT.USAGE (2), as bad arguments do.
 */
export function exitOnConfigError<T>(step: () => T): T {
  const fail = (error: unknown): never => {
    if (!(error instanceof FirewallSpecError || error instanceof WebhookConfigError)) throw error;
    process.stderr.write(`rapidclaw: ${error.message}\n`);
    process.exit(EXIT.USAGE);
  };
  try {
    const result = step();
    return (result instanceof Promise ? result.catch(fail) : result) as T;
  } catch (error) {
    return fail(error);
  }
}

/** Writes one event line on stdout: the gateway's events and the alert lines share the stream. */
export function writeStdoutLine(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** Notes on stderr when the shared alert windows (Redis) become unreachable and when they are back. */
export function reportAlertWindows(available: boolean, error?: Error): void {
  process.stderr.write(available
    ? "rapidclaw: alert windows reachable again; waiting events are being added\n"
    : `rapidclaw: alert windows unreachable (${error?.message ?? "unknown error"}); events wait and are retried every tick\n`);
}

/** Parses a whole-number option of at least `min`. */
export const integer = (name: string, min: number) => (text: string): number => {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) throw new InvalidArgumentError(`${name} must be a whole number from ${min}`);
  return value;
};
