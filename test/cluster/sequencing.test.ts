// One seq per station across the cluster (docs/cluster.md "events, seq, history"): the node that produces an event
// sequences it once through Redis, every node records it. Three nodes and a private Redis as real processes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io as ioClient, type Socket } from 'socket.io-client';
import type { GatewayEvent } from '../../src/events/catalogue.js';
import type { StationClient } from '../support/station-client.js';
import { bootedStation, killAll, operatorToken, startNode, startRedis, until, type GatewayNode, type PrivateRedis } from './support.js';

let redis: PrivateRedis;
let nodes: GatewayNode[];
const stations: StationClient[] = [];
const sockets: Socket[] = [];

beforeAll(async () => {
  redis = await startRedis();
  nodes = await Promise.all(['node-a', 'node-b', 'node-c'].map((n) => startNode(n, { REDIS_URL: redis.url })));
}, 120_000);

afterAll(async () => {
  for (const s of stations) s.close();
  for (const s of sockets) s.close();
  await Promise.all((nodes ?? []).map((n) => n.kill9()));
  await redis?.stop();
  killAll();
});

const station = (node: GatewayNode, id: string): Promise<StationClient> => bootedStation(node, id, stations);

async function pushClient(node: GatewayNode): Promise<Socket> {
  const socket = ioClient(node.url, { transports: ['websocket'], reconnection: false, forceNew: true, auth: { token: operatorToken() } });
  sockets.push(socket);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  return socket;
}

const status = (st: StationClient, s: string): Promise<unknown> => st.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: s });

async function history(node: GatewayNode, id: string, atLeast: number, done: (events: GatewayEvent[]) => boolean = () => true): Promise<GatewayEvent[]> {
  return until(async () => {
    const { events } = await node.get<{ events: GatewayEvent[] }>(`/api/events?chargeBoxId=${id}&limit=1000`);
    const sorted = [...events].sort((x, y) => x.seq - y.seq);
    return events.length >= atLeast && done(sorted) ? sorted : undefined;
  }, 10_000, `${atLeast} events of ${id} on ${node.name}`);
}

const isStatus = (e: GatewayEvent, s: string): boolean => e.type === 'status' && (e.data as { status?: string }).status === s;

const idSeq = (events: readonly GatewayEvent[]): [string, number][] => events.map((e) => [e.id, e.seq]);
const gapFree = (events: readonly GatewayEvent[]): boolean => events.every((e, i) => e.seq === events[0]!.seq + i);

interface SubscribeAck {
  ok: boolean;
  stations: { chargeBoxId: string; seq: number; snapshot: { seq: number; connectors: { connectorId: number; status?: string }[] } | null }[];
  replay: { chargeBoxId: string; from: number; count: number; gap: boolean }[];
}

describe('one seq per station across the cluster', () => {
  it('a client on node B gets the snapshot and replay of a station held by node C, with C\'s seq', async () => {
    const [, b, c] = nodes as [GatewayNode, GatewayNode, GatewayNode];
    const st = await station(c, 'SQ-C');
    for (const s of ['Preparing', 'Charging', 'Finishing', 'Available']) await status(st, s);
    const onC = await history(c, 'SQ-C', 5);
    const onB = await history(b, 'SQ-C', onC.length);
    expect(idSeq(onB)).toEqual(idSeq(onC));
    expect(gapFree(onC)).toBe(true);

    const client = await pushClient(b);
    const replayed: GatewayEvent[] = [];
    client.on('event', (e: GatewayEvent) => replayed.push(e));
    const since = onC[1]!.seq;
    const ack = await client.timeout(5000).emitWithAck('subscribe', { chargeBoxIds: ['SQ-C'], since: { 'SQ-C': since } }) as SubscribeAck;
    expect(ack.ok).toBe(true);
    const last = onC.at(-1)!.seq;
    expect(ack.stations[0]).toMatchObject({ chargeBoxId: 'SQ-C', seq: last });
    expect(ack.stations[0]!.snapshot?.seq).toBe(last);
    expect(ack.stations[0]!.snapshot?.connectors.find((k) => k.connectorId === 1)?.status).toBe('Available');
    expect(ack.replay[0]).toMatchObject({ chargeBoxId: 'SQ-C', from: since, count: onC.length - 2, gap: false });
    await until(() => replayed.length >= onC.length - 2, 5000, 'replay on B');
    expect(idSeq(replayed)).toEqual(idSeq(onC.slice(2)));

    // New events reach B live with the next seq.
    await status(st, 'Preparing');
    await until(() => replayed.some((e) => e.seq === last + 1), 5000, 'live event on B');
    expect(replayed.at(-1)).toMatchObject({ seq: last + 1, type: 'status' });
  });

  it('a station that moves to another node keeps counting where it was', async () => {
    const [a, b, c] = nodes as [GatewayNode, GatewayNode, GatewayNode];
    const client = await pushClient(b);
    const seen: GatewayEvent[] = [];
    client.on('event', (e: GatewayEvent) => seen.push(e));
    await client.timeout(5000).emitWithAck('subscribe', { chargeBoxIds: ['SQ-MOVE'] });

    const first = await station(a, 'SQ-MOVE');
    for (const s of ['Preparing', 'Available']) await status(first, s);
    const before = await history(a, 'SQ-MOVE', 3);
    first.close();
    await first.closed;
    const second = await station(c, 'SQ-MOVE');
    for (const s of ['Preparing', 'Charging']) await status(second, s);

    // Node A's stationDisconnected can be sequenced after C's first events: wait for the whole story, 5 + 4 events.
    const all = await history(c, 'SQ-MOVE', 9, (evs) => evs.some((e) => e.type === 'stationDisconnected') && evs.some((e) => isStatus(e, 'Charging')));
    expect(all.length).toBe(9);
    expect(gapFree(all)).toBe(true);
    expect(all[0]!.seq).toBe(1);
    expect(idSeq(all.slice(0, before.length))).toEqual(idSeq(before));
    for (const n of [a, b]) expect(idSeq(await history(n, 'SQ-MOVE', all.length))).toEqual(idSeq(all));
    await until(() => seen.length >= all.length, 5000, 'every event pushed on B');
    expect(idSeq(seen)).toEqual(idSeq(all));
  });

  it('a Redis that comes back empty does not start a station\'s seq again', async () => {
    const [a, b] = nodes as [GatewayNode, GatewayNode];
    const st = await station(a, 'SQ-REDIS');
    await status(st, 'Preparing');
    const before = await history(b, 'SQ-REDIS', 2);
    await redis.stop();
    await redis.start();
    await until(async () => (await a.get<{ cluster: { redis: { state: string } } }>('/api/health')).cluster.redis.state === 'up', 10_000, 'redis up again');
    await status(st, 'Available');
    const after = await until(async () => {
      const events = await history(b, 'SQ-REDIS', before.length + 1);
      return events.some((e) => isStatus(e, 'Available')) ? events : undefined;
    }, 10_000, 'the status after the restart');
    // Counted on from the nodes' history, not from 1 again: no seq twice, none skipped.
    expect(idSeq(after.slice(0, before.length))).toEqual(idSeq(before));
    expect(gapFree(after)).toBe(true);
  });
});
