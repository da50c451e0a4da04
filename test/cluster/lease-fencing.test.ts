// The fencing behind the binlog lease, on a real Redis: a holder whose lease passed to another node (it paused
// past its expiry) cannot append events or move the checkpoint any more, whatever it still has queued.
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { EventOutbox, type StreamCounters } from '../../src/cluster/event-stream.js';
import { ClusterKeys } from '../../src/cluster/keys.js';
import { BinlogLease } from '../../src/cluster/lease.js';
import type { UnsequencedEvent } from '../../src/events/index.js';
import { redisForTests, until } from './support.js';

const { link } = redisForTests();
const log = pino({ level: 'silent' });

const counters = (): StreamCounters => ({ appended: 0, droppedForBytes: 0, fencedOut: 0, read: 0, readErrors: 0 });
const input = (n: number): UnsequencedEvent => ({
  chargeBoxId: 'CP-F', id: `steve:test:${n}`, source: 'steve', floor: 0,
  fields: JSON.stringify({ id: `steve:test:${n}`, type: 'heartbeat', chargeBoxId: 'CP-F', timestamp: new Date().toISOString(), receivedAt: new Date().toISOString(), source: 'steve', data: {} }),
});

describe('binlog lease fencing', () => {
  it('refuses the old holder\'s events and checkpoint once another node holds the lease', async () => {
    const keys = new ClusterKeys('fence-test');
    const [ra, rb] = [await link(), await link()];
    const lostA: string[] = [];
    const a = new BinlogLease(ra, keys, () => 'a', 400, { acquired: () => undefined, lost: (why) => lostA.push(why) }, log);
    const b = new BinlogLease(rb, keys, () => 'b', 400, { acquired: () => undefined, lost: () => undefined }, log);
    a.start();
    await until(() => a.fence, 3000, 'a holds the lease');
    b.start();
    const fenceA = a.fence as string;
    const ca = counters();
    const outA = new EventOutbox(ra, keys, 1000, 1 << 20, ca, log);
    outA.event(input(1), fenceA);
    outA.checkpoint(JSON.stringify({ file: 'binlog.000001', position: 100 }), fenceA);
    await until(() => ca.appended === 1, 3000, 'first append');
    expect(await ra.client.get(keys.checkpoint)).toContain('"position":100');
    expect(b.fence).toBeUndefined();

    // A "pauses": its lease expires in Redis, B takes it with a higher token.
    await ra.client.del(keys.lease);
    await until(() => b.fence, 3000, 'b takes the lease');
    expect(Number(b.fence!.split(' ')[0])).toBeGreaterThan(Number(fenceA.split(' ')[0]));
    // What A had queued under its old fence never lands.
    outA.event(input(2), fenceA);
    outA.checkpoint(JSON.stringify({ file: 'binlog.000001', position: 999 }), fenceA);
    await until(() => ca.fencedOut >= 2, 3000, 'old holder fenced out');
    expect(await ra.client.xlen(keys.events)).toBe(1);
    expect(await ra.client.get(keys.checkpoint)).toContain('"position":100');
    // And A learns it lost the lease at its next renewal.
    await until(() => lostA.length > 0, 3000, 'a notices');
    expect(a.fence).toBeUndefined();
    await a.stop();
    await b.stop();
  });

  it('a lease lost while its batch is on the way: the batch gets the script\'s verdict, what is queued behind it is appended, what is dropped is reported', async () => {
    const keys = new ClusterKeys('flight-test');
    const ra = await link();
    const a = new BinlogLease(ra, keys, () => 'a', 400, { acquired: () => undefined, lost: () => undefined }, log);
    a.start();
    const fenceA = await until(() => a.fence, 3000, 'a holds the lease');
    const ca = counters();
    const out = new EventOutbox(ra, keys, 1000, 1 << 20, ca, log);
    const unpublished: string[] = [];
    out.onUnpublished((events) => unpublished.push(...events.map((e) => e.id)));
    out.event(input(1), fenceA);
    await new Promise((r) => setImmediate(r)); // the batch with event 1 is on its way
    out.event(input(2), fenceA);
    out.dropFence(fenceA); // the lease ends: event 2 never goes, event 1 is the script's to judge
    out.event({ ...input(3), source: 'station' }, ''); // a wire event, queued behind
    await until(() => ca.appended === 2, 3000, 'events 1 and 3 appended');
    const ids = (await ra.client.xrange(keys.events, '-', '+')).map(([, f]) => (JSON.parse(f[1]!) as { id: string }).id);
    expect(ids).toEqual(['steve:test:1', 'steve:test:3']);
    expect(unpublished).toEqual(['steve:test:2']);
    expect(out.queued.items).toBe(0);
    await a.stop();
  });
});
