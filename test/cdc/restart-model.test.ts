// A gateway restart in the middle of a transaction, events from SteVe's binlog (private mariadbd, rows written
// the way SteVe writes them, whole seconds as SteVe 3.7 stores them): after the restart the reader resumes from
// its checkpoint and the event model from its journal, and the stop still knows connector, energy and start.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventInput, GatewayEvent } from '../../src/events/catalogue.js';
import { startModel, type Harness } from '../events/helpers.js';
import { createSteveDatabase, startMariadb, type PrivateMariadb } from '../support/mariadb.js';
import { makeReader, tempDir, type ReaderRig } from './harness.js';
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

const at = (s: number): string => new Date(Date.parse('2026-03-01T10:00:00Z') + s * 1000).toISOString();

describe.each<Generation>(['3.12', '3.13'])('SteVe %s schema: restart mid-transaction', (generation) => {
  it('the transaction opened before the restart is known after it', async () => {
    const db = `steve_restart_${generation.replace('.', '_')}`;
    const url = await createSteveDatabase(server, { database: db, generation });
    const w = await SteveWriter.open(server, db, generation);
    const CB = 'RESTART';
    await w.addStation(CB);
    await w.addTag('TAG');
    const dataDir = await tempDir();

    const up = async (): Promise<{ rig: ReaderRig; h: Harness }> => {
      const rig = makeReader(url, dataDir);
      const h = await startModel({ dataDir, binlogConfigured: true, bus: rig.bus, historyPerStation: 10 });
      await rig.reader.start();
      return { rig, h };
    };
    let { rig, h } = await up();
    try {
      await until(() => (rig.reader.health().state === 'streaming' ? true : undefined));
      await w.statusNotification(CB, 2, 'Preparing', 'NoError', { timestamp: at(0) });
      const tx = await w.startTransaction(CB, 2, 'TAG', 100, at(0));
      await w.statusNotification(CB, 2, 'Charging', 'NoError', { timestamp: at(0) });
      for (let i = 1; i <= 12; i++) await w.meterValues(CB, 2, tx, [{ timestamp: at(i * 10), samples: [{ value: String(100 + i * 10), unit: 'Wh' }, { value: '500', measurand: 'Power.Active.Import', unit: 'W' }] }]);
      await until(() => (h.model.state.summary(CB)?.energy === 120 ? true : undefined));
      await rig.reader.stop();
      await h.model.stop();

      ({ rig, h } = await up());
      await until(() => (rig.reader.health().state === 'streaming' ? true : undefined));
      expect(h.model.history.recent(CB).some((e) => e.type === 'transactionStarted')).toBe(false);
      expect(h.model.state.snapshot(CB)?.openTransactions).toEqual([
        expect.objectContaining({ transactionId: tx, connectorId: 2, idTag: 'TAG', meterStart: 100, startTime: at(0), energyWh: 120 }),
      ]);
      expect(h.model.state.summary(CB)).toMatchObject({ connectorId: 2, status: 'Charging', transactionId: tx, energy: 120, power: 500 });

      await w.stopTransaction(CB, tx, 900, at(200), 'Local', [{ timestamp: at(200), samples: [{ value: '900', unit: 'Wh', context: 'Transaction.End' }, { value: '450', measurand: 'Power.Active.Import', unit: 'W', context: 'Transaction.End' }] }]);
      await w.statusNotification(CB, 2, 'Finishing', 'NoError', { timestamp: at(200) });
      const fin = await until(() => h.model.history.recent(CB).find((e) => e.type === 'status' && (e as GatewayEvent<'status'>).data.status === 'Finishing'));
      expect(fin.connectorId).toBe(2);
      const stopped = h.model.history.recent(CB).find((e): e is GatewayEvent<'transactionStopped'> => e.type === 'transactionStopped');
      expect(stopped).toMatchObject({ connectorId: 2, transactionId: tx, data: { meterStop: 900, energyWh: 800, idTag: 'TAG' } });
      const end = h.model.history.recent(CB).filter((e): e is GatewayEvent<'meterValues'> => e.type === 'meterValues').at(-1);
      expect(end).toMatchObject({ connectorId: 2, transactionId: tx, timestamp: at(200) });
      expect(h.model.state.snapshot(CB)?.recentTransactions).toEqual([
        expect.objectContaining({ transactionId: tx, connectorId: 2, startTime: at(0), energyWh: 800, open: false, finalValues: { power: 450 } }),
      ]);
      expect(h.model.state.summary(CB)).toMatchObject({ connectorId: 2, status: 'Finishing', transactionId: null, energy: null, power: null });
      // Both schema generations and whole seconds: SteVe's own Available after the stop is the only synthetic row.
      const statuses = (rig.events.filter((e) => e.type === 'status') as EventInput<'status'>[]).map((e) => [e.data.status, e.data.synthetic]);
      expect(statuses).toEqual([['Available', true], ['Finishing', false]]);
    } finally {
      await rig.reader.stop();
      await h.model.stop();
      await w.close();
    }
  });
});
