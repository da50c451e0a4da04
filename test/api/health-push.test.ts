// GET /api/health's push section: operators see every client (subjects included), viewers only counts and their
// own clients, like GET /api/push/stats which is operators-only.
import type WebSocket from 'ws';
import type { Socket as ClientSocket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventInput } from '../../src/events/catalogue.js';
import { ack, connect, startPushGateway, token, until, type PushGateway } from '../push/support/harness.js';

let pg: PushGateway;
const sockets: ClientSocket[] = [];
let n = 0;
let resume = (): void => undefined;

function meterInput(wh: number): EventInput {
  const now = new Date().toISOString();
  const sampledValues = Array.from({ length: 20 }, (_, i) => ({ value: String(wh + i), measurand: 'Energy.Active.Import.Register', unit: 'Wh', location: `Outlet-${i}` }));
  return { id: `mv-${++n}`, type: 'meterValues', chargeBoxId: 'CP1', connectorId: 1 + (n % 2), timestamp: now, receivedAt: now, source: 'station', data: { sampledValues } };
}

beforeAll(async () => {
  pg = await startPushGateway({ PUSH_QUEUE_LIMIT: '200' });
  // An operator client named "op-alice" that stops reading, so it shows up in clientsWithDrops with its subject.
  const slow = await connect(pg.url, { token: token({ role: 'operator', sub: 'op-alice' }) });
  sockets.push(slow);
  await ack(slow, 'subscribe', { chargeBoxIds: ['CP1'] });
  const ws = (slow.io.engine as unknown as { transport: { ws: WebSocket } }).transport.ws;
  ws.pause();
  resume = () => ws.resume();
  for (let round = 0; round < 40_000 && pg.push.stats().clientsWithDrops.length === 0; round++) {
    pg.gw.bus.emit('eventInput', meterInput(round));
    if (round % 10 === 0) await new Promise((r) => setImmediate(r));
  }
  await until(() => pg.push.stats().clientsWithDrops.some((c) => c.sub === 'op-alice'), 20_000, 'op-alice listed with drops');
}, 60_000);
afterAll(async () => {
  resume();
  for (const s of sockets) s.close();
  await pg?.close();
});

async function health(tok: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${pg.url}/api/health`, { headers: { authorization: `Bearer ${tok}` } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('GET /api/health push section', () => {
  it('operators see every client with drops, subjects included', async () => {
    const { status, body } = await health(token({ role: 'operator', sub: 'op-bob' }));
    expect(status).toBe(200);
    const push = body.push as { clientsWithDrops: { sub: string }[]; clients: { total: number } };
    expect(push.clientsWithDrops.map((c) => c.sub)).toContain('op-alice');
    expect(push.clients.total).toBeGreaterThanOrEqual(1);
  });

  it('viewers get counts, never another client’s subject or socket id', async () => {
    const { status, body } = await health(token({ role: 'viewer', sub: 'viewer-carol', chargers: ['CP1'] }));
    expect(status).toBe(200);
    expect(JSON.stringify(body)).not.toContain('op-alice');
    const push = body.push as Record<string, unknown>;
    expect(push.clients).toMatchObject({ total: expect.any(Number) });
    expect(push.clientsWithDrops).toEqual([]);
    // The operators-only endpoint stays closed to viewers.
    const stats = await fetch(`${pg.url}/api/push/stats`, { headers: { authorization: `Bearer ${token({ role: 'viewer', sub: 'viewer-carol', chargers: ['CP1'] })}` } });
    expect(stats.status).toBe(403);
  });

  it('a viewer sees its own clients’ drops', async () => {
    const { body } = await health(token({ role: 'viewer', sub: 'op-alice', chargers: ['CP1'] }));
    const push = body.push as { clientsWithDrops: { sub: string; id?: string }[] };
    expect(push.clientsWithDrops.map((c) => c.sub)).toEqual(['op-alice']);
  });
});
