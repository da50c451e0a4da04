// Each OCPP message written into SteVe's tables the way SteVe writes it becomes the expected typed event,
// in both schema generations (connector/connector_pk ≤ 3.12, evse/evse_pk ≥ 3.13).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

describe.each<Generation>(['3.12', '3.13'])('SteVe %s schema', (generation) => {
  const db = `steve_${generation.replace('.', '_')}`;
  const CB = 'CB-ÄÖ-1';
  let w: SteveWriter;
  let rig: ReaderRig;

  beforeAll(async () => {
    const url = await createSteveDatabase(server, { database: db, generation, dataTransfer: true });
    w = await SteveWriter.open(server, db, generation);
    await w.addStation(CB);
    await w.addStation('CB-EMPTY');
    await w.statusNotification(CB, 1, 'Available', 'NoError', { timestamp: '2026-03-01T10:00:00.000Z' });
    rig = makeReader(url, await tempDir());
    await rig.reader.start();
  });
  afterAll(async () => {
    await rig?.reader.stop();
    await w?.close();
  });

  it('starts with a snapshot: one resync per station, then streams', async () => {
    await rig.waitFor((ev) => ev.filter((e) => e.type === 'resync').length === 2);
    const resync = rig.ofType('resync');
    const mine = resync.find((e) => e.chargeBoxId === CB)!;
    expect(mine.data.reason).toBe('no-checkpoint');
    expect(mine.data.connectors).toEqual([{ connectorId: 1, status: 'Available', errorCode: 'NoError', timestamp: '2026-03-01T10:00:00.000Z' }]);
    expect(resync.find((e) => e.chargeBoxId === 'CB-EMPTY')!.data.connectors).toEqual([]);
    await rig.waitFor(() => rig.reader.health().state === 'streaming');
  });

  it('BootNotification → bootNotification with the boot columns only; a reboot with the same details too', async () => {
    const at = new Date('2026-03-01T10:01:00.123Z');
    await w.connected(CB);
    await w.bootNotification(CB, { vendor: 'Rivot Motors', model: 'Rivot "Charger" <A>', serial: 'S-1', firmware: '1.2.3', meterType: 'DC' }, at);
    await rig.waitFor(() => rig.ofType('bootNotification').length === 1);
    const boot = rig.ofType('bootNotification')[0]!;
    expect(boot).toMatchObject({ chargeBoxId: CB, source: 'steve', timestamp: '2026-03-01T10:01:00.123Z' });
    expect(boot.data).toEqual({
      chargePointVendor: 'Rivot Motors',
      chargePointModel: 'Rivot "Charger" <A>',
      chargePointSerialNumber: 'S-1',
      firmwareVersion: '1.2.3',
      meterType: 'DC',
    });
    expect(JSON.stringify(rig.events)).not.toContain('$2a$10$');
    await w.bootNotification(CB, { vendor: 'Rivot Motors', model: 'Rivot "Charger" <A>', serial: 'S-1', firmware: '1.2.3', meterType: 'DC' }, new Date('2026-03-01T10:02:00Z'));
    await rig.waitFor(() => rig.ofType('bootNotification').length === 2);
    expect(rig.ofType('heartbeat')).toHaveLength(0);
  });

  it('Heartbeat → heartbeat; the ocpp_protocol update on connect is no event', async () => {
    const before = rig.events.length;
    await w.connected(CB);
    await w.heartbeat(CB, new Date('2026-03-01T10:03:00Z'));
    await rig.waitFor(() => rig.ofType('heartbeat').length === 1);
    const hb = rig.ofType('heartbeat')[0]!;
    expect(hb).toMatchObject({ chargeBoxId: CB, timestamp: '2026-03-01T10:03:00.000Z', data: {} });
    expect(rig.events.length).toBe(before + 1);
  });

  it('StatusNotification → status with decoded utf8mb3 strings; a new connector is learnt from the same transaction', async () => {
    await w.statusNotification(CB, 2, 'Faulted', 'GroundFailure', {
      timestamp: '2026-03-01T10:04:00.500Z',
      info: 'Straße Müller <kaputt> & "so"',
      vendorId: 'Rivot',
      vendorErrorCode: 'E-42',
    });
    await w.statusNotification(CB, 0, 'Available');
    await rig.waitFor(() => rig.ofType('status').length === 2);
    const [faulted, zero] = rig.ofType('status');
    expect(faulted).toMatchObject({
      chargeBoxId: CB,
      connectorId: 2,
      timestamp: '2026-03-01T10:04:00.500Z',
      data: { status: 'Faulted', errorCode: 'GroundFailure', info: 'Straße Müller <kaputt> & "so"', vendorId: 'Rivot', vendorErrorCode: 'E-42', synthetic: false },
    });
    expect(zero).toMatchObject({ connectorId: 0, data: { status: 'Available', synthetic: false } });
  });

  let txId = 0;
  it('StartTransaction → transactionStarted (transactionId = transaction_pk) and a synthetic Charging status', async () => {
    await w.statusNotification(CB, 1, 'Preparing', 'NoError', { timestamp: '2026-03-01T10:05:00Z' });
    txId = await w.startTransaction(CB, 1, 'TAG-1', 1200, '2026-03-01T10:05:01.250Z');
    await rig.waitFor(() => rig.ofType('status').some((e) => e.data.status === 'Charging'));
    const started = rig.ofType('transactionStarted');
    expect(started).toHaveLength(1);
    expect(started[0]).toMatchObject({
      chargeBoxId: CB,
      connectorId: 1,
      transactionId: txId,
      timestamp: '2026-03-01T10:05:01.250Z',
      data: { idTag: 'TAG-1', meterStart: 1200, startTime: '2026-03-01T10:05:01.250Z' },
    });
    const statuses = rig.ofType('status');
    expect(statuses.find((e) => e.data.status === 'Preparing')!.data.synthetic).toBe(false);
    expect(statuses.find((e) => e.data.status === 'Charging')!).toMatchObject({ connectorId: 1, data: { synthetic: true, errorCode: 'NoError' } });
  });

  it('MeterValues → one meterValues per (connector, transaction, timestamp) with the default measurand filled in', async () => {
    await w.meterValues(CB, 1, txId, [
      {
        timestamp: '2026-03-01T10:06:00Z',
        samples: [
          { value: '1500', unit: 'Wh', context: 'Sample.Periodic' },
          { value: '44.5', measurand: 'SoC', unit: 'Percent', location: 'EV' },
          { value: '12.3', measurand: 'Current.Import', unit: 'A', phase: 'L1' },
        ],
      },
      { timestamp: '2026-03-01T10:06:10Z', samples: [{ value: '1600', measurand: 'Energy.Active.Import.Register', unit: 'Wh' }] },
    ]);
    await rig.waitFor(() => rig.ofType('meterValues').length === 2);
    const [a, b] = rig.ofType('meterValues');
    expect(a).toMatchObject({ chargeBoxId: CB, connectorId: 1, transactionId: txId, timestamp: '2026-03-01T10:06:00.000Z' });
    expect(a!.data.sampledValues).toEqual([
      { value: '1500', measurand: 'Energy.Active.Import.Register', unit: 'Wh', context: 'Sample.Periodic' },
      { value: '44.5', measurand: 'SoC', unit: 'Percent', location: 'EV' },
      { value: '12.3', measurand: 'Current.Import', unit: 'A', phase: 'L1' },
    ]);
    expect(b!.data.sampledValues).toHaveLength(1);
    expect(a!.id).not.toBe(b!.id);
  });

  it('StopTransaction that SteVe rejects → transactionStopFailed with its reason', async () => {
    await w.stopTransactionFailed(CB, txId, 900, '2026-03-01T10:07:00Z', 'Local', 'meterStop (900) is less than meterStart (1200)');
    await rig.waitFor(() => rig.ofType('transactionStopFailed').length === 1);
    expect(rig.ofType('transactionStopFailed')[0]).toMatchObject({
      chargeBoxId: CB,
      connectorId: 1,
      transactionId: txId,
      data: { reason: 'meterStop (900) is less than meterStart (1200)', meterStop: 900, stopTime: '2026-03-01T10:07:00.000Z', stopReason: 'Local' },
    });
  });

  it('StopTransaction → transactionStopped with energy, synthetic Available, then the transactionData meter values', async () => {
    await w.stopTransaction(CB, txId, 5400, '2026-03-01T10:08:00.000Z', 'EVDisconnected', [
      { timestamp: '2026-03-01T10:08:00Z', samples: [{ value: '5400', unit: 'Wh', context: 'Transaction.End' }] },
    ]);
    await rig.waitFor(() => rig.ofType('meterValues').length === 3);
    expect(rig.ofType('transactionStopped')).toEqual([
      expect.objectContaining({
        chargeBoxId: CB,
        connectorId: 1,
        transactionId: txId,
        timestamp: '2026-03-01T10:08:00.000Z',
        data: { meterStop: 5400, stopTime: '2026-03-01T10:08:00.000Z', reason: 'EVDisconnected', actor: 'station', idTag: 'TAG-1', energyWh: 4200 },
      }),
    ]);
    expect(rig.ofType('status').at(-1)).toMatchObject({ data: { status: 'Available', synthetic: true } });
    expect(rig.ofType('meterValues').at(-1)!.data.sampledValues[0]).toMatchObject({ value: '5400', context: 'Transaction.End' });
  });

  it('Firmware and diagnostics status notifications', async () => {
    await w.firmwareStatus(CB, 'Downloading');
    await w.firmwareStatus(CB, 'Installed');
    await w.diagnosticsStatus(CB, 'Uploaded');
    await rig.waitFor(() => rig.ofType('firmwareStatus').length === 2 && rig.ofType('diagnosticsStatus').length === 1);
    expect(rig.ofType('firmwareStatus').map((e) => e.data.status)).toEqual(['Downloading', 'Installed']);
    expect(rig.ofType('diagnosticsStatus')[0]).toMatchObject({ chargeBoxId: CB, data: { status: 'Uploaded' } });
  });

  it('flashCharge data_transfer rows → dataTransfer with HTML entities decoded before JSON parsing', async () => {
    await w.dataTransfer(CB, 'RivotMotors', 'PreChargeData', JSON.stringify({ soc: 44.07, maxCurrent: 60, model: "Pro 'X'" }));
    await w.dataTransfer(CB, 'RivotMotors', 'VehicleInfo', '{"soc": 50, "range": 81}');
    await w.dataTransfer(CB, 'Other', null, 'plain <text>');
    await rig.waitFor(() => rig.ofType('dataTransfer').length === 3);
    const [pre, info, plain] = rig.ofType('dataTransfer');
    expect(pre).toMatchObject({ chargeBoxId: CB, data: { vendorId: 'RivotMotors', messageId: 'PreChargeData', data: { soc: 44.07, maxCurrent: 60, model: "Pro 'X'" } } });
    expect(info!.data).toEqual({ vendorId: 'RivotMotors', messageId: 'VehicleInfo', data: { soc: 50, range: 81 } });
    expect(plain!.data).toEqual({ vendorId: 'Other', data: 'plain <text>' });
  });

  it('out-of-order status timestamps: the newest status_timestamp stays current', async () => {
    await w.statusNotification(CB, 3, 'Charging', 'NoError', { timestamp: '2026-03-01T12:00:00Z' });
    await w.statusNotification(CB, 3, 'Preparing', 'NoError', { timestamp: '2026-03-01T11:00:00Z' });
    await rig.waitFor(() => rig.ofType('status').filter((e) => e.connectorId === 3).length === 2);
    expect(rig.reader.currentStatus(CB).get(3)).toEqual({ status: 'Charging', errorCode: 'NoError', timestamp: '2026-03-01T12:00:00.000Z' });
  });

  it('meter rows of one transaction apart or out of order: one meterValues per (connector, transaction, timestamp), in order of its first row', async () => {
    const t10 = '2026-03-01T13:00:10.000Z';
    const t00 = '2026-03-01T13:00:00.000Z';
    await w.tx(async () => {
      const four = await w.insertIgnoreConnector(CB, 4);
      const five = await w.insertIgnoreConnector(CB, 5);
      await w.insertMeterRows(four, null, [
        { timestamp: t10, samples: [{ value: '1' }] },
        { timestamp: t00, samples: [{ value: '2' }] },
        { timestamp: t10, samples: [{ value: '3' }] },
      ]);
      await w.insertMeterRows(five, null, [{ timestamp: t10, samples: [{ value: '4' }] }]);
      await w.insertMeterRows(four, null, [{ timestamp: t00, samples: [{ value: '5' }] }]);
    });
    const mine = (): { connectorId: number | undefined; timestamp: string; values: string[] }[] =>
      rig
        .ofType('meterValues')
        .filter((e) => e.connectorId === 4 || e.connectorId === 5)
        .map((e) => ({ connectorId: e.connectorId, timestamp: e.timestamp, values: e.data.sampledValues.map((v) => v.value) }));
    await rig.waitFor(() => mine().length >= 3);
    expect(mine()).toEqual([
      { connectorId: 4, timestamp: t10, values: ['1', '3'] },
      { connectorId: 4, timestamp: t00, values: ['2', '5'] },
      { connectorId: 5, timestamp: t10, values: ['4'] },
    ]);
  });

  it('every event is from steve, with a unique id built from binlog coordinates; metrics count them', async () => {
    const ids = rig.events.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const e of rig.events) {
      expect(e.source).toBe('steve');
      expect(e.id).toMatch(/^steve:(snapshot:)?\d+-\d+-\d+:/);
    }
    const metrics = await rig.registry.metrics();
    expect(metrics).toMatch(/chargebridge_cdc_events_total\{type="status"\} \d+/);
    expect(metrics).toMatch(/chargebridge_cdc_state\{state="streaming"\} 1/);
    expect(rig.reader.health().position.gtid).toMatch(/^0-1-\d+$/);
  });
});
