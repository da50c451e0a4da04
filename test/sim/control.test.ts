// Control surfaces: the REST router (create, list, act, remove, errors) and parseSimConfig (env + config file).
import type { AddressInfo } from 'node:net';
import http from 'node:http';
import express from 'express';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parseSimConfig } from '../../src/sim/config.js';
import { startSteveDouble, type SteveDouble } from '../support/steve-double.js';
import { startSim, until, type SimHarness } from './helpers.js';

describe('REST router', () => {
  let double: SteveDouble;
  let h: SimHarness;
  let server: http.Server;
  let base: string;

  beforeAll(async () => {
    double = await startSteveDouble({ knownStations: 'any' });
    h = startSim({ target: double.url, speed: 20 });
    await h.sim.start();
    const app = express();
    app.use('/api/sim', h.sim.router());
    server = http.createServer(app);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/sim`;
  });
  afterAll(async () => {
    await h.sim.stop();
    await new Promise<void>((r) => server.close(() => r()));
    await double.close();
  });

  const req = async (method: string, p: string, body?: unknown): Promise<{ status: number; json: unknown }> => {
    const res = await fetch(`${base}${p}`, { method, headers: { 'content-type': 'application/json' }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    return { status: res.status, json: res.status === 204 ? undefined : await res.json() };
  };

  test('create, list, get, act, remove', async () => {
    const created = await req('POST', '/stations', { id: 'REST-1', vehicle: { model: 'Max', initialSoc: 50, targetSoc: 90 } });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ id: 'REST-1', powered: true });
    expect((await req('POST', '/stations', { id: 'REST-1' })).status).toBe(409);
    expect((await req('POST', '/stations', { id: 'bad id!' })).status).toBe(400);
    await until(() => h.sim.get('REST-1').booted);
    const list = (await req('GET', '/stations')).json as { stations: { id: string }[] };
    expect(list.stations.map((s) => s.id)).toContain('REST-1');
    const act = await req('POST', '/stations/REST-1/actions/start', { idTag: 'REST' });
    expect(act.status).toBe(200);
    expect(act.json).toMatchObject({ ok: true, station: { id: 'REST-1' } });
    await until(() => h.sim.get('REST-1').connectors[0]?.status === 'Charging');
    await double.waitFor((f) => f.chargeBoxId === 'REST-1' && f.frame[2] === 'StartTransaction' && (f.frame[3] as { idTag: string }).idTag === 'REST');
    expect((await req('POST', '/stations/REST-1/actions/start', {})).status).toBe(409); // refused: already running
    expect((await req('POST', '/stations/REST-1/actions/explode', {})).status).toBe(400);
    expect((await req('POST', '/stations/REST-1/actions/fault', { errorCode: 'NotACode' })).status).toBe(400);
    expect((await req('POST', '/stations/NOPE/actions/stop', {})).status).toBe(404);
    const one = (await req('GET', '/stations/REST-1')).json as { connectors: { model: string; currentA: number }[] };
    expect(one.connectors[0]).toMatchObject({ model: 'Max' });
    expect((await req('POST', '/stations/REST-1/actions/dropLink', {})).status).toBe(200);
    expect((await req('DELETE', '/stations/REST-1')).status).toBe(204);
    expect((await req('GET', '/stations/REST-1')).status).toBe(404);
    await until(() => !double.sockets.has('REST-1'), 5000, 'socket closed after remove');
  });
});

describe('parseSimConfig', () => {
  test('embedded mode defaults to 3 autopilot stations cycling Classic/Pro/Max; 0 disables; none in front of a real SteVe', () => {
    const c = parseSimConfig({}, {});
    expect(c.stations.map((s) => s.id)).toEqual(['SIM-001', 'SIM-002', 'SIM-003']);
    expect(c.stations.map((s) => s.vehicle?.model)).toEqual(['Classic', 'Pro', 'Max']);
    expect(c.stations.every((s) => s.autopilot === true)).toBe(true);
    expect(parseSimConfig({ SIM_STATIONS: '0' }, {}).stations).toEqual([]);
    expect(parseSimConfig({ STEVE_WS_URL: 'ws://steve:8180/x' }, {}).stations).toEqual([]);
    expect(parseSimConfig({ STEVE_WS_URL: 'ws://steve:8180/x', SIM_STATIONS: '2', SIM_ID_PREFIX: 'LAB-' }, {}).stations.map((s) => s.id)).toEqual(['LAB-001', 'LAB-002']);
    expect(c.limits).toEqual({ queueLimit: 1000, queueBytes: 1024 * 1024, callTimeoutMs: 30_000, reconnectMinMs: 1000, reconnectMaxMs: 60_000, bootDelayMs: 2000 });
  });

  test('env limits and the config file "simulator" section (specs and count templates) are read and checked', () => {
    const c = parseSimConfig(
      { SIM_QUEUE_LIMIT: '50', SIM_QUEUE_BYTES: '65536', SIM_RECONNECT_MIN_MS: '200', SIM_RECONNECT_MAX_MS: '5000', SIM_CALL_TIMEOUT_MS: '10000' },
      { simulator: { stations: [{ id: 'BENCH-A', vehicle: { model: 'Max' } }, { count: 2, idPrefix: 'T-', autopilot: { dwellS: 5 } }] } },
    );
    expect(c.stations.map((s) => s.id)).toEqual(['BENCH-A', 'T-001', 'T-002']);
    expect(c.limits).toMatchObject({ queueLimit: 50, queueBytes: 65_536, reconnectMinMs: 200, reconnectMaxMs: 5000, callTimeoutMs: 10_000 });
    expect(() => parseSimConfig({ SIM_STATIONS: 'many' }, {})).toThrow(/SIM_STATIONS/);
    expect(() => parseSimConfig({}, { simulator: { stations: [{ id: 'X', vehicle: { model: 'Tesla' } }] } })).toThrow(/simulator.stations\[0\]/);
    expect(() => parseSimConfig({}, { simulator: [] })).toThrow(/"simulator" must be an object/);
  });
});

describe('autopilot', () => {
  test('an autopilot station runs sessions by itself: arrive, VehicleInfo, tag, charge, leave', async () => {
    const double = await startSteveDouble({ knownStations: 'any' });
    const h = startSim({
      target: double.url,
      speed: 50,
      stations: [{ id: 'AUTO', autopilot: { idleS: [5, 10], tagAfterS: 8, dwellS: 5, initialSoc: [79, 79], targetSoc: [80, 80], models: ['Classic'] } }],
    });
    await h.sim.start();
    try {
      await double.waitFor((f) => f.chargeBoxId === 'AUTO' && f.frame[2] === 'StopTransaction', 15_000);
      const seq = double.received.filter((f) => f.chargeBoxId === 'AUTO' && f.frame[0] === 2).map((f) => (f.frame[2] === 'DataTransfer' ? (f.frame[3] as { messageId: string }).messageId : f.frame[2]));
      const iVi = seq.indexOf('VehicleInfo');
      const iStart = seq.indexOf('StartTransaction');
      expect(iVi).toBeGreaterThan(0);
      expect(iStart).toBeGreaterThan(iVi);
      expect(seq.indexOf('StopTransaction')).toBeGreaterThan(iStart);
      // …and then a second session comes.
      await until(() => double.received.filter((f) => f.chargeBoxId === 'AUTO' && f.frame[2] === 'StartTransaction').length >= 2, 15_000, 'second session');
    } finally {
      await h.sim.stop();
      await double.close();
    }
  });
});
