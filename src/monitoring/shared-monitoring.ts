import Redis from "ioredis";
import type { RedisCredentials } from "../gateway/redis-credentials";
import { alertKeyPrefix } from "../plan/redis-keys";
import { createMonitoring, type MonitoringRuntime, type MonitoringRuntimeProps } from "./monitoring-runtime";
import { RedisAlertWindowStore } from "./redis-alert-window-store";

/** Monitoring that replicas share: the runtime's props, with Redis in place of a store. */
export interface SharedMonitoringProps extends Omit<MonitoringRuntimeProps, "store"> {
  /** Redis of the alert windows: the limiter's URL, so every replica and the proxy log reader share them. */
  readonly redisUrl: string;
  /** ACL user and password of that Redis. @default - none (a Redis without AUTH) */
  readonly redisCredentials?: RedisCredentials;
  /** Prefix of the window keys, to keep firewalls sharing one Redis apart. @default - `alertKeyPrefix` of the plan's firewall name ("rapidclaw:alert:" for the default name) */
  readonly keyPrefix?: string;
}

/** Monitoring on its own Redis connection. */
export interface SharedMonitoring extends MonitoringRuntime {
  /** Whether Redis answers a PING. */
  ready(): Promise<boolean>;
  /** Stops the evaluator's sweep and closes the connection. */
  close(): void;
}

/**
 * Monitoring whose windows live in Redis. Checks the webhooks first (WebhookConfigError before
 * any connection). The connection fails fast while Redis is away (no offline queue, no retries
 * per command: callers retry without counting twice) and reconnects by itself. It has no command
 * timeout: a late reply is waited for, not retried, so a stalled Redis that resumes counts each
 * event once.
 */
export function connectSharedMonitoring(props: SharedMonitoringProps): SharedMonitoring {
  const redis = new Redis(props.redisUrl, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 1_000,
    retryStrategy: (attempt) => Math.min(50 * attempt, 1_000),
    ...props.redisCredentials,
  });
  // Failures reach the callers as rejected commands; without a listener ioredis prints each one.
  redis.on("error", () => undefined);
  const store = new RedisAlertWindowStore(redis, props.keyPrefix ?? alertKeyPrefix(props.plan.names.firewall));
  const { redisUrl: _redisUrl, redisCredentials: _redisCredentials, keyPrefix: _keyPrefix, ...runtimeProps } = props;
  const runtime = createMonitoring({ ...runtimeProps, store });
  // Reconnects by itself after a failed first attempt (retryStrategy).
  redis.connect().catch(() => undefined);
  return {
    ...runtime,
    async ready() {
      if (redis.status !== "ready") return false;
      return redis.ping().then((pong) => pong === "PONG", () => false);
    },
    close() {
      runtime.evaluator.stop();
      redis.disconnect();
    },
  };
}
