// The live frame stream (message log entries) for operators, with filters changed at runtime, and the
// metrics push. Frames come from a real station through the relay and the message log.
import type WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogEntry } from '../../src/events/observations.js';
import type { MetricsPush } from '../../src/push/protocol.js';
import { parsePushConfig } from '../../src/push/config.js';
import { connectStation, type StationClient } from '../support/station-client.js';
import { ack, collect, connect, operatorToken, startPushGateway, until, type PushGateway } from './support/harness.js';

let pg: PushGateway;
let cp1: StationClient;
let cp2: StationClient;

beforeAll(async () => {
  pg = await startPushGateway({ PUSH_METRICS_INTERVAL_MS: '200', PUSH_FRAME_QUEUE_LIMIT: '20', PUSH_SOCKET_BUFFER_PACKETS: '8' });
  cp1 = await connectStation(pg.gw.wsUrl('CP1'));
  cp2 = await connectStation(pg.gw.wsUrl('CP2'));
});
afterAll(async () => {
  cp1?.close();
  cp2?.close();
  await pg?.close();
});

describe('frame stream', () => {
  it('streams log entries matching the filter, and follows filter changes at runtime', async () => {
    const s = await connect(pg.url, { token: operatorToken() });
    const frames = collect<LogEntry>(s, 'frame');
    const sub = await ack<{ ok: true; filter: object }>(s, 'frames:subscribe', { chargeBoxIds: ['CP1'], actions: ['Heartbeat'], direction: 'in', leg: 'station' });
    expect(sub).toEqual({ ok: true, filter: { chargeBoxIds: ['CP1'], actions: ['Heartbeat'], direction: 'in', leg: 'station', findingsOnly: false } });

    await cp2.call('Heartbeat', {});
    await cp1.call('StatusNotification', { connectorId: 1, status: 'Available', errorCode: 'NoError' });
    await cp1.call('Heartbeat', {});
    await until(() => frames.length >= 1, 5000, 'heartbeat frame');
    await new Promise((r) => setTimeout(r, 200));
    expect(frames).toHaveLength(1);
    expect(frames[0]).toMatchObject({ chargeBoxId: 'CP1', action: 'Heartbeat', messageType: 'CALL', direction: 'in', leg: 'station' });
    expect(typeof frames[0]!.id).toBe('number');
    expect(frames[0]!.raw).toContain('"Heartbeat"');

    // Now: everything CP2 answers or sends, any action.
    expect(await ack(s, 'frames:filter', { chargeBoxIds: ['CP2'], messageTypes: ['CALL'] })).toMatchObject({ ok: true });
    frames.length = 0;
    await cp1.call('Heartbeat', {});
    await cp2.call('StatusNotification', { connectorId: 1, status: 'Charging', errorCode: 'NoError' });
    await until(() => frames.some((f) => f.action === 'StatusNotification'), 5000, 'CP2 status frame');
    expect(frames.every((f) => f.chargeBoxId === 'CP2' && f.messageType === 'CALL')).toBe(true);

    // Findings only: a schema-violating frame gets through, a clean one does not.
    expect(await ack(s, 'frames:filter', { findingsOnly: true })).toMatchObject({ ok: true });
    frames.length = 0;
    await cp1.call('Heartbeat', {});
    await cp1.call('StatusNotification', { connectorId: 1, status: 'NotAStatus', errorCode: 'NoError' });
    await until(() => frames.length >= 1, 5000, 'frame with findings');
    await new Promise((r) => setTimeout(r, 200));
    expect(frames.every((f) => f.findings.length > 0 || f.problem !== undefined)).toBe(true);
    expect(frames.some((f) => f.action === 'StatusNotification')).toBe(true);

    expect(await ack(s, 'frames:unsubscribe')).toEqual({ ok: true });
    frames.length = 0;
    await cp1.call('Heartbeat', {});
    await new Promise((r) => setTimeout(r, 200));
    expect(frames).toEqual([]);
    s.close();
  });

  it('a slow subscriber loses frames, is told how many, and the count shows in the stats', async () => {
    const s = await connect(pg.url, { token: operatorToken() });
    const lostNotices = collect<{ lost: number; totalLost: number }>(s, 'frames:lost');
    const frames = collect<LogEntry>(s, 'frame');
    await ack(s, 'frames:subscribe', { chargeBoxIds: ['FLOOD'] });
    const ws = (s.io.engine as unknown as { transport: { ws: WebSocket } }).transport.ws;
    ws.pause();
    const raw = JSON.stringify([2, 'x', 'DataTransfer', { vendorId: 'V', data: 'y'.repeat(4000) }]);
    let sent = 0;
    for (let i = 0; i < 50_000 && pg.push.stats().dropped.framesDropped < 100; i++) {
      const entry: LogEntry = {
        id: 1_000_000 + i, time: new Date().toISOString(), atUs: Date.now() * 1000, chargeBoxId: 'FLOOD', linkKind: 'sim', leg: 'station',
        direction: 'in', origin: 'station', disposition: 'forwarded', raw, messageType: 'CALL', action: 'DataTransfer', messageId: `x${i}`, findings: [],
      };
      pg.gw.bus.emit('logged', entry);
      sent++;
      if (i % 10 === 0) await new Promise((r) => setImmediate(r));
    }
    const dropped = pg.push.stats().dropped.framesDropped;
    expect(dropped).toBeGreaterThanOrEqual(100);
    ws.resume();
    await until(() => frames.length + dropped >= sent, 10_000, 'all surviving frames');
    expect(frames.length + dropped).toBe(sent);
    // Told before the frames that follow the gap.
    await until(() => lostNotices.length > 0, 5000, 'frames:lost notice');
    expect(lostNotices.reduce((a, x) => a + x.lost, 0)).toBe(dropped);
    expect(lostNotices.at(-1)!.totalLost).toBe(dropped);
    const ids = frames.map((f) => f.id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(pg.push.stats().clientsWithDrops.find((c) => c.id === s.id)?.framesDropped).toBe(dropped);
    s.close();
  });
});

describe('metrics push', () => {
  it('operators who subscribe get gateway and push figures on every interval; unsubscribe stops them', async () => {
    const s = await connect(pg.url, { token: operatorToken() });
    const pushes = collect<MetricsPush>(s, 'metrics');
    expect(await ack(s, 'metrics:subscribe')).toEqual({ ok: true });
    await until(() => pushes.length >= 2, 5000, 'two metrics pushes');
    const m = pushes.at(-1)!;
    expect(m.gateway.links).toMatchObject({ ws: 2 });
    expect(m.push.clients.total).toBeGreaterThanOrEqual(1);
    expect(m.push.subscriptions.metrics).toBe(1);
    expect(Date.parse(pushes[1]!.at) - Date.parse(pushes[0]!.at)).toBeGreaterThanOrEqual(150);
    expect(await ack(s, 'metrics:unsubscribe')).toEqual({ ok: true });
    const count = pushes.length;
    await new Promise((r) => setTimeout(r, 500));
    expect(pushes.length).toBeLessThanOrEqual(count + 1);
    s.close();
  });

  it('defaults to a 2 s interval', () => {
    expect(parsePushConfig({}, { dataDir: '/nonexistent', callTimeoutMs: 30_000 }).metricsIntervalMs).toBe(2000);
  });

  it('push figures are on the Prometheus registry', async () => {
    const text = await pg.gw.registry.metrics();
    expect(text).toMatch(/chargebridge_push_clients\{role="operator"\} \d+/);
    expect(text).toMatch(/chargebridge_push_dropped_total\{kind="framesDropped"\} [1-9]/);
  });
});
