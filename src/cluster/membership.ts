// Who is in the cluster: every node writes a heartbeat record (with an expiry) and reads everyone else's, so
// /api/health can list peers and /api/stations can list every node's stations. Nothing here is on the relay path.
import type { Logger } from 'pino';
import type { StationInfo } from '../relay/relay.js';
import type { ClusterKeys } from './keys.js';
import type { RedisLink } from './redis.js';

export interface NodeRecord {
  readonly nodeId: string;
  readonly startedAt: string;
  readonly at: number;
  readonly binlogLeader: boolean;
  readonly stations: readonly StationInfo[];
}

export interface MembershipDeps {
  readonly redis: RedisLink;
  readonly keys: ClusterKeys;
  readonly ttlMs: number;
  readonly logger: Logger;
  readonly self: () => Omit<NodeRecord, 'at'>;
}

export class Membership {
  readonly #deps: MembershipDeps;
  #timer: NodeJS.Timeout | undefined;
  #peers: NodeRecord[] = [];
  #errors = 0;

  constructor(deps: MembershipDeps) {
    this.#deps = deps;
  }

  start(): void {
    void this.tick();
    this.#timer = setInterval(() => void this.tick(), Math.max(100, Math.floor(this.#deps.ttlMs / 3)));
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** Other live nodes as last read (at most a heartbeat old). */
  peers(): readonly NodeRecord[] {
    return this.#peers;
  }

  alive(nodeId: string): boolean {
    return this.#peers.some((p) => p.nodeId === nodeId);
  }

  get errors(): number {
    return this.#errors;
  }

  /** Leaves at once (clean stop) instead of waiting for the record to expire. */
  async leave(nodeId: string): Promise<void> {
    const { redis, keys } = this.#deps;
    if (!redis.up) return;
    await redis.client.multi().zrem(keys.nodes, nodeId).del(keys.node(nodeId)).exec().catch(() => undefined);
  }

  async tick(): Promise<void> {
    const { redis, keys, ttlMs } = this.#deps;
    if (!redis.up) {
      this.#peers = [];
      return;
    }
    const now = Date.now();
    const me = { ...this.#deps.self(), at: now };
    try {
      const r = redis.client;
      await r.multi()
        .set(keys.node(me.nodeId), JSON.stringify(me), 'PX', ttlMs)
        .zadd(keys.nodes, now, me.nodeId)
        .zremrangebyscore(keys.nodes, '-inf', now - ttlMs)
        .exec();
      const ids = (await r.zrangebyscore(keys.nodes, now - ttlMs, '+inf')).filter((id) => id !== me.nodeId);
      const raw = ids.length > 0 ? await r.mget(ids.map((id) => keys.node(id))) : [];
      this.#peers = raw.flatMap((s) => (s ? [JSON.parse(s) as NodeRecord] : []));
    } catch (err) {
      this.#errors++;
      this.#deps.logger.debug({ err: String(err) }, 'cluster heartbeat failed');
    }
  }
}
