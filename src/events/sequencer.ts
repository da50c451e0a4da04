// Turns producer inputs (bus 'eventInput') into sequenced events (bus 'event'): applies the source rule,
// drops repeats by id, stamps seq (+1 per station) and records each event in the history before anyone sees it.
// seq and the recent ids are restored from the history, so both survive restarts.
import type { Logger } from 'pino';
import type { Bus } from './bus.js';
import type { EventInput, GatewayEvent } from './catalogue.js';
import type { EventHistory } from './history.js';
import type { SourceRule } from './source-rule.js';

export interface SequencerCounters {
  received: number;
  emitted: number;
  duplicates: number;
}

/** Insertion-ordered set that forgets its oldest entries beyond a bound. */
class RecentIds {
  readonly #ids = new Set<string>();
  constructor(private readonly max: number) {}
  has(id: string): boolean {
    return this.#ids.has(id);
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
  /** Where inputs come from instead of the bus's eventInput (cluster mode: the shared stream, src/cluster). */
  readonly inputs?: (accept: (input: EventInput) => void) => () => void;
}

export class Sequencer {
  readonly counters: SequencerCounters = { received: 0, emitted: 0, duplicates: 0 };
  readonly #opts: SequencerOptions;
  readonly #seq = new Map<string, number>();
  readonly #recent = new Map<string, RecentIds>();
  #off: (() => void) | undefined;

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
    const accept = (input: EventInput): void => this.accept(input);
    this.#off ??= this.#opts.inputs ? this.#opts.inputs(accept) : this.#opts.bus.on('eventInput', accept);
  }

  stop(): void {
    this.#off?.();
    this.#off = undefined;
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
    const seq = (this.#seq.get(input.chargeBoxId) ?? 0) + 1;
    this.#seq.set(input.chargeBoxId, seq);
    // Everyone sees the event as the history keeps it (a finding in place of one too large to keep).
    const event = this.#opts.history.append({ ...input, seq } as GatewayEvent);
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
