// Three gateway nodes, HAProxy and a private Redis, as real processes on loopback (issue 16).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io as ioClient, type Socket } from 'socket.io-client';
import type { GatewayEvent } from '../../src/events/catalogue.js';
import { connectStation, type StationClient } from '../support/station-client.js';
import { operatorToken, startHaproxy, startNode, startRedis, until, type GatewayNode, type Haproxy, type PrivateRedis } from './support.js';

let redis: PrivateRedis;
let nodes: GatewayNode[];
let proxy: Haproxy;
const stations: StationClient[] = [];

beforeAll(async () => {
  redis = await startRedis();
  nodes = await Promise.all(['node-a', 'node-b', 'node-c'].map((n) => startNode(n, { REDIS_URL: redis.url })));
  proxy = await startHaproxy(nodes.map((n) => n.port));
}, 60_000);

afterAll(async () => {
  for (const s of stations) s.close();
  await proxy?.stop();
  await Promise.all((nodes ?? []).map((n) => n.kill9()));
  await redis?.stop();
});

const wsUrl = (port: number, id: string): string => `ws://127.0.0.1:${port}/ocpp/${id}`;

async function station(port: number, id: string): Promise<StationClient> {
  const st = await connectStation(wsUrl(port, id));
  stations.push(st);
  await st.call('BootNotification', { chargePointVendor: 'V', chargePointModel: 'M' });
  return st;
}

function pushClient(node: GatewayNode): Promise<Socket> {
  const socket = ioClient(node.url, { transports: ['websocket'], reconnection: false, forceNew: true, auth: { token: operatorToken() } });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  });
}

interface Peer { nodeId: string; stations: number; binlogLeader: boolean }
interface Health { stations: number; cluster: { nodeId: string; redis: { state: string }; peers: Peer[]; degraded: string[] } }

describe('a gateway cluster on Redis', () => {
  it('names each node and sees its peers', async () => {
    for (const n of nodes) {
      const h = await until(async () => {
        const h = await n.get<Health>('/api/health');
        return h.cluster.peers.length === 2 ? h : undefined;
      }, 10_000, `peers of ${n.name}`);
      expect(h.cluster.nodeId).toBe(n.name);
      expect(h.cluster.redis.state).toBe('up');
      expect(h.cluster.peers.map((p) => p.nodeId).sort()).toEqual(nodes.filter((m) => m !== n).map((m) => m.name).sort());
    }
    const metrics = await fetch(`${nodes[0]!.url}/metrics`, { headers: { authorization: `Bearer ${operatorToken()}` } }).then((r) => r.text());
    expect(metrics).toMatch(/chargebridge_cluster_node_info\{node="node-a"\} 1/);
  });

  it('calls a station on node C from node A, lists every node\'s stations, and pushes all events to a client on B with gap-free seq', async () => {
    const [a, b, c] = nodes as [GatewayNode, GatewayNode, GatewayNode];
    const client = await pushClient(b);
    const seen: GatewayEvent[] = [];
    client.on('event', (e: GatewayEvent) => seen.push(e));
    const ack = await client.timeout(5000).emitWithAck('subscribe', { all: true }) as { ok: boolean };
    expect(ack.ok).toBe(true);

    const ids = ['CL-A', 'CL-B', 'CL-C'];
    const sts = [await station(a.port, ids[0]!), await station(b.port, ids[1]!), await station(c.port, ids[2]!)];
    for (const [i, st] of sts.entries()) {
      for (let k = 0; k < 5; k++) await st.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: k % 2 ? 'Available' : 'Preparing' });
      expect(i).toBeGreaterThanOrEqual(0);
    }

    // A's operator reaches the station held by C; the answer comes back to A.
    const r = await a.post<{ outcome: { kind: string } }>('/api/stations/CL-C/calls', { action: 'GetConfiguration', payload: {} });
    expect(r.status).toBe(200);
    expect(r.body.outcome.kind).toBe('result');
    expect(sts[2]!.received.some((f) => f[0] === 2 && f[2] === 'GetConfiguration')).toBe(true);

    // /api/stations on any node lists the stations of all three.
    await until(async () => {
      const list = await b.get<{ stations: { chargeBoxId: string; node: string }[] }>('/api/stations');
      const mine = list.stations.filter((s) => ids.includes(s.chargeBoxId));
      return mine.length === 3 && mine.every((s) => s.node === nodes[ids.indexOf(s.chargeBoxId)]!.name);
    }, 5000, '/api/stations from all nodes');

    // Every node's events reach the client on B, each station's seq with no gap and no repeat.
    await until(() => ids.every((id) => seen.filter((e) => e.chargeBoxId === id && e.type === 'status').length >= 5), 10_000, 'events from all three nodes');
    for (const id of ids) {
      const seqs = seen.filter((e) => e.chargeBoxId === id).map((e) => e.seq);
      expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, k) => seqs[0]! + k));
    }
    // The same seq on every node: A's REST history agrees with what B pushed.
    const hist = await a.get<{ events: GatewayEvent[] }>('/api/events?chargeBoxId=CL-C&limit=100');
    const pushed = seen.filter((e) => e.chargeBoxId === 'CL-C').map((e) => [e.id, e.seq]);
    expect(pushed.every(([id, seq]) => hist.events.some((e) => e.id === id && e.seq === seq))).toBe(true);
    client.close();
  });

  it('a call to a station nobody holds says so', async () => {
    const r = await nodes[0]!.post<{ error: { code: string } }>('/api/stations/CL-NOBODY/calls', { action: 'GetConfiguration', payload: {} });
    expect(r.status).toBe(409);
    expect(r.body.error.code).toBe('GW_ERR_STATION_NOT_CONNECTED');
  });

  it('a second connection for the same chargeBoxId on another node replaces the first', async () => {
    const [a, , c] = nodes as [GatewayNode, GatewayNode, GatewayNode];
    const first = await station(a.port, 'CL-TWICE');
    const second = await station(c.port, 'CL-TWICE');
    const closed = await first.closed;
    expect(closed.code).toBe(1008);
    expect(closed.reason).toMatch(/replaced/);
    // Calls now reach the new link, from any node.
    const r = await a.post<{ outcome: { kind: string } }>('/api/stations/CL-TWICE/calls', { action: 'GetConfiguration', payload: {} });
    expect(r.body.outcome.kind).toBe('result');
    expect(second.received.some((f) => f[2] === 'GetConfiguration')).toBe(true);
  });
});
