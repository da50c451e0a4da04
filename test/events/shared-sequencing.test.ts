// The sequencer in cluster mode, against a stand-in for the shared store that numbers events as the Redis script
// does: this node's inputs are published once (rule and de-dup here), every node's come back sequenced and are
// recorded as they are; an id that comes back twice is dropped alike on every node; an event the store refused is
// not taken as seen.
import { describe, expect, it } from 'vitest';
import { Bus } from '../../src/events/bus.js';
import type { EventInput, GatewayEvent } from '../../src/events/catalogue.js';
import { createEventModel, type SharedSequencing, type UnsequencedEvent } from '../../src/events/index.js';
import { silent, tempDir } from './helpers.js';

/** Numbers events per station like the append script (after the larger of its count and the floor). */
class Store implements SharedSequencing {
  readonly nodeId = 'node-test';
  readonly published: UnsequencedEvent[] = [];
  readonly #seq = new Map<string, number>();
  #accept: ((e: GatewayEvent, line: string) => void) | undefined;
  #unpublished: ((events: readonly UnsequencedEvent[]) => void) | undefined;
  publish(e: UnsequencedEvent): void {
    this.published.push(e);
  }
  sequenced(accept: (e: GatewayEvent, line: string) => void, unpublished: (events: readonly UnsequencedEvent[]) => void): () => void {
    this.#accept = accept;
    this.#unpublished = unpublished;
    return () => (this.#accept = undefined);
  }
  /** What this node published is refused, as the append script refuses a binlog lease that has passed on. */
  refuse(): void {
    this.#unpublished?.(this.published.splice(0));
  }
  /** Appends an event without seq ("{...}") and hands it to the node, as its reader would. */
  deliver(chargeBoxId: string, fields: string, floor = 0): number {
    const seq = Math.max(this.#seq.get(chargeBoxId) ?? 0, floor) + 1;
    this.#seq.set(chargeBoxId, seq);
    const line = `{"seq":${seq},${fields.slice(1)}`;
    this.#accept?.(JSON.parse(line) as GatewayEvent, line);
    return seq;
  }
  /** Delivers what this node published, in order. */
  flush(): void {
    for (const e of this.published.splice(0)) this.deliver(e.chargeBoxId, e.fields, e.floor);
  }
}

const at = '2026-12-07T00:00:00.000Z';
const input = (id: string, status: string): EventInput => ({
  id, type: 'status', chargeBoxId: 'CP-SH', connectorId: 1, timestamp: at, receivedAt: at, source: 'station',
  data: { status, errorCode: 'NoError', synthetic: false },
} as EventInput);
const fields = (e: EventInput): string => JSON.stringify(e);

/** An event model on a fresh bus with a stand-in store, started, and the events it emits. */
async function started(): Promise<{ bus: Bus; store: Store; model: ReturnType<typeof createEventModel>; emitted: GatewayEvent[] }> {
  const bus = new Bus();
  const store = new Store();
  const model = createEventModel({ bus, dataDir: tempDir(), logger: silent, binlogConfigured: false, shared: store });
  const emitted: GatewayEvent[] = [];
  bus.on('event', (e) => emitted.push(e));
  await model.start();
  return { bus, store, model, emitted };
}

describe('sequencer with a shared store', () => {
  it('publishes once, records every node\'s events in the store\'s order, drops an id that comes twice', async () => {
    const { bus, store, model, emitted } = await started();

    store.deliver('CP-SH', fields(input('remote-1', 'Preparing'))); // another node's
    bus.emit('eventInput', input('local-1', 'Charging'));
    bus.emit('eventInput', input('local-1', 'Charging')); // a repeat here: not published again
    expect(store.published).toHaveLength(1);
    expect(store.published[0]).toMatchObject({ chargeBoxId: 'CP-SH', source: 'station', floor: 1 });
    expect(store.published[0]!.fields.startsWith('{"id":"local-1"')).toBe(true);
    expect(emitted).toHaveLength(1); // this node's event waits for its seq
    // Ids are unique per station only: another node's frame log numbers its own (log:1 on every node).
    store.deliver('CP-OTHER', fields({ ...input('local-1', 'Available'), chargeBoxId: 'CP-OTHER' }));
    store.flush();
    store.deliver('CP-SH', fields(input('remote-1', 'Preparing'))); // sent twice by its node: seq 3 stays unused
    store.deliver('CP-SH', fields(input('remote-2', 'Finishing')));

    expect(emitted.map((e) => [e.chargeBoxId, e.id, e.seq])).toEqual([
      ['CP-SH', 'remote-1', 1], ['CP-OTHER', 'local-1', 1], ['CP-SH', 'local-1', 2], ['CP-SH', 'remote-2', 4],
    ]);
    expect(model.history.since('CP-SH', 0).map((e) => e.seq)).toEqual([1, 2, 4]);
    expect(model.state.snapshot('CP-SH')?.connectors.find((c) => c.connectorId === 1)?.status).toBe('Finishing');
    expect(model.stats().duplicates).toBe(2);
    await model.stop();
  });

  it('forgets the id of an event the store refused, so reading its row again publishes it', async () => {
    const { bus, store, model, emitted } = await started();

    bus.emit('eventInput', input('row-1', 'Charging'));
    bus.emit('eventInput', input('row-2', 'Available'));
    store.refuse(); // the lease passed on before they were appended
    bus.emit('eventInput', input('row-1', 'Charging')); // read again from the checkpoint
    expect(store.published.map((e) => e.id)).toEqual(['row-1']);
    // One that another node's copy brought back before this node's was refused stays known as seen.
    bus.emit('eventInput', input('row-2', 'Available'));
    store.deliver('CP-SH', fields(input('row-2', 'Available')));
    store.refuse();
    bus.emit('eventInput', input('row-2', 'Available'));
    expect(store.published).toHaveLength(0);
    expect(emitted.map((e) => e.id)).toEqual(['row-2']);
    await model.stop();
  });
});
