// Slow clients. Catch-up, replay and snapshot traffic never make a client "slow": a client that reads is
// served at its own pace from the history, whatever the backlog. A client is slow only when its socket
// stops draining; it is then cut at the transport, so a default socket.io-client comes back by itself.
// Whatever a client can no longer get is announced as a `gap`, per station, before the next event.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type WebSocket from 'ws';
import type { Socket as ClientSocket } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import type { EventInput, GatewayEvent } from '../../src/events/catalogue.js';
import type { GapNotice } from '../../src/push/protocol.js';
import { ack, collect, connect, once, operatorToken, startPushGateway, until, type PushGateway } from './support/harness.js';

/** Stops reading the client's WebSocket (the kernel buffers fill, then the server's writes stall). */
function pauseReading(s: ClientSocket): { pause(): void; resume(): void } {
  const ws = (s.io.engine as unknown as { transport: { ws: WebSocket } }).transport.ws;
  ws.pause();
  return { pause: () => ws.pause(), resume: () => ws.resume() };
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
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
const stationIds = (count: number): string[] => Array.from({ length: count }, (_, i) => `ST${String(i).padStart(3, '0')}`);

type Received = { kind: 'event'; event: GatewayEvent } | { kind: 'gap'; gap: GapNotice };
/** Events and gap notices in the order the socket got them. */
function record(socket: ClientSocket): Received[] {
  const out: Received[] = [];
  socket.on('event', (event: GatewayEvent) => out.push({ kind: 'event', event }));
  socket.on('gap', (gap: GapNotice) => out.push({ kind: 'gap', gap }));
  return out;
}

const open: PushGateway[] = [];
afterEach(async () => {
  for (const pg of open.splice(0)) await pg.close();
});

describe('catch-up and replay are not slowness', () => {
  it('a client asking for 50 past events of each of 200 stations (10,000 events) stays connected and gets them all', async () => {
    const pg = await startPushGateway({ PUSH_STALL_TIMEOUT_MS: '5000' });
    open.push(pg);
    const ids = stationIds(200);
    for (let round = 0; round < 60; round++) {
      for (const id of ids) pg.gw.bus.emit('eventInput', statusInput(id, round % 2 ? 'Charging' : 'SuspendedEV', `round ${round}`));
      await tick();
    }
    const byReplay = await connect(pg.url, { token: operatorToken() });
    const bySince = await connect(pg.url, { token: operatorToken() });
    const goodbyes = [...collect<unknown>(byReplay, 'goodbye'), ...collect<unknown>(bySince, 'goodbye')];
    const replayed = collect<GatewayEvent>(byReplay, 'event');
    const resumed = collect<GatewayEvent>(bySince, 'event');

    // The UI's way: subscribe, then one replay request per station for its last 50 events.
    const sub = await ack<{ ok: boolean; stations: { chargeBoxId: string; seq: number }[] }>(byReplay, 'subscribe', { chargeBoxIds: ids });
    expect(sub.ok).toBe(true);
    const acks = await Promise.all(sub.stations.map((s) => ack<{ ok: boolean; replay: { count: number } }>(byReplay, 'replay', { chargeBoxId: s.chargeBoxId, since: s.seq - 50 })));
    expect(acks.every((a) => a.ok && a.replay.count === 50)).toBe(true);
    // A reconnecting client's way: subscribe with `since` for every station.
    const since = Object.fromEntries(ids.map((id) => [id, 10]));
    const resumedAck = await ack<{ ok: boolean; replay: { count: number; gap: boolean }[] }>(bySince, 'subscribe', { chargeBoxIds: ids, since });
    expect(resumedAck.replay.every((r) => r.count === 50 && !r.gap)).toBe(true);

    await until(() => replayed.length >= 10_000 && resumed.length >= 10_000, 60_000, '10,000 events at each client');
    expect(new Set(replayed.map((e) => e.id)).size).toBe(10_000);
    expect(new Set(resumed.map((e) => e.id)).size).toBe(10_000);
    // Per station in seq order, each exactly once.
    for (const id of ids) {
      const seqs = resumed.filter((e) => e.chargeBoxId === id).map((e) => e.seq);
      expect(seqs).toEqual(Array.from({ length: 50 }, (_, i) => 11 + i));
    }
    expect(byReplay.connected && bySince.connected).toBe(true);
    expect(goodbyes).toEqual([]);
    expect(pg.push.stats().disconnects.slowConsumer).toBe(0);
    byReplay.close();
    bySince.close();
  }, 120_000);

  it('a backlog burst (a binlog catch-up: 20,000 events for 200 stations at once) reaches a subscribed client whole', async () => {
    const pg = await startPushGateway({ PUSH_STALL_TIMEOUT_MS: '5000' });
    open.push(pg);
    const ids = stationIds(200);
    const client = await connect(pg.url, { token: operatorToken() });
    const goodbyes = collect<unknown>(client, 'goodbye');
    const got = record(client);
    await ack(client, 'subscribe', { all: true });
    for (let round = 0; round < 100; round++) {
      for (const id of ids) pg.gw.bus.emit('eventInput', round % 10 === 0 ? statusInput(id, 'Charging') : meterInput(id, 1, round));
    }
    await until(() => got.length >= 20_000, 90_000, 'every event of the burst');
    expect(got.filter((r) => r.kind === 'gap')).toEqual([]);
    for (const id of ids) {
      const seqs = got.flatMap((r) => (r.kind === 'event' && r.event.chargeBoxId === id ? [r.event.seq] : []));
      expect(seqs).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    }
    expect(goodbyes).toEqual([]);
    expect(client.connected).toBe(true);
    expect(pg.push.stats().disconnects.slowConsumer).toBe(0);
    client.close();
  }, 120_000);
});

describe('resume after a gateway restart', () => {
  it('a resume with since gets exactly the events after it, then live ones: the history is not sent again', async () => {
    const env = { DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'cb-push-restart-')) };
    const first = await startPushGateway(env);
    for (let i = 0; i < 30; i++) first.gw.bus.emit('eventInput', statusInput('CP1', i % 2 ? 'Charging' : 'SuspendedEV'));
    await first.close();
    const pg = await startPushGateway(env);
    open.push(pg);
    const client = await connect(pg.url, { token: operatorToken() });
    const got = collect<GatewayEvent>(client, 'event');
    const res = await ack<{ ok: boolean; stations: { seq: number }[]; replay: { count: number; gap: boolean }[] }>(client, 'subscribe', { chargeBoxIds: ['CP1'], since: { CP1: 25 } });
    expect(res.stations[0]!.seq).toBe(30);
    expect(res.replay[0]).toMatchObject({ count: 5, gap: false });
    await until(() => got.length === 5, 10_000, 'the five missed events');
    pg.gw.bus.emit('eventInput', statusInput('CP1', 'Finishing'));
    await until(() => got.length >= 6, 10_000, 'the live event');
    await new Promise((r) => setTimeout(r, 300));
    expect(got.map((e) => e.seq)).toEqual([26, 27, 28, 29, 30, 31]);
    client.close();
  });
});

describe('a client that stops reading', () => {
  it('is cut off once its socket has drained nothing for PUSH_STALL_TIMEOUT_MS, and a default socket.io-client reconnects by itself', async () => {
    const pg = await startPushGateway({ PUSH_STALL_TIMEOUT_MS: '1500', PUSH_CLIENT_BUFFER_BYTES: '262144' });
    open.push(pg);
    const slow = await connect(pg.url, { token: operatorToken(), reconnection: true });
    const reasons = collect<string>(slow, 'disconnect');
    await ack(slow, 'subscribe', { chargeBoxIds: ['CP1'] });
    const reading = pauseReading(slow);
    const started = Date.now();
    for (let i = 0; i < 200_000 && pg.push.stats().disconnects.slowConsumer === 0 && Date.now() - started < 60_000; i++) {
      pg.gw.bus.emit('eventInput', statusInput('CP1', i % 2 ? 'Charging' : 'SuspendedEV', 'x'.repeat(1500)));
      if (i % 20 === 0) await new Promise((r) => setTimeout(r, 1));
    }
    expect(pg.push.stats().disconnects.slowConsumer).toBe(1);
    await until(() => pg.push.stats().clients.total === 0, 5000, 'the slow client gone on the server');
    const back = once<void>(slow, 'connect', 20_000);
    reading.resume();
    await back;
    // It was cut at the transport, not told to stay away: socket.io-client reconnected on its own.
    expect(reasons[0]).toMatch(/^transport (close|error)$/);
    const again = await ack<{ ok: boolean }>(slow, 'subscribe', { chargeBoxIds: ['CP1'] });
    expect(again.ok).toBe(true);
    expect(pg.push.stats().clients.total).toBe(1);
    slow.close();
  }, 120_000);

  it('a socket that keeps draining, however slowly, is not cut off', async () => {
    const pg = await startPushGateway({ PUSH_STALL_TIMEOUT_MS: '3000', PUSH_CLIENT_BUFFER_BYTES: '65536', EVENTS_HISTORY_PER_STATION: '10000', EVENTS_HISTORY_STATION_BYTES: String(64 * 1024 * 1024) });
    open.push(pg);
    const client = await connect(pg.url, { token: operatorToken() });
    const got = collect<GatewayEvent>(client, 'event');
    const gaps = collect<GapNotice>(client, 'gap');
    await ack(client, 'subscribe', { chargeBoxIds: ['CP1'] });
    // Reads in short bursts with pauses shorter than the stall timeout, for longer than the stall timeout.
    const reading = pauseReading(client);
    // ~9 MB: more than the kernel buffers hold, so the server's writes wait while the reader pauses.
    for (let i = 0; i < 6000; i++) pg.gw.bus.emit('eventInput', statusInput('CP1', i % 2 ? 'Charging' : 'SuspendedEV', 'y'.repeat(1500)));
    const end = Date.now() + 60_000;
    while (got.length < 6000 && Date.now() < end) {
      reading.resume();
      await new Promise((r) => setTimeout(r, 20));
      reading.pause();
      await new Promise((r) => setTimeout(r, 700));
    }
    reading.resume();
    await until(() => got.length === 6000 || gaps.length > 0, 30_000, 'all 6,000 events');
    expect(gaps).toEqual([]);
    expect(got.map((e) => e.seq)).toEqual(Array.from({ length: 6000 }, (_, i) => i + 1));
    expect(pg.push.stats().disconnects.slowConsumer).toBe(0);
    expect(client.connected).toBe(true);
    client.close();
  }, 120_000);
});

describe('gaps', () => {
  it('events a slow reader can no longer get (meter values gone from the history) are announced as a gap before the next event', async () => {
    const pg = await startPushGateway({ PUSH_STALL_TIMEOUT_MS: '120000', EVENTS_HISTORY_PER_STATION: '20' });
    open.push(pg);
    const slow = await connect(pg.url, { token: operatorToken() });
    const fast = await connect(pg.url, { token: operatorToken() });
    const got = record(slow);
    const fastEvents = collect<GatewayEvent>(fast, 'event');
    await ack(slow, 'subscribe', { chargeBoxIds: ['CP1'] });
    await ack(fast, 'subscribe', { chargeBoxIds: ['CP1'] });
    const reading = pauseReading(slow);
    for (let i = 0; i < 8000; i++) {
      pg.gw.bus.emit('eventInput', meterInput('CP1', 1 + (i % 2), i));
      if (i % 10 === 0) await tick();
    }
    pg.gw.bus.emit('eventInput', statusInput('CP1', 'Finishing'));
    await until(() => fastEvents.length === 8001, 30_000, 'the fast client gets everything');
    reading.resume();
    const last = fastEvents.at(-1)!.seq;
    await until(() => got.some((r) => r.kind === 'event' && r.event.seq === last), 60_000, 'the slow client reaches the newest event');

    const gaps = got.flatMap((r) => (r.kind === 'gap' ? [r.gap] : []));
    expect(gaps.length).toBeGreaterThan(0);
    // Every seq is either delivered or inside a gap; each gap is followed by the event right after it.
    const covered = new Set<number>();
    let lastSeq = 0;
    got.forEach((r, i) => {
      if (r.kind === 'event') {
        expect(r.event.seq).toBeGreaterThan(lastSeq);
        lastSeq = r.event.seq;
        covered.add(r.event.seq);
        return;
      }
      expect(r.gap.chargeBoxId).toBe('CP1');
      expect(r.gap.from).toBe(lastSeq + 1);
      expect(r.gap.missed).toBe(r.gap.to - r.gap.from + 1);
      for (let s = r.gap.from; s <= r.gap.to; s++) covered.add(s);
      lastSeq = r.gap.to;
      const next = got[i + 1];
      expect(next?.kind === 'event' && next.event.seq).toBe(r.gap.to + 1);
    });
    const firstSeq = fastEvents[0]!.seq;
    for (let s = firstSeq; s <= last; s++) expect(covered.has(s)).toBe(true);
    const missed = gaps.reduce((sum, g) => sum + g.missed, 0);
    expect(pg.push.stats().dropped.eventsDropped).toBe(missed);
    expect(pg.push.stats().clientsWithDrops[0]?.eventsDropped).toBe(missed);
    expect(pg.push.stats().disconnects.slowConsumer).toBe(0);
    slow.close();
    fast.close();
  }, 120_000);
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
    // Nothing goes out synchronously (the fan-out starts at the end of the tick); one turn later only the first
    // slice (two deliveries) has gone out, the rest follows on later turns.
    expect(pg.push.stats().pushed.events - before).toBe(0);
    await tick();
    expect(pg.push.stats().pushed.events - before).toBe(2);
    await until(() => got.every((g) => g.length === 50), 10_000, 'all events at all clients');
    for (const g of got) {
      const seqs = g.map((e) => e.seq);
      expect(seqs).toEqual(Array.from({ length: 50 }, (_, i) => seqs[0]! + i));
    }
    for (const c of clients) c.close();
  });
});
