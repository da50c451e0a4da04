// Live events end to end: a real OCPP station on the gateway's WebSocket endpoint → relay → message log →
// event model → push → a real Socket.IO client. Snapshot on subscribe, order and seq, summaries, replay.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventInput, GatewayEvent } from '../../src/events/catalogue.js';
import type { StationSnapshotEntry } from '../../src/push/protocol.js';
import { connectStation, type StationClient } from '../support/station-client.js';
import { ack, collect, connect, operatorToken, startPushGateway, until, viewerToken, type PushGateway } from './support/harness.js';

let pg: PushGateway;
let cp1: StationClient;
let ts = Date.parse('2026-03-01T10:00:00Z');
const at = (): string => new Date((ts += 1000)).toISOString();
const status = (cp: StationClient, connectorId: number, s: string) =>
  cp.call('StatusNotification', { connectorId, status: s, errorCode: 'NoError', timestamp: at() });
const meter = (cp: StationClient, connectorId: number, wh: number, soc: number) =>
  cp.call('MeterValues', {
    connectorId,
    meterValue: [{ timestamp: at(), sampledValue: [{ value: String(wh), unit: 'Wh' }, { value: String(soc), measurand: 'SoC', unit: 'Percent' }] }],
  });

type SubscribeAck = { ok: true; stations: StationSnapshotEntry[]; refused: string[]; all: boolean; replay: { chargeBoxId: string; count: number; gap: boolean }[] };

beforeAll(async () => {
  pg = await startPushGateway();
  cp1 = await connectStation(pg.gw.wsUrl('CP1'));
  await cp1.call('BootNotification', { chargePointVendor: 'Rivot Motors', chargePointModel: 'RIVOT_100A' });
  await status(cp1, 1, 'Preparing');
  await until(() => pg.gw.events.state.snapshot('CP1')?.connectors.some((c) => c.status === 'Preparing') === true, 5000, 'CP1 state');
});
afterAll(async () => {
  cp1?.close();
  await pg?.close();
});

describe('subscribe', () => {
  it('acks with a snapshot of each station, then streams events in order with seq +1', async () => {
    const s = await connect(pg.url, { token: operatorToken() });
    const events = collect<GatewayEvent>(s, 'event');
    const res = await ack<SubscribeAck>(s, 'subscribe', { chargeBoxIds: ['CP1'] });
    expect(res.ok).toBe(true);
    const entry = res.stations[0]!;
    expect(entry.chargeBoxId).toBe('CP1');
    expect(entry.seq).toBeGreaterThan(0);
    expect(entry.snapshot?.seq).toBe(entry.seq);
    expect(entry.snapshot?.connectors).toContainEqual(expect.objectContaining({ connectorId: 1, status: 'Preparing' }));
    expect(entry.snapshot?.boot?.chargePointModel).toBe('RIVOT_100A');
    expect(entry.summary).toMatchObject({ chargeBoxId: 'CP1', status: 'Preparing' });

    await status(cp1, 1, 'Charging');
    await meter(cp1, 1, 100, 41);
    await status(cp1, 1, 'SuspendedEV');
    await meter(cp1, 1, 200, 42);
    await status(cp1, 1, 'Charging');
    await until(() => events.length >= 5, 5000, '5 events');
    expect(events.map((e) => e.type)).toEqual(['status', 'meterValues', 'status', 'meterValues', 'status']);
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5].map((i) => entry.seq + i));
    expect(events.every((e) => e.chargeBoxId === 'CP1' && typeof e.id === 'string')).toBe(true);
    s.close();
  });

  it('delivers the same event to a WebSocket client (pre-encoded frame) and a long-polling client (text)', async () => {
    const wsClient = await connect(pg.url, { token: operatorToken() });
    const pollClient = await connect(pg.url, { token: operatorToken(), transports: ['polling'] });
    expect(pollClient.io.engine.transport.name).toBe('polling');
    const viaWs = collect<GatewayEvent>(wsClient, 'event');
    const viaPoll = collect<GatewayEvent>(pollClient, 'event');
    await ack(wsClient, 'subscribe', { chargeBoxIds: ['CP1'] });
    await ack(pollClient, 'subscribe', { chargeBoxIds: ['CP1'] });
    await meter(cp1, 1, 250, 44);
    await until(() => viaWs.length >= 1 && viaPoll.length >= 1, 5000, 'the event on both transports');
    expect(viaWs[0]).toMatchObject({ type: 'meterValues', chargeBoxId: 'CP1' });
    expect(viaPoll[0]).toEqual(viaWs[0]);
    wsClient.close();
    pollClient.close();
  });

  it('pushes a summary per station with what the SOC screen shows', async () => {
    const s = await connect(pg.url, { token: viewerToken(['CP1']) });
    const summaries = collect<{ chargeBoxId: string; soc: number | null; status: string | null; seq: number }>(s, 'summary');
    await ack(s, 'subscribe', { chargeBoxIds: ['CP1'] });
    await meter(cp1, 1, 300, 57);
    await until(() => summaries.some((x) => x.soc === 57), 5000, 'summary with soc 57');
    const last = summaries.at(-1)!;
    expect(last).toMatchObject({ chargeBoxId: 'CP1', soc: 57, status: 'Charging' });
    expect(last.seq).toBe(pg.gw.events.state.snapshot('CP1')?.seq);
    s.close();
  });

  it('summaries: the first change goes out at once, changes inside the window fold into one at its end', async () => {
    const pg2 = await startPushGateway({ PUSH_SUMMARY_INTERVAL_MS: '1000' });
    try {
      const socInput = (soc: number): EventInput => ({
        id: `soc-${soc}`, type: 'meterValues', chargeBoxId: 'CP5', connectorId: 1, timestamp: at(), receivedAt: new Date().toISOString(), source: 'station',
        data: { sampledValues: [{ value: String(soc), measurand: 'SoC', unit: 'Percent' }] },
      });
      const s = await connect(pg2.url, { token: operatorToken() });
      const summaries = collect<{ chargeBoxId: string; soc: number | null }>(s, 'summary');
      await ack(s, 'subscribe', { chargeBoxIds: ['CP5'] });
      pg2.gw.bus.emit('eventInput', socInput(70));
      await until(() => summaries.length === 1, 2000, 'leading summary');
      const leading = Date.now();
      expect(summaries[0]!.soc).toBe(70);
      pg2.gw.bus.emit('eventInput', socInput(71));
      await new Promise((r) => setTimeout(r, 50));
      pg2.gw.bus.emit('eventInput', socInput(72));
      await until(() => summaries.length === 2, 3000, 'trailing summary');
      expect(Date.now() - leading).toBeGreaterThanOrEqual(800);
      expect(summaries.map((x) => x.soc)).toEqual([70, 72]);
      s.close();
    } finally {
      await pg2.close();
    }
  });

  it('unsubscribe stops the stream; all: true follows stations that connect later', async () => {
    const s = await connect(pg.url, { token: operatorToken() });
    const events = collect<GatewayEvent>(s, 'event');
    await ack(s, 'subscribe', { chargeBoxIds: ['CP1'] });
    expect(await ack(s, 'unsubscribe', { chargeBoxIds: ['CP1'] })).toMatchObject({ ok: true, subscribed: [], all: false });
    await status(cp1, 1, 'Finishing');

    const a = await connect(pg.url, { token: operatorToken() });
    const allEvents = collect<GatewayEvent>(a, 'event');
    expect(await ack(a, 'subscribe', { all: true })).toMatchObject({ ok: true, all: true });
    const cp2 = await connectStation(pg.gw.wsUrl('CP2'));
    await status(cp2, 1, 'Available');
    await until(() => allEvents.some((e) => e.chargeBoxId === 'CP2' && e.type === 'status'), 5000, 'CP2 status via all');
    expect(events).toEqual([]);
    cp2.close();
    s.close();
    a.close();
  });

  it('replays missed events by seq after a reconnect, then continues live', async () => {
    const first = await connect(pg.url, { token: viewerToken(['CP1']) });
    const seen = collect<GatewayEvent>(first, 'event');
    await ack(first, 'subscribe', { chargeBoxIds: ['CP1'] });
    await status(cp1, 1, 'Available');
    await until(() => seen.length === 1, 5000, 'first event');
    const lastSeq = seen[0]!.seq;
    first.close();

    // Missed while away.
    await status(cp1, 1, 'Preparing');
    await meter(cp1, 1, 10, 60);
    await status(cp1, 1, 'Charging');
    await until(() => (pg.gw.events.state.snapshot('CP1')?.seq ?? 0) >= lastSeq + 3, 5000, 'missed events sequenced');

    const again = await connect(pg.url, { token: viewerToken(['CP1']) });
    const got = collect<GatewayEvent>(again, 'event');
    const res = await ack<SubscribeAck>(again, 'subscribe', { chargeBoxIds: ['CP1'], since: { CP1: lastSeq } });
    expect(res.replay).toEqual([{ chargeBoxId: 'CP1', from: lastSeq, count: 3, gap: false }]);
    expect(res.stations[0]!.seq).toBe(lastSeq + 3);
    await until(() => got.length >= 3, 5000, 'replayed events');
    await status(cp1, 1, 'SuspendedEV');
    await until(() => got.length >= 4, 5000, 'live event after replay');
    expect(got.map((e) => e.seq)).toEqual([lastSeq + 1, lastSeq + 2, lastSeq + 3, lastSeq + 4]);
    expect(got.map((e) => e.type)).toEqual(['status', 'meterValues', 'status', 'status']);

    // The explicit replay request answers the same way, and reports a gap when asked from before the history.
    const r = await ack<{ ok: true; replay: { count: number; gap: boolean } }>(again, 'replay', { chargeBoxId: 'CP1', since: lastSeq + 2 });
    expect(r.replay).toMatchObject({ count: 2, gap: false });
    await until(() => got.length >= 6, 5000, 'explicit replay');
    expect(got.slice(4).map((e) => e.seq)).toEqual([lastSeq + 3, lastSeq + 4]);
    again.close();
  });

  it('reports a gap when the client asks from a seq the history no longer holds', async () => {
    const pg2 = await startPushGateway({ PUSH_REPLAY_LIMIT: '2' });
    try {
      const cp = await connectStation(pg2.gw.wsUrl('CP7'));
      for (const s of ['Available', 'Preparing', 'Charging', 'Finishing']) await status(cp, 1, s);
      await until(() => (pg2.gw.events.state.snapshot('CP7')?.seq ?? 0) >= 4, 5000, 'CP7 events');
      const c = await connect(pg2.url, { token: operatorToken() });
      const got = collect<GatewayEvent>(c, 'event');
      const res = await ack<SubscribeAck>(c, 'subscribe', { chargeBoxIds: ['CP7'], since: { CP7: 0 } });
      expect(res.replay[0]).toMatchObject({ count: 2, gap: true });
      // The newest two follow, up to the live stream; the older ones are the gap the ack reported.
      await until(() => got.length === 2, 5000, 'limited replay');
      const newest = res.stations[0]!.seq;
      expect(newest).toBeGreaterThanOrEqual(4);
      expect(got.map((e) => e.seq)).toEqual([newest - 1, newest]);
      c.close();
      cp.close();
    } finally {
      await pg2.close();
    }
  });
});
