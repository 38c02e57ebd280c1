/** Exit codes of `rapidclaw logs`, `rapidclaw alerts`, `rapidclaw verify`, `rapidclaw probe` and `rapidclaw replay`, for scripts. */
export const EXIT = {
  /** Every line read; for `alerts`, no alert would have fired. */
  OK: 0,
  /** `alerts`: at least one alert would have fired. */
  ALERTS_FIRED: 1,
  /** `verify`: some layer of the stack grants more than the firewall description. */
  LAYER_WIDER: 1,
  /** `probe`: some channel is open that must be closed, or the allowed host does not pass. */
  CHANNEL_WRONG: 1,
  /** `replay`: the candidate would refuse a recorded call that was allowed, or allow one that was refused. */
  REPLAY_CHANGED: 1,
  /** Bad arguments, or a file that cannot be read. */
  USAGE: 2,
  /** Some lines looked like events (`{…}`) but were not valid ones: reported on stderr and skipped. */
  MALFORMED_LINES: 3,
} as const;

/** An error the CLI reports in one line and exits with `code`. */
export class CliError extends Error {
  constructor(message: string, readonly code: number = EXIT.USAGE) {
    super(message);
    this.name = "CliError";
  }
}
