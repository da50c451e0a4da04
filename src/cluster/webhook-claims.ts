// Webhook subscriptions every node has (CONFIG_FILE) delivered once per cluster. Every node sees every event, so
// each node claims an event before queueing it: a Lua script keeps, per subscription and station, the highest `seq`
// claimed, and lets a claim through only above it. The node expected to deliver claims at once: the one holding the
// station, or for a station nobody holds (SteVe's events of offline stations) the binlog leader. The others try after
// a delay, so an event is still delivered when that node died or lags, and a node replaying old events claims
// none. Claims of one station on one node go in `seq` order (a later event waits behind a delayed earlier one), so
// no event is passed over.
import type { Logger } from 'pino';
import type { GatewayEvent } from '../events/catalogue.js';
import type { ClusterKeys } from './keys.js';
import type { RedisLink } from './redis.js';

const CLAIM_ABOVE = `
local last = redis.call('HGET', KEYS[1], ARGV[1])
if last and tonumber(last) >= tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1`;

/** What webhooks ask (src/webhooks WebhooksDeps.once): `deliver` is called, in order, for the events this node won. */
export type WebhookClaim = (subscription: string, events: readonly GatewayEvent[], deliver: (e: GatewayEvent) => void) => void;

export interface WebhookClaimsDeps {
  readonly redis: RedisLink;
  readonly keys: ClusterKeys;
  /** Whether this node is the one expected to deliver the station's events. */
  readonly first: (chargeBoxId: string) => boolean;
  /** How long the other nodes wait before trying. */
  readonly backupMs: number;
  readonly logger: Logger;
}

export function webhookClaims(deps: WebhookClaimsDeps): { claim: WebhookClaim; counters: { won: number; lost: number; errors: number; delayed: number } } {
  const counters = { won: 0, lost: 0, errors: 0, delayed: 0 };
  /** Per subscription and station: the delayed claims not yet tried (later ones of the station queue behind). */
  const waiting = new Map<string, number>();

  const tryClaim = async (subscription: string, events: readonly GatewayEvent[], first: boolean, deliver: (e: GatewayEvent) => void): Promise<void> => {
    const { redis, keys } = deps;
    let won: boolean[];
    if (!redis.up) {
      won = events.map(() => first);
    } else {
      const pipe = redis.client.pipeline();
      for (const e of events) pipe.eval(CLAIM_ABOVE, 1, keys.webhookClaim(subscription), e.chargeBoxId, e.seq);
      const replies = (await pipe.exec().catch(() => null)) ?? [];
      // Without an answer from Redis the node expected to deliver does, so an outage delays nothing.
      won = events.map((_, i) => {
        const [err, v] = replies[i] ?? [new Error('no reply'), 0];
        if (err) counters.errors++;
        return err ? first : v === 1;
      });
    }
    events.forEach((e, i) => {
      if (won[i]) {
        counters.won++;
        deliver(e);
      } else counters.lost++;
    });
  };

  const claim: WebhookClaim = (subscription, events, deliver) => {
    const now: GatewayEvent[] = [];
    const later: GatewayEvent[] = [];
    for (const e of events) {
      const k = `${subscription}\n${e.chargeBoxId}`;
      if (!waiting.has(k) && deps.first(e.chargeBoxId)) {
        now.push(e);
        continue;
      }
      waiting.set(k, (waiting.get(k) ?? 0) + 1);
      later.push(e);
    }
    if (now.length > 0) void tryClaim(subscription, now, true, deliver);
    if (later.length === 0) return;
    counters.delayed += later.length;
    setTimeout(() => {
      for (const e of later) {
        const k = `${subscription}\n${e.chargeBoxId}`;
        const n = (waiting.get(k) ?? 1) - 1;
        if (n > 0) waiting.set(k, n);
        else waiting.delete(k);
      }
      void tryClaim(subscription, later, false, deliver);
    }, deps.backupMs).unref();
  };
  return { claim, counters };
}
