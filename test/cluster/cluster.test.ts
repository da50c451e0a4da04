// Three gateway nodes, HAProxy and a private Redis, as real processes on loopback (issue 16).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io as ioClient, type Socket } from 'socket.io-client';
import type { GatewayEvent } from '../../src/events/catalogue.js';
import { connectStation, type StationClient } from '../support/station-client.js';
import { startSteveDouble, type SteveDouble } from '../support/steve-double.js';
import { killAll, operatorToken, startHaproxy, startNode, startRedis, until, type GatewayNode, type Haproxy, type PrivateRedis } from './support.js';

let redis: PrivateRedis;
let nodes: GatewayNode[];
let proxy: Haproxy;
/** The upstream every node relays to (SteVe's stand-in). */
let steve: SteveDouble;
const stations: StationClient[] = [];

beforeAll(async () => {
  redis = await startRedis();
  steve = await startSteveDouble({ getConfigurationOnConnect: false });
  nodes = await Promise.all(['node-a', 'node-b', 'node-c'].map((n) => startNode(n, { REDIS_URL: redis.url, CALL_TIMEOUT_MS: '3000', CLUSTER_RPC_TIMEOUT_MS: '500', STEVE_WS_URL: steve.url })));
  proxy = await startHaproxy(nodes.map((n) => n.port));
}, 120_000);

afterAll(async () => {
  for (const s of stations) s.close();
  await proxy?.stop();
  await Promise.all((nodes ?? []).map((n) => n.kill9()));
  await steve?.close();
  await redis?.stop();
  killAll();
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

  it('reads the stream quietly while nobody waits for events, and as they come once a push client connects', async () => {
    const [a] = nodes as [GatewayNode];
    const wanted = async (): Promise<boolean> => (await a.get<{ cluster: { stream: { eventsWanted: boolean } } }>('/api/health')).cluster.stream.eventsWanted;
    expect(await wanted()).toBe(false);
    const client = await pushClient(a);
    await until(async () => (await wanted()) || undefined, 5000, 'eventsWanted on node A');
    client.close();
    await until(async () => !(await wanted()) || undefined, 5000, 'quiet again on node A');
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

  it('Socket.IO on node A: a call and a simulator action reach a station simulated by node C', async () => {
    const [a, , c] = nodes as [GatewayNode, GatewayNode, GatewayNode];
    const created = await c.post('/api/sim/stations', { id: 'CL-SIM' });
    expect(created.status).toBeLessThan(300);
    await until(async () => (await a.get<{ stations: { chargeBoxId: string; node: string }[] }>('/api/stations')).stations.some((s) => s.chargeBoxId === 'CL-SIM' && s.node === c.name), 10_000, 'simulated station listed');
    const client = await pushClient(a);
    const call = await client.timeout(10_000).emitWithAck('call', { chargeBoxId: 'CL-SIM', action: 'GetConfiguration', payload: { key: ['HeartbeatInterval'] } }) as { ok: boolean; outcome: { kind: string } };
    expect(call).toMatchObject({ ok: true, outcome: { kind: 'result' } });
    const act = await client.timeout(10_000).emitWithAck('sim', { op: 'act', id: 'CL-SIM', action: { type: 'plugIn' } }) as { ok: boolean };
    expect(act.ok).toBe(true);
    // The plug-in shows up as the station's status event on A (sequenced from the shared stream).
    await until(async () => {
      const { events } = await a.get<{ events: GatewayEvent[] }>('/api/events?chargeBoxId=CL-SIM&type=status&limit=100');
      return events.some((e) => (e.data as { status?: string }).status === 'Preparing');
    }, 10_000, 'Preparing after plugIn');
    client.close();
  });

  it('a call to a station whose node does not answer ends in a clear 504', async () => {
    const [a, , c] = nodes as [GatewayNode, GatewayNode, GatewayNode];
    await station(c.port, 'CL-STOP');
    await until(async () => (await a.post<{ outcome?: { kind: string } }>('/api/stations/CL-STOP/calls', { action: 'GetConfiguration', payload: {} })).status === 200, 5000, 'routed call');
    c.pause(true);
    try {
      const t0 = Date.now();
      const r = await a.post<{ error: { code: string; message: string } }>('/api/stations/CL-STOP/calls', { action: 'GetConfiguration', payload: {} });
      expect(r.status).toBe(504);
      expect(r.body.error.code).toBe('GW_ERR_CLUSTER_UNREACHABLE');
      expect(r.body.error.message).toContain('node-c');
      expect(Date.now() - t0).toBeLessThan(6000);
    } finally {
      c.pause(false);
    }
    // Heard from again, C holds its stations for the others as before.
    await until(async () => (await a.get<Health>('/api/health')).cluster.peers.some((p) => p.nodeId === c.name), 10_000, 'node C back');
    const again = await until(async () => {
      const r = await a.post<{ outcome?: { kind: string } }>('/api/stations/CL-STOP/calls', { action: 'GetConfiguration', payload: {} });
      return r.status === 200 ? r : undefined;
    }, 10_000, 'routed call after the pause');
    expect(again.body.outcome?.kind).toBe('result');
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

  it('keeps relaying while Redis is away, says what does not work, and recovers when it is back', async () => {
    const [a, b] = nodes as [GatewayNode, GatewayNode];
    const st = await station(a.port, 'CL-REDIS');
    const client = await pushClient(b);
    const seen: GatewayEvent[] = [];
    client.on('event', (e: GatewayEvent) => seen.push(e));
    await client.timeout(5000).emitWithAck('subscribe', { chargeBoxIds: ['CL-REDIS'] });
    await st.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available' });
    await until(() => seen.some((e) => e.type === 'status'), 5000, 'status before the outage');

    await redis.stop();
    const down = await until(async () => {
      const h = await a.get<Health>('/api/health');
      return h.cluster.redis.state === 'down' ? h : undefined;
    }, 5000, 'health says redis is down');
    expect(down.cluster.degraded.length).toBeGreaterThan(0);
    // The station is relayed as before: its calls are answered without Redis.
    const t0 = Date.now();
    const answer = await st.call('Heartbeat', {});
    expect(answer[0]).toBe(3);
    expect(Date.now() - t0).toBeLessThan(1000);
    await st.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Preparing' });

    await redis.start();
    await until(async () => {
      const h = await a.get<Health>('/api/health');
      return h.cluster.redis.state === 'up' && h.cluster.peers.length === 2 && h.cluster.degraded.length === 0;
    }, 10_000, 'health recovers');
    // The event made during the outage arrives once Redis is back, in seq order after the earlier one.
    await until(() => seen.some((e) => e.type === 'status' && (e.data as { status?: string }).status === 'Preparing'), 10_000, 'event from the outage');
    const seqs = seen.map((e) => e.seq);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, k) => seqs[0]! + k));
    // The station is claimed again: calls from another node reach it.
    const r = await until(async () => {
      const r = await b.post<{ outcome?: { kind: string } }>('/api/stations/CL-REDIS/calls', { action: 'GetConfiguration', payload: {} });
      return r.status === 200 ? r : undefined;
    }, 10_000, 'routed call after the outage');
    expect(r.body.outcome?.kind).toBe('result');
    client.close();
  });

  it('kill -9 of a node holding stations: they reconnect through HAProxy to the others and their offline queues drain upstream', async () => {
    const ids = Array.from({ length: 6 }, (_, i) => `CL-LB-${i}`);
    const held = new Map<string, StationClient>();
    for (const id of ids) held.set(id, await station(proxy.port, id));
    const where = async (): Promise<Map<string, string>> => {
      const list = await nodes[0]!.get<{ stations: { chargeBoxId: string; node: string }[] }>('/api/stations');
      return new Map(list.stations.filter((s) => ids.includes(s.chargeBoxId)).map((s) => [s.chargeBoxId, s.node]));
    };
    const before = await until(async () => {
      const m = await where();
      return m.size === ids.length ? m : undefined;
    }, 5000, 'stations listed');
    // Round robin spreads them over all three nodes.
    expect(new Set(before.values()).size).toBe(3);
    const victim = nodes[2]!;
    const orphans = ids.filter((id) => before.get(id) === victim.name);
    await victim.kill9();
    // Each orphan does what a station does offline: it keeps metering into its queue while it cannot reach the
    // gateway, and sends the queue in order once it is back through the balancer.
    const queued = new Map<string, string[]>();
    await Promise.all(orphans.map(async (id) => {
      await held.get(id)!.closed;
      const queue: string[] = [];
      queued.set(id, queue);
      const meter = (): void => {
        queue.push(`${id}/offline-${queue.length}`);
      };
      meter();
      const ticker = setInterval(meter, 50);
      // A station retries until the balancer sends it to a live node.
      const back = await until(async () => station(proxy.port, id).catch(() => undefined), 10_000, `${id} reconnects`);
      clearInterval(ticker);
      held.set(id, back);
      for (const value of queue) {
        const answer = await back.call('MeterValues', { connectorId: 1, meterValue: [{ timestamp: new Date().toISOString(), sampledValue: [{ value }] }] });
        expect(answer[0]).toBe(3);
      }
    }));
    // Every queued frame reached the upstream stand-in through a surviving node, once and in order.
    for (const id of orphans) {
      const upstream = steve.received
        .filter((f) => f.chargeBoxId === id && f.frame[2] === 'MeterValues')
        .map((f) => (f.frame[3] as { meterValue: { sampledValue: { value: string }[] }[] }).meterValue[0]!.sampledValue[0]!.value);
      expect(queued.get(id)!.length).toBeGreaterThan(0);
      expect(upstream).toEqual(queued.get(id));
    }
    const survivors = nodes.slice(0, 2);
    const after = await until(async () => {
      const m = await where();
      return m.size === ids.length && [...m.values()].every((n) => n !== victim.name) ? m : undefined;
    }, 10_000, 'stations on the surviving nodes');
    expect(new Set(after.values()).size).toBeLessThanOrEqual(2);
    for (const id of orphans) {
      const r = await survivors[0]!.post<{ outcome: { kind: string } }>(`/api/stations/${id}/calls`, { action: 'GetConfiguration', payload: {} });
      expect(r.body.outcome.kind).toBe('result');
    }
  });
});
