// A station that moves from one node to another keeps its events in order across the move (issue 16): whatever the
// old node still held for it (its quiet pace, CLUSTER_QUIET_MS) is appended before the new node's first event.
// Node A appends at the quiet pace (3 s) and node B at once, so on code without the hand-over B's events always
// won the race.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayEvent } from '../../src/events/catalogue.js';
import { connectStation, type StationClient } from '../support/station-client.js';
import { bootedStation, killAll, startNode, startRedis, until, type GatewayNode, type PrivateRedis } from './support.js';

let redis: PrivateRedis;
let a: GatewayNode;
let b: GatewayNode;
const stations: StationClient[] = [];

beforeAll(async () => {
  redis = await startRedis();
  [a, b] = await Promise.all([
    startNode('order-a', { REDIS_URL: redis.url, CLUSTER_QUIET_MS: '3000' }),
    startNode('order-b', { REDIS_URL: redis.url, CLUSTER_QUIET_MS: '0' }),
  ]);
}, 120_000);

afterAll(async () => {
  for (const s of stations) s.close();
  await Promise.all([a, b].filter(Boolean).map((n) => n.kill9()));
  await redis?.stop();
  killAll();
});

const status = (st: StationClient, s: string) => st.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: s });
const story = (events: readonly GatewayEvent[]): string[] =>
  events.map((e) => {
    const node = e.id.includes('/') ? e.id.split('/')[0] : '';
    return e.type === 'status' ? `status ${(e.data as { status: string }).status}` : `${e.type}${e.type === 'bootNotification' ? ` ${node}` : ''}`;
  });

async function eventsOn(node: GatewayNode, chargeBoxId: string, count: number): Promise<GatewayEvent[]> {
  const url = `/api/events?chargeBoxId=${encodeURIComponent(chargeBoxId)}&limit=100`;
  return until(async () => {
    const got = (await node.get<{ events: GatewayEvent[] }>(url)).events;
    return got.length >= count ? got : undefined;
  }, 15_000, `${count} events of ${chargeBoxId} on ${node.name}`).catch(async () => (await node.get<{ events: GatewayEvent[] }>(url)).events);
}

describe('a station moving between nodes', () => {
  it('replaced by a connection on another node: the old connection\'s events, its close included, come first', async () => {
    const id = 'ORDER-REPLACED';
    const first = await bootedStation(a, id, stations);
    await status(first, 'Preparing');
    await status(first, 'Available');
    const moved = await bootedStation(b, id, stations);
    await first.closed;
    await status(moved, 'Charging');
    const want = [
      'stationConnected', 'bootNotification order-a', 'status Preparing', 'status Available', 'stationDisconnected',
      'stationConnected', 'bootNotification order-b', 'status Charging',
    ];
    for (const node of [a, b]) {
      const events = await eventsOn(node, id, want.length);
      expect(story(events), `on ${node.name}`).toEqual(want);
      expect(events.map((e) => e.seq)).toEqual(want.map((_, i) => i + 1));
    }
    const snap = await b.get<{ online: boolean; connectors: { connectorId: number; status: string }[] }>(`/api/stations/${id}/state`);
    expect(snap.online).toBe(true);
    expect(snap.connectors.find((c) => c.connectorId === 1)?.status).toBe('Charging');
  }, 60_000);

  it('closed on one node and connected at once to another: the close comes before the new connect', async () => {
    const id = 'ORDER-RECONNECTED';
    const first = await bootedStation(a, id, stations);
    await status(first, 'Finishing');
    first.close();
    await first.closed;
    const again = await connectStation(`ws://127.0.0.1:${b.port}/ocpp/${id}`);
    stations.push(again);
    await status(again, 'Available');
    const want = ['stationConnected', 'bootNotification order-a', 'status Finishing', 'stationDisconnected', 'stationConnected', 'status Available'];
    for (const node of [a, b]) {
      const events = await eventsOn(node, id, want.length);
      expect(story(events), `on ${node.name}`).toEqual(want);
    }
  }, 60_000);
});
