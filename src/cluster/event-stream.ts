// The shared event stream: every node appends the event inputs it produces (wire events from its stations, and the
// binlog leader's SteVe events) to one Redis stream, and every node reads the whole stream in its one order into its
// own sequencer. Same inputs in the same order give the same per-station seq, history and state on every node.
// Appends wait in a bounded outbox (never on the relay path); binlog appends and the binlog checkpoint are written
// by one script that first checks the lease, so only the current holder's events and position land.
import type { Logger } from 'pino';
import type { EventInput } from '../events/catalogue.js';
import type { ClusterKeys } from './keys.js';
import type { RedisLink } from './redis.js';

const APPEND = `
if ARGV[1] ~= '' and redis.call('GET', KEYS[2]) ~= ARGV[1] then return -1 end
for i = 4, #ARGV do redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'e', ARGV[i]) end
if ARGV[3] ~= '' then redis.call('SET', KEYS[3], ARGV[3]) end
return #ARGV - 3`;

interface Item {
  /** '' for events that need no lease; else the lease value they were produced under. */
  readonly fence: string;
  readonly json: string;
  readonly kind: 'event' | 'checkpoint';
}

const BATCH = 256;

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
  #flushing = false;
  #scheduled = false;
  readonly counters: StreamCounters;

  constructor(
    private readonly redis: RedisLink,
    private readonly keys: ClusterKeys,
    private readonly maxLen: number,
    private readonly maxBytes: number,
    counters: StreamCounters,
    private readonly logger: Logger,
  ) {
    this.counters = counters;
    redis.onUp(() => this.#schedule());
  }

  get queued(): { readonly items: number; readonly bytes: number } {
    return { items: this.#items.length, bytes: this.#bytes };
  }

  event(input: EventInput, fence: string): void {
    this.#add({ fence, json: JSON.stringify(input), kind: 'event' });
  }

  checkpoint(json: string, fence: string): void {
    this.#add({ fence, json, kind: 'checkpoint' });
  }

  /** A lease ended: what it had not yet published never will be (the next holder re-reads from the checkpoint). */
  dropFence(fence: string): void {
    const before = this.#items.length;
    this.#items = this.#items.filter((i) => i.fence !== fence);
    this.#bytes = this.#items.reduce((n, i) => n + i.json.length, 0);
    this.counters.fencedOut += before - this.#items.length;
  }

  #add(item: Item): void {
    if (this.#bytes + item.json.length > this.maxBytes) {
      this.counters.droppedForBytes++;
      return;
    }
    this.#items.push(item);
    this.#bytes += item.json.length;
    this.#schedule();
  }

  #schedule(): void {
    if (this.#scheduled || this.#flushing) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      void this.#flush();
    });
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
        const cp = this.#items[n]?.fence === fence && this.#items[n]?.kind === 'checkpoint' ? this.#items[n]!.json : '';
        const take = n + (cp ? 1 : 0);
        const batch = this.#items.slice(0, n).map((i) => i.json);
        const r = await this.redis.client.eval(APPEND, 3, this.keys.events, this.keys.lease, this.keys.checkpoint, fence, this.maxLen, cp, ...batch);
        const done = this.#items.splice(0, take);
        this.#bytes -= done.reduce((s, i) => s + i.json.length, 0);
        if (Number(r) === -1) {
          this.logger.warn({ events: n }, 'binlog events not published: the lease has passed to another node');
          this.counters.fencedOut += take;
          this.dropFence(fence);
        } else this.counters.appended += n;
      }
    } catch (err) {
      // Redis went away mid-flush: the items stay and go when it is back (a batch that did land is read twice
      // and dropped by id in the sequencer).
      this.logger.debug({ err: String(err) }, 'event stream append failed; retrying when Redis is back');
    } finally {
      this.#flushing = false;
      if (this.#items.length > 0 && this.redis.up) this.#schedule();
    }
  }
}

/** Reads the stream from a position on, forever, with its own (blocking) connection. */
export class EventStreamReader {
  #position: string;
  #running = false;
  #loop: Promise<void> | undefined;

  constructor(
    private readonly redis: RedisLink,
    private readonly keys: ClusterKeys,
    from: string,
    private readonly sink: (input: EventInput, position: string) => void,
    private readonly counters: StreamCounters,
    private readonly logger: Logger,
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

  async stop(): Promise<void> {
    this.#running = false;
    this.redis.close();
    await this.#loop;
  }

  async #run(): Promise<void> {
    while (this.#running) {
      if (!this.redis.up) {
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      try {
        const res = await this.redis.client.xread('COUNT', 1000, 'BLOCK', 1000, 'STREAMS', this.keys.events, this.#position);
        for (const [, entries] of res ?? []) {
          for (const [id, fields] of entries) {
            this.#position = id;
            const json = fields[1];
            if (json === undefined) continue;
            this.counters.read++;
            try {
              this.sink(JSON.parse(json) as EventInput, id);
            } catch (err) {
              this.logger.error({ err: String(err), id }, 'event from the cluster stream could not be applied');
            }
          }
        }
      } catch (err) {
        if (!this.#running) return;
        this.counters.readErrors++;
        this.logger.debug({ err: String(err) }, 'event stream read failed');
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }
}
