// The event model fed by SteVe's binlog, rows written the way SteVe 3.7 (whole seconds, connector naming) and
// 3.13+ (evse naming) write them: a two-connector station with a Classic at 20 % on connector 1 and a Max at 70 %
// on connector 2 keeps both apart, and each connector's summary shows its own vehicle, figures and transaction.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startModel } from '../events/helpers.js';
import { createSteveDatabase, startMariadb, type PrivateMariadb } from '../support/mariadb.js';
import { makeReader, tempDir } from './harness.js';
import { SteveWriter, type Generation } from './steve-writes.js';

let server: PrivateMariadb;

beforeAll(async () => {
  server = await startMariadb();
});
afterAll(async () => {
  await server?.stop();
});

async function until<T>(fn: () => T | undefined, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe.each<Generation>(['3.12', '3.13'])('SteVe %s schema, whole seconds', (generation) => {
  it('a two-connector station: per-connector vehicle, figures and transactions', async () => {
    const db = `steve_two_${generation.replace('.', '_')}`;
    const url = await createSteveDatabase(server, { database: db, generation, dataTransfer: true });
    const w = await SteveWriter.open(server, db, generation);
    const CB = 'TWO';
    await w.addStation(CB);
    await w.addTag('TAG');
    const dataDir = await tempDir();
    const rig = makeReader(url, dataDir);
    const h = await startModel({ dataDir, binlogConfigured: true, bus: rig.bus });
    try {
      await rig.reader.start();
      await until(() => (rig.reader.health().state === 'streaming' ? true : undefined));
      // Whole seconds just behind the wall clock (data_transfer.received_at is SteVe's NOW()).
      const base = Math.floor(Date.now() / 1000) * 1000 - 120_000;
      const at = (s: number): string => new Date(base + s * 1000).toISOString();

      await w.statusNotification(CB, 1, 'Preparing', 'NoError', { timestamp: at(0) });
      await w.dataTransfer(CB, 'RivotMotors', 'PreChargeData', JSON.stringify({ soc: 20, maxCurrent: 30, model: 'Classic' }));
      await until(() => (h.model.state.snapshot(CB)?.vehicles.length === 1 ? true : undefined));
      const tx1 = await w.startTransaction(CB, 1, 'TAG', 1000, at(2));
      await w.statusNotification(CB, 1, 'Charging', 'NoError', { timestamp: at(2) });
      await w.statusNotification(CB, 2, 'Preparing', 'NoError', { timestamp: at(3) });
      await w.dataTransfer(CB, 'RivotMotors', 'PreChargeData', JSON.stringify({ soc: 70, maxCurrent: 100, model: 'Max' }));
      await until(() => (h.model.state.snapshot(CB)?.vehicles.length === 2 ? true : undefined));
      const tx2 = await w.startTransaction(CB, 2, 'TAG', 5000, at(5));
      await w.statusNotification(CB, 2, 'Charging', 'NoError', { timestamp: at(5) });
      // Meter values after the pre-charge data (its time is SteVe's NOW()), with a wide margin for a slow machine.
      await w.meterValues(CB, 1, tx1, [{ timestamp: at(600), samples: [{ value: '21', measurand: 'SoC', unit: 'Percent' }, { value: '30', measurand: 'Current.Import', unit: 'A' }, { value: '1200', unit: 'Wh' }] }]);
      await w.meterValues(CB, 2, tx2, [{ timestamp: at(600), samples: [{ value: '70.6', measurand: 'SoC', unit: 'Percent' }, { value: '100', measurand: 'Current.Import', unit: 'A' }, { value: '5500', unit: 'Wh' }] }]);

      const s = await until(() => {
        const x = h.model.state.summary(CB);
        return x?.connectors.length === 2 && x.connectors.every((c) => c.current !== null) ? x : undefined;
      });
      expect(s.connectors.map((c) => [c.connectorId, c.model, c.soc, c.current, c.energy, c.transactionId, c.status])).toEqual([
        [1, 'Classic', 21, 30, 200, tx1, 'Charging'],
        [2, 'Max', 70.6, 100, 500, tx2, 'Charging'],
      ]);
      expect(s).toMatchObject({ connectorId: 2, connectorReason: 'transaction', model: 'Max', soc: 70.6, current: 100, transactionId: tx2 });
      // SteVe's own Charging rows are synthetic, the station's at the same second are not.
      const statuses = h.model.history.recent(CB).flatMap((e) => (e.type === 'status' ? [[e.connectorId, e.data.status, e.data.synthetic]] : []));
      expect(statuses).toEqual([
        [1, 'Preparing', false], [1, 'Charging', true], [1, 'Charging', false], [2, 'Preparing', false], [2, 'Charging', true], [2, 'Charging', false],
      ]);
    } finally {
      await rig.reader.stop();
      await h.model.stop();
      await w.close();
    }
  });
});
