// Slow clients: a reader that stops reading its socket (TCP paused) while events keep coming.
// Meter values coalesce to the latest per connector, status events are all delivered in order, other clients
// are unaffected; a client that cannot hold even the must-deliver events is disconnected with a reason.
import type WebSocket from 'ws';
import type { Socket as ClientSocket } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import type { EventInput, GatewayEvent } from '../../src/events/catalogue.js';
import { ack, collect, connect, once, operatorToken, startPushGateway, until, type PushGateway } from './support/harness.js';

function pauseReading(s: ClientSocket): { resume(): void } {
  const ws = (s.io.engine as unknown as { transport: { ws: WebSocket } }).transport.ws;
  ws.pause();
  return { resume: () => ws.resume() };
}

let n = 0;
const now = (): string => new Date().toISOString();
function meterInput(chargeBoxId: string, connectorId: number, wh: number): EventInput {
  // ~2 KB per event, so the kernel buffers fill after a few thousand.
  const sampledValues = Array.from({ length: 20 }, (_, i) => ({ value: String(wh + i), measurand: `Energy.Active.Import.Register`, unit: 'Wh', context: 'Sample.Periodic', location: `Outlet-${i}` }));
  return { id: `mv-${++n}`, type: 'meterValues', chargeBoxId, connectorId, timestamp: now(), receivedAt: now(), source: 'station', data: { sampledValues } };
}
function statusInput(chargeBoxId: string, status: string, info?: string): EventInput {
  return { id: `st-${++n}`, type: 'status', chargeBoxId, connectorId: 1, timestamp: now(), receivedAt: now(), source: 'station', data: { status, errorCode: 'NoError', synthetic: false, ...(info ? { info } : {}) } };
}
const firstValue = (e: GatewayEvent): number => Number((e as GatewayEvent<'meterValues'>).data.sampledValues[0]!.value);
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

const open: PushGateway[] = [];
afterEach(async () => {
  for (const pg of open.splice(0)) await pg.close();
});

describe('slow clients', () => {
  it('coalesces meter values per connector, delivers every status event in order, leaves fast clients alone', async () => {
    const pg = await startPushGateway({ PUSH_QUEUE_LIMIT: '200', PUSH_SOCKET_BUFFER_PACKETS: '64' });
    open.push(pg);
    const slow = await connect(pg.url, { token: operatorToken() });
    const fast = await connect(pg.url, { token: operatorToken() });
    const slowEvents = collect<GatewayEvent>(slow, 'event');
    const fastEvents = collect<GatewayEvent>(fast, 'event');
    await ack(slow, 'subscribe', { chargeBoxIds: ['CP1'] });
    await ack(fast, 'subscribe', { chargeBoxIds: ['CP1'] });
    const reading = pauseReading(slow);

    let sentMeters = 0;
    let sentStatus = 0;
    const statuses = ['Charging', 'SuspendedEV', 'SuspendedEVSE'];
    for (let round = 0; round < 40_000 && pg.push.stats().dropped.eventsCoalesced < 500; round++) {
      pg.gw.bus.emit('eventInput', meterInput('CP1', 1 + (round % 2), round));
      sentMeters++;
      if (round % 25 === 0) {
        pg.gw.bus.emit('eventInput', statusInput('CP1', statuses[sentStatus % 3]!));
        sentStatus++;
      }
      // Small bursts, so the reading client never has more than the engine buffer waiting.
      if (round % 10 === 0) await tick();
    }
    expect(pg.push.stats().dropped.eventsCoalesced).toBeGreaterThanOrEqual(500);
    // The newest values, to check the coalesced copy is the latest.
    pg.gw.bus.emit('eventInput', meterInput('CP1', 1, 9_000_001));
    pg.gw.bus.emit('eventInput', meterInput('CP1', 2, 9_000_002));
    pg.gw.bus.emit('eventInput', statusInput('CP1', 'Finishing'));
    sentMeters += 2;
    sentStatus++;
    const total = sentMeters + sentStatus;
    await until(() => fastEvents.length === total, 20_000, 'fast client gets everything');

    reading.resume();
    await until(() => slowEvents.some((e) => e.type === 'status' && (e.data as { status: string }).status === 'Finishing'), 20_000, 'slow client catches up');
    await until(() => slowEvents.filter((e) => e.type === 'meterValues' && firstValue(e) > 9_000_000).length === 2, 5000, 'latest meter values');

    const slowStatus = slowEvents.filter((e) => e.type === 'status');
    const fastStatus = fastEvents.filter((e) => e.type === 'status');
    expect(slowStatus.map((e) => e.seq)).toEqual(fastStatus.map((e) => e.seq));
    expect(slowStatus).toHaveLength(sentStatus);
    const slowMeters = slowEvents.filter((e) => e.type === 'meterValues');
    expect(slowMeters.length).toBeLessThan(sentMeters);
    // Everything the slow client got arrived in seq order, none twice.
    const seqs = slowEvents.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
    // The last meter value seen per connector is the newest one sent.
    const lastOf = (c: number) => slowMeters.filter((e) => e.connectorId === c).at(-1)!;
    expect(firstValue(lastOf(1))).toBe(9_000_001);
    expect(firstValue(lastOf(2))).toBe(9_000_002);

    const stats = pg.push.stats();
    expect(stats.disconnects.slowConsumer).toBe(0);
    expect(stats.clientsWithDrops).toHaveLength(1);
    expect(stats.clientsWithDrops[0]!.eventsCoalesced).toBe(stats.dropped.eventsCoalesced);
    expect(slowMeters.length + stats.dropped.eventsCoalesced).toBe(sentMeters);
    slow.close();
    fast.close();
  });

  it('disconnects a client that cannot keep up with must-deliver events, with a reason', async () => {
    const pg = await startPushGateway({ PUSH_QUEUE_LIMIT: '50', PUSH_SOCKET_BUFFER_PACKETS: '8' });
    open.push(pg);
    const slow = await connect(pg.url, { token: operatorToken() });
    const goodbye = once<{ reason: string }>(slow, 'goodbye', 30_000);
    const disconnected = once<string>(slow, 'disconnect', 30_000);
    await ack(slow, 'subscribe', { chargeBoxIds: ['CP1'] });
    const reading = pauseReading(slow);
    for (let i = 0; i < 100_000 && pg.push.stats().disconnects.slowConsumer === 0; i++) {
      pg.gw.bus.emit('eventInput', statusInput('CP1', i % 2 ? 'Charging' : 'SuspendedEV', 'x'.repeat(1500)));
      if (i % 20 === 0) await tick();
    }
    expect(pg.push.stats().disconnects.slowConsumer).toBe(1);
    expect(pg.push.stats().clients.total).toBe(0);
    reading.resume();
    expect((await goodbye).reason).toBe('slow_consumer');
    expect(await disconnected).toBe('io server disconnect');
  });
});

describe('fan-out in slices', () => {
  it('writes a few sockets per turn of the event loop, and every client still gets every event in seq order', async () => {
    const pg = await startPushGateway({ PUSH_FANOUT_SLICE: '2' });
    open.push(pg);
    const clients = await Promise.all(Array.from({ length: 5 }, () => connect(pg.url, { token: operatorToken() })));
    const got = clients.map((c) => collect<GatewayEvent>(c, 'event'));
    for (const c of clients) await ack(c, 'subscribe', { chargeBoxIds: ['CP1'] });
    const before = pg.push.stats().pushed.events;
    for (let i = 0; i < 50; i++) pg.gw.bus.emit('eventInput', statusInput('CP1', i % 2 ? 'Charging' : 'SuspendedEV'));
    // Synchronously only the first slice went out; the rest follows on later turns.
    expect(pg.push.stats().pushed.events - before).toBe(2);
    await until(() => got.every((g) => g.length === 50), 10_000, 'all events at all clients');
    for (const g of got) {
      const seqs = g.map((e) => e.seq);
      expect(seqs).toEqual(Array.from({ length: 50 }, (_, i) => seqs[0]! + i));
    }
    for (const c of clients) c.close();
  });
});
