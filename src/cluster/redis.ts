// Connections to Redis. Commands never queue while Redis is away (enableOfflineQueue off): a caller gets an error
// at once and decides (count, retry later), so nothing ever waits on a Redis that is down.
import { Redis } from 'ioredis';
import type { Logger } from 'pino';

export type { Redis } from 'ioredis';

export interface RedisHealth {
  readonly state: 'up' | 'down';
  readonly since: string;
  readonly lastError: string | null;
}

export class RedisLink {
  readonly client: Redis;
  #state: RedisHealth['state'] = 'down';
  #since = new Date().toISOString();
  #lastError: string | null = null;
  readonly #upListeners: (() => void)[] = [];

  constructor(url: string, readonly name: string, logger: Logger) {
    this.client = new Redis(url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectionName: name,
      // Keep trying, a few times a second at most: Redis coming back is noticed within a second.
      retryStrategy: (attempt) => Math.min(100 * attempt, 1000),
    });
    this.client.on('ready', () => {
      this.#set('up');
      logger.info({ connection: name }, 'redis connection ready');
      for (const fn of this.#upListeners) fn();
    });
    this.client.on('error', (err: Error) => {
      this.#lastError = err.message;
    });
    this.client.on('close', () => {
      if (this.#state === 'up') logger.warn({ connection: name }, 'redis connection lost; retrying');
      this.#set('down');
    });
  }

  get up(): boolean {
    return this.#state === 'up';
  }

  /** Runs after every (re)connection. */
  onUp(fn: () => void): void {
    this.#upListeners.push(fn);
  }

  async connect(): Promise<void> {
    // A Redis that is down at start is not fatal: ioredis keeps retrying and 'ready' fires later.
    await this.client.connect().catch(() => undefined);
  }

  health(): RedisHealth {
    return { state: this.#state, since: this.#since, lastError: this.#lastError };
  }

  close(): void {
    this.client.disconnect(false);
  }

  #set(s: RedisHealth['state']): void {
    if (s === this.#state) return;
    this.#state = s;
    this.#since = new Date().toISOString();
  }
}
