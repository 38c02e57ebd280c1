/**
 * How the firewall's long-running programs (the tool gateway, `rapidclaw proxy-events`) are
 * stopped, shared by both platforms: on SIGTERM a program turns `/readyz` to 503, stops accepting,
 * lets calls in flight (streams included) finish for up to the drain timeout, flushes queued
 * webhook deliveries, then exits 0. The platform must wait longer than that before it kills.
 */
export const SHUTDOWN = {
  /** Seconds calls in flight get to finish after SIGTERM: the default of `--drain-timeout-sec`. */
  drainTimeoutSec: 30,
  /** Seconds queued webhook deliveries get at least, after the calls, before the program exits. */
  flushSec: 5,
  /**
   * Kubernetes: the preStop pause before SIGTERM, so that Services and kube-proxy drop the pod's
   * endpoints before the program stops accepting (endpoint removal and the signal race otherwise).
   */
  preStopSleepSec: 5,
} as const;

/** Seconds the platform waits after SIGTERM before it kills: the drain, the flush and time to exit. */
export const STOP_TIMEOUT_SEC = SHUTDOWN.drainTimeoutSec + SHUTDOWN.flushSec + 5;

/** Kubernetes `terminationGracePeriodSeconds`: the preStop pause counts towards it, then the stop timeout. */
export const TERMINATION_GRACE_PERIOD_SEC = SHUTDOWN.preStopSleepSec + STOP_TIMEOUT_SEC;
