// REST reads on a node whose stream reads are paced (CLUSTER_QUIET_MS: nobody on it waits for events) answer with
// what the shared stream holds, not with what the node read before its quiet wait (src/cluster/index.ts, settled()).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io as ioClient, type Socket } from 'socket.io-client';
import type { GatewayEvent } from '../../src/events/catalogue.js';
import type { StationClient } from '../support/station-client.js';
import { bootedStation, killAll, operatorToken, startNode, startRedis, until, type GatewayNode, type PrivateRedis } from './support.js';

let redis: PrivateRedis;
let nodes: GatewayNode[];
const stations: StationClient[] = [];
let client: Socket | undefined;
let clientA: Socket | undefined;

beforeAll(async () => {
  redis = await startRedis();
  // A quiet wait far longer than the test's patience: a node that answered from what it had read would be 5 s behind.
  nodes = await Promise.all(['rest-a', 'rest-b'].map((n) => startNode(n, { REDIS_URL: redis.url, CLUSTER_QUIET_MS: '5000' })));
}, 120_000);

afterAll(async () => {
  for (const s of stations) s.close();
  client?.close();
  clientA?.close();
  await Promise.all((nodes ?? []).map((n) => n.kill9()));
  await redis?.stop();
  killAll();
});

const status = (st: StationClient, s: string): Promise<unknown> => st.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: s });

describe('REST reads on a quiet node', () => {
  it('answer /api/events with an event another node has just pushed to its client', async () => {
    const [a, b] = nodes as [GatewayNode, GatewayNode];
    const socket = (client = ioClient(b.url, { transports: ['websocket'], reconnection: false, forceNew: true, auth: { token: operatorToken() } }));
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    const seen: GatewayEvent[] = [];
    socket.on('event', (e: GatewayEvent) => seen.push(e));
    await socket.timeout(5000).emitWithAck('subscribe', { chargeBoxIds: ['REST-1'] });
    const st = await bootedStation(b, 'REST-1', stations);
    // A reads the station's first events, then waits out its quiet time (nobody on A waits for events).
    await until(async () => (await a.get<{ events: GatewayEvent[] }>('/api/events?chargeBoxId=REST-1')).events.length >= 2, 10_000, 'the boot on A');

    for (const s of ['Preparing', 'Charging', 'Finishing']) {
      await status(st, s);
      const pushed = await until(() => seen.find((e) => e.type === 'status' && (e.data as { status?: string }).status === s), 5000, `${s} pushed on B`);
      // At once, no polling: A must already answer with it.
      const { events } = await a.get<{ events: GatewayEvent[] }>('/api/events?chargeBoxId=REST-1&type=status');
      expect(events.map((e) => [e.id, e.seq])).toContainEqual([pushed.id, pushed.seq]);
    }

    // A Socket.IO subscription on A gets a snapshot with the status B has just pushed, not A's from before its wait.
    await status(st, 'Available');
    const pushed = await until(() => seen.find((e) => e.type === 'status' && (e.data as { status?: string }).status === 'Available'), 5000, 'Available pushed on B');
    const onA = (clientA = ioClient(a.url, { transports: ['websocket'], reconnection: false, forceNew: true, auth: { token: operatorToken() } }));
    await new Promise<void>((resolve, reject) => {
      onA.once('connect', () => resolve());
      onA.once('connect_error', reject);
    });
    const ack = (await onA.timeout(5000).emitWithAck('subscribe', { chargeBoxIds: ['REST-1'] })) as { stations: { seq: number; snapshot: { connectors: { connectorId: number; status?: string }[] } | null }[] };
    expect(ack.stations[0]?.seq).toBe(pushed.seq);
    expect(ack.stations[0]?.snapshot?.connectors.find((k) => k.connectorId === 1)?.status).toBe('Available');
  }, 60_000);
});
