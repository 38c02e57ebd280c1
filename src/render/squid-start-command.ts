import { THROWAWAY_CERTIFICATE_COMMAND } from "./squid-tls";

/** The event log's rotation: how large it may grow before Squid starts a new one, and how often that is checked. */
export interface EventLogRotation {
  /** The log file proxy-events follows (`access_log stdio:<file>`). */
  readonly path: string;
  /** @default EVENT_LOG_ROTATION.maxBytes */
  readonly maxBytes?: number;
  /** @default EVENT_LOG_ROTATION.checkIntervalSec */
  readonly checkIntervalSec?: number;
}

/**
 * Past 64 MiB, checked every 30 s: with `logfile_rotate 1` the log takes at most about twice that
 * on its volume, far under the Kubernetes proxy pods' 1Gi log volume, whose overflow would get
 * the pod evicted.
 */
export const EVENT_LOG_ROTATION = { maxBytes: 64 * 1024 * 1024, checkIntervalSec: 30 } as const;

/**
 * The proxy container's command: make the throwaway certificate of the ssl-bump ports, then run
 * Squid in the foreground. With an event log, a loop beside Squid sends it SIGUSR1 (what
 * `squid -k rotate` sends; `pid_filename none` leaves `-k` nothing to signal) whenever the log
 * has grown past its size: Squid renames it to `<file>.0` and opens a new one, and proxy-events
 * reads the renamed file to its end before following the new one. `$$` is the shell's process,
 * which `exec` makes Squid's; the loop ends when Squid does. The image needs `sh`, `stat` and
 * `openssl` besides an OpenSSL build of Squid.
 */
export function squidStartCommand(confPath: string, eventLog?: EventLogRotation): string[] {
  const squid = `exec squid -N -f ${confPath}`;
  if (eventLog === undefined) return ["sh", "-c", `${THROWAWAY_CERTIFICATE_COMMAND} && ${squid}`];
  const maxBytes = eventLog.maxBytes ?? EVENT_LOG_ROTATION.maxBytes;
  const interval = eventLog.checkIntervalSec ?? EVENT_LOG_ROTATION.checkIntervalSec;
  const rotation = `while sleep ${interval} && kill -0 $$ 2>/dev/null; do [ "$(stat -c %s ${eventLog.path} 2>/dev/null || echo 0)" -gt ${maxBytes} ] && kill -USR1 $$; done`;
  return ["sh", "-c", `${THROWAWAY_CERTIFICATE_COMMAND} || exit 1; ${rotation} & ${squid}`];
}
