// The shared event stream of sequenced events. The node that produces an event (the holder of the station for its
// wire events, the binlog leader for SteVe's) runs the source rule and de-dup and serialises it once; the append
// script gives it the station's next seq (one counter per station in Redis, continued from the larger of its own
// value and the producer's last known seq, so a station moving between nodes, or a Redis that lost its data, keeps
// counting) and adds it to one stream. Every node reads the stream and records the events as they are.
// Appends wait in a bounded outbox (never on the relay path); binlog appends and the binlog checkpoint are written
// by one script that first checks the lease, so only the current holder's events and position land. A station that
// moved here from another node has its events held back until that node has appended its own (ownership.ts).
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { GatewayEvent } from '../events/catalogue.js';
import type { UnsequencedEvent } from '../events/index.js';
import type { ClusterKeys } from './keys.js';
import type { RedisLink } from './redis.js';

// KEYS: stream, lease, checkpoint, seq counters. ARGV: fence, maxlen, checkpoint, then per event station, floor and
// the event's JSON without seq ("{...}"), into which the script writes seq first. Returns the seqs given (-1: the
// lease has passed on).
const APPEND = `
if ARGV[1] ~= '' and redis.call('GET', KEYS[2]) ~= ARGV[1] then return -1 end
local given = {}
for i = 4, #ARGV, 3 do
  local seq = tonumber(redis.call('HGET', KEYS[4], ARGV[i]) or '0')
  local floor = tonumber(ARGV[i + 1])
  if floor > seq then seq = floor end
  seq = seq + 1
  redis.call('HSET', KEYS[4], ARGV[i], seq)
  redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'e', '{"seq":' .. string.format('%d', seq) .. ',' .. string.sub(ARGV[i + 2], 2))
  given[#given + 1] = seq
end
if ARGV[3] ~= '' then redis.call('SET', KEYS[3], ARGV[3]) end
return given`;
const APPEND_SHA = createHash('sha1').update(APPEND).digest('hex');

interface EventItem {
  readonly kind: 'event';
  /** '' for events that need no lease; else the lease value they were produced under. */
  readonly fence: string;
  readonly event: UnsequencedEvent;
  readonly bytes: number;
}

interface CheckpointItem {
  readonly kind: 'checkpoint';
  readonly fence: string;
  readonly json: string;
  readonly bytes: number;
  /** Told once the checkpoint is in Redis. */
  readonly landed: (() => void) | undefined;
}

type Item = EventItem | CheckpointItem;


const BATCH = 256;
const READ_BATCH = 1000;
/** The longest a station's events are held back (hold()), whatever happens to the hand-over. */
const MAX_HOLD_MS = 10_000;

export interface StreamCounters {
  appended: number;
  /** Dropped because the outbox was full (Redis away too long). */
  droppedForBytes: number;
  /** Binlog events and checkpoints refused because their lease had passed to another node. */
  fencedOut: number;
  read: number;
  readErrors: number;
}

export class EventOutbox {
  #items: Item[] = [];
  #bytes = 0;
  #lastBatch = 0;
  /** The newest seq Redis gave this node's events, per station: a floor for the next ones even before this node has
   * read its own events back (it may read every CLUSTER_QUIET_MS), in case Redis lost its counters meanwhile. */
  readonly #given = new Map<string, number>();
  #flushing = false;
  #scheduled = false;
  /** The pacing timer of a lingering append. */
  #lingering: NodeJS.Timeout | undefined;
  /** The batch on its way to Redis: its fence, its items, and whether that lease ended meanwhile. */
  #inFlight: { readonly fence: string; readonly items: readonly Item[]; ended: boolean } | undefined;
  /** Stations whose events wait for the node they came from (hold()): how many holds, what waits, until when. */
  readonly #held = new Map<string, { holds: number; readonly items: EventItem[]; readonly timer: NodeJS.Timeout }>();
  /** Callers of flushed(): told once nothing of their station is left here. */
  #waiters: { readonly chargeBoxId: string; readonly done: () => void }[] = [];
  /** Told of this node's events that will never be appended, so the event model forgets their ids (sequencer.ts). */
  #unpublished: (events: readonly UnsequencedEvent[]) => void = () => undefined;
  readonly counters: StreamCounters;

  constructor(
    private readonly redis: RedisLink,
    private readonly keys: ClusterKeys,
    private readonly maxLen: number,
    private readonly maxBytes: number,
    counters: StreamCounters,
    private readonly logger: Logger,
    /** How long events wait for company: a busy node sends one script per batch, not one per event. A function is
     * asked per batch with the events queued and the size of the last batch (cluster/index.ts: longer while no node
     * has anyone waiting for events, none while events come one at a time); 0 sends in this turn of the event loop. */
    private readonly lingerMs: number | ((queued: number, lastBatch: number) => number) = 0,
  ) {
    this.counters = counters;
    redis.onUp(() => this.#schedule());
  }

  get queued(): { readonly items: number; readonly bytes: number } {
    return { items: this.#items.length, bytes: this.#bytes };
  }

  event(event: UnsequencedEvent, fence: string): void {
    this.#add({ kind: 'event', fence, event, bytes: event.fields.length + event.chargeBoxId.length });
  }

  /**
   * Holds the station's events (not the binlog's) here until unhold() is called as often, or MAX_HOLD_MS passed:
   * the node the station came from appends what it still has of it first, so the station's seqs follow its story.
   */
  hold(chargeBoxId: string): void {
    const held = this.#held.get(chargeBoxId);
    if (held) {
      held.holds++;
      return;
    }
    const timer = setTimeout(() => this.#letGo(chargeBoxId), MAX_HOLD_MS);
    timer.unref();
    this.#held.set(chargeBoxId, { holds: 1, items: [], timer });
  }

  unhold(chargeBoxId: string): void {
    const held = this.#held.get(chargeBoxId);
    if (held && --held.holds <= 0) this.#letGo(chargeBoxId);
  }

  #letGo(chargeBoxId: string): void {
    const held = this.#held.get(chargeBoxId);
    if (!held) return;
    this.#held.delete(chargeBoxId);
    clearTimeout(held.timer);
    if (held.items.length === 0) return;
    this.#items.push(...held.items);
    this.#schedule();
  }

  /**
   * Resolves once none of the station's events queued so far is left here (appended, or dropped for good), or after
   * `timeoutMs` (Redis away): what lingers for the quiet pace goes now.
   */
  flushed(chargeBoxId: string, timeoutMs: number): Promise<void> {
    if (!this.#holdsAny(chargeBoxId)) return Promise.resolve();
    return new Promise((resolve) => {
      const waiter = {
        chargeBoxId,
        done: () => {
          clearTimeout(timer);
          this.#waiters = this.#waiters.filter((w) => w !== waiter);
          resolve();
        },
      };
      const timer = setTimeout(waiter.done, timeoutMs);
      this.#waiters.push(waiter);
      this.hurry();
    });
  }

  #holdsAny(chargeBoxId: string): boolean {
    const of = (i: Item): boolean => i.kind === 'event' && i.event.chargeBoxId === chargeBoxId;
    return this.#items.some(of) || (this.#inFlight?.items.some(of) ?? false) || (this.#held.get(chargeBoxId)?.items.length ?? 0) > 0;
  }

  /** Tells the callers of flushed() whose station has nothing left here (rare: only while a station moves). */
  #tellWaiters(): void {
    if (this.#waiters.length === 0) return;
    for (const w of [...this.#waiters]) if (!this.#holdsAny(w.chargeBoxId)) w.done();
  }

  onUnpublished(fn: (events: readonly UnsequencedEvent[]) => void): void {
    this.#unpublished = fn;
  }

  /** Events that will never be appended (their lease has passed on, the outbox was full). */
  unpublished(events: readonly UnsequencedEvent[]): void {
    if (events.length > 0) this.#unpublished(events);
  }

  checkpoint(json: string, fence: string, landed?: () => void): void {
    this.#add({ kind: 'checkpoint', fence, json, bytes: json.length, landed });
  }

  /** A lease ended: what it had not yet published never will be (the next holder re-reads from the checkpoint). A
   * batch on its way to Redis is not in the queue: the script decides about it. */
  dropFence(fence: string): void {
    if (this.#inFlight?.fence === fence) this.#inFlight.ended = true;
    const dropped = this.#items.filter((i) => i.fence === fence);
    if (dropped.length === 0) return;
    this.#items = this.#items.filter((i) => i.fence !== fence);
    this.#bytes -= dropped.reduce((n, i) => n + i.bytes, 0);
    this.counters.fencedOut += dropped.length;
    this.unpublished(eventsOf(dropped));
  }

  #add(item: Item): void {
    if (this.#bytes + item.bytes > this.maxBytes) {
      this.counters.droppedForBytes++;
      if (item.kind === 'event') this.unpublished([item.event]);
      return;
    }
    this.#bytes += item.bytes;
    const held = item.kind === 'event' && item.fence === '' ? this.#held.get(item.event.chargeBoxId) : undefined;
    if (held) {
      held.items.push(item as EventItem);
      return;
    }
    this.#items.push(item);
    this.#schedule();
  }

  /** Appends now what lingers for the stream's pacing (someone here or on a peer now waits for events). */
  hurry(): void {
    if (this.#lingering === undefined) return;
    clearTimeout(this.#lingering);
    this.#lingering = undefined;
    this.#scheduled = false;
    void this.#flush();
  }

  #schedule(): void {
    if (this.#scheduled || this.#flushing) return;
    this.#scheduled = true;
    const run = (): void => {
      this.#lingering = undefined;
      this.#scheduled = false;
      void this.#flush();
    };
    // Binlog events and checkpoints (fenced by the lease) never linger: events waiting in a leader that dies are
    // read again by the next one only from the last checkpoint that reached Redis, so the shorter the wait, the
    // less a kill -9 costs (docs/cluster.md, "Limits").
    const fenced = this.#items.some((i) => i.fence !== '');
    const ms = fenced ? 0 : typeof this.lingerMs === 'number' ? this.lingerMs : this.lingerMs(this.#items.length, this.#lastBatch);
    // No timer for no wait: a timer that fires after the process went idle wakes it once more (BENCHMARKS.md).
    if (ms > 0) this.#lingering = setTimeout(run, ms);
    else setImmediate(run);
  }

  /** The script by its digest (loaded again after a Redis restart emptied its script cache). */
  async #append(args: (string | number)[]): Promise<unknown> {
    const { client } = this.redis;
    try {
      return await client.evalsha(APPEND_SHA, 4, ...args);
    } catch (err) {
      if (!String(err).includes('NOSCRIPT')) throw err;
      return client.eval(APPEND, 4, ...args);
    }
  }

  async #flush(): Promise<void> {
    if (this.#flushing || !this.redis.up) return;
    this.#flushing = true;
    try {
      while (this.#items.length > 0 && this.redis.up) {
        const fence = this.#items[0]!.fence;
        let n = 0;
        while (n < this.#items.length && n < BATCH && this.#items[n]!.fence === fence && this.#items[n]!.kind === 'event') n++;
        // A checkpoint rides with the events before it, so the position never passes an event not yet in the stream.
        const next = this.#items[n];
        const cp = next?.fence === fence && next.kind === 'checkpoint' ? next.json : '';
        // Off the queue while on its way: a lease lost meanwhile (dropFence) leaves this batch to the script's verdict,
        // and what is queued behind it is never taken for it.
        const sent = this.#items.splice(0, n + (cp ? 1 : 0));
        const sentBytes = sent.reduce((s, i) => s + i.bytes, 0);
        this.#bytes -= sentBytes;
        const events = eventsOf(sent);
        const batch = events.flatMap((e) => [e.chargeBoxId, Math.max(e.floor, this.#given.get(e.chargeBoxId) ?? 0), e.fields]);
        let r: unknown;
        const flight = (this.#inFlight = { fence, items: sent, ended: false });
        try {
          r = await this.#append([this.keys.events, this.keys.lease, this.keys.checkpoint, this.keys.seqs, fence, this.maxLen, cp, ...batch]);
        } catch (err) {
          // Sent again once Redis is back, unless its lease ended meanwhile: then it never will be (it may have
          // landed before the connection dropped; an id read back from the stream is still known as seen).
          if (flight.ended) {
            this.counters.fencedOut += sent.length;
            this.unpublished(events);
          } else {
            this.#items.unshift(...sent);
            this.#bytes += sentBytes;
          }
          throw err;
        } finally {
          this.#inFlight = undefined;
        }
        if (r === -1) {
          this.logger.warn({ events: n }, 'binlog events not published: the lease has passed to another node');
          this.counters.fencedOut += sent.length;
          this.unpublished(events);
          this.dropFence(fence);
        } else {
          this.counters.appended += n;
          (r as number[]).forEach((seq, k) => this.#given.set(events[k]!.chargeBoxId, seq));
          for (const i of sent) if (i.kind === 'checkpoint') i.landed?.();
        }
        this.#lastBatch = n;
        this.#tellWaiters();
      }
    } catch (err) {
      // Redis went away mid-flush: the items stay and go when it is back (a batch that did land is read twice
      // and dropped by id in the sequencer).
      this.logger.debug({ err: String(err) }, 'event stream append failed; retrying when Redis is back');
    } finally {
      this.#flushing = false;
      this.#tellWaiters();
      if (this.#items.length > 0 && this.redis.up) this.#schedule();
    }
  }
}

function eventsOf(items: readonly Item[]): UnsequencedEvent[] {
  return items.flatMap((i) => (i.kind === 'event' ? [i.event] : []));
}

/** Reads the stream from a position on, forever, with its own (blocking) connection. */
export class EventStreamReader {
  #position: string;
  #running = false;
  #loop: Promise<void> | undefined;
  /** Ends the paced wait between two reads early (wake()). */
  #endNap: (() => void) | undefined;

  constructor(
    private readonly redis: RedisLink,
    private readonly keys: ClusterKeys,
    from: string,
    private readonly sink: (event: GatewayEvent, line: string) => void,
    private readonly counters: StreamCounters,
    private readonly logger: Logger,
    /** At most one read per this long while events flow, so each round trip carries a batch (the first event after
     * a quiet spell is read at once). A function is asked per read with the entries it returned: a paced read wakes
     * the node twice (the reply, then the timer), which costs more CPU than the events it carries (BENCHMARKS.md,
     * "Cluster"), so pacing pays only once reads return several entries. */
    private readonly intervalMs: number | ((got: number) => number) = 0,
  ) {
    this.#position = from;
  }

  get position(): string {
    return this.#position;
  }

  start(): void {
    this.#running = true;
    this.#loop = this.#run();
  }

  /** Reads again now instead of at the end of the paced wait (a REST read wants what the stream holds). */
  wake(): void {
    this.#endNap?.();
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.wake();
    this.redis.close();
    await this.#loop;
  }

  #nap(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#endNap = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#endNap = done;
    });
  }

  async #run(): Promise<void> {
    while (this.#running) {
      if (!this.redis.up) {
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      try {
        const started = Date.now();
        const res = await this.redis.client.xread('COUNT', READ_BATCH, 'BLOCK', 1000, 'STREAMS', this.keys.events, this.#position);
        let got = 0;
        for (const [, entries] of res ?? []) {
          got += entries.length;
          for (const [id, fields] of entries) {
            this.#position = id;
            const line = fields[1];
            if (line === undefined) continue;
            this.counters.read++;
            try {
              this.sink(JSON.parse(line) as GatewayEvent, line);
            } catch (err) {
              this.logger.error({ err: String(err), id }, 'event from the cluster stream could not be applied');
            }
          }
        }
        const wait = started + (typeof this.intervalMs === 'number' ? this.intervalMs : this.intervalMs(got)) - Date.now();
        if (got > 0 && got < READ_BATCH && wait > 0) await this.#nap(wait);
      } catch (err) {
        if (!this.#running) return;
        this.counters.readErrors++;
        this.logger.debug({ err: String(err) }, 'event stream read failed');
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }
}

/**
 * Resolves once this node has read the stream up to its newest entry as of the call (or after `timeoutMs`): a new
 * binlog leader first learns every event the previous one published, so its de-dup by id drops what it reads again.
 */
export async function caughtUp(redis: RedisLink, keys: ClusterKeys, position: () => string, timeoutMs = 5000, pollMs = 20): Promise<void> {
  if (!redis.up) return;
  const newest = await redis.client.xrevrange(keys.events, '+', '-', 'COUNT', 1).then((r) => r[0]?.[0], () => undefined);
  if (newest === undefined) return;
  const deadline = Date.now() + timeoutMs;
  while (compareIds(position(), newest) < 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, pollMs));
}

/** Orders stream ids ("ms-n"; "0" is before all). */
export function compareIds(a: string, b: string): number {
  const [am = 0, an = 0] = a.split('-').map(Number);
  const [bm = 0, bn = 0] = b.split('-').map(Number);
  return am !== bm ? am - bm : an - bn;
}
