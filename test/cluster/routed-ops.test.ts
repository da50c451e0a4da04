// Operator tools routed to the node holding the station (issue 16 follow-up): fault rules over REST and Socket.IO,
// REST /api/sim, charger test runs. Two real nodes on a private Redis; stations connect straight to one node.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io as ioClient, type Socket } from 'socket.io-client';
import { connectStation, type StationClient } from '../support/station-client.js';
import { killAll, operatorToken, startNode, startRedis, until, type GatewayNode, type PrivateRedis } from './support.js';

let redis: PrivateRedis;
let a: GatewayNode;
let c: GatewayNode;
const stations: StationClient[] = [];
const sockets: Socket[] = [];

/** A suite of one case for the test-run tests: a call the plain station answers, then two questions for a person. */
function casesDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cb-cluster-cases-'));
  mkdirSync(path.join(dir, 'cluster'));
  writeFileSync(path.join(dir, 'cluster', '01-hands.yaml'), [
    'name: cluster-hands', 'title: A call and two hands-on steps', 'spec: none', 'profile: Core', 'steps:',
    '  - call: GetConfiguration', '    payload: { key: [HeartbeatInterval] }',
    '  - ask: Press the first button', '    timeout: 60',
    '  - ask: Press the second button', '    timeout: 60', '',
  ].join('\n'));
  return dir;
}

beforeAll(async () => {
  redis = await startRedis();
  // A node TTL well above the RPC timeout: a paused node is still "alive" (its claim holds) when asked.
  const env = { REDIS_URL: redis.url, CALL_TIMEOUT_MS: '3000', CLUSTER_RPC_TIMEOUT_MS: '500', CLUSTER_NODE_TTL_MS: '8000', CHARGER_TESTS_DIR: casesDir() };
  [a, c] = await Promise.all([startNode('node-a', env), startNode('node-c', env)]);
  // The stations the tests use, all held by node C, connected at once.
  await Promise.all(['RO-F1', 'RO-F2', 'RO-F3', 'RO-T1'].map((id) => stationOn(c, id)));
}, 120_000);

afterAll(async () => {
  for (const s of stations) s.close();
  for (const s of sockets) s.close();
  await Promise.all([a, c].filter(Boolean).map((n) => n.kill9()));
  await redis?.stop();
  killAll();
});

const held = new Map<string, StationClient>();
async function stationOn(node: GatewayNode, id: string): Promise<StationClient> {
  const st = await connectStation(`ws://127.0.0.1:${node.port}/ocpp/${id}`);
  stations.push(st);
  held.set(id, st);
  await st.call('BootNotification', { chargePointVendor: 'V', chargePointModel: 'M' });
  // Node A knows C holds it once C's claim is in Redis.
  await until(async () => (await a.get<{ stations: { chargeBoxId: string; node: string }[] }>('/api/stations')).stations.some((s) => s.chargeBoxId === id && s.node === node.name), 10_000, `${id} listed`);
  return st;
}
const heldBy = (id: string): StationClient => held.get(id) ?? (() => { throw new Error(`${id} not connected`); })();

function pushClient(node: GatewayNode): Promise<Socket> {
  const socket = ioClient(node.url, { transports: ['websocket'], reconnection: false, forceNew: true, auth: { token: operatorToken() } });
  sockets.push(socket);
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  });
}

const auth = { authorization: `Bearer ${operatorToken()}` };
async function rest(node: GatewayNode, method: string, p: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${node.url}${p}`, { method, headers: { ...auth, 'content-type': 'application/json' }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  const text = await res.text();
  return { status: res.status, body: text === '' ? undefined : JSON.parse(text) };
}

const authorizeStatus = async (st: StationClient): Promise<unknown> => ((await st.call('Authorize', { idTag: 'TAG1' }))[2] as { idTagInfo: { status: string } }).idTagInfo.status;

const answeredWithin = (st: StationClient, ms: number): Promise<boolean> => Promise.race([
  st.call('DataTransfer', { vendorId: 'test' }).then(() => true),
  new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms)),
]);

interface Rule { id: string; chargeBoxId: string; spec: { kind: string } }

describe('fault rules on a station held by another node', () => {
  it('REST on node A sets, lists and deletes a rule that acts on node C\'s station', async () => {
    const st = heldBy('RO-F1');
    expect(await authorizeStatus(st)).toBe('Accepted');
    const set = await rest(a, 'POST', '/api/stations/RO-F1/faults', { kind: 'answer', actions: ['Authorize'], answer: { idTagStatus: 'Expired' } });
    expect(set.status).toBe(201);
    const rule = set.body as Rule;
    // The rule acts in C's relay: the station's Authorize is answered Expired.
    expect(await authorizeStatus(st)).toBe('Expired');
    // Both nodes list the one rule C holds; A itself holds none.
    for (const n of [a, c]) expect(((await rest(n, 'GET', '/api/stations/RO-F1/faults')).body as { rules: Rule[] }).rules.map((r) => r.id)).toEqual([rule.id]);
    // A bad rule keeps its 400 and field from C.
    const bad = await rest(a, 'POST', '/api/stations/RO-F1/faults', { kind: 'drop', rate: 2 });
    expect(bad).toMatchObject({ status: 400, body: { error: { code: 'GW_ERR_FAULT_INVALID', field: 'rate' } } });
    expect((await rest(a, 'DELETE', `/api/stations/RO-F1/faults/${rule.id}`)).status).toBe(204);
    expect((await rest(a, 'DELETE', `/api/stations/RO-F1/faults/${rule.id}`)).status).toBe(404);
    expect(await authorizeStatus(st)).toBe('Accepted');
  });

  it('Socket.IO on node A sets and clears a drop rule on node C\'s station', async () => {
    const st = heldBy('RO-F2');
    const client = await pushClient(a);
    const set = await client.timeout(5000).emitWithAck('faults', { op: 'set', chargeBoxId: 'RO-F2', rule: { kind: 'drop', direction: 'toUpstream', actions: ['DataTransfer'] } }) as { ok: boolean; rule: Rule };
    expect(set).toMatchObject({ ok: true, rule: { chargeBoxId: 'RO-F2', spec: { kind: 'drop' } } });
    // C drops the station's DataTransfer on its way upstream: no answer comes.
    expect(await answeredWithin(st, 1000)).toBe(false);
    const list = await client.timeout(5000).emitWithAck('faults', { op: 'list', chargeBoxId: 'RO-F2' }) as { ok: boolean; rules: Rule[] };
    expect(list.rules.map((r) => r.id)).toEqual([set.rule.id]);
    expect(await client.timeout(5000).emitWithAck('faults', { op: 'clear', chargeBoxId: 'RO-F2' })).toEqual({ ok: true, removed: 1 });
    expect(await answeredWithin(st, 5000)).toBe(true);
  });

  it('a node holding the station that does not answer is a clear 504 (REST) and unreachable (Socket.IO)', async () => {
    const client = await pushClient(a);
    c.pause(true);
    try {
      const r = await rest(a, 'GET', '/api/stations/RO-F3/faults');
      expect(r.status).toBe(504);
      expect(r.body).toMatchObject({ error: { code: 'GW_ERR_CLUSTER_UNREACHABLE', message: expect.stringContaining('node-c') } });
      const ack = await client.timeout(5000).emitWithAck('faults', { op: 'list', chargeBoxId: 'RO-F3' });
      expect(ack).toMatchObject({ ok: false, error: { code: 'unreachable' } });
    } finally {
      c.pause(false);
    }
  });
});

interface SimInfo { id: string; node?: string }

describe('REST /api/sim across nodes', () => {
  it('node A lists, looks at, acts on and removes a station simulated by node C', async () => {
    expect((await rest(c, 'POST', '/api/sim/stations', { id: 'RO-SIM' })).status).toBe(201);
    await until(async () => (await a.get<{ stations: { chargeBoxId: string; node: string }[] }>('/api/stations')).stations.some((s) => s.chargeBoxId === 'RO-SIM' && s.node === c.name), 10_000, 'RO-SIM held by C');
    const list = (await rest(a, 'GET', '/api/sim/stations')).body as { stations: SimInfo[]; unanswered: unknown[] };
    expect(list.stations.filter((s) => s.id === 'RO-SIM')).toEqual([expect.objectContaining({ id: 'RO-SIM', node: 'node-c' })]);
    expect(list.unanswered).toEqual([]);
    expect(await rest(a, 'GET', '/api/sim/stations/RO-SIM')).toMatchObject({ status: 200, body: { id: 'RO-SIM' } });
    const act = await rest(a, 'POST', '/api/sim/stations/RO-SIM/actions/plugIn', {});
    expect(act).toMatchObject({ status: 200, body: { ok: true } });
    // The plug-in happened on C: C's own view of its station says so.
    expect(JSON.stringify((await rest(c, 'GET', '/api/sim/stations/RO-SIM')).body)).toContain('Preparing');
    const bad = await rest(a, 'POST', '/api/sim/stations/RO-SIM/actions/fly', {});
    expect(bad.status).toBe(400);
    expect((await rest(a, 'DELETE', '/api/sim/stations/RO-SIM')).status).toBe(204);
    expect((await rest(c, 'GET', '/api/sim/stations/RO-SIM')).status).toBe(404);
    expect((await rest(a, 'GET', '/api/sim/stations/NOBODY')).status).toBe(404);
  });

  it('the list names a node that did not answer', async () => {
    c.pause(true);
    try {
      const list = (await rest(a, 'GET', '/api/sim/stations')).body as { unanswered: { node: string; message: string }[] };
      expect(list.unanswered).toEqual([{ node: 'node-c', message: expect.stringContaining('node-c') }]);
    } finally {
      c.pause(false);
    }
  });
});

interface Update { runId: string; kind: string; report: { state: string; ask?: { askId: string; prompt: string } } }
interface Report { runId: string; chargeBoxId: string; state: string; summary: { pass: number }; cases: { name: string; verdict: string }[]; ask?: { askId: string; prompt: string } }

describe('charger test runs in a cluster', () => {
  it('a run started on node A on a station held by node C is followed, answered and reported from node A', async () => {
    const client = await pushClient(a);
    const updates: Update[] = [];
    client.on('test', (u: Update) => updates.push(u));
    expect(await client.timeout(5000).emitWithAck('tests:subscribe')).toEqual({ ok: true });
    const started = await rest(a, 'POST', '/api/stations/RO-T1/tests', { suite: 'cluster' });
    expect(started).toMatchObject({ status: 202, body: { chargeBoxId: 'RO-T1', cases: ['cluster-hands'] } });
    const { runId } = started.body as { runId: string };
    // The run is C's: C keeps it, A follows it.
    expect((await rest(c, 'GET', `/api/tests/${runId}`)).status).toBe(200);
    // The first question comes to A's Socket.IO client and is answered there.
    const first = await until(() => updates.find((u) => u.runId === runId && u.kind === 'ask')?.report.ask, 20_000, 'the first question on node A');
    expect(first.prompt).toBe('Press the first button');
    expect(await client.timeout(5000).emitWithAck('tests:answer', { runId, askId: 'nope' })).toMatchObject({ ok: false, error: { code: 'invalid_params' } });
    expect(await client.timeout(5000).emitWithAck('tests:answer', { runId, askId: first.askId, answer: 'done' })).toEqual({ ok: true });
    // The second is seen in A's REST report and answered over A's REST.
    const second = await until(async () => {
      const r = (await rest(a, 'GET', `/api/tests/${runId}`)).body as Report;
      return r.ask?.prompt === 'Press the second button' && r.ask;
    }, 20_000, 'the second question in node A\'s report');
    expect((await rest(a, 'POST', `/api/tests/${runId}/asks/nope`, { answer: 'done' })).status).toBe(409);
    expect(await rest(a, 'POST', `/api/tests/${runId}/asks/${second.askId}`, { answer: 'done' })).toEqual({ status: 200, body: { ok: true } });
    const report = await until(async () => {
      const r = (await rest(a, 'GET', `/api/tests/${runId}`)).body as Report;
      return r.state !== 'running' && r;
    }, 20_000, 'the verdict on node A');
    expect(report).toMatchObject({ runId, chargeBoxId: 'RO-T1', state: 'finished', summary: { pass: 1 } });
    expect(report.cases.map((x) => [x.name, x.verdict])).toEqual([['cluster-hands', 'pass']]);
    await until(() => updates.some((u) => u.runId === runId && u.kind === 'finished'), 10_000, 'the finished update on node A');
    // The reports download from A as from C.
    for (const [format, type, text] of [['junit', 'application/xml', 'cluster-hands'], ['html', 'text/html', 'RO-T1']] as const) {
      const res = await fetch(`${a.url}/api/tests/${runId}?format=${format}`, { headers: auth });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain(type);
      const body = await res.text();
      expect(body).toContain(text);
      expect(body).toBe(await (await fetch(`${c.url}/api/tests/${runId}?format=${format}`, { headers: auth })).text());
    }
    // A lists C's run, naming the node.
    const list = (await rest(a, 'GET', '/api/tests')).body as { runs: { runId: string; node?: string }[]; unanswered: unknown[] };
    expect(list.runs.filter((r) => r.runId === runId)).toEqual([expect.objectContaining({ node: 'node-c' })]);
    expect(list.unanswered).toEqual([]);
  });

  it('node A aborts a run kept by node C; one run per station holds across nodes', async () => {
    const started = await rest(a, 'POST', '/api/stations/RO-T1/tests', { suite: 'cluster' });
    expect(started.status).toBe(202);
    const { runId } = started.body as { runId: string };
    expect(await rest(c, 'POST', '/api/stations/RO-T1/tests', { suite: 'cluster' })).toMatchObject({ status: 409, body: { error: { code: 'GW_ERR_TEST_RUNNING' } } });
    expect(await rest(a, 'POST', '/api/stations/RO-T1/tests', { suite: 'cluster' })).toMatchObject({ status: 409, body: { error: { code: 'GW_ERR_TEST_RUNNING' } } });
    expect(await rest(a, 'DELETE', `/api/tests/${runId}`)).toEqual({ status: 202, body: { ok: true } });
    await until(async () => ((await rest(a, 'GET', `/api/tests/${runId}`)).body as Report).state === 'aborted', 20_000, 'the run aborted');
    // The node keeping the run does not answer: a clear 504 naming it (REST), unreachable (Socket.IO).
    const client = await pushClient(a);
    c.pause(true);
    try {
      expect(await rest(a, 'GET', `/api/tests/${runId}`)).toMatchObject({ status: 504, body: { error: { code: 'GW_ERR_CLUSTER_UNREACHABLE', node: 'node-c', message: expect.stringContaining('node-c') } } });
      expect(await client.timeout(5000).emitWithAck('tests:answer', { runId, askId: 'any' })).toMatchObject({ ok: false, error: { code: 'unreachable' } });
    } finally {
      c.pause(false);
    }
    expect((await rest(a, 'GET', '/api/tests/no-such-run')).status).toBe(404);
    // A bad request keeps C's 400; a station nobody holds is still the plain "not connected".
    expect(await rest(a, 'POST', '/api/stations/RO-T1/tests', { suite: 'cluster', cases: ['nope'] })).toMatchObject({ status: 400, body: { error: { code: 'GW_ERR_TEST_CASE' } } });
    expect(await rest(a, 'POST', '/api/stations/NOBODY/tests', { suite: 'cluster' })).toMatchObject({ status: 409, body: { error: { code: 'GW_ERR_STATION_NOT_CONNECTED' } } });
  });
});

interface Entry { id: number; time: string; node?: string; chargeBoxId: string }

describe('the live frame stream in a cluster', () => {
  it('a client on node A follows the frames of a station held by node C, each naming its node, and its own node\'s once', async () => {
    const client = await pushClient(a);
    const frames: (Entry & { action?: string })[] = [];
    client.on('frame', (e: Entry) => frames.push(e));
    expect(await client.timeout(5000).emitWithAck('frames:subscribe', { chargeBoxIds: ['RO-FR-C', 'RO-FR-A'] })).toMatchObject({ ok: true });
    const remote = await stationOn(c, 'RO-FR-C');
    // Node C learns from A's heartbeat that A has frame clients: until then C sends nothing.
    await until(async () => {
      await remote.call('Heartbeat', {});
      return frames.some((f) => f.chargeBoxId === 'RO-FR-C' && f.action === 'Heartbeat');
    }, 15_000, 'a frame of node C\'s station on node A');
    expect(frames.filter((f) => f.chargeBoxId === 'RO-FR-C').every((f) => f.node === 'node-c')).toBe(true);
    const local = await stationOn(a, 'RO-FR-A');
    await local.call('DataTransfer', { vendorId: 'frames-once' });
    await until(() => frames.filter((f) => f.chargeBoxId === 'RO-FR-A' && f.action === 'DataTransfer').length >= 2, 10_000, 'the local station\'s call and answer');
    await new Promise((r) => setTimeout(r, 500));
    const mine = frames.filter((f) => f.chargeBoxId === 'RO-FR-A' && f.action === 'DataTransfer');
    expect(mine.length).toBe(2);
    expect(mine.every((f) => f.node === undefined)).toBe(true);
    client.close();
  });
});

describe('GET /api/messages in a cluster', () => {
  // Stations of their own: the test runs above leave frames of RO-T1 still being logged.
  const ids = 'chargeBoxId=RO-M1&chargeBoxId=RO-M2';
  const exportOf = async (n: GatewayNode, query = ''): Promise<Entry[]> => {
    const res = await fetch(`${n.url}/api/messages?format=jsonl&${ids}${query}`, { headers: auth });
    return (await res.text()).split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Entry);
  };

  it('pages through every node\'s log, newest first by time, with the node of each entry', async () => {
    const st = await stationOn(a, 'RO-M1');
    for (let k = 0; k < 3; k++) await st.call('Heartbeat', {});
    await (await stationOn(c, 'RO-M2')).call('Heartbeat', {});
    // The merged export is the truth to compare with, once the logs of both nodes have written the frames.
    const truth = await until(async () => {
      const all = await exportOf(c);
      return all.filter((e) => e.node === 'node-a').length >= 8 && all.filter((e) => e.node === 'node-c').length >= 4 ? all : undefined;
    }, 10_000, 'frames logged on both nodes');
    const paged: Entry[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 20; pages++) {
      const r = await rest(a, 'GET', `/api/messages?limit=3&${ids}${cursor ? `&cursor=${cursor}` : ''}`);
      expect(r.status).toBe(200);
      const body = r.body as { entries: Entry[]; nextCursor?: string; unanswered: unknown[] };
      expect(body.unanswered).toEqual([]);
      paged.push(...body.entries);
      cursor = body.nextCursor;
      if (cursor === undefined) break;
    }
    expect(cursor).toBeUndefined();
    expect(paged.map((e) => `${e.node}:${e.id}`)).toEqual(truth.map((e) => `${e.node}:${e.id}`));
    expect((await rest(a, 'GET', '/api/messages?cursor=42')).status).toBe(400);
  });

  it('exports (jsonl, csv) hold every node\'s entries, newest first by time, each naming its node', async () => {
    const all = await exportOf(a);
    expect(new Set(all.map((e) => e.node))).toEqual(new Set(['node-a', 'node-c']));
    expect(all.map((e) => `${e.node}:${e.id}`)).toEqual((await exportOf(c)).map((e) => `${e.node}:${e.id}`));
    const times = all.map((e) => e.time);
    expect(times).toEqual([...times].sort().reverse());
    expect((await exportOf(a, '&limit=5')).map((e) => `${e.node}:${e.id}`)).toEqual(all.slice(0, 5).map((e) => `${e.node}:${e.id}`));
    const csv = await (await fetch(`${a.url}/api/messages?format=csv&${ids}`, { headers: auth })).text();
    const rows = csv.split('\r\n').filter((l) => l !== '');
    expect(rows[0]).toMatch(/^node,id,time,chargeBoxId,/);
    expect(rows.slice(1).map((r) => r.split(',').slice(0, 2).join(':'))).toEqual(all.map((e) => `${e.node}:${e.id}`));
  });

  it('names a node that did not answer and still answers with the others', async () => {
    c.pause(true);
    try {
      const res = await fetch(`${a.url}/api/messages?format=jsonl&${ids}`, { headers: auth });
      expect(res.headers.get('x-unanswered-nodes')).toBe('node-c');
      expect((await res.text()).split('\n').filter((l) => l !== '').every((l) => (JSON.parse(l) as Entry).node === 'node-a')).toBe(true);
      const r = await rest(a, 'GET', `/api/messages?${ids}`);
      const body = r.body as { entries: Entry[]; unanswered: { node: string }[] };
      expect(r.status).toBe(200);
      expect(body.unanswered).toEqual([expect.objectContaining({ node: 'node-c' })]);
      expect(body.entries.length).toBeGreaterThan(0);
      expect(body.entries.every((e) => e.node === 'node-a')).toBe(true);
    } finally {
      c.pause(false);
    }
  });
});
