// Webhook subscriptions of CONFIG_FILE in a cluster (issue 16): two real nodes with the same file and a real HTTP
// receiver get each event once, though every node sees every event.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayEvent } from '../../src/events/catalogue.js';
import type { StationClient } from '../support/station-client.js';
import { bootedStation, killAll, startNode, startRedis, until, type GatewayNode, type PrivateRedis } from './support.js';

const IDS = ['WH-A', 'WH-B', 'WH-MOVE'];
const DIES = 'WH-DIE';
let redis: PrivateRedis;
let a: GatewayNode;
let b: GatewayNode;
let receiver: http.Server;
const received: GatewayEvent[] = [];
const stations: StationClient[] = [];

beforeAll(async () => {
  receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const e = JSON.parse(body) as GatewayEvent;
      received.push(e);
      // The moving station's first events are taken slowly: the node delivering them is still busy with them when
      // the station's later events come up on the other node, even after that node's 5 s wait before it claims what
      // it did not hold (one POST in flight per station and node).
      if (e.chargeBoxId === 'WH-MOVE' && e.seq <= 2) setTimeout(() => res.writeHead(200).end(), 4000);
      else res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'cb-cluster-webhooks-')), 'config.json');
  writeFileSync(file, JSON.stringify({ webhooks: [{ id: 'everything', url, secret: 'cluster-webhook-secret-0123', types: 'all', stations: [...IDS, DIES] }] }));
  redis = await startRedis();
  const env = { REDIS_URL: redis.url, CONFIG_FILE: file, CLUSTER_NODE_TTL_MS: '3000' };
  [a, b] = await Promise.all([startNode('node-a', env), startNode('node-b', env)]);
}, 120_000);

afterAll(async () => {
  for (const s of stations) s.close();
  await Promise.all([a, b].filter(Boolean).map((n) => n.kill9()));
  await redis?.stop();
  receiver?.close();
  killAll();
});

const station = (node: GatewayNode, id: string): Promise<StationClient> => bootedStation(node, id, stations);

const statuses = async (st: StationClient, n: number): Promise<void> => {
  for (let k = 0; k < n; k++) await st.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: k % 2 ? 'Available' : 'Preparing' });
};

describe('CONFIG_FILE webhooks in a cluster', () => {
  it('each event reaches the receiver once, from whichever node, also for a station that moves between nodes', async () => {
    const gone = await station(a, 'WH-A');
    await statuses(gone, 5);
    await statuses(await station(b, 'WH-B'), 5);
    const first = await station(a, 'WH-MOVE');
    await statuses(first, 3);
    // The same station connects to B: A closes its link, B holds it from now on.
    const moved = await station(b, 'WH-MOVE');
    await first.closed;
    await statuses(moved, 3);
    // WH-A goes away: by the time a node reads its stationDisconnected event nobody holds the station, and without a
    // binlog there is no leader, so no node claims it at once: it is delivered by whichever node claims it 5 s later.
    gone.close();

    // Every node's history is the truth: the events of the three stations, each with its one seq.
    // (some statuses repeat the one before and make no event: the history settles at what the model made).
    const history = async (): Promise<GatewayEvent[]> => (await Promise.all(IDS.map((id) => a.get<{ events: GatewayEvent[] }>(`/api/events?chargeBoxId=${id}&limit=500`)))).flatMap((r) => r.events);
    const truth = await until(async () => {
      const before = await history();
      await new Promise((r) => setTimeout(r, 1000));
      const after = await history();
      const settled = after.filter((e) => e.type === 'status').length >= 10 && after.some((e) => e.chargeBoxId === 'WH-A' && e.type === 'stationDisconnected');
      return settled && after.length === before.length ? after : undefined;
    }, 30_000, 'events in node A\'s history');
    const key = (e: GatewayEvent): string => `${e.chargeBoxId}#${e.seq}`;
    await until(() => truth.every((e) => received.some((r) => key(r) === key(e))), 20_000, 'every event at the receiver');
    // Longer than the other nodes' wait before they claim (5 s): a second delivery would have come by now.
    await new Promise((r) => setTimeout(r, 7000));
    const counts = new Map<string, number>();
    for (const r of received) counts.set(key(r), (counts.get(key(r)) ?? 0) + 1);
    expect([...counts.entries()].filter(([, n]) => n > 1)).toEqual([]);
    expect(new Set(received.map(key))).toEqual(new Set(truth.map(key)));
    expect(received.filter((r) => r.chargeBoxId === 'WH-A' && r.type === 'stationDisconnected')).toHaveLength(1);
    // Each delivery is one claim won on one node (health → cluster.webhookClaims).
    const claims = await Promise.all([a, b].map(async (n) => (await n.get<{ cluster: { webhookClaims: { won: number } } }>('/api/health')).cluster.webhookClaims));
    expect(claims.reduce((sum, c) => sum + c.won, 0)).toBe(received.length);
    // One station's events arrive in seq order, also the one that moved: the node that delivered its events so far
    // goes on delivering them while it lives (webhook-claims.ts, STICKY_MS).
    for (const id of IDS) {
      const seqs = received.filter((r) => r.chargeBoxId === id).map((r) => r.seq);
      expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    }
  }, 90_000);

  it('a station whose deliverer dies is delivered by the node it moves to, once that node is gone', async () => {
    const before = await station(a, DIES);
    await statuses(before, 2);
    const seen = (): number[] => received.filter((r) => r.chargeBoxId === DIES).map((r) => r.seq);
    await until(() => seen().length >= 3, 20_000, 'the first events from node A');
    await a.kill9();
    // The station comes back on B: A was its deliverer, and stays so (for a claim) until its heartbeat expires.
    const after = await station(b, DIES);
    await statuses(after, 2);
    const newest = async (): Promise<number> => Math.max(...(await b.get<{ events: GatewayEvent[] }>(`/api/events?chargeBoxId=${DIES}&limit=500`)).events.map((e) => e.seq));
    const last = await until(async () => {
      const n = await newest();
      return n >= 6 ? n : undefined;
    }, 20_000, 'B\'s events for the station');
    await until(() => seen().includes(last), 30_000, 'B\'s events at the receiver');
    const got = seen();
    expect(got).toEqual([...got].sort((x, y) => x - y));
    expect(new Set(got).size).toBe(got.length);
    const claims = (await b.get<{ cluster: { webhookClaims: { deferred: number } } }>('/api/health')).cluster.webhookClaims;
    expect(claims.deferred).toBeGreaterThan(0);
  }, 90_000);
});
