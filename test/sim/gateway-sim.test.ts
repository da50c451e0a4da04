// The simulator inside the gateway: default stations on the embedded central system, REST and Socket.IO control.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io, type Socket } from 'socket.io-client';
import { startGateway, type TestGateway } from '../support/gateway.js';

let gw: TestGateway;

beforeAll(async () => {
  gw = await startGateway({ SIM_STATIONS: '2', SIM_BOOT_DELAY_MS: '0', SIM_CONNECT_SPREAD_MS: '0' });
});
afterAll(async () => {
  await gw?.stop();
});

async function until<T>(fn: () => T | undefined | false, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 25));
  }
}

function tokenOf(role: 'operator' | 'viewer', chargers?: string[]): string {
  return gw.authHeader(role, chargers).authorization.slice('Bearer '.length);
}

async function socket(token: string): Promise<Socket> {
  const s = io(gw.httpUrl, { transports: ['websocket'], reconnection: false, forceNew: true, auth: { token } });
  await new Promise<void>((resolve, reject) => {
    s.once('connect', () => resolve());
    s.once('connect_error', reject);
  });
  return s;
}

describe('simulator in the gateway', () => {
  it('starts the configured stations on the embedded central system, as link kind sim', async () => {
    // Both attached, and both upstreams (the embedded central system) open.
    const stations = await until(() => {
      const s = gw.relay.stations().filter((st) => st.linkKind === 'sim' && st.upstream === 'local');
      return s.length === 2 && s;
    });
    expect(stations.map((s) => s.chargeBoxId).sort()).toEqual(['SIM-001', 'SIM-002']);
    // Their boots went through the relay and the message log like any station's.
    const page = await until(() => gw.events.state.snapshot('SIM-001'));
    expect(page).toBeDefined();
  });

  it('is controlled over REST by operators only', async () => {
    const list = await gw.getJson<{ stations: { id: string }[] }>('/api/sim/stations');
    expect(list.stations.map((s) => s.id).sort()).toEqual(['SIM-001', 'SIM-002']);
    const viewer = await fetch(`${gw.httpUrl}/api/sim/stations`, { headers: gw.authHeader('viewer', ['SIM-001']) });
    expect(viewer.status).toBe(403);
    expect((await fetch(`${gw.httpUrl}/api/sim/stations`)).status).toBe(401);
  });

  it('is controlled over Socket.IO by operators: create, plug in, list; viewers are refused', async () => {
    const op = await socket(tokenOf('operator'));
    try {
      const created = (await op.timeout(5000).emitWithAck('sim', { op: 'create', spec: { id: 'SIM-IO', autopilot: false } })) as { ok: boolean };
      expect(created.ok).toBe(true);
      await until(() => gw.relay.stations().some((s) => s.chargeBoxId === 'SIM-IO'));
      const acted = (await op.timeout(5000).emitWithAck('sim', { op: 'act', id: 'SIM-IO', action: { type: 'plugIn', connectorId: 1 } })) as { ok: boolean };
      expect(acted).toMatchObject({ ok: true });
      const listed = (await op.timeout(5000).emitWithAck('sim', { op: 'list' })) as { ok: boolean; result: { stations: { id: string }[] } };
      expect(listed.result.stations.map((s) => s.id)).toContain('SIM-IO');
      const bad = (await op.timeout(5000).emitWithAck('sim', { op: 'act', id: 'NOPE', action: { type: 'plugIn', connectorId: 1 } })) as { ok: boolean; error: { code: string } };
      expect(bad).toMatchObject({ ok: false, error: { code: 'not_found' } });
      const garbage = (await op.timeout(5000).emitWithAck('sim', 'drop tables')) as { ok: boolean; error: { code: string } };
      expect(garbage).toMatchObject({ ok: false, error: { code: 'invalid' } });
    } finally {
      op.close();
    }
    const viewer = await socket(tokenOf('viewer', ['SIM-001']));
    try {
      const refused = (await viewer.timeout(5000).emitWithAck('sim', { op: 'list' })) as { ok: boolean; error: { code: string } };
      expect(refused).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    } finally {
      viewer.close();
    }
  });
});
