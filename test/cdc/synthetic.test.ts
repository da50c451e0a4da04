// Which connector_status rows are SteVe's own (the Charging/Available it writes after Start/StopTransaction when
// charge_box.insert_connector_status_after_transaction_msg is set) and which are the station's StatusNotifications,
// when both carry the same timestamp: SteVe 3.7 on MariaDB keeps whole seconds, and a simulator sends Charging
// with exactly the StartTransaction time. Both schema generations; with MariaDB's statement annotations and
// without them (MySQL, or binlog_annotate_row_events=OFF).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventInput } from '../../src/events/catalogue.js';
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

type Row = [status: string, synthetic: boolean];

const statusesOf = (rig: ReaderRig, cb: string): Row[] =>
  rig.events.filter((e): e is EventInput<'status'> => e.type === 'status' && e.chargeBoxId === cb).map((e) => [e.data.status, e.data.synthetic]);

describe.each<[Generation, 'annotated' | 'no statement text']>([
  ['3.12', 'annotated'],
  ['3.13', 'annotated'],
  ['3.12', 'no statement text'],
  ['3.13', 'no statement text'],
])('SteVe %s schema, %s', (generation, mode) => {
  const db = `steve_syn_${generation.replace('.', '_')}_${mode === 'annotated' ? 'a' : 'n'}`;
  let w: SteveWriter;
  let rig: ReaderRig;

  beforeAll(async () => {
    const url = await createSteveDatabase(server, { database: db, generation });
    w = await SteveWriter.open(server, db, generation);
    if (mode !== 'annotated') await w.q('SET SESSION binlog_annotate_row_events = OFF');
    for (const cb of ['SEC', 'MICRO', 'NOFLAG', 'MANUAL']) await w.addStation(cb, { syntheticStatus: cb !== 'NOFLAG' });
    await w.addTag('TAG');
    rig = makeReader(url, await tempDir());
    await rig.reader.start();
    await rig.waitFor(() => rig.reader.health().state === 'streaming', 20_000);
  });
  afterAll(async () => {
    await rig?.reader.stop();
    await w?.close();
  });

  /** A MicroOcpp session: Preparing, StartTransaction, its Charging at the start time, stop, Finishing and Available at the stop time. */
  async function session(cb: string, start: string, stop: string): Promise<void> {
    await w.statusNotification(cb, 1, 'Preparing', 'NoError', { timestamp: start });
    const tx = await w.startTransaction(cb, 1, 'TAG', 100, start);
    await w.statusNotification(cb, 1, 'Charging', 'NoError', { timestamp: start });
    await w.meterValues(cb, 1, tx, [{ timestamp: start, samples: [{ value: '100' }] }]);
    await w.stopTransaction(cb, tx, 900, stop, 'Local', [{ timestamp: stop, samples: [{ value: '900', context: 'Transaction.End' }] }]);
    await w.statusNotification(cb, 1, 'Finishing', 'NoError', { timestamp: stop });
    await w.statusNotification(cb, 1, 'Available', 'NoError', { timestamp: stop });
  }

  it('whole seconds (SteVe 3.7): only SteVe’s own Charging/Available rows are synthetic', async () => {
    await session('SEC', '2026-03-01T10:05:01Z', '2026-03-01T10:09:00Z');
    await rig.waitFor(() => statusesOf(rig, 'SEC').length === 6);
    expect(statusesOf(rig, 'SEC')).toEqual<Row[]>([
      ['Preparing', false], ['Charging', true], ['Charging', false], ['Available', true], ['Finishing', false], ['Available', false],
    ]);
  });

  it('milliseconds: the station’s Charging with exactly the StartTransaction time is not synthetic', async () => {
    await session('MICRO', '2026-03-01T10:05:01.250Z', '2026-03-01T10:09:00.750Z');
    await rig.waitFor(() => statusesOf(rig, 'MICRO').length === 6);
    expect(statusesOf(rig, 'MICRO')).toEqual<Row[]>([
      ['Preparing', false], ['Charging', true], ['Charging', false], ['Available', true], ['Finishing', false], ['Available', false],
    ]);
  });

  it('a station whose synthetic rows are switched off: none of its rows is synthetic', async () => {
    await session('NOFLAG', '2026-03-01T11:00:00Z', '2026-03-01T11:30:00Z');
    await rig.waitFor(() => statusesOf(rig, 'NOFLAG').length === 4);
    expect(statusesOf(rig, 'NOFLAG')).toEqual<Row[]>([['Preparing', false], ['Charging', false], ['Finishing', false], ['Available', false]]);
  });

  it('a manual stop in SteVe’s UI writes a synthetic Available', async () => {
    await w.statusNotification('MANUAL', 1, 'Charging', 'NoError', { timestamp: '2026-03-01T12:00:00Z' });
    const tx = await w.startTransaction('MANUAL', 1, 'TAG', 0, '2026-03-01T12:00:00Z');
    await w.stopTransaction('MANUAL', tx, 50, '2026-03-01T12:10:00Z', null, [], 'manual');
    await w.statusNotification('MANUAL', 1, 'Available', 'NoError', { timestamp: '2026-03-01T12:10:00Z' });
    await rig.waitFor(() => statusesOf(rig, 'MANUAL').length === 4);
    expect(statusesOf(rig, 'MANUAL')).toEqual<Row[]>([['Charging', false], ['Charging', true], ['Available', true], ['Available', false]]);
  });
});

describe.each<Generation>(['3.12', '3.13'])('SteVe %s schema, first-start snapshot with whole seconds', (generation) => {
  it('several rows share the newest second: the current status is the one written last', async () => {
    const db = `steve_syn_snap_${generation.replace('.', '_')}`;
    const url = await createSteveDatabase(server, { database: db, generation });
    const w = await SteveWriter.open(server, db, generation);
    try {
      await w.addStation('TIE');
      await w.addTag('TAG');
      // Plugged and started within one second; stopped, and Finishing, within the next one.
      await w.statusNotification('TIE', 1, 'Preparing', 'NoError', { timestamp: '2026-03-01T10:00:00Z' });
      const tx = await w.startTransaction('TIE', 1, 'TAG', 0, '2026-03-01T10:00:00Z');
      await w.statusNotification('TIE', 1, 'Charging', 'NoError', { timestamp: '2026-03-01T10:00:00Z' });
      await w.stopTransaction('TIE', tx, 10, '2026-03-01T10:30:00Z', 'Local');
      await w.statusNotification('TIE', 1, 'Finishing', 'NoError', { timestamp: '2026-03-01T10:30:00Z' });
      // A second connector whose last second holds Preparing, then SteVe's Charging, then the station's.
      await w.statusNotification('TIE', 2, 'Preparing', 'NoError', { timestamp: '2026-03-01T11:00:00Z' });
      await w.startTransaction('TIE', 2, 'TAG', 0, '2026-03-01T11:00:00Z');
      const rig = makeReader(url, await tempDir());
      try {
        await rig.reader.start();
        await rig.waitFor((ev) => ev.some((e) => e.type === 'resync' && e.chargeBoxId === 'TIE'), 20_000);
        const resync = rig.events.find((e): e is EventInput<'resync'> => e.type === 'resync' && e.chargeBoxId === 'TIE')!;
        expect(resync.data.connectors.map((c) => [c.connectorId, c.status])).toEqual([[1, 'Finishing'], [2, 'Charging']]);
        expect(rig.reader.currentStatus('TIE').get(1)?.status).toBe('Finishing');
      } finally {
        await rig.reader.stop();
      }
    } finally {
      await w.close();
    }
  });
});
