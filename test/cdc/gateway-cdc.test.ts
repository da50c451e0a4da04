// The binlog reader inside the gateway: SteVe's rows become sequenced events next to the wire, by the source rule.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayEvent } from '../../src/events/catalogue.js';
import { startGateway } from '../support/gateway.js';
import { createSteveDatabase, startMariadb, type PrivateMariadb } from '../support/mariadb.js';
import { connectStation } from '../support/station-client.js';
import { startSteveDouble, type SteveDouble } from '../support/steve-double.js';
import { SteveWriter } from './steve-writes.js';

let db: PrivateMariadb;
let steve: SteveDouble;
let url: string;

beforeAll(async () => {
  db = await startMariadb();
  url = await createSteveDatabase(db, { database: 'stevedb', generation: '3.13', dataTransfer: true });
  steve = await startSteveDouble({ getConfigurationOnConnect: false });
}, 120_000);

afterAll(async () => {
  await steve?.close();
  await db?.stop();
});

async function until<T>(fn: () => T | undefined, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('gateway with STEVE_DB_URL', () => {
  it('takes status and transactions from SteVe, vendor data from the wire, in one sequence per station', async () => {
    const writer = await SteveWriter.open(db, 'stevedb', '3.13');
    await writer.addStation('CP-DB');
    await writer.addTag('TAG1');
    const gw = await startGateway({ STEVE_WS_URL: steve.url, STEVE_DB_URL: url, CDC_SERVER_ID: '5101' });
    try {
      const seen: GatewayEvent[] = [];
      gw.bus.on('event', (e) => seen.push(e));
      const st = await connectStation(gw.wsUrl('CP-DB'));
      // On the wire: a status (SteVe's row will own it) and flashCharge's VehicleInfo (only the wire has it).
      await st.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Preparing' });
      await st.call('DataTransfer', { vendorId: 'RivotMotors', messageId: 'VehicleInfo', data: '{"soc":41,"maxCurrent":30}' });
      // What SteVe writes for that StatusNotification, and a transaction start.
      await writer.statusNotification('CP-DB', 1, 'Preparing', 'NoError', { timestamp: new Date() });
      const txId = await writer.startTransaction('CP-DB', 1, 'TAG1', 1000, new Date());

      const started = await until(() => seen.find((e) => e.type === 'transactionStarted'));
      expect(started).toMatchObject({ source: 'steve', transactionId: txId, chargeBoxId: 'CP-DB', connectorId: 1 });
      await until(() => seen.find((e) => e.type === 'preChargeData'));
      const statuses = seen.filter((e) => e.type === 'status');
      expect(statuses.length).toBeGreaterThan(0);
      expect(statuses.every((e) => e.source === 'steve')).toBe(true);
      expect(seen.find((e) => e.type === 'preChargeData')).toMatchObject({ source: 'station', data: { soc: 41, model: 'Classic' } });
      const mine = seen.filter((e) => e.chargeBoxId === 'CP-DB').map((e) => e.seq);
      expect(mine).toEqual([...mine].sort((a, b) => a - b));
      expect(new Set(mine).size).toBe(mine.length);

      const health = await gw.getJson<{ binlog: { state: string } }>("/api/health");
      expect(health.binlog.state).toBe('streaming');
      st.close();
    } finally {
      await writer.close();
      await gw.stop();
    }
  });

  it('refuses to start when the server has no binlog, and says how to fix it', async () => {
    const plain = await startMariadb({ binlog: false });
    try {
      const plainUrl = await createSteveDatabase(plain, { database: 'stevedb', generation: '3.13' });
      await expect(startGateway({ STEVE_DB_URL: plainUrl, CDC_SERVER_ID: '5102' })).rejects.toMatchObject({
        code: 'GW_ERR_CONFIG',
        message: expect.stringMatching(/log-bin|log_bin/),
      });
    } finally {
      await plain.stop();
    }
  });
});
