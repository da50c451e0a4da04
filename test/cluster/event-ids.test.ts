// Events made from a node's message log carry that node in their ids (issue 16): log ids are counted per node, so
// two fresh nodes number a station's frames alike, and without the node in the id a station that moves from one to
// the other had its new boot and statuses dropped as repeats of the old ones.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayEvent } from '../../src/events/catalogue.js';
import type { StationClient } from '../support/station-client.js';
import { bootedStation, killAll, startNode, startRedis, until, type GatewayNode, type PrivateRedis } from './support.js';

let redis: PrivateRedis;
let a: GatewayNode;
let b: GatewayNode;
const stations: StationClient[] = [];

beforeAll(async () => {
  redis = await startRedis();
  [a, b] = await Promise.all([startNode('ids-a', { REDIS_URL: redis.url }), startNode('ids-b', { REDIS_URL: redis.url })]);
}, 120_000);

afterAll(async () => {
  for (const s of stations) s.close();
  await Promise.all([a, b].filter(Boolean).map((n) => n.kill9()));
  await redis?.stop();
  killAll();
});

/** A station boots on `from`, sends two statuses, moves to `to` and sends two more: both nodes keep all of it, and each
 * boot's id names the node whose log it came from (`ids`, in the order the nodes are given). */
async function moveStation(from: GatewayNode, to: GatewayNode, chargeBoxId: string, ids: readonly string[]): Promise<void> {
  const status = (st: StationClient, s: string) => st.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: s });
  const first = await bootedStation(from, chargeBoxId, stations);
  await status(first, 'Preparing');
  await status(first, 'Available');
  const moved = await bootedStation(to, chargeBoxId, stations);
  await first.closed;
  await status(moved, 'Preparing');
  await status(moved, 'Charging');
  const story = (events: GatewayEvent[]): string[] => events.filter((e) => e.type !== 'stationDisconnected').map((e) => (e.type === 'status' ? `status ${(e.data as { status: string }).status}` : e.type));
  const want = ['stationConnected', 'bootNotification', 'status Preparing', 'status Available', 'stationConnected', 'bootNotification', 'status Preparing', 'status Charging'];
  for (const node of [from, to]) {
    const url = `/api/events?chargeBoxId=${encodeURIComponent(chargeBoxId)}&limit=100`;
    const events = await until(async () => {
      const got = (await node.get<{ events: GatewayEvent[] }>(url)).events;
      return story(got).length >= want.length ? got : undefined;
    }, 15_000, `the station's events on ${node.name}`).catch(async () => (await node.get<{ events: GatewayEvent[] }>(url)).events);
    // Every event of both connections is kept, in order across the move (move-order.test.ts forces the race).
    expect(story(events)).toEqual(want);
    // Ids made from a message log name the node whose log it is.
    expect(events.filter((e) => e.type === 'bootNotification').map((e) => e.id.split('/')[0]).sort()).toEqual([...ids].sort());
  }
}

describe('event ids in a cluster', () => {
  it('a station that moves to a fresh node keeps every event, though both nodes number their frames alike', async () => {
    await moveStation(a, b, 'IDS-1', ['ids-a', 'ids-b']);
  }, 60_000);

  it("does so with the nodes' default ids too, which are known only once a node listens", async () => {
    const [c, d] = await Promise.all([startNode('ids-c', { REDIS_URL: redis.url, CLUSTER_NODE_ID: '' }), startNode('ids-d', { REDIS_URL: redis.url, CLUSTER_NODE_ID: '' })]);
    try {
      const idOf = async (n: GatewayNode): Promise<string> => (await n.get<{ cluster: { nodeId: string } }>('/api/health')).cluster.nodeId;
      const ids = [await idOf(c), await idOf(d)];
      expect(ids[0]).not.toBe(ids[1]);
      await moveStation(c, d, 'IDS-2', ids);
    } finally {
      await Promise.all([c.kill9(), d.kill9()]);
    }
  }, 90_000);
});
