// The binlog lease: at most one node reads SteVe's binlog. Taking the lease draws a fencing token from a counter
// in Redis; the lease value is "token nodeId". Everything the holder publishes is checked against that value inside
// Redis (event-stream.ts), so a holder that paused past its lease cannot publish once another node has taken it.
import type { Logger } from 'pino';
import type { ClusterKeys } from './keys.js';
import type { RedisLink } from './redis.js';

const ACQUIRE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return false end
local t = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], t .. ' ' .. ARGV[1], 'PX', ARGV[2])
return t`;
const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

export interface LeaseEvents {
  /** This node now holds the lease; `fence` is the value every publication is checked against. */
  acquired(fence: string): void;
  /** The lease is gone (not renewed in time, taken by another node, or Redis away). */
  lost(reason: string): void;
}

export class BinlogLease {
  #fence: string | undefined;
  /** Local deadline: past it this node stops treating itself as holder, renewed or not. */
  #validUntil = 0;
  #timer: NodeJS.Timeout | undefined;
  #busy = false;
  readonly counters = { acquired: 0, lost: 0 };

  constructor(
    private readonly redis: RedisLink,
    private readonly keys: ClusterKeys,
    private readonly nodeId: () => string,
    private readonly leaseMs: number,
    private readonly events: LeaseEvents,
    private readonly logger: Logger,
  ) {}

  /** The fencing value while this node holds a lease still valid by its own clock. */
  get fence(): string | undefined {
    if (this.#fence !== undefined && Date.now() >= this.#validUntil) this.#lose('lease not renewed in time');
    return this.#fence;
  }

  get holder(): boolean {
    return this.fence !== undefined;
  }

  start(): void {
    void this.#tick();
    this.#timer = setInterval(() => void this.#tick(), Math.max(50, Math.floor(this.leaseMs / 3)));
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    const fence = this.#fence;
    if (fence === undefined) return;
    this.#lose('node stopping');
    // Handing over at once instead of letting the lease expire: the next node starts without waiting.
    if (this.redis.up) await this.redis.client.eval(RELEASE, 1, this.keys.lease, fence).catch(() => undefined);
  }

  async #tick(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      if (this.fence !== undefined) await this.#renew(this.#fence as string);
      else await this.#acquire();
    } finally {
      this.#busy = false;
    }
  }

  async #acquire(): Promise<void> {
    if (!this.redis.up) return;
    const t0 = Date.now();
    const token = await this.redis.client.eval(ACQUIRE, 2, this.keys.lease, this.keys.leaseToken, this.nodeId(), this.leaseMs).catch(() => null);
    if (token === null || token === undefined) return;
    this.#fence = `${String(token)} ${this.nodeId()}`;
    // Measured from before the request: the lease in Redis outlives this node's belief in it.
    this.#validUntil = t0 + this.leaseMs;
    this.counters.acquired++;
    this.logger.info({ token: Number(token) }, 'binlog lease taken: this node reads the binlog');
    this.events.acquired(this.#fence);
  }

  async #renew(fence: string): Promise<void> {
    const t0 = Date.now();
    try {
      const ok = await this.redis.client.eval(RENEW, 1, this.keys.lease, fence, this.leaseMs);
      if (this.#fence !== fence) return;
      if (Number(ok) === 1) this.#validUntil = t0 + this.leaseMs;
      else this.#lose('lease taken by another node');
    } catch {
      // Redis away: keep the lease until the local deadline, then let go (fence getter).
    }
  }

  #lose(reason: string): void {
    if (this.#fence === undefined) return;
    this.#fence = undefined;
    this.counters.lost++;
    this.logger.warn({ reason }, 'binlog lease lost: this node stops reading the binlog');
    this.events.lost(reason);
  }
}
