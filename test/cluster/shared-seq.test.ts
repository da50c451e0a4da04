// The append script behind the cluster's seq, on a real Redis: events of one station published by two nodes at once
// (its holder's wire events, the binlog leader's SteVe events) get one gap-free seq in stream order, and a floor
// from a node's history keeps the count going when Redis lost it.
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { EventOutbox, EventStreamReader, type StreamCounters } from '../../src/cluster/event-stream.js';
import { ClusterKeys } from '../../src/cluster/keys.js';
import type { GatewayEvent } from '../../src/events/catalogue.js';
import type { UnsequencedEvent } from '../../src/events/index.js';
import { redisForTests, until } from './support.js';

const { link } = redisForTests();
const log = pino({ level: 'silent' });

const BATCH_MS = 50;
const counters = (): StreamCounters => ({ appended: 0, droppedForBytes: 0, fencedOut: 0, read: 0, readErrors: 0 });
const event = (id: string, floor = 0): UnsequencedEvent => ({
  chargeBoxId: 'CP-S', id, source: 'station', floor,
  fields: JSON.stringify({ id, type: 'heartbeat', chargeBoxId: 'CP-S', timestamp: '2026-12-07T00:00:00.000Z', receivedAt: '2026-12-07T00:00:00.000Z', source: 'station', data: {} }),
});

async function readAll(keys: ClusterKeys): Promise<{ event: GatewayEvent; line: string }[]> {
  const read: { event: GatewayEvent; line: string }[] = [];
  const reader = new EventStreamReader(await link(), keys, '0', (e, line) => read.push({ event: e, line }), counters(), log);
  reader.start();
  const total = Number(await (await link()).client.xlen(keys.events));
  await until(() => read.length >= total, 5000, 'stream read');
  await reader.stop();
  return read;
}

describe('seq from the shared store', () => {
  it('two nodes publishing for one station get one gap-free seq, written first in each line', async () => {
    const keys = new ClusterKeys('seq-test');
    const [ca, cb] = [counters(), counters()];
    const a = new EventOutbox(await link(), keys, 10_000, 1 << 20, ca, log);
    const b = new EventOutbox(await link(), keys, 10_000, 1 << 20, cb, log);
    for (let i = 0; i < 200; i++) (i % 2 ? a : b).event(event(`e${i}`), '');
    await until(() => ca.appended + cb.appended === 200, 5000, 'appends');
    const read = await readAll(keys);
    expect(read.map((r) => r.event.seq)).toEqual(Array.from({ length: 200 }, (_, k) => k + 1));
    expect(new Set(read.map((r) => r.event.id)).size).toBe(200);
    expect(read[0]!.line.startsWith('{"seq":1,"id":')).toBe(true);
    expect(read[0]!.event).toMatchObject({ type: 'heartbeat', chargeBoxId: 'CP-S', source: 'station' });
  });

  it('continues after the larger of its own count and the publisher\'s floor', async () => {
    const keys = new ClusterKeys('floor-test');
    const c = counters();
    const out = new EventOutbox(await link(), keys, 10_000, 1 << 20, c, log);
    out.event(event('f1', 41), ''); // Redis knows nothing (emptied): the node's history says 41
    out.event(event('f2', 0), ''); // a node that knows less does not pull it back
    await until(() => c.appended === 2, 5000, 'appends');
    expect((await readAll(keys)).map((r) => r.event.seq)).toEqual([42, 43]);
  });

  it('a node that has not yet read back its own events still continues after their seq when Redis comes back empty', async () => {
    const keys = new ClusterKeys('own-floor-test');
    const c = counters();
    const out = new EventOutbox(await link(), keys, 10_000, 1 << 20, c, log);
    out.event(event('o1', 0), '');
    out.event(event('o2', 0), '');
    await until(() => c.appended === 2, 5000, 'appends');
    // Nothing read back (a node reading the stream every CLUSTER_QUIET_MS): its history still says 0. Redis loses it all.
    await (await link()).client.flushall();
    out.event(event('o3', 0), '');
    await until(() => c.appended === 3, 5000, 'append after the loss');
    expect((await readAll(keys)).map((r) => r.event.seq)).toEqual([3]);
  });

  it('a busy stream is appended and read in batches, not one round trip per event', async () => {
    const keys = new ClusterKeys('batch-test');
    const admin = await link();
    const calls = async (): Promise<Map<string, number>> => {
      const text = await admin.client.info('commandstats');
      return new Map([...text.matchAll(/^cmdstat_(\w+):calls=(\d+)/gm)].map((m) => [m[1]!, Number(m[2])]));
    };
    const c = counters();
    const out = new EventOutbox(await link(), keys, 10_000, 1 << 20, c, log, BATCH_MS);
    const read: number[] = [];
    const reader = new EventStreamReader(await link(), keys, '0', (e) => read.push(e.seq), counters(), log, BATCH_MS);
    reader.start();
    const before = await calls();
    // 300 events, each in its own turn of the event loop (one per millisecond or slower): without batching that is
    // 300 scripts and about 300 reads; with 50 ms batches a few dozen even if the machine stretches it to seconds.
    for (let i = 0; i < 300; i++) {
      out.event(event(`b${i}`), '');
      await new Promise((r) => setTimeout(r, 1));
    }
    await until(() => read.length === 300, 10_000, 'all read');
    const after = await calls();
    await reader.stop();
    const delta = (k: string): number => (after.get(k) ?? 0) - (before.get(k) ?? 0);
    expect(read).toEqual(Array.from({ length: 300 }, (_, k) => k + 1));
    expect(delta('evalsha') + delta('eval')).toBeLessThan(100);
    expect(delta('xread')).toBeLessThan(100);
  });
});
