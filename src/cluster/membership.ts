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
  readonly stationCount: number;
  /** It has Socket.IO clients following the live frame stream (routed-frames.ts). */
  readonly framesWanted?: boolean;
  /** It has push clients or webhooks waiting for events: every node appends its events without the quiet delay. */
  readonly eventsWanted?: boolean;
}

/** Station lists are larger than a heartbeat: written at most this often, read only when asked for. */
const STATIONS_EVERY_MS = 1000;

export interface MembershipDeps {
  readonly redis: RedisLink;
  readonly keys: ClusterKeys;
  readonly ttlMs: number;
  readonly logger: Logger;
  readonly self: () => Omit<NodeRecord, 'at' | 'stationCount'>;
  readonly stations: () => StationInfo[];
}

export class Membership {
  readonly #deps: MembershipDeps;
  #timer: NodeJS.Timeout | undefined;
  #peers: NodeRecord[] = [];
  #errors = 0;
  #stationsWrittenAt = 0;
  #peerStations: { readonly nodeId: string; readonly stations: readonly StationInfo[] }[] = [];
  #peerStationsAt = 0;
  #refreshing = false;

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

  /** Other live nodes' stations, as of at most a second or two ago (read again in the background when older). */
  peerStations(): readonly { readonly nodeId: string; readonly stations: readonly StationInfo[] }[] {
    if (Date.now() - this.#peerStationsAt > STATIONS_EVERY_MS && !this.#refreshing) void this.#refreshStations();
    const live = new Set(this.#peers.map((p) => p.nodeId));
    return this.#peerStations.filter((p) => live.has(p.nodeId));
  }

  async #refreshStations(): Promise<void> {
    const { redis, keys } = this.#deps;
    if (!redis.up) return;
    this.#refreshing = true;
    try {
      const ids = this.#peers.map((p) => p.nodeId);
      const raw = ids.length > 0 ? await redis.client.mget(ids.map((id) => keys.nodeStations(id))) : [];
      this.#peerStations = ids.map((nodeId, i) => ({ nodeId, stations: raw[i] ? (JSON.parse(raw[i]) as StationInfo[]) : [] }));
      this.#peerStationsAt = Date.now();
    } catch {
      this.#errors++;
    } finally {
      this.#refreshing = false;
    }
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
    await redis.client.multi().zrem(keys.nodes, nodeId).del(keys.node(nodeId), keys.nodeStations(nodeId)).exec().catch(() => undefined);
  }

  async tick(): Promise<void> {
    const { redis, keys, ttlMs } = this.#deps;
    if (!redis.up) {
      this.#peers = [];
      return;
    }
    const now = Date.now();
    const stations = this.#deps.stations();
    const me: NodeRecord = { ...this.#deps.self(), at: now, stationCount: stations.length };
    try {
      const r = redis.client;
      const batch = r.multi();
      if (now - this.#stationsWrittenAt >= STATIONS_EVERY_MS) {
        this.#stationsWrittenAt = now;
        batch.set(keys.nodeStations(me.nodeId), JSON.stringify(stations), 'PX', ttlMs + STATIONS_EVERY_MS);
      }
      await batch
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
