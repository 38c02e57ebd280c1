import { InvalidArgumentError } from "commander";
import { WebhookConfigError } from "../monitoring/alert-webhooks";
import { FirewallSpecError } from "../model/errors";
import { EXIT } from "./exit-codes";

const isConfigError = (error: unknown): error is Error => error instanceof FirewallSpecError || error instanceof WebhookConfigError;

/**
 * Runs a long-running command's set-up step; a bad firewall file or webhooks whose secrets are
 * missing (or an AggregateError of several such, from a step that checks every flag's file) end
 * the process with every problem listed and EXIT.USAGE (2), as bad arguments do.
 */
export function exitOnConfigError<T>(step: () => T): T {
  const fail = (error: unknown): never => {
    const errors = error instanceof AggregateError && error.errors.every(isConfigError) ? error.errors : [error];
    if (!errors.every(isConfigError)) throw error;
    for (const each of errors) process.stderr.write(`rapidclaw: ${(each as Error).message}\n`);
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

/**
 * On the first SIGTERM or SIGINT: drains (`drain` is given the timeout in ms), says on stderr
 * what the drain managed, and exits 0. A second signal meanwhile exits at once (1).
 */
export function drainOnSignals(program: string, drainTimeoutSec: number, drain: (timeoutMs: number) => Promise<{ callsFinished: boolean; deliveriesFlushed: boolean }>): void {
  let draining = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (draining) process.exit(1);
    draining = true;
    process.stderr.write(`${program}: ${signal}: draining for up to ${drainTimeoutSec} s (no new connections, /readyz 503)\n`);
    void drain(drainTimeoutSec * 1000).then((outcome) => {
      const cut = outcome.callsFinished ? "all work in flight finished" : "work still in flight at the drain timeout was cut";
      const flushed = outcome.deliveriesFlushed ? "alert deliveries flushed" : "alert deliveries still queued were dropped";
      process.stderr.write(`${program}: drained (${cut}; ${flushed}); exiting\n`);
      process.exit(0);
    });
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
}
