// Webhook subscriptions every node has (CONFIG_FILE) delivered once per cluster, in each station's order. Every node
// sees every event, so each node claims an event before queueing it: a Lua script keeps, per subscription and
// station, the highest `seq` claimed and lets a claim through only above it, and which node claimed last. That node
// stays the station's deliverer while it is alive and the station's events keep coming (STICKY_MS): a station that
// moves to another node keeps one node's outbox, so its deliveries cannot overlap and arrive out of order. The node
// expected to deliver claims at once: the one that delivered the station's last event, else the one holding the
// station, or for a station nobody holds (SteVe's events of offline stations) the binlog leader. The others try
// after a delay, so an event is still delivered when that node died or lags; a claim refused because another live
// node is the station's deliverer is tried again after the same delay (that node normally claims it meanwhile). A node
// replaying old events claims none. One station's claims on one node go one batch after the other, in `seq` order,
// so no event is passed over. What waits to be claimed has a byte budget per subscription (the webhooks' queue
// budget, WEBHOOKS_QUEUE_BYTES): a node that is not a station's first deliverer keeps its events for the backup delay,
// which for a busy fleet is a lot of events; past the budget new ones are dropped and counted.
import type { Logger } from 'pino';
import type { GatewayEvent } from '../events/catalogue.js';
import type { ClusterKeys } from './keys.js';
import type { RedisLink } from './redis.js';

/** How long after its last claim a node stays a station's deliverer for a subscription. */
export const STICKY_MS = 60_000;

// KEYS: seq hash, deliverer hash. ARGV: station, this node, the node heartbeat key prefix, STICKY_MS, then the
// batch's seqs in ascending order. Returns 2 (another live node delivers this station) or one 1/0 per seq.
const CLAIM = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local by = redis.call('HGET', KEYS[2], ARGV[1])
if by then
  local node, at = string.match(by, '^(.*) (%d+)$')
  if node and node ~= ARGV[2] and now - tonumber(at) < tonumber(ARGV[4]) and redis.call('EXISTS', ARGV[3] .. node) == 1 then return 2 end
end
local last = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '-1')
local won = {}
local any = false
for i = 5, #ARGV do
  local seq = tonumber(ARGV[i])
  if seq > last then
    last = seq
    any = true
    won[#won + 1] = 1
  else
    won[#won + 1] = 0
  end
end
if any then
  redis.call('HSET', KEYS[1], ARGV[1], last)
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[2] .. ' ' .. now)
end
return won`;

/** What webhooks ask (src/webhooks WebhooksDeps.once): `deliver` is called, in order, for the events this node won. */
export type WebhookClaim = (subscription: string, events: readonly GatewayEvent[], deliver: (e: GatewayEvent) => void) => void;

export interface WebhookClaimsDeps {
  readonly redis: RedisLink;
  readonly keys: ClusterKeys;
  /** This node's id, as in its heartbeat key. */
  readonly nodeId: () => string;
  /** Whether this node holds the station (or, for a station nobody holds, leads the binlog). */
  readonly first: (chargeBoxId: string) => boolean;
  /** How long the other nodes wait before trying. */
  readonly backupMs: number;
  /** Bytes (characters of the events as JSON) waiting to be claimed per subscription; past it new ones are dropped. */
  readonly queueBytes: number;
  readonly logger: Logger;
}

interface Station {
  readonly subscription: string;
  readonly chargeBoxId: string;
  readonly deliver: (e: GatewayEvent) => void;
  /** Events not yet claimed, in seq order. */
  queued: GatewayEvent[];
  busy: boolean;
  /** When this node last won a claim for it (STICKY_MS). */
  wonAt: number;
}

export interface WebhookClaimCounters {
  won: number;
  lost: number;
  errors: number;
  delayed: number;
  /** Claims refused because another live node delivers the station (tried again later). */
  deferred: number;
  /** Events not queued for a claim because the subscription's budget was full (never delivered by this node). */
  droppedForBytes: number;
}

/** An event's size as its body will be: measured once, whatever the number of subscriptions. */
const sizes = new WeakMap<GatewayEvent, number>();
function sizeOf(e: GatewayEvent): number {
  let n = sizes.get(e);
  if (n === undefined) sizes.set(e, (n = JSON.stringify(e).length));
  return n;
}

export interface WebhookClaims {
  readonly claim: WebhookClaim;
  readonly counters: WebhookClaimCounters;
  /** Bytes waiting to be claimed for a subscription. */
  queuedBytes(subscription: string): number;
}

export function webhookClaims(deps: WebhookClaimsDeps): WebhookClaims {
  const counters: WebhookClaimCounters = { won: 0, lost: 0, errors: 0, delayed: 0, deferred: 0, droppedForBytes: 0 };
  const stations = new Map<string, Station>();
  const bytesBySubscription = new Map<string, number>();
  const account = (subscription: string, bytes: number): void => {
    const total = (bytesBySubscription.get(subscription) ?? 0) + bytes;
    if (total > 0) bytesBySubscription.set(subscription, total);
    else bytesBySubscription.delete(subscription);
  };
  const heartbeatPrefix = deps.keys.node('');
  const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms).unref());

  /**
   * 'deferred': another live node delivers the station; else one verdict per event. Without an answer from Redis
   * the node holding the station delivers (`holder`), so an outage delays nothing and no event goes out twice.
   */
  const tryClaim = async (s: Station, events: readonly GatewayEvent[], holder: boolean): Promise<boolean[] | 'deferred'> => {
    const { redis, keys } = deps;
    if (!redis.up) return events.map(() => holder);
    try {
      const seqs = events.map((e) => e.seq);
      const r = await redis.client.eval(CLAIM, 2, keys.webhookClaim(s.subscription), keys.webhookDeliverer(s.subscription), s.chargeBoxId, deps.nodeId(), heartbeatPrefix, STICKY_MS, ...seqs);
      if (r === 2) return 'deferred';
      if (!Array.isArray(r) || r.length !== events.length) throw new Error(`unexpected claim reply ${JSON.stringify(r)}`);
      return r.map((v) => v === 1);
    } catch (err) {
      counters.errors += events.length;
      deps.logger.debug({ err: String(err), chargeBoxId: s.chargeBoxId }, 'webhook claim failed');
      return events.map(() => holder);
    }
  };

  const pump = async (s: Station): Promise<void> => {
    s.busy = true;
    try {
      while (s.queued.length > 0) {
        const holder = deps.first(s.chargeBoxId);
        if (!holder && Date.now() - s.wonAt >= STICKY_MS) {
          counters.delayed += s.queued.length;
          await sleep(deps.backupMs);
        }
        const batch = s.queued;
        s.queued = [];
        const verdict = await tryClaim(s, batch, holder);
        if (verdict === 'deferred') {
          // The station's deliverer claims these meanwhile; what it has not by then is this node's (or lost).
          counters.deferred += batch.length;
          s.queued = [...batch, ...s.queued];
          await sleep(deps.backupMs);
          continue;
        }
        // Counted until the verdict: the budget covers what this node holds, on its way to Redis too.
        account(s.subscription, -batch.reduce((n, e) => n + sizeOf(e), 0));
        batch.forEach((e, i) => {
          if (verdict[i]) {
            counters.won++;
            s.wonAt = Date.now();
            s.deliver(e);
          } else counters.lost++;
        });
      }
    } finally {
      s.busy = false;
      // Forgotten once idle and no longer sticky: memory follows the stations that have events.
      if (s.queued.length === 0 && Date.now() - s.wonAt >= STICKY_MS) stations.delete(`${s.subscription}\n${s.chargeBoxId}`);
    }
  };

  let sweptAt = Date.now();
  const claim: WebhookClaim = (subscription, events, deliver) => {
    // Stations idle and no longer sticky are forgotten (the ones that never have events again too).
    if (Date.now() - sweptAt >= STICKY_MS) {
      sweptAt = Date.now();
      for (const [k, s] of stations) if (!s.busy && s.queued.length === 0 && sweptAt - s.wonAt >= STICKY_MS) stations.delete(k);
    }
    for (const e of events) {
      const k = `${subscription}\n${e.chargeBoxId}`;
      let s = stations.get(k);
      if (!s) {
        s = { subscription, chargeBoxId: e.chargeBoxId, deliver, queued: [], busy: false, wonAt: 0 };
        stations.set(k, s);
      }
      const bytes = sizeOf(e);
      if ((bytesBySubscription.get(subscription) ?? 0) + bytes > deps.queueBytes) {
        if (counters.droppedForBytes++ % 1000 === 0) {
          deps.logger.warn({ subscription, chargeBoxId: e.chargeBoxId, dropped: counters.droppedForBytes }, 'webhook events waiting to be claimed are over WEBHOOKS_QUEUE_BYTES: new ones dropped');
        }
        continue;
      }
      s.queued.push(e);
      account(subscription, bytes);
    }
    for (const e of events) {
      const s = stations.get(`${subscription}\n${e.chargeBoxId}`);
      if (s && !s.busy && s.queued.length > 0) void pump(s);
    }
  };
  return { claim, counters, queuedBytes: (subscription) => bytesBySubscription.get(subscription) ?? 0 };
}
