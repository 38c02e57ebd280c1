import { severityReaches } from "./alert-rules";
import { webhookPayload } from "./alert-payloads";
import type { AlertTransition } from "./alert-window-store";
import type { ResolvedWebhook } from "./alert-webhooks";

/** Retries and queue bounds of alert delivery. */
export interface DeliveryOptions {
  /** Attempts per notification, the first included. @default 6 */
  readonly maxAttempts?: number;
  /** Wait before the first retry; doubles each time. @default 500 */
  readonly baseDelayMs?: number;
  /** Longest wait between attempts. @default 30000 */
  readonly maxDelayMs?: number;
  /** Each attempt's time limit. @default 10000 */
  readonly timeoutMs?: number;
  /** Notifications waiting per webhook; when full, the oldest waiting one is dropped. @default 1000 */
  readonly maxQueue?: number;
}

/** A notification given up: after its last attempt, on a refusal that retrying cannot fix, or dropped from a full queue. */
export interface DeliveryFailure {
  readonly webhook: ResolvedWebhook;
  readonly transition: AlertTransition;
  readonly attempts: number;
  readonly reason: string;
}

const DEFAULTS = { maxAttempts: 6, baseDelayMs: 500, maxDelayMs: 30_000, timeoutMs: 10_000, maxQueue: 1000 } as const;

/** Whether an HTTP status is worth another attempt: rate limiting and server errors. */
const retryable = (status: number) => status === 408 || status === 429 || status >= 500;

class WebhookQueue {
  private readonly waiting: AlertTransition[] = [];
  private running: Promise<void> | undefined;

  constructor(
    readonly webhook: ResolvedWebhook,
    private readonly options: Required<DeliveryOptions>,
    private readonly onFailure: (failure: DeliveryFailure) => void,
  ) {}

  push(transition: AlertTransition): void {
    if (this.waiting.length >= this.options.maxQueue) {
      // The newest notifications matter most (a resolve supersedes its trigger): drop the oldest.
      const dropped = this.waiting.shift() as AlertTransition;
      this.onFailure({ webhook: this.webhook, transition: dropped, attempts: 0, reason: `queue full (${this.options.maxQueue} waiting): dropped the oldest` });
    }
    this.waiting.push(transition);
    this.running ??= this.drain().finally(() => (this.running = undefined));
  }

  /** Resolves once nothing waits or is being sent. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async drain(): Promise<void> {
    for (let next = this.waiting.shift(); next !== undefined; next = this.waiting.shift()) await this.send(next);
  }

  /** Sends one notification in order, retrying with exponential backoff; never throws. */
  private async send(transition: AlertTransition): Promise<void> {
    const { maxAttempts, baseDelayMs, maxDelayMs, timeoutMs } = this.options;
    let reason = "";
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      try {
        const body = JSON.stringify(webhookPayload(this.webhook.format, transition, this.webhook.routingKey()));
        const response = await fetch(this.webhook.url(), { method: "POST", headers: { "content-type": "application/json" }, body, signal: AbortSignal.timeout(timeoutMs) });
        await response.arrayBuffer();
        if (response.ok) return;
        reason = `HTTP ${response.status}`;
        if (!retryable(response.status)) return this.onFailure({ webhook: this.webhook, transition, attempts: attempt, reason: `${reason} (not retried)` });
      } catch (error) {
        // The URL is a secret: report the failure without it.
        reason = ((error as Error & { cause?: Error }).cause ?? (error as Error)).message.replace(/https?:\/\/\S+/g, "<url>");
      }
      if (attempt < maxAttempts) await new Promise((r) => setTimeout(r, Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1))));
    }
    this.onFailure({ webhook: this.webhook, transition, attempts: maxAttempts, reason });
  }
}

/**
 * Sends alert transitions to the webhooks whose severity they reach. One queue per webhook,
 * sent in order, so a breach's resolve never overtakes its trigger.
 */
export class AlertDelivery {
  private readonly queues: WebhookQueue[];

  constructor(webhooks: ReadonlyArray<ResolvedWebhook>, onFailure: (failure: DeliveryFailure) => void, options: DeliveryOptions = {}) {
    const settled = { ...DEFAULTS, ...options };
    this.queues = webhooks.map((webhook) => new WebhookQueue(webhook, settled, onFailure));
  }

  deliver(transition: AlertTransition): void {
    for (const queue of this.queues) if (severityReaches(transition.rule.severity, queue.webhook.minimum)) queue.push(transition);
  }

  /** Resolves once every queue is empty (tests, and shutdown). */
  async idle(): Promise<void> {
    await Promise.all(this.queues.map((q) => q.idle()));
  }
}
