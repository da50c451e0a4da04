// Operator calls to a real station through the real relay: over Socket.IO (`call` with ack) and over REST
// (POST /api/stations/:id/calls). Payloads are schema-checked first; viewers are refused.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiAuth } from '../../src/api/auth.js';
import { createCallsRouter } from '../../src/api/calls-routes.js';
import { connectStation, type StationClient } from '../support/station-client.js';
import { ack, connect, operatorToken, startPushGateway, until, viewerToken, type PushGateway } from './support/harness.js';

let pg: PushGateway;
let cp1: StationClient;
let api: http.Server;
let apiUrl: string;
const callsSeen: unknown[][] = [];

beforeAll(async () => {
  pg = await startPushGateway({ CALL_TIMEOUT_MS: '800' });
  cp1 = await connectStation(pg.gw.wsUrl('CP1'), { autoAnswer: false });
  // The station answers like a charger would: accepts availability changes, refuses resets, ignores GetDiagnostics.
  cp1.ws.on('message', (data) => {
    const frame = JSON.parse(data.toString()) as unknown[];
    if (frame[0] !== 2) return;
    callsSeen.push(frame);
    const [, id, action] = frame as [number, string, string, unknown];
    if (action === 'ChangeAvailability') cp1.ws.send(JSON.stringify([3, id, { status: 'Accepted' }]));
    else if (action === 'Reset') cp1.ws.send(JSON.stringify([4, id, 'NotSupported', 'no resets on the bench', {}]));
    else if (action !== 'GetDiagnostics') cp1.ws.send(JSON.stringify([3, id, {}]));
  });
  await until(() => pg.gw.relay.stations().some((s) => s.chargeBoxId === 'CP1'), 5000, 'CP1 attached');

  const app = express();
  const auth = createApiAuth({ verify: pg.push.verifyToken, openOnLoopback: false });
  app.use('/api', auth.guard);
  app.use('/api', createCallsRouter({ auth, calls: pg.gw.relay, timeoutMs: pg.config.callTimeoutMs }));
  api = http.createServer(app);
  await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
  apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
});
afterAll(async () => {
  cp1?.close();
  await new Promise((r) => api?.close(r));
  await pg?.close();
});

describe('Socket.IO call', () => {
  it('operator: round trip to the station and back', async () => {
    const s = await connect(pg.url, { token: operatorToken() });
    const res = await ack(s, 'call', { chargeBoxId: 'CP1', action: 'ChangeAvailability', payload: { connectorId: 1, type: 'Inoperative' } });
    expect(res).toMatchObject({ ok: true, outcome: { kind: 'result', payload: { status: 'Accepted' } } });
    expect(callsSeen.at(-1)).toEqual([2, expect.any(String), 'ChangeAvailability', { connectorId: 1, type: 'Inoperative' }]);
    const err = await ack(s, 'call', { chargeBoxId: 'CP1', action: 'Reset', payload: { type: 'Soft' } });
    expect(err).toMatchObject({ ok: true, outcome: { kind: 'error', code: 'NotSupported', description: 'no resets on the bench' } });
    const t = await ack(s, 'call', { chargeBoxId: 'CP1', action: 'GetDiagnostics', payload: { location: 'ftp://bench/diag' } });
    expect(t).toEqual({ ok: true, outcome: { kind: 'timeout' } });
    s.close();
  });

  it('refuses invalid payloads before sending, names the violation', async () => {
    const s = await connect(pg.url, { token: operatorToken() });
    const before = callsSeen.length;
    const res = await ack<{ ok: false; error: { code: string; violation: { field: string; rule: string } } }>(s, 'call', {
      chargeBoxId: 'CP1', action: 'ChangeAvailability', payload: { connectorId: 1, type: 'Sideways' },
    });
    expect(res.ok).toBe(false);
    expect(res.error).toMatchObject({ code: 'invalid_params', violation: { field: '/type', rule: 'enum' } });
    expect(await ack(s, 'call', { chargeBoxId: 'CP1', action: 'NoSuchAction', payload: {} })).toMatchObject({ ok: false, error: { code: 'invalid_params' } });
    expect(await ack(s, 'call', { action: 'Reset', payload: { type: 'Soft' } })).toMatchObject({ ok: false, error: { code: 'invalid_params' } });
    expect(callsSeen.length).toBe(before);
    s.close();
  });

  it('a station the gateway does not hold: not_connected', async () => {
    const s = await connect(pg.url, { token: operatorToken() });
    expect(await ack(s, 'call', { chargeBoxId: 'NOPE', action: 'Reset', payload: { type: 'Soft' } })).toMatchObject({ ok: false, error: { code: 'not_connected' } });
    s.close();
  });

  it('viewer: refused even for a station in its claim', async () => {
    const s = await connect(pg.url, { token: viewerToken(['CP1']) });
    const before = callsSeen.length;
    expect(await ack(s, 'call', { chargeBoxId: 'CP1', action: 'Reset', payload: { type: 'Soft' } })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(callsSeen.length).toBe(before);
    s.close();
  });
});

describe('REST POST /api/stations/:id/calls', () => {
  const post = (id: string, body: unknown, headers: Record<string, string> = {}, query = '') =>
    fetch(`${apiUrl}/api/stations/${id}/calls${query}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

  it('operator: 200 with the station answer', async () => {
    const res = await post('CP1', { action: 'ChangeAvailability', payload: { connectorId: 0, type: 'Operative' } }, bearer(operatorToken()));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ chargeBoxId: 'CP1', action: 'ChangeAvailability', outcome: { kind: 'result', payload: { status: 'Accepted' } } });
  });

  it('timeout: 504; not connected: 409; invalid payload: 400 with the violation', async () => {
    const t = await post('CP1', { action: 'GetDiagnostics', payload: { location: 'ftp://bench/diag' } }, bearer(operatorToken()));
    expect(t.status).toBe(504);
    expect(await t.json()).toMatchObject({ outcome: { kind: 'timeout' } });
    const gone = await post('NOPE', { action: 'Reset', payload: { type: 'Hard' } }, bearer(operatorToken()));
    expect(gone.status).toBe(409);
    expect(await gone.json()).toMatchObject({ error: { code: 'GW_ERR_STATION_NOT_CONNECTED' } });
    const bad = await post('CP1', { action: 'Reset', payload: { type: 'Medium' } }, bearer(operatorToken()));
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: 'GW_ERR_CALL_REJECTED', violation: { field: '/type' } } });
  });

  it('no token, token in the query string, expired token: 401; viewer: 403', async () => {
    const body = { action: 'Reset', payload: { type: 'Soft' } };
    const before = callsSeen.length;
    const none = await post('CP1', body);
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ error: { code: 'token_missing' } });
    const inQuery = await post('CP1', body, {}, `?token=${operatorToken()}&access_token=${operatorToken()}`);
    expect(inQuery.status).toBe(401);
    const viewer = await post('CP1', body, bearer(viewerToken(['CP1'])));
    expect(viewer.status).toBe(403);
    expect(callsSeen.length).toBe(before);
  });
});
