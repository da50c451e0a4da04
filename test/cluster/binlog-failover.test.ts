// The binlog lease across gateway processes: one reader in the cluster; kill -9 of its node while SteVe writes rows,
// another node takes over from the shared checkpoint within seconds and no row's event is lost or repeated. And a
// reader that paused past its lease and takes it again reads again, and publishes, what it could not publish.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayEvent } from '../../src/events/catalogue.js';
import { createSteveDatabase, startMariadb, type PrivateMariadb } from '../support/mariadb.js';
import { SteveWriter } from '../cdc/steve-writes.js';
import { killAll, startNode, startRedis, until, type GatewayNode, type PrivateRedis } from './support.js';

let db: PrivateMariadb;
let redis: PrivateRedis;
let url: string;
let nodes: GatewayNode[] = [];

beforeAll(async () => {
  [db, redis] = await Promise.all([startMariadb(), startRedis()]);
  url = await createSteveDatabase(db, { database: 'stevedb', generation: '3.13' });
}, 120_000);

afterAll(async () => {
  await Promise.all(nodes.map((n) => n.kill9()));
  await redis?.stop();
  killAll();
  await db?.stop();
});

interface Health { cluster: { binlogLeader: boolean }; binlog: { state: string; lease?: { held: boolean; acquired: number } } }

async function leaders(of: GatewayNode[]): Promise<GatewayNode[]> {
  const hs = await Promise.all(of.map((n) => n.get<Health>('/api/health').then((h) => [n, h] as const)));
  return hs.filter(([, h]) => h.cluster.binlogLeader && h.binlog.state === 'streaming').map(([n]) => n);
}

describe('binlog lease', () => {
  it('one node reads; kill -9 of it mid-writes hands over within seconds, nothing lost, nothing repeated', async () => {
    const writer = await SteveWriter.open(db, 'stevedb', '3.13');
    await writer.addStation('CP-LEASE');
    nodes = await Promise.all(['bin-a', 'bin-b', 'bin-c'].map((n, i) => startNode(n, { REDIS_URL: redis.url, STEVE_DB_URL: url, CDC_SERVER_ID: String(7100 + i), CDC_RECONNECT_MIN_MS: '100' })));
    const first = await until(async () => {
      const l = await leaders(nodes);
      return l.length === 1 ? l[0] : undefined;
    }, 20_000, 'one binlog reader');
    expect(await leaders(nodes)).toEqual([first]);

    const total = 120;
    let killedAt = 0;
    const others = nodes.filter((n) => n !== first);
    for (let i = 0; i < total; i++) {
      await writer.statusNotification('CP-LEASE', 1, i % 2 ? 'Available' : 'Charging', 'NoError', { info: `row-${i}`, timestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, i)) });
      if (i === 40) {
        await first.kill9();
        killedAt = Date.now();
      }
      if (i > 40 && i % 10 === 0) await new Promise((r) => setTimeout(r, 100));
    }
    const second = await until(async () => {
      const l = await leaders(others);
      return l.length === 1 ? l[0] : undefined;
    }, 10_000, 'a new binlog reader');
    const takeoverMs = Date.now() - killedAt;
    expect(takeoverMs).toBeLessThan(8000);

    // Every row's event on every surviving node, once, with the same gap-free seq.
    for (const n of others) {
      const rows = await until(async () => {
        const { events } = await n.get<{ events: GatewayEvent[] }>('/api/events?chargeBoxId=CP-LEASE&type=status&limit=1000');
        const infos = events.map((e) => (e.data as { info?: string }).info).filter((x): x is string => x?.startsWith('row-') === true);
        return infos.length >= total ? { events, infos } : undefined;
      }, 15_000, `all rows on ${n.name}`);
      expect(new Set(rows.infos).size).toBe(total);
      expect(rows.infos.length).toBe(total);
    }
    const [x, y] = await Promise.all(others.map((n) => n.get<{ events: GatewayEvent[] }>('/api/events?chargeBoxId=CP-LEASE&limit=1000')));
    const seqs = (x!.events).map((e) => [e.id, e.seq]);
    expect(seqs).toEqual(y!.events.map((e) => [e.id, e.seq]));
    const sorted = x!.events.map((e) => e.seq).sort((a, b) => a - b);
    expect(sorted).toEqual(Array.from({ length: sorted.length }, (_, k) => sorted[0]! + k));
    expect(second).toBeDefined();
    await writer.close();
  }, 120_000);
});

describe('binlog lease taken again by the same node', () => {
  it('rows read while the lease had lapsed are read again and published once the node holds it again', async () => {
    const writer = await SteveWriter.open(db, 'stevedb', '3.13');
    await writer.addStation('CP-AGAIN');
    const mine = await Promise.all(['again-a', 'again-b', 'again-c'].map((n, i) => startNode(n, { REDIS_URL: redis.url, STEVE_DB_URL: url, CDC_SERVER_ID: String(7200 + i), CDC_RECONNECT_MIN_MS: '100', CLUSTER_PREFIX: 'again' })));
    nodes.push(...mine);
    const leader = await until(async () => {
      const l = await leaders(mine);
      return l.length === 1 ? l[0] : undefined;
    }, 20_000, 'one binlog reader');
    const rows = async (n: GatewayNode): Promise<string[]> => {
      const { events } = await n.get<{ events: GatewayEvent[] }>('/api/events?chargeBoxId=CP-AGAIN&type=status&limit=1000');
      return events.map((e) => (e.data as { info?: string }).info).filter((x): x is string => x?.startsWith('again-') === true);
    };
    const write = async (from: number, to: number): Promise<void> => {
      for (let i = from; i < to; i++) {
        await writer.statusNotification('CP-AGAIN', 1, i % 2 ? 'Available' : 'Charging', 'NoError', { info: `again-${i}`, timestamp: new Date(Date.UTC(2026, 0, 2, 0, 0, i)) });
      }
    };
    await write(0, 5);
    await until(async () => (await rows(leader)).length === 5 || undefined, 10_000, 'the first rows');

    // Redis stops answering and the other nodes stall, while SteVe writes on: the leader reads the rows but its lease
    // runs out before it can publish them. When Redis answers again the leader takes the lease again (the others are
    // still stalled) and resumes from the last checkpoint that reached Redis: the rows after it must be read again
    // and published, not dropped as already seen.
    const others = mine.filter((n) => n !== leader);
    for (const n of others) n.pause(true);
    redis.pause(true);
    await write(5, 15);
    await new Promise((r) => setTimeout(r, 2500));
    redis.pause(false);
    await until(async () => {
      const h = await leader.get<Health>('/api/health');
      return h.cluster.binlogLeader && h.binlog.state === 'streaming' && (h.binlog.lease?.acquired ?? 0) >= 2;
    }, 10_000, 'the leader holds the lease again');
    for (const n of others) n.pause(false);
    await write(15, 20);

    for (const n of mine) {
      const got = await until(async () => {
        const r = await rows(n);
        return r.length >= 20 ? r : undefined;
      }, 10_000, `every row on ${n.name}`).catch(async () => rows(n));
      expect(got.sort()).toEqual(Array.from({ length: 20 }, (_, i) => `again-${i}`).sort());
    }
    await writer.close();
  }, 120_000);
});
