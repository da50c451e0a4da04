// A gateway restart with a binlog backlog, end to end: a default socket.io-client stays on while the gateway
// is down, SteVe's database takes 6,000 meter values, the gateway comes back on the same port and catches up
// from its checkpoint. The client reconnects by itself, resumes with `since` and gets every event: no
// slow-consumer goodbye, no gap.
import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { io as ioClient, type Socket as ClientSocket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayEvent } from '../../src/events/catalogue.js';
import type { GapNotice } from '../../src/push/protocol.js';
import { SteveWriter } from '../cdc/steve-writes.js';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { createSteveDatabase, startMariadb, type PrivateMariadb } from '../support/mariadb.js';
import { operatorToken, SECRET, until } from './support/harness.js';

const STATIONS = Array.from({ length: 40 }, (_, i) => `BL${String(i).padStart(2, '0')}`);
const PER_STATION = 150;

let db: PrivateMariadb;
let url: string;

beforeAll(async () => {
  db = await startMariadb();
  url = await createSteveDatabase(db, { database: 'catchup_db', generation: '3.13' });
}, 120_000);
afterAll(async () => {
  await db?.stop();
});

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

describe('binlog backlog after a gateway restart', () => {
  it('reaches a connected default socket.io-client whole: it reconnects, resumes, and is never cut off', async () => {
    const writer = await SteveWriter.open(db, 'catchup_db', '3.13');
    for (const id of STATIONS) await writer.addStation(id);
    const port = await freePort();
    const env = {
      JWT_SECRET: SECRET,
      STEVE_DB_URL: url,
      CDC_SERVER_ID: '5301',
      PORT: String(port),
      DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'cb-push-catchup-')),
      PUSH_STALL_TIMEOUT_MS: '5000',
    };
    let gw: TestGateway | undefined = await startGateway(env);
    let client: ClientSocket | undefined;
    try {
      await until(() => gw!.cdc?.health().state === 'streaming', 30_000, 'binlog streaming');
      // A default client (reconnection on); on every connect it subscribes with the newest seq it holds.
      client = ioClient(`http://127.0.0.1:${port}`, { transports: ['websocket'], auth: { token: operatorToken() }, reconnectionDelayMax: 2000 });
      const held = new Map<string, number>();
      const meters: GatewayEvent[] = [];
      const gaps: GapNotice[] = [];
      const goodbyes: unknown[] = [];
      const reasons: string[] = [];
      let subscriptions = 0;
      client.on('connect', () => {
        const since = Object.fromEntries(held);
        client!.emit('subscribe', { all: true, ...(held.size > 0 ? { since } : {}) }, (ack: { stations: { chargeBoxId: string; seq: number }[] }) => {
          // The snapshot holds everything up to its seq, as the UI's store does.
          for (const st of ack.stations) held.set(st.chargeBoxId, Math.max(held.get(st.chargeBoxId) ?? 0, st.seq));
          subscriptions++;
        });
      });
      client.on('event', (e: GatewayEvent) => {
        held.set(e.chargeBoxId, Math.max(held.get(e.chargeBoxId) ?? 0, e.seq));
        if (e.type === 'meterValues') meters.push(e);
      });
      client.on('gap', (g: GapNotice) => gaps.push(g));
      client.on('goodbye', (g: unknown) => goodbyes.push(g));
      client.on('disconnect', (reason: string) => reasons.push(reason));
      await until(() => subscriptions === 1, 10_000, 'first subscription');
      expect(held.size).toBe(STATIONS.length);

      await gw.stop();
      gw = undefined;
      // The backlog: what SteVe commits while the gateway is down.
      const base = Date.UTC(2026, 0, 1);
      for (const [s, id] of STATIONS.entries()) {
        const values = Array.from({ length: PER_STATION }, (_, i) => ({
          timestamp: new Date(base + (s * PER_STATION + i) * 1000),
          samples: [{ value: String(1000 + i), measurand: 'Energy.Active.Import.Register', unit: 'Wh' }],
        }));
        await writer.meterValues(id, 1, null, values);
      }
      gw = await startGateway(env);
      const total = STATIONS.length * PER_STATION;
      await until(() => meters.length >= total, 90_000, `${total} meter values at the client (has ${meters.length})`);

      expect(reasons[0]).toBe('transport close');
      expect(subscriptions).toBeGreaterThanOrEqual(2);
      expect(goodbyes.filter((g) => (g as { reason: string }).reason !== 'shutdown')).toEqual([]);
      expect(gaps).toEqual([]);
      expect(gw.push.stats().disconnects.slowConsumer).toBe(0);
      expect(new Set(meters.map((e) => e.id)).size).toBe(total);
      for (const id of STATIONS) {
        const seqs = meters.filter((e) => e.chargeBoxId === id).map((e) => e.seq);
        expect(seqs).toHaveLength(PER_STATION);
        expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      }
      expect(client.connected).toBe(true);
    } finally {
      client?.close();
      await gw?.stop();
      await writer.close();
    }
  }, 180_000);
});
