// Fault injection on the relay, over real sockets: a real gateway relaying to the SteVe double, real station
// WebSocket clients, rules set over REST. Each kind of fault in each direction, seeds that repeat, link faults,
// answer overrides, expiry, `injected` entries in the message log, and a second station left alone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { connectStation, type StationClient } from '../support/station-client.js';
import { startSteveDouble, type SteveDouble } from '../support/steve-double.js';
import { until } from '../push/support/harness.js';
import type { LogEntry } from '../../src/events/observations.js';
import type { FaultRuleView } from '../../src/relay/faults/index.js';

let steve: SteveDouble;
let gw: TestGateway;
const stations: StationClient[] = [];

beforeAll(async () => {
  steve = await startSteveDouble({ getConfigurationOnConnect: false });
  gw = await startGateway({ STEVE_WS_URL: steve.url, CALL_TIMEOUT_MS: '20000' });
});
afterAll(async () => {
  for (const s of stations) s.close();
  await gw?.stop();
  await steve?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A station whose upstream is open (one Heartbeat went through). */
async function station(id: string, opts: { autoAnswer?: boolean } = {}): Promise<StationClient> {
  const st = await connectStation(gw.wsUrl(id), opts);
  stations.push(st);
  await st.call('Heartbeat', {});
  return st;
}

async function setFault(id: string, rule: unknown): Promise<FaultRuleView> {
  const res = await fetch(`${gw.httpUrl}/api/stations/${id}/faults`, { method: 'POST', headers: { 'content-type': 'application/json', ...gw.authHeader() }, body: JSON.stringify(rule) });
  const body = (await res.json()) as FaultRuleView;
  if (res.status !== 201) throw new Error(`POST faults: ${res.status} ${JSON.stringify(body)}`);
  return body;
}

async function clearFaults(id: string): Promise<void> {
  await fetch(`${gw.httpUrl}/api/stations/${id}/faults`, { method: 'DELETE', headers: gw.authHeader() });
}

/** The message log's injected entries of a station, once there are at least `n`. */
async function injected(id: string, n: number): Promise<LogEntry[]> {
  let entries: LogEntry[] = [];
  const end = Date.now() + 10_000;
  for (;;) {
    entries = (await gw.getJson<{ entries: LogEntry[] }>(`/api/messages?chargeBoxId=${id}&disposition=injected&limit=1000`)).entries;
    if (entries.length >= n || Date.now() > end) return entries.sort((a, b) => a.id - b.id);
    await sleep(100);
  }
}

const steveGot = (id: string, pred: (f: unknown[]) => boolean) => steve.received.filter((r) => r.chargeBoxId === id && pred(r.frame));
const rawFrames = (st: StationClient): string[] => {
  const out: string[] = [];
  st.ws.on('message', (d: WebSocket.RawData) => out.push(d.toString()));
  return out;
};

describe('frame faults, station → upstream', () => {
  it('drop: a matching CALL never reaches SteVe, the station gets no answer, the log says injected with the rule', async () => {
    const st = await station('F-DROP');
    const rule = await setFault('F-DROP', { kind: 'drop', direction: 'toUpstream', actions: ['StatusNotification'] });
    st.sendRaw(JSON.stringify([2, 'sn-1', 'StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available' }]));
    await st.call('Heartbeat', {}); // other actions pass
    await sleep(300);
    expect(steveGot('F-DROP', (f) => f[2] === 'StatusNotification')).toEqual([]);
    expect(st.received.some((f) => f[1] === 'sn-1')).toBe(false);
    const [e] = await injected('F-DROP', 1);
    expect(e).toMatchObject({ disposition: 'injected', action: 'StatusNotification', messageId: 'sn-1', leg: 'station', direction: 'in', fault: { ruleId: rule.id, kind: 'drop' } });
    expect(e?.problem).toContain('dropped');
    expect(e?.findings).toEqual([]);
    expect(gw.relay.stations().find((s) => s.chargeBoxId === 'F-DROP')?.pendingCalls.fromStation).toBe(0);
    await clearFaults('F-DROP');
  });

  it('drop of a large frame: fault rules see frames decoded on the decoder\'s thread like any other, in order', async () => {
    const st = await station('F-DROP-BIG');
    await setFault('F-DROP-BIG', { kind: 'drop', direction: 'toUpstream', actions: ['DataTransfer'] });
    const big = { vendorId: 'big', data: 'ÿx'.repeat(70_000) };
    st.sendRaw(JSON.stringify([2, 'dt-big', 'DataTransfer', big]));
    await st.call('Heartbeat', {}, 'hb-after'); // waits behind the large frame, then passes
    await sleep(300);
    expect(steveGot('F-DROP-BIG', (f) => f[2] === 'DataTransfer')).toEqual([]);
    expect(steveGot('F-DROP-BIG', (f) => f[1] === 'hb-after')).toHaveLength(1);
    const [e] = await injected('F-DROP-BIG', 1);
    expect(e).toMatchObject({ disposition: 'injected', action: 'DataTransfer', messageId: 'dt-big' });
    expect(gw.relay.decoder.stats.offThread).toBeGreaterThan(0);
    await clearFaults('F-DROP-BIG');
  });

  it('delay (fixed): the CALL reaches SteVe no sooner than the delay, then is answered as usual', async () => {
    const st = await station('F-DELAY');
    await setFault('F-DELAY', { kind: 'delay', direction: 'toUpstream', actions: ['Heartbeat'], delay: { ms: 400 } });
    const t0 = Date.now();
    const answer = await st.call('Heartbeat', {});
    expect(Date.now() - t0).toBeGreaterThanOrEqual(390);
    expect(answer[0]).toBe(3);
    const [e] = await injected('F-DELAY', 1);
    expect(e?.problem).toContain('delayed 400 ms');
    await clearFaults('F-DELAY');
  });

  it('a held StatusNotification is one status event (followed when it goes), not two', async () => {
    const st = await station('F-EVT');
    await setFault('F-EVT', { kind: 'delay', direction: 'toUpstream', actions: ['StatusNotification'], delay: 200 });
    await st.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Faulted' });
    await injected('F-EVT', 1);
    await sleep(300);
    const { events } = await gw.getJson<{ events: { type: string; data: { status?: string } }[] }>('/api/events?chargeBoxId=F-EVT&type=status');
    expect(events.filter((e) => e.data.status === 'Faulted')).toHaveLength(1);
    await clearFaults('F-EVT');
  });

  it('duplicate: SteVe gets the CALL twice (the real SteVe answers the copy with ProtocolError); the station gets both answers', async () => {
    const st = await station('F-DUP');
    await setFault('F-DUP', { kind: 'duplicate', direction: 'toUpstream', actions: ['Authorize'], copies: 1 });
    st.sendRaw(JSON.stringify([2, 'au-1', 'Authorize', { idTag: 'TAG' }]));
    await until(() => st.received.filter((f) => f[1] === 'au-1').length === 2, 5000, 'two answers');
    expect(steveGot('F-DUP', (f) => f[1] === 'au-1')).toHaveLength(2);
    await clearFaults('F-DUP');
  });

  it('reorder within a window: SteVe sees a seeded permutation, the same one for the same seed on another station', async () => {
    const orders: string[][] = [];
    for (const id of ['F-REO-A', 'F-REO-B']) {
      const st = await station(id);
      await setFault(id, { kind: 'reorder', direction: 'toUpstream', actions: ['StatusNotification'], window: 5, seed: 1234 });
      for (let i = 1; i <= 5; i++) st.sendRaw(JSON.stringify([2, `r${i}`, 'StatusNotification', { connectorId: i, errorCode: 'NoError', status: 'Available' }]));
      await until(() => steveGot(id, (f) => f[2] === 'StatusNotification').length === 5, 5000, `five at SteVe for ${id}`);
      orders.push(steveGot(id, (f) => f[2] === 'StatusNotification').map((r) => String(r.frame[1])));
      await clearFaults(id);
    }
    expect(orders[0]).toEqual(orders[1]);
    expect(orders[0]).not.toEqual(['r1', 'r2', 'r3', 'r4', 'r5']);
    expect([...(orders[0] ?? [])].sort()).toEqual(['r1', 'r2', 'r3', 'r4', 'r5']);
  });

  it('rate and seed: the same seed drops the same frames on a repeat run; another seed differs', async () => {
    const dropped = async (id: string, seed: number): Promise<string[]> => {
      const st = await station(id);
      await setFault(id, { kind: 'drop', direction: 'toUpstream', messageTypes: ['CALL'], actions: ['DataTransfer'], rate: 0.5, seed });
      for (let i = 0; i < 20; i++) st.sendRaw(JSON.stringify([2, `d${i}`, 'DataTransfer', { vendorId: 'x' }]));
      // Every frame either reached SteVe or was dropped (and logged).
      const passed = () => steveGot(id, (f) => f[2] === 'DataTransfer').length;
      await until(() => passed() > 0, 5000, 'some DataTransfer at SteVe');
      const end = Date.now() + 10_000;
      let entries = await injected(id, 1);
      while (entries.length + passed() < 20 && Date.now() < end) entries = await injected(id, 20 - passed());
      await clearFaults(id);
      return entries.map((e) => String(e.messageId));
    };
    const a = await dropped('F-SEED-A', 42);
    const b = await dropped('F-SEED-B', 42);
    const c = await dropped('F-SEED-C', 7);
    expect(a.length).toBeGreaterThan(2);
    expect(a.length).toBeLessThan(18);
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
    // What was not dropped reached SteVe.
    expect(steveGot('F-SEED-A', (f) => f[2] === 'DataTransfer')).toHaveLength(20 - a.length);
  });

  it('corrupt: the peer gets the frame damaged, straight (no bookkeeping); the log shows what was sent', async () => {
    const st = await station('F-COR');
    await setFault('F-COR', { kind: 'corrupt', direction: 'toUpstream', actions: ['DataTransfer'], mode: 'truncate', seed: 5 });
    st.sendRaw(JSON.stringify([2, 'c1', 'DataTransfer', { vendorId: 'x' }]));
    const [e] = await injected('F-COR', 1);
    expect(e).toMatchObject({ leg: 'upstream', direction: 'out', disposition: 'injected', fault: { kind: 'corrupt' } });
    expect(JSON.stringify([2, 'c1', 'DataTransfer', { vendorId: 'x' }]).startsWith(e!.raw)).toBe(true);
    // The double (like SteVe) closes on a frame that is not JSON: the relay closes the station with 1013.
    expect((await st.closed).code).toBe(1013);
  });
});

describe('frame faults, upstream → station', () => {
  it('drop: SteVe\'s call never reaches the station; SteVe times out', async () => {
    const st = await station('F-DROP-DOWN');
    await setFault('F-DROP-DOWN', { kind: 'drop', direction: 'toStation', messageTypes: ['CALL'] });
    await expect(steve.call('F-DROP-DOWN', 'ClearCache', {}, 800)).rejects.toThrow(/timed out/);
    expect(st.received.some((f) => f[2] === 'ClearCache')).toBe(false);
    const [e] = await injected('F-DROP-DOWN', 1);
    expect(e).toMatchObject({ leg: 'upstream', direction: 'in', origin: 'steve', action: 'ClearCache', disposition: 'injected' });
    await clearFaults('F-DROP-DOWN');
  });

  it('delay (uniform) and duplicate on answers to the station', async () => {
    const st = await station('F-DOWN2');
    await setFault('F-DOWN2', { kind: 'delay', direction: 'toStation', actions: ['Heartbeat'], delay: { min: 200, max: 300 }, seed: 3 });
    const t0 = Date.now();
    await st.call('Heartbeat', {});
    expect(Date.now() - t0).toBeGreaterThanOrEqual(190);
    await clearFaults('F-DOWN2');
    await setFault('F-DOWN2', { kind: 'duplicate', direction: 'toStation', messageTypes: ['CALLRESULT'], actions: ['Heartbeat'] });
    st.sendRaw(JSON.stringify([2, 'hb-dup', 'Heartbeat', {}]));
    await until(() => st.received.filter((f) => f[1] === 'hb-dup').length === 2, 5000, 'the answer twice');
    const entries = await injected('F-DOWN2', 2);
    expect(entries.map((e) => e.fault?.kind)).toEqual(['delay', 'duplicate']);
    await clearFaults('F-DOWN2');
  });

  it('corrupt (garble): the station gets a damaged CALL', async () => {
    const st = await station('F-COR-DOWN');
    const raw = rawFrames(st);
    await setFault('F-COR-DOWN', { kind: 'corrupt', direction: 'toStation', actions: ['ClearCache'], seed: 11 });
    void steve.call('F-COR-DOWN', 'ClearCache', {}, 1000).catch(() => undefined);
    await until(() => raw.length > 0, 5000, 'a frame at the station');
    expect(raw[0]).not.toMatch(/^\[2,"steve-\d+","ClearCache",\{\}\]$/);
    const [e] = await injected('F-COR-DOWN', 1);
    expect(e).toMatchObject({ leg: 'station', direction: 'out', raw: raw[0], fault: { kind: 'corrupt' } });
    await clearFaults('F-COR-DOWN');
  });

  it('reorder and stall toward the station: SteVe\'s calls arrive permuted (seeded), or held and then in order', async () => {
    const st = await station('F-DOWN3');
    await setFault('F-DOWN3', { kind: 'reorder', direction: 'toStation', messageTypes: ['CALL'], window: 4, seed: 99 });
    const calls = ['ClearCache', 'DataTransfer', 'UnlockConnector', 'GetLocalListVersion'];
    for (const action of calls) void steve.call('F-DOWN3', action, action === 'UnlockConnector' ? { connectorId: 1 } : action === 'DataTransfer' ? { vendorId: 'v' } : {}, 5000).catch(() => undefined);
    await until(() => st.received.filter((f) => f[0] === 2).length === 4, 5000, 'four calls at the station');
    const order = st.received.filter((f) => f[0] === 2).map((f) => f[2]);
    expect(order).not.toEqual(calls);
    expect([...order].sort()).toEqual([...calls].sort());
    await clearFaults('F-DOWN3');

    await setFault('F-DOWN3', { kind: 'stall', direction: 'toStation', durationS: 1 });
    const before = st.received.length;
    for (const action of ['ClearCache', 'GetLocalListVersion']) void steve.call('F-DOWN3', action, {}, 5000).catch(() => undefined);
    await sleep(500);
    expect(st.received.length).toBe(before);
    await until(() => st.received.length === before + 2, 10_000, 'the stalled calls');
    expect(st.received.slice(before).map((f) => f[2])).toEqual(['ClearCache', 'GetLocalListVersion']);
  });

  it('stall: frames are held while the rule lasts and released in order when it expires; the expired rule is gone', async () => {
    const st = await station('F-STALL');
    const rule = await setFault('F-STALL', { kind: 'stall', direction: 'toUpstream', durationS: 1.5 });
    expect(rule.expiresAt).toBeDefined();
    for (const id of ['s1', 's2', 's3']) st.sendRaw(JSON.stringify([2, id, 'Heartbeat', {}]));
    await sleep(700);
    expect(steveGot('F-STALL', (f) => String(f[1]).startsWith('s'))).toEqual([]);
    await until(() => steveGot('F-STALL', (f) => String(f[1]).startsWith('s')).length === 3, 10_000, 'the stalled frames');
    expect(steveGot('F-STALL', (f) => String(f[1]).startsWith('s')).map((r) => r.frame[1])).toEqual(['s1', 's2', 's3']);
    await until(() => st.received.filter((f) => String(f[1]).startsWith('s')).length === 3, 5000, 'answers');
    expect((await gw.getJson<{ rules: unknown[] }>('/api/stations/F-STALL/faults')).rules).toEqual([]);
  });
});

describe('link faults', () => {
  it('upstreamDown silent: the station stays connected, its calls go unanswered, and pass again after the rule expires', async () => {
    const st = await station('F-SILENT');
    await setFault('F-SILENT', { kind: 'upstreamDown', mode: 'silent', durationS: 1.5 });
    const before = steveGot('F-SILENT', () => true).length;
    st.sendRaw(JSON.stringify([2, 'quiet', 'Heartbeat', {}]));
    await sleep(500);
    expect(st.received.some((f) => f[1] === 'quiet')).toBe(false);
    expect(steveGot('F-SILENT', () => true).length).toBe(before);
    expect(st.ws.readyState).toBe(WebSocket.OPEN);
    await until(() => gw.relay.faults.list('F-SILENT').length === 0, 10_000, 'expiry');
    expect((await st.call('Heartbeat', {}))[0]).toBe(3);
  });

  it('upstreamDown close: the station is closed with 1013, and again on reconnect while the rule lasts', async () => {
    const st = await station('F-DOWN');
    await setFault('F-DOWN', { kind: 'upstreamDown', mode: 'close', durationS: 3 });
    expect((await st.closed).code).toBe(1013);
    const again = await connectStation(gw.wsUrl('F-DOWN'));
    stations.push(again);
    expect((await again.closed).code).toBe(1013);
    await clearFaults('F-DOWN');
    await station('F-DOWN');
  });

  it('cut: with a close code, or abruptly (no close frame: 1006)', async () => {
    const a = await station('F-CUT');
    const cut = await setFault('F-CUT', { kind: 'cut', code: 4001, reason: 'bench cut' });
    expect(await a.closed).toEqual({ code: 4001, reason: `bench cut (fault ${cut.id})` });
    const b = await station('F-CUT');
    await setFault('F-CUT', { kind: 'cut', abrupt: true });
    expect((await b.closed).code).toBe(1006);
    expect((await gw.getJson<{ rules: unknown[] }>('/api/stations/F-CUT/faults')).rules).toEqual([]);
  });
});

describe('answer overrides (relay mode, in front of SteVe)', () => {
  it('instead: Authorize Blocked and BootNotification Pending from the gateway; SteVe never sees them', async () => {
    const st = await station('F-ANS');
    await setFault('F-ANS', { kind: 'answer', actions: ['Authorize'], answer: { idTagStatus: 'Blocked' } });
    await setFault('F-ANS', { kind: 'answer', actions: ['BootNotification'], answer: { bootStatus: 'Pending', interval: 30 } });
    expect((await st.call('Authorize', { idTag: 'T1' }))[2]).toEqual({ idTagInfo: { status: 'Blocked' } });
    const boot = await st.call('BootNotification', { chargePointVendor: 'v', chargePointModel: 'm' });
    expect(boot[2]).toMatchObject({ status: 'Pending', interval: 30 });
    expect(steveGot('F-ANS', (f) => f[2] === 'Authorize' || f[2] === 'BootNotification')).toEqual([]);
    const entries = await injected('F-ANS', 4);
    expect(entries.map((e) => `${e.leg}:${e.direction}:${e.action}`)).toEqual(['station:in:Authorize', 'station:out:Authorize', 'station:in:BootNotification', 'station:out:BootNotification']);
    await clearFaults('F-ANS');
  });

  it('replace: StartTransaction reaches SteVe, the station gets SteVe\'s transaction id with ConcurrentTx', async () => {
    const st = await station('F-REPL');
    await setFault('F-REPL', { kind: 'answer', mode: 'replace', actions: ['StartTransaction'], answer: { idTagStatus: 'ConcurrentTx' } });
    const ans = await st.call('StartTransaction', { connectorId: 1, idTag: 'T', meterStart: 0, timestamp: new Date().toISOString() });
    expect(ans[2]).toMatchObject({ idTagInfo: { status: 'ConcurrentTx' } });
    expect(typeof (ans[2] as { transactionId: unknown }).transactionId).toBe('number');
    expect(steveGot('F-REPL', (f) => f[2] === 'StartTransaction')).toHaveLength(1);
    expect(gw.relay.stations().find((s) => s.chargeBoxId === 'F-REPL')?.pendingCalls.fromStation).toBe(0);
    await clearFaults('F-REPL');
  });

  it('a CALLERROR with a chosen code, and no answer at all', async () => {
    const st = await station('F-ERR');
    await setFault('F-ERR', { kind: 'answer', actions: ['MeterValues'], answer: { callError: { code: 'InternalError', description: 'bench' } } });
    await setFault('F-ERR', { kind: 'answer', actions: ['DataTransfer'], answer: { none: true } });
    expect((await st.call('MeterValues', { connectorId: 1, meterValue: [] })).slice(0, 4)).toEqual([4, expect.any(String), 'InternalError', 'bench']);
    st.sendRaw(JSON.stringify([2, 'dt-none', 'DataTransfer', { vendorId: 'v' }]));
    await sleep(500);
    expect(st.received.some((f) => f[1] === 'dt-none')).toBe(false);
    await clearFaults('F-ERR');
  });
});

describe('scope', () => {
  it('a rule on one station leaves another alone; its rules go when it disconnects unless persistent', async () => {
    const a = await station('F-ONE');
    const b = await station('F-TWO');
    await setFault('F-ONE', { kind: 'drop' });
    await setFault('F-ONE', { kind: 'delay', delay: 50, persistent: true });
    expect((await b.call('Heartbeat', {}))[0]).toBe(3);
    expect(await injected('F-TWO', 0)).toEqual([]);
    a.close();
    await a.closed;
    await until(() => !gw.relay.stations().some((s) => s.chargeBoxId === 'F-ONE'), 5000, 'F-ONE gone');
    const left = (await gw.getJson<{ rules: FaultRuleView[] }>('/api/stations/F-ONE/faults')).rules;
    expect(left.map((r) => r.spec.kind)).toEqual(['delay']);
    expect(left[0]).toMatchObject({ persistent: true, setBy: 'test' });
    // The persistent rule acts on the next connection.
    const again = await station('F-ONE');
    expect((await again.call('Heartbeat', {}))[0]).toBe(3);
    expect((await injected('F-ONE', 2)).some((e) => e.fault?.kind === 'delay')).toBe(true);
    await clearFaults('F-ONE');
  });
});
