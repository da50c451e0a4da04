// Turns producer inputs (bus 'eventInput') into sequenced events (bus 'event'): applies the source rule,
// drops repeats by id, stamps seq (+1 per station) and records each event in the history before anyone sees it.
// seq and the recent ids are restored from the history, so both survive restarts.
// In cluster mode (SharedSequencing) the node that produced an input does the rule, de-dup and serialising once and
// hands the event to the shared store, which gives it the station's next seq; every node then records and emits
// the sequenced events of every node, in the store's one order.
import type { Logger } from 'pino';
import type { Bus } from './bus.js';
import type { EventInput, EventSource, GatewayEvent } from './catalogue.js';
import type { EventHistory } from './history.js';
import type { SourceRule } from './source-rule.js';

export interface SequencerCounters {
  received: number;
  emitted: number;
  duplicates: number;
}

/** An event that passed the rule and de-dup on this node, waiting for its seq from the shared store. */
export interface UnsequencedEvent {
  readonly chargeBoxId: string;
  /** The event's id (also inside `fields`): what this node forgets again if the event never reaches the store. */
  readonly id: string;
  readonly source: EventSource;
  /** The station's newest seq this node knows: the store continues after the larger of it and its own. */
  readonly floor: number;
  /** The event as the history keeps it, without seq: a JSON object text ("{...}"). */
  readonly fields: string;
}

/**
 * An event id made from something this node counts on its own (message-log ids, device-log line numbers), with the
 * node in front in cluster mode (`scope`): there the same station's events from two nodes meet in one de-dup by id.
 * The scope is asked each time: a node's default id is known only once it listens (src/cluster, from host and port).
 */
export function nodeScopedId(scope: (() => string) | undefined, id: string): string {
  return scope === undefined ? id : `${scope()}/${id}`;
}

/** Cluster mode: seq comes from a store every node shares (src/cluster). */
export interface SharedSequencing {
  /** This node's id: wire events' ids carry it, because message-log ids (which they are made from) are per node. */
  readonly nodeId: string;
  publish(event: UnsequencedEvent): void;
  /**
   * Every node's sequenced events in the store's one order, each with its JSON line; and this node's published
   * events that will never reach the store (refused by the binlog lease's fence, or dropped from a full outbox).
   */
  sequenced(accept: (event: GatewayEvent, line: string) => void, unpublished: (events: readonly UnsequencedEvent[]) => void): () => void;
}

/** Insertion-ordered set that forgets its oldest entries beyond a bound. */
class RecentIds {
  readonly #ids = new Set<string>();
  constructor(private readonly max: number) {}
  has(id: string): boolean {
    return this.#ids.has(id);
  }
  delete(id: string): void {
    this.#ids.delete(id);
  }
  add(id: string): void {
    this.#ids.add(id);
    if (this.#ids.size > this.max) {
      const oldest = this.#ids.values().next();
      if (!oldest.done) this.#ids.delete(oldest.value);
    }
  }
}

export interface SequencerOptions {
  readonly bus: Bus;
  readonly history: EventHistory;
  readonly rule: SourceRule;
  readonly logger: Logger;
  /** Ids remembered per station for de-duplication. */
  readonly recentIdsPerStation?: number;
  /** Cluster mode: seq from the shared store, and every node's events recorded here. */
  readonly shared?: SharedSequencing;
}

const SEQ_ZERO = '{"seq":0,';
const publishedKey = (chargeBoxId: string, id: string): string => `${chargeBoxId}\n${id}`;
/** More than the outbox holds (16 MiB by default, a few hundred bytes an event). */
const MAX_PUBLISHED = 262_144;

export class Sequencer {
  readonly counters: SequencerCounters = { received: 0, emitted: 0, duplicates: 0 };
  readonly #opts: SequencerOptions;
  readonly #seq = new Map<string, number>();
  readonly #recent = new Map<string, RecentIds>();
  /** Cluster mode: station and id of events this node published and has not yet read back sequenced (ids are only
   * unique per station: another node's message log numbers its frames too). */
  readonly #published = new Set<string>();
  #off: (() => void) | undefined;
  #offShared: (() => void) | undefined;

  constructor(opts: SequencerOptions) {
    this.#opts = opts;
  }

  /** Picks up where the history left off. Call before start(). */
  seedFromHistory(): void {
    const { history, rule } = this.#opts;
    for (const id of history.stations()) {
      this.#seq.set(id, history.lastSeq(id));
      const recent = this.#recentFor(id);
      const events = history.recent(id);
      for (const e of events) recent.add(e.id);
      rule.seed(events);
    }
  }

  start(): void {
    this.#off ??= this.#opts.bus.on('eventInput', (input) => this.accept(input));
    this.#offShared ??= this.#opts.shared?.sequenced((event, line) => this.#record(event, line), (events) => this.#unpublished(events));
  }

  stop(): void {
    this.#off?.();
    this.#off = undefined;
    this.#offShared?.();
    this.#offShared = undefined;
  }

  lastSeq(chargeBoxId: string): number {
    return this.#seq.get(chargeBoxId) ?? 0;
  }

  accept(input: EventInput): void {
    this.counters.received++;
    let passed: EventInput[];
    try {
      passed = this.#opts.rule.apply(input);
    } catch (err) {
      // A producer's odd input must not take the bus down; it is logged and dropped.
      this.#opts.logger.error({ err, id: input.id, type: input.type }, 'event input rejected');
      return;
    }
    for (const e of passed) this.#emit(e);
  }

  #emit(input: EventInput): void {
    const recent = this.#recentFor(input.chargeBoxId);
    if (recent.has(input.id)) {
      this.counters.duplicates++;
      return;
    }
    recent.add(input.id);
    const shared = this.#opts.shared;
    if (shared) {
      // Serialised once, here, as the history keeps it; seq first, so the store can write its own in its place.
      const kept = this.#opts.history.prepare({ seq: 0, ...input } as GatewayEvent);
      const fields = kept.line.startsWith(SEQ_ZERO) ? `{${kept.line.slice(SEQ_ZERO.length)}` : JSON.stringify({ ...kept.event, seq: undefined });
      this.#published.add(publishedKey(input.chargeBoxId, input.id));
      // Bounded: an event that never comes back (Redis lost it, the lease passed on) is forgotten in time.
      if (this.#published.size > MAX_PUBLISHED) this.#published.delete(this.#published.values().next().value as string);
      shared.publish({ chargeBoxId: input.chargeBoxId, id: input.id, source: input.source, floor: this.lastSeq(input.chargeBoxId), fields });
      return;
    }
    const seq = (this.#seq.get(input.chargeBoxId) ?? 0) + 1;
    this.#seq.set(input.chargeBoxId, seq);
    // Everyone sees the event as the history keeps it (a finding in place of one too large to keep).
    this.#deliver(this.#opts.history.append({ ...input, seq } as GatewayEvent));
  }

  /**
   * Cluster mode: events this node published that the store will never have (their binlog lease passed on before
   * they were appended). Their ids were taken as seen when they were published; kept, a binlog reader that reads
   * the same rows again (this node taking the lease again and resuming from the last checkpoint in Redis) would drop
   * them as repeats and they would be lost. An id already read back from the store (another node's copy) stays.
   */
  #unpublished(events: readonly UnsequencedEvent[]): void {
    for (const e of events) {
      if (this.#published.delete(publishedKey(e.chargeBoxId, e.id))) this.#recent.get(e.chargeBoxId)?.delete(e.id);
    }
  }

  /** Cluster mode: a sequenced event from the shared store (this node's or another's). */
  #record(event: GatewayEvent, line: string): void {
    // Seq only grows in the store's order: anything not newer was read before (a restart resumes a little behind).
    if (event.seq <= this.lastSeq(event.chargeBoxId)) {
      this.counters.duplicates++;
      return;
    }
    this.#seq.set(event.chargeBoxId, event.seq);
    if (!this.#published.delete(publishedKey(event.chargeBoxId, event.id))) {
      const recent = this.#recentFor(event.chargeBoxId);
      // An id already recorded came twice (a batch that landed in Redis before the connection dropped was sent
      // again; a new binlog leader read a row again): every node drops it alike, leaving its seq unused.
      if (recent.has(event.id)) {
        this.counters.duplicates++;
        return;
      }
      // Another node's: remembered as if it had passed here, so a repeat or twin arriving here later is known.
      recent.add(event.id);
      this.#opts.rule.seed([event]);
    }
    this.#deliver(this.#opts.history.append(event, line));
  }

  #deliver(event: GatewayEvent): void {
    this.counters.emitted++;
    try {
      this.#opts.bus.emit('event', event);
    } catch (err) {
      // A consumer's bug stays with the consumer: the event is recorded and the producer carries on.
      this.#opts.logger.error({ err, id: event.id, type: event.type }, 'event listener failed');
    }
  }

  #recentFor(chargeBoxId: string): RecentIds {
    let r = this.#recent.get(chargeBoxId);
    if (!r) this.#recent.set(chargeBoxId, (r = new RecentIds(this.#opts.recentIdsPerStation ?? 4096)));
    return r;
  }
}
