// GET /api/health's push section: operators see every client (subjects included), viewers only counts and their
// own clients, like GET /api/push/stats which is operators-only.
import type WebSocket from 'ws';
import type { Socket as ClientSocket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogEntry } from '../../src/events/observations.js';
import { ack, connect, startPushGateway, token, until, type PushGateway } from '../push/support/harness.js';

let pg: PushGateway;
const sockets: ClientSocket[] = [];
let resume = (): void => undefined;

beforeAll(async () => {
  pg = await startPushGateway({ PUSH_FRAME_QUEUE_LIMIT: '20', PUSH_SOCKET_BUFFER_PACKETS: '8' });
  // An operator client named "op-alice" that stops reading the frame stream, so it shows up in clientsWithDrops.
  const slow = await connect(pg.url, { token: token({ role: 'operator', sub: 'op-alice' }) });
  sockets.push(slow);
  await ack(slow, 'frames:subscribe', { chargeBoxIds: ['FLOOD'] });
  const ws = (slow.io.engine as unknown as { transport: { ws: WebSocket } }).transport.ws;
  ws.pause();
  resume = () => ws.resume();
  const raw = JSON.stringify([2, 'x', 'DataTransfer', { vendorId: 'V', data: 'y'.repeat(4000) }]);
  for (let i = 0; i < 50_000 && !pg.push.stats().clientsWithDrops.some((c) => c.sub === 'op-alice'); i++) {
    const entry: LogEntry = {
      id: 1_000_000 + i, time: new Date().toISOString(), atUs: Date.now() * 1000, chargeBoxId: 'FLOOD', linkKind: 'sim', leg: 'station',
      direction: 'in', origin: 'station', disposition: 'forwarded', raw, messageType: 'CALL', action: 'DataTransfer', messageId: `x${i}`, findings: [],
    };
    pg.gw.bus.emit('logged', entry);
    if (i % 10 === 0) await new Promise((r) => setImmediate(r));
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
