import { randomBytes } from "node:crypto";
import type Redis from "ioredis";
import { LimiterUnavailableError, limiterUnavailable, type RedisLimiter } from "./redis-limiter";

/**
 * Lua scripts that share the limiter's Redis connection (its fail-fast settings) and firewall
 * (its key namespace): the token budgets, the role tasks. Subclasses define their scripts on
 * `client` and run them through `run`.
 */
export abstract class LimiterScripts<Client extends Redis> {
  protected readonly client: Client;
  protected readonly firewall: string;
  /** Unique per process, so members from two replicas at the same microsecond never collide. */
  private readonly memberPrefix = randomBytes(6).toString("hex");
  private sequence = 0;

  constructor(limiter: RedisLimiter) {
    this.client = limiter.connection as Client;
    this.firewall = limiter.firewall;
  }

  /** A sorted-set member no other call of any replica uses. */
  protected uniqueMember(): string {
    return `${this.memberPrefix}.${(this.sequence++).toString(36)}`;
  }

  /** Runs `command`, failing fast while disconnected; every failure is a LimiterUnavailableError. */
  protected async run<T>(command: () => Promise<T>): Promise<T> {
    if (this.client.status !== "ready") throw new LimiterUnavailableError("disconnected", this.client.status);
    try {
      return await command();
    } catch (error) {
      throw limiterUnavailable(error, this.client.status);
    }
  }
}
