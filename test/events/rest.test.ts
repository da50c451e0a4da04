// REST reads over real express on loopback: station state, event history, transactions, per-viewer filtering.
import type { AddressInfo } from 'node:net';
import type http from 'node:http';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventsRouter } from '../../src/api/events-routes.js';
import type { EventInput } from '../../src/events/catalogue.js';
import { type Harness, startModel, steveInput } from './helpers.js';

let h: Harness;
let server: http.Server;
let base: string;

const at = (s: number): string => new Date(Date.parse('2026-03-01T10:00:00Z') + s * 1000).toISOString();
let n = 0;
const emit = (over: Record<string, unknown> & { type: EventInput['type']; data: unknown }) =>
  h.bus.emit('eventInput', steveInput({ id: `r${++n}`, source: 'station', ...over }));

beforeAll(async () => {
  h = await startModel({ historyPerStation: 50 });
  for (const cb of ['CP1', 'SECRET']) {
    emit({ chargeBoxId: cb, type: 'status', connectorId: 1, timestamp: at(0), receivedAt: at(0), data: { status: 'Preparing', errorCode: 'NoError', synthetic: false } });
    emit({ chargeBoxId: cb, type: 'preChargeData', timestamp: at(1), receivedAt: at(1), data: { soc: 50, model: 'Pro', batteryAh: 60, maxRange: 162, range: 81, messageId: 'VehicleInfo', vendorId: 'RivotMotors' } });
    emit({ chargeBoxId: cb, type: 'transactionStarted', connectorId: 1, transactionId: 3, timestamp: at(2), receivedAt: at(2), data: { idTag: 'TAG', meterStart: 0, startTime: at(2) } });
  }
  for (let i = 0; i < 60; i++) emit({ chargeBoxId: 'CP1', type: 'heartbeat', timestamp: at(10 + i), receivedAt: at(10 + i), data: {} });
  emit({ chargeBoxId: 'CP1', type: 'transactionStopped', connectorId: 1, transactionId: 3, timestamp: at(100), receivedAt: at(100), data: { meterStop: 800, stopTime: at(100), reason: 'Local', actor: 'station' } });

  const app = express();
  // Stands in for the JWT middleware: a viewer whose token does not list SECRET.
  app.use((_req, res, next) => {
    res.locals.allowed = (id: string) => id !== 'SECRET';
    next();
  });
  app.use('/api', eventsRouter(h.model));
  server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
  await h.model.stop();
});

async function get(path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${base}${path}`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('GET /api/stations/:id/state', () => {
  it('returns the snapshot with the SOC-screen summary', async () => {
    const { status, body } = await get('/stations/CP1/state');
    expect(status).toBe(200);
    expect(body).toMatchObject({ chargeBoxId: 'CP1', seq: 64, connectors: [{ connectorId: 1, status: 'Preparing' }], openTransactions: [] });
    expect(body.recentTransactions).toEqual([expect.objectContaining({ transactionId: 3, energyWh: 800, stopReason: 'Local' })]);
    expect(body.summary).toMatchObject({ connectorId: 1, soc: 50, model: 'Pro', range: 81, maxRange: 162, energy: null, transactionId: null });
  });

  it('refuses stations outside the caller’s scope and says when a station is unknown', async () => {
    expect(await get('/stations/SECRET/state')).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
    expect(await get('/stations/NOPE/state')).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
  });
});

describe('GET /api/events', () => {
  it('pages forward by seq for one station, with the retained range', async () => {
    const { status, body } = await get('/events?chargeBoxId=CP1&since=60&limit=3');
    expect(status).toBe(200);
    expect((body.events as { seq: number }[]).map((e) => e.seq)).toEqual([61, 62, 63]);
    expect(body).toMatchObject({ firstSeq: 15, lastSeq: 64, truncated: false });
    // Asking from before the oldest retained event: told that some are gone.
    expect((await get('/events?chargeBoxId=CP1&since=2')).body.truncated).toBe(true);
  });

  it('filters by type and time across the stations the caller may see', async () => {
    const { body } = await get(`/events?type=transactionStarted,transactionStopped&since=${encodeURIComponent(at(0))}`);
    expect((body.events as { chargeBoxId: string; type: string }[]).map((e) => [e.chargeBoxId, e.type])).toEqual([['CP1', 'transactionStopped']]);
    const latest = await get('/events?chargeBoxId=CP1&limit=2');
    expect((latest.body.events as { seq: number }[]).map((e) => e.seq)).toEqual([63, 64]);
  });

  it('refuses bad parameters and foreign stations', async () => {
    expect((await get('/events?since=5')).status).toBe(400);
    expect((await get('/events?type=bogus')).status).toBe(400);
    expect((await get('/events?limit=0')).status).toBe(400);
    expect((await get('/events?since=yesterday')).status).toBe(400);
    expect((await get('/events?chargeBoxId=CP1&chargeBoxId=CP2')).status).toBe(400);
    expect((await get('/events?chargeBoxId=SECRET')).status).toBe(403);
  });
});

describe('GET /api/transactions', () => {
  it('lists open and recent transactions the caller may see', async () => {
    const { status, body } = await get('/transactions');
    expect(status).toBe(200);
    expect(body.transactions).toEqual([expect.objectContaining({ chargeBoxId: 'CP1', transactionId: 3, idTag: 'TAG', open: false, energyWh: 800, stopReason: 'Local', socStart: 50 })]);
    expect((await get(`/transactions?chargeBoxId=CP1&since=${encodeURIComponent(at(200))}`)).body.transactions).toEqual([]);
    expect((await get('/transactions?chargeBoxId=SECRET')).status).toBe(403);
    expect((await get('/transactions?since=soon')).status).toBe(400);
  });
});

describe('GET /api/stations/:id/state per connector', () => {
  it('is per connector: every connector in summary.connectors, ?connectorId= picks the one at the top level', async () => {
    // A station the other tests do not list: its events come last, at times before theirs.
    for (const [c, tx] of [[1, 5], [2, 6]] as const) {
      emit({ chargeBoxId: 'TWO', type: 'transactionStarted', connectorId: c, transactionId: tx, timestamp: at(-99 + c), receivedAt: at(-99 + c), data: { idTag: 'TAG', meterStart: 0, startTime: at(-99 + c) } });
      emit({ chargeBoxId: 'TWO', type: 'meterValues', connectorId: c, transactionId: tx, timestamp: at(-90), receivedAt: at(-90), data: { sampledValues: [{ measurand: 'Current.Import', value: String(30 * c) }] } });
    }
    const all = await get('/stations/TWO/state');
    const summary = all.body.summary as { connectorId: number; connectorReason: string; current: number; connectors: { connectorId: number; transactionId: number; current: number }[] };
    expect(summary).toMatchObject({ connectorId: 2, connectorReason: 'transaction', current: 60, transactionId: 6 });
    expect(summary.connectors.map((c) => [c.connectorId, c.transactionId, c.current])).toEqual([[1, 5, 30], [2, 6, 60]]);
    const one = await get('/stations/TWO/state?connectorId=1');
    expect(one.body.summary).toMatchObject({ connectorId: 1, connectorReason: 'requested', current: 30, transactionId: 5 });
    expect(await get('/stations/TWO/state?connectorId=x')).toMatchObject({ status: 400, body: { error: { code: 'bad_request' } } });
  });
});
