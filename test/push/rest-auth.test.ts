// JWT on the REST API: the /api guard in front of the real station-data routers, role and station scoping,
// the loopback-open option, GET /api/push/stats and the dev token endpoint.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiAuth, DEFAULT_OPEN_PATHS } from '../../src/api/auth.js';
import { eventsRouter } from '../../src/api/events-routes.js';
import { healthRouter } from '../../src/api/health-routes.js';
import { messagesRouter } from '../../src/api/messages-routes.js';
import { createPushRouter, DEV_TOKEN_PATH, DEV_TOKEN_URL } from '../../src/api/push-routes.js';
import { connectStation, type StationClient } from '../support/station-client.js';
import { connect, operatorToken, startPushGateway, token, until, viewerToken, type PushGateway } from './support/harness.js';

let pg: PushGateway;
let cp1: StationClient;
const servers: http.Server[] = [];

/** The gateway's routers behind the guard, on their own HTTP server. */
async function apiServer(opts: { openOnLoopback: boolean; devToken: boolean }): Promise<string> {
  const app = express();
  const auth = createApiAuth({ verify: pg.push.verifyToken, openOnLoopback: opts.openOnLoopback, ...(opts.devToken ? { publicPaths: [DEV_TOKEN_URL] } : {}) });
  app.use(['/api', '/metrics'], auth.guard);
  app.get('/metrics', (_req, res) => {
    res.type('text/plain').send('chargebridge_up 1\n');
  });
  app.use('/api', healthRouter({ mode: 'local', version: 'test', startedAt: Date.now(), stations: () => pg.gw.relay.stations(), sections: () => ({}) }));
  app.use('/api/messages', messagesRouter(pg.gw.messageLog));
  app.use('/api', eventsRouter(pg.gw.events));
  app.use('/api', createPushRouter({ auth, stats: () => pg.push.stats(), ...(opts.devToken ? { devToken: (r) => pg.push.issueToken(r) } : {}) }));
  const server = http.createServer(app);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

let closed: string;
let open: string;

beforeAll(async () => {
  pg = await startPushGateway();
  cp1 = await connectStation(pg.gw.wsUrl('CP1'));
  const cp2 = await connectStation(pg.gw.wsUrl('CP2'));
  await cp1.call('StatusNotification', { connectorId: 1, status: 'Available', errorCode: 'NoError' });
  await cp2.call('StatusNotification', { connectorId: 1, status: 'Charging', errorCode: 'NoError' });
  cp2.close();
  await until(() => pg.gw.events.state.has('CP1') && pg.gw.events.state.has('CP2'), 5000, 'state for CP1 and CP2');
  closed = await apiServer({ openOnLoopback: false, devToken: false });
  open = await apiServer({ openOnLoopback: true, devToken: true });
});
afterAll(async () => {
  cp1?.close();
  for (const s of servers) await new Promise((r) => s.close(r));
  await pg?.close();
});

const get = (url: string, headers: Record<string, string> = {}) => fetch(url, { headers });
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

describe('the /api guard', () => {
  it('every station-data route needs a token', async () => {
    for (const p of ['/metrics', '/api/stations', '/api/stations/CP1/state', '/api/events?chargeBoxId=CP1', '/api/transactions', '/api/messages', '/api/health', '/api/push/stats']) {
      const res = await get(`${closed}${p}`);
      expect(res.status, p).toBe(401);
      expect(res.headers.get('www-authenticate'), p).toContain('Bearer');
      expect(await res.json(), p).toMatchObject({ error: { code: 'token_missing' } });
    }
    for (const p of ['/metrics', '/api/stations']) {
      expect((await get(`${closed}${p}`, bearer(operatorToken()))).status, p).toBe(200);
    }
  });

  it('refusal codes: garbage, wrong key, expired; a token in the query string is ignored', async () => {
    const url = `${closed}/api/stations/CP1/state`;
    expect(await (await get(url, bearer('garbage'))).json()).toMatchObject({ error: { code: 'token_malformed' } });
    expect(await (await get(url, bearer(token({}, { secret: 'some-other-secret-that-is-long-enough' })))).json()).toMatchObject({ error: { code: 'token_bad_signature' } });
    expect(await (await get(url, bearer(token({ exp: Math.floor(Date.now() / 1000) - 5 }, { noExp: true })))).json()).toMatchObject({ error: { code: 'token_expired' } });
    const q = await get(`${url}?token=${operatorToken()}&access_token=${operatorToken()}`);
    expect(q.status).toBe(401);
  });

  it('operator reads any station; a viewer only those in its claim', async () => {
    const op = await get(`${closed}/api/stations/CP2/state`, bearer(operatorToken()));
    expect(op.status).toBe(200);
    expect(await op.json()).toMatchObject({ chargeBoxId: 'CP2' });
    expect((await get(`${closed}/api/stations/CP1/state`, bearer(viewerToken(['CP1'])))).status).toBe(200);
    expect((await get(`${closed}/api/stations/CP2/state`, bearer(viewerToken(['CP1'])))).status).toBe(403);
  });

  it('GET /api/push/stats: operators only, with client and drop figures', async () => {
    const s = await connect(pg.url, { token: operatorToken() });
    const res = await get(`${closed}/api/push/stats`, bearer(operatorToken()));
    expect(res.status).toBe(200);
    const body = (await res.json()) as { clients: { total: number }; pushed: object; dropped: object; subscriptions: object };
    expect(body.clients.total).toBeGreaterThanOrEqual(1);
    expect(body).toHaveProperty('pushed.events');
    expect(body).toHaveProperty('dropped.framesDropped');
    expect((await get(`${closed}/api/push/stats`, bearer(viewerToken(['CP1'])))).status).toBe(403);
    s.close();
  });

  it('no tokens over HTTP unless the dev flag is set', async () => {
    const res = await fetch(`${closed}/api${DEV_TOKEN_PATH}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"role":"operator"}' });
    expect(res.status).toBe(401);
  });
});

describe('API_OPEN_ON_LOOPBACK', () => {
  it('lets direct loopback GETs of stations/messages/metrics through without a token, nothing else', async () => {
    expect(DEFAULT_OPEN_PATHS).toEqual(['/api/stations', '/api/messages', '/api/metrics', '/metrics']);
    expect((await get(`${open}/metrics`)).status).toBe(200);
    expect((await get(`${open}/api/stations`)).status).toBe(200);
    expect((await get(`${open}/api/stations/CP2/state`)).status).toBe(200);
    expect((await get(`${open}/api/messages`)).status).toBe(200);
    expect((await get(`${open}/api/events?chargeBoxId=CP1`)).status).toBe(401);
    expect((await get(`${open}/api/push/stats`)).status).toBe(401);
    const post = await fetch(`${open}/api/stations/CP1/calls`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(post.status).not.toBe(200);
    // Behind a reverse proxy every peer is loopback: a forwarded request needs a token.
    expect((await get(`${open}/api/stations`, { 'x-forwarded-for': '203.0.113.7' })).status).toBe(401);
    expect((await get(`${open}/api/stations`, { forwarded: 'for=203.0.113.7' })).status).toBe(401);
    // A token that is sent is still checked (and scopes a viewer).
    expect((await get(`${open}/api/stations/CP2/state`, bearer(viewerToken(['CP1'])))).status).toBe(403);
    expect((await get(`${open}/api/stations`, bearer('garbage'))).status).toBe(401);
  });

  it('DEV_TOKEN_ENDPOINT: issues a token to loopback callers that the push server accepts', async () => {
    const res = await fetch(`${open}/api${DEV_TOKEN_PATH}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ role: 'viewer', chargers: ['CP1'], ttl: '10m' }) });
    expect(res.status).toBe(200);
    const { token: t } = (await res.json()) as { token: string };
    const v = pg.push.verifyToken(t);
    expect(v.ok && v.principal.role === 'viewer' && v.principal.chargers !== 'all' && [...v.principal.chargers]).toEqual(['CP1']);
    const s = await connect(pg.url, { token: t });
    s.close();
    const bad = await fetch(`${open}/api${DEV_TOKEN_PATH}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ role: 'root' }) });
    expect(bad.status).toBe(400);
    const proxied = await fetch(`${open}/api${DEV_TOKEN_PATH}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': '198.51.100.1' }, body: '{"role":"operator"}' });
    expect(proxied.status).toBe(403);
  });
});
