// How the shared stream is paced (src/cluster/pacing.ts), the policy alone and then on a real Redis: while nobody
// waits for events a trickle goes in a few quiet batches; while someone waits, a lone event is appended and read at
// once instead of waiting out a batch interval (each wait is one more wake-up of the node, BENCHMARKS.md "Cluster").
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { EventOutbox, EventStreamReader, type StreamCounters } from '../../src/cluster/event-stream.js';
import { ClusterKeys } from '../../src/cluster/keys.js';
import { streamPacing } from '../../src/cluster/pacing.js';
import type { RedisLink } from '../../src/cluster/redis.js';
import type { UnsequencedEvent } from '../../src/events/index.js';
import { redisForTests, until } from './support.js';

describe('stream pacing policy', () => {
  it('waits the quiet time while nobody waits, nothing for a lone event, the batch time once events crowd', () => {
    let here = false;
    let anywhere = false;
    const p = streamPacing({ batchMs: 10, quietMs: 250 }, () => here, () => anywhere);
    expect([p.linger(1, 0), p.interval(1)]).toEqual([250, 250]);
    anywhere = true; // a peer's clients wait for this node's events; nobody here reads them
    expect([p.linger(1, 1), p.linger(3, 1), p.linger(1, 5), p.interval(1)]).toEqual([0, 10, 10, 250]);
    here = true;
    expect([p.interval(1), p.interval(2)]).toEqual([0, 10]);
    const never = streamPacing({ batchMs: 10, quietMs: 0 }, () => false, () => false);
    expect([never.linger(1, 0), never.linger(2, 0), never.interval(1), never.interval(5)]).toEqual([0, 10, 0, 10]);
  });
});

const { link } = redisForTests();
const log = pino({ level: 'silent' });

const counters = (): StreamCounters => ({ appended: 0, droppedForBytes: 0, fencedOut: 0, read: 0, readErrors: 0 });
const event = (id: string): UnsequencedEvent => ({
  chargeBoxId: 'CP-P', id, source: 'station', floor: 0,
  fields: JSON.stringify({ id, type: 'heartbeat', chargeBoxId: 'CP-P', timestamp: '2026-12-07T00:00:00.000Z', receivedAt: '2026-12-07T00:00:00.000Z', source: 'station', data: {} }),
});

async function commands(admin: RedisLink): Promise<Map<string, number>> {
  const text = await admin.client.info('commandstats');
  return new Map([...text.matchAll(/^cmdstat_(\w+):calls=(\d+)/gm)].map((m) => [m[1]!, Number(m[2])]));
}

describe('stream pacing on Redis', () => {
  it('while nobody waits, a trickle of events is appended and read in a few quiet batches', async () => {
    const keys = new ClusterKeys('quiet-test');
    const admin = await link();
    const p = streamPacing({ batchMs: 10, quietMs: 400 }, () => false, () => false);
    const c = counters();
    const out = new EventOutbox(await link(), keys, 10_000, 1 << 20, c, log, (q, last) => p.linger(q, last));
    const read: number[] = [];
    const reader = new EventStreamReader(await link(), keys, '0', (e) => read.push(e.seq), counters(), log, (got) => p.interval(got));
    reader.start();
    const before = await commands(admin);
    // 20 events 20 ms apart: one at a time that would be 20 scripts and 20 reads.
    for (let i = 0; i < 20; i++) {
      out.event(event(`q${i}`), '');
      await new Promise((r) => setTimeout(r, 20));
    }
    await until(() => read.length === 20, 10_000, 'all read');
    const after = await commands(admin);
    await reader.stop();
    const delta = (k: string): number => (after.get(k) ?? 0) - (before.get(k) ?? 0);
    expect(read).toEqual(Array.from({ length: 20 }, (_, k) => k + 1));
    expect(delta('evalsha') + delta('eval')).toBeLessThanOrEqual(3);
    expect(delta('xread')).toBeLessThanOrEqual(5);
  });

  it('a paced reader woken by a REST read reads at once, not at the end of its quiet wait', async () => {
    const keys = new ClusterKeys('wake-test');
    const out = new EventOutbox(await link(), keys, 10_000, 1 << 20, counters(), log, () => 0);
    const read: string[] = [];
    // Five seconds between reads once a read returned anything: the quiet mode of a node nobody waits on.
    const reader = new EventStreamReader(await link(), keys, '0', (e) => read.push(e.id), counters(), log, () => 5000);
    reader.start();
    out.event(event('w0'), '');
    await until(() => read.length === 1, 5000, 'the first event');
    out.event(event('w1'), '');
    await new Promise((r) => setTimeout(r, 300)); // appended by now; the reader sleeps out its 5 s
    expect(read).toEqual(['w0']);
    const woken = performance.now();
    reader.wake();
    await until(() => read.length === 2, 5000, 'the second event after wake()');
    expect(performance.now() - woken).toBeLessThan(1000);
    await reader.stop();
  });

  it('while someone waits, events that come one at a time are appended and read at once, not a batch interval later', async () => {
    const keys = new ClusterKeys('eager-test');
    // A batch time far longer than the gap between events: were it waited out, events would arrive up to a second late.
    const p = streamPacing({ batchMs: 1000, quietMs: 250 }, () => true, () => true);
    const out = new EventOutbox(await link(), keys, 10_000, 1 << 20, counters(), log, (q, last) => p.linger(q, last));
    const late: number[] = [];
    const sentAt = new Map<string, number>();
    const reader = new EventStreamReader(await link(), keys, '0', (e) => late.push(performance.now() - sentAt.get(e.id)!), counters(), log, (got) => p.interval(got));
    reader.start();
    for (let i = 0; i < 8; i++) {
      sentAt.set(`e${i}`, performance.now());
      out.event(event(`e${i}`), '');
      await until(() => late.length === i + 1, 5000, `event ${i} read`);
      await new Promise((r) => setTimeout(r, 30));
    }
    await reader.stop();
    expect(Math.max(...late)).toBeLessThan(500);
  });
});
