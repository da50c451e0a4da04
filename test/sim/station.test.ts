// A simulated station against the SteVe double over real WebSockets: every behaviour the firmware has.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startSteveDouble, type SteveDouble } from '../support/steve-double.js';
import { callsOf, dataOf, schemaViolations, startSim, until, waitCall, type SimHarness } from './helpers.js';

const SPEED = 20;
let double: SteveDouble;
let h: SimHarness;

beforeAll(async () => {
  double = await startSteveDouble({
    knownStations: 'any',
    handlers: {
      BootNotification: (_p, id) => ({ status: 'Accepted', currentTime: new Date().toISOString(), interval: id === 'HB' ? 10 : 3600 }),
    },
  });
  h = startSim({ target: double.url, speed: SPEED });
  await h.sim.start();
});

afterAll(async () => {
  await h.sim.stop();
  await double.close();
});

async function station(id: string, spec: Record<string, unknown> = {}): Promise<void> {
  h.sim.create({ id, ...spec });
  await until(() => h.sim.get(id).booted && callsOf(h.log, id).filter((c) => c.action === 'StatusNotification').length >= 2, 5000, `${id} booted`);
}
const status = (id: string, n = 0): string | undefined => h.sim.get(id).connectors[n]?.status;
const actions = (id: string, from = 0): string[] => callsOf(h.log, id).slice(from).map((c) => c.action);
const statuses = (id: string, from = 0): string[] =>
  callsOf(h.log, id).slice(from).filter((c) => c.action === 'StatusNotification' && c.payload.connectorId === 1).map((c) => String(c.payload.status));
async function conf(id: string, action: string, payload: unknown): Promise<Record<string, unknown>> {
  const frame = await double.call(id, action, payload);
  return (frame[0] === 3 ? frame[2] : { callError: frame[2] }) as Record<string, unknown>;
}

describe('boot and status', () => {
  test('BootNotification, then StatusNotification for connector 0 and 1; GetConfiguration from the double is answered', async () => {
    await station('BOOT', { vendor: 'Rivot Motors', model: 'Rivot Charger', serialNumber: 'SN-1', firmwareVersion: '2.4.0', connectors: 2 });
    const calls = callsOf(h.log, 'BOOT');
    expect(calls[0]).toMatchObject({ action: 'BootNotification', payload: { chargePointVendor: 'Rivot Motors', chargePointModel: 'Rivot Charger', chargePointSerialNumber: 'SN-1', firmwareVersion: '2.4.0' } });
    await until(() => callsOf(h.log, 'BOOT').filter((c) => c.action === 'StatusNotification').length >= 3);
    const st = callsOf(h.log, 'BOOT').filter((c) => c.action === 'StatusNotification').map((c) => [c.payload.connectorId, c.payload.status]);
    expect(st).toEqual([[0, 'Available'], [1, 'Available'], [2, 'Available']]);
    const getConf = await double.waitFor((f) => f.chargeBoxId === 'BOOT' && f.frame[0] === 3 && Array.isArray((f.frame[2] as { configurationKey?: unknown }).configurationKey));
    const keys = (getConf.frame[2] as { configurationKey: { key: string; value: string }[] }).configurationKey;
    expect(keys.find((k) => k.key === 'MeterValuesSampledData')?.value).toBe('Energy.Active.Import.Register,Power.Active.Import,Voltage,Current.Import,Current.Offered,SoC,Temperature');
    expect(keys.find((k) => k.key === 'NumberOfConnectors')?.value).toBe('2');
  });

  test('Heartbeat every HeartbeatInterval from BootNotification.conf', async () => {
    await station('HB');
    const t0 = h.clock.now();
    await until(() => actions('HB').filter((a) => a === 'Heartbeat').length >= 2, 5000, 'two heartbeats');
    expect(h.clock.now() - t0).toBeGreaterThanOrEqual(19_000);
    expect(h.sim.get('HB').counters.framesOut).toBeGreaterThan(0);
  });
});

describe('sessions', () => {
  test('plug-in: Preparing and VehicleInfo every 5 s; tag: Authorize, StartTransaction(meterStart 0), Charging, MeterValues; stop: Stop Local, SessionSummary, Finishing; unplug: Available', async () => {
    await station('SESSION', { vehicle: { model: 'Pro', initialSoc: 44, targetSoc: 90 } });
    const from = callsOf(h.log, 'SESSION').length;
    await h.sim.act('SESSION', { type: 'plugIn' });
    await until(() => status('SESSION') === 'Preparing');
    const t0 = h.clock.now();
    await until(() => callsOf(h.log, 'SESSION').filter((c) => c.payload.messageId === 'VehicleInfo').length >= 3, 5000, 'three VehicleInfo');
    const elapsed = h.clock.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(13_000 - 500); // first after 3 s, then every 5 s
    const vi = callsOf(h.log, 'SESSION').find((c) => c.payload.messageId === 'VehicleInfo')!;
    expect(vi.payload.vendorId).toBe('RivotMotors');
    expect(dataOf(vi.payload)).toEqual({ soc: 44, maxCurrent: 60, model: 'Pro', range: 71.28 });

    await h.sim.act('SESSION', { type: 'presentTag', idTag: 'TAG-1' });
    const start = await waitCall(h.log, 'SESSION', (c) => c.action === 'StartTransaction', { from });
    expect(start.payload).toMatchObject({ connectorId: 1, idTag: 'TAG-1', meterStart: 0 });
    expect(actions('SESSION', from).indexOf('Authorize')).toBeLessThan(start.index - from);
    await until(() => status('SESSION') === 'Charging');
    const viBefore = callsOf(h.log, 'SESSION').filter((c) => c.payload.messageId === 'VehicleInfo').length;
    await until(() => callsOf(h.log, 'SESSION').filter((c) => c.action === 'MeterValues').length >= 3, 5000, 'meter values');
    const mvs = callsOf(h.log, 'SESSION').filter((c) => c.action === 'MeterValues');
    const first = (mvs[0]!.payload.meterValue as { timestamp: string; sampledValue: { measurand: string; unit: string; context: string }[] }[])[0]!;
    expect(first.sampledValue.map((s) => s.measurand)).toEqual(['Energy.Active.Import.Register', 'Power.Active.Import', 'Voltage', 'Current.Import', 'Current.Offered', 'SoC', 'Temperature']);
    expect(first.sampledValue.map((s) => s.unit)).toEqual(['Wh', 'W', 'V', 'A', 'A', 'Percent', 'Celsius']);
    expect(first.sampledValue.every((s) => s.context === 'Sample.Periodic')).toBe(true);
    const ts = mvs.map((m) => Date.parse((m.payload.meterValue as { timestamp: string }[])[0]!.timestamp));
    // A sample carries the time its wake-up ran; at 20× speed 25 ms of event-loop delay on a busy machine is 500 ms.
    expect(ts[1]! - ts[0]!).toBeGreaterThanOrEqual(4000);
    expect(ts[1]! - ts[0]!).toBeLessThanOrEqual(6000);
    expect(typeof mvs[0]!.payload.transactionId).toBe('number');
    expect(callsOf(h.log, 'SESSION').filter((c) => c.payload.messageId === 'VehicleInfo').length).toBe(viBefore);

    await h.sim.act('SESSION', { type: 'stop' });
    const stop = await waitCall(h.log, 'SESSION', (c) => c.action === 'StopTransaction');
    expect(stop.payload).toMatchObject({ reason: 'Local', idTag: 'TAG-1', transactionId: mvs[0]!.payload.transactionId });
    expect(stop.payload.meterStop).toBeGreaterThan(0);
    const summary = await waitCall(h.log, 'SESSION', (c) => c.payload.messageId === 'SessionSummary');
    expect(summary.index).toBeGreaterThan(stop.index);
    const sd = dataOf(summary.payload);
    expect(sd.finalSoc).toBeGreaterThan(44);
    expect(Math.abs(Number(sd.energyDelivered) - Number(stop.payload.meterStop))).toBeLessThanOrEqual(1);
    await until(() => status('SESSION') === 'Finishing');
    await h.sim.act('SESSION', { type: 'plugOut' });
    await until(() => statuses('SESSION').at(-1) === 'Available', 5000, 'Available reported');
    expect(statuses('SESSION', from)).toEqual(['Preparing', 'Charging', 'Finishing', 'Available']);
  });

  test('target SOC: SuspendedEV, then the EV leaves (StopTransaction EVDisconnected) and the connector is Available', async () => {
    await station('TARGET', { vehicle: { model: 'Classic', initialSoc: 79.5, targetSoc: 80, departAfterTargetS: 5 } });
    await h.sim.act('TARGET', { type: 'start' });
    const stop = await waitCall(h.log, 'TARGET', (c) => c.action === 'StopTransaction', { timeoutMs: 15_000 });
    expect(stop.payload.reason).toBe('EVDisconnected');
    await until(() => statuses('TARGET').at(-1) === 'Available', 5000, 'Available after the stop is answered');
    expect(statuses('TARGET')).toEqual(['Available', 'Preparing', 'Charging', 'SuspendedEV', 'Available']);
    const soc = callsOf(h.log, 'TARGET').filter((c) => c.action === 'MeterValues').map((c) => (c.payload.meterValue as { sampledValue: { measurand: string; value: string }[] }[])[0]!.sampledValue.find((s) => s.measurand === 'SoC')!.value);
    expect(Number(soc.at(-1))).toBeGreaterThanOrEqual(80);
  });

  test('BMS alert: permission withdrawn stops the session (EmergencyStop) and BMSAlert edges are reported', async () => {
    await station('BMS');
    await h.sim.act('BMS', { type: 'start' });
    await until(() => status('BMS') === 'Charging');
    await waitCall(h.log, 'BMS', (c) => c.action === 'StartTransaction');
    await until(() => h.sim.get('BMS').connectors[0]?.transactionId !== undefined);
    await h.sim.act('BMS', { type: 'bmsAlert', alertType: 'BMS_CHARGING_DISABLED' });
    const alert = await waitCall(h.log, 'BMS', (c) => c.payload.messageId === 'BMSAlert');
    expect(dataOf(alert.payload)).toMatchObject({ alertType: 'BMS_CHARGING_DISABLED', message: 'BMS not ready for charging', timestamp: expect.any(Number) });
    const stop = await waitCall(h.log, 'BMS', (c) => c.action === 'StopTransaction');
    expect(stop.payload.reason).toBe('EmergencyStop');
    const r = await h.sim.act('BMS', { type: 'bmsAlert' });
    expect(r.ok).toBe(true);
    const enabled = await waitCall(h.log, 'BMS', (c) => c.payload.messageId === 'BMSAlert', { from: alert.index + 1 });
    expect(dataOf(enabled.payload).alertType).toBe('BMS_CHARGING_ENABLED');
  });

  test('fault: Faulted with the error code, the session stops (Other); clearing returns to Finishing/Preparing', async () => {
    await station('FAULT');
    await h.sim.act('FAULT', { type: 'start' });
    await until(() => status('FAULT') === 'Charging');
    await h.sim.act('FAULT', { type: 'fault', errorCode: 'HighTemperature', info: 'module hot' });
    const f = await waitCall(h.log, 'FAULT', (c) => c.action === 'StatusNotification' && c.payload.status === 'Faulted');
    expect(f.payload).toMatchObject({ errorCode: 'HighTemperature', info: 'module hot', connectorId: 1 });
    expect((await waitCall(h.log, 'FAULT', (c) => c.action === 'StopTransaction')).payload.reason).toBe('Other');
    await h.sim.act('FAULT', { type: 'clearFault' });
    await until(() => statuses('FAULT').at(-1) === 'Finishing');
  });
});

describe('answers to the central system', () => {
  test('RemoteStartTransaction before the plug waits (Preparing), starts on plug-in; RemoteStopTransaction stops with Remote', async () => {
    await station('REMOTE');
    expect(await conf('REMOTE', 'RemoteStartTransaction', { idTag: 'APP-1', connectorId: 1 })).toEqual({ status: 'Accepted' });
    await until(() => status('REMOTE') === 'Preparing');
    expect(actions('REMOTE')).not.toContain('StartTransaction');
    await h.sim.act('REMOTE', { type: 'plugIn' });
    const start = await waitCall(h.log, 'REMOTE', (c) => c.action === 'StartTransaction');
    expect(start.payload.idTag).toBe('APP-1');
    expect(actions('REMOTE')).not.toContain('Authorize'); // AuthorizeRemoteTxRequests=false
    expect(await conf('REMOTE', 'RemoteStartTransaction', { idTag: 'APP-2', connectorId: 1 })).toEqual({ status: 'Rejected' });
    await until(() => h.sim.get('REMOTE').connectors[0]?.transactionId !== undefined);
    const txId = h.sim.get('REMOTE').connectors[0]!.transactionId!;
    expect(await conf('REMOTE', 'RemoteStopTransaction', { transactionId: txId + 1000 })).toEqual({ status: 'Rejected' });
    expect(await conf('REMOTE', 'RemoteStopTransaction', { transactionId: txId })).toEqual({ status: 'Accepted' });
    const stop = await waitCall(h.log, 'REMOTE', (c) => c.action === 'StopTransaction');
    expect(stop.payload).toMatchObject({ reason: 'Remote', transactionId: txId });
  });

  test('Reset Hard during a session: StopTransaction HardReset, link dropped, a new BootNotification and statuses', async () => {
    await station('RESET');
    await h.sim.act('RESET', { type: 'start' });
    await until(() => h.sim.get('RESET').connectors[0]?.transactionId !== undefined);
    const before = h.sim.get('RESET').counters.connects;
    expect(await conf('RESET', 'Reset', { type: 'Hard' })).toEqual({ status: 'Accepted' });
    await until(() => h.sim.get('RESET').counters.boots === 2, 10_000, 'second boot');
    expect(h.sim.get('RESET').counters.connects).toBe(before + 1);
    const all = callsOf(h.log, 'RESET');
    const boots = all.map((c, i) => (c.action === 'BootNotification' ? i : -1)).filter((i) => i >= 0);
    expect(boots.length).toBe(2);
    const stop = all.findIndex((c) => c.action === 'StopTransaction');
    expect(all[stop]!.payload.reason).toBe('HardReset');
    await until(() => callsOf(h.log, 'RESET').slice(boots[1]! + 1).filter((c) => c.action === 'StatusNotification').length >= 2);
    const after = callsOf(h.log, 'RESET').slice(boots[1]! + 1).filter((c) => c.action === 'StatusNotification').map((c) => c.payload.connectorId);
    expect(after.slice(0, 2)).toEqual([0, 1]);
    // The EV is still plugged in after the reboot: Preparing (MicroOcpp re-derives status from the inputs).
    await until(() => status('RESET') === 'Preparing');
    // Message ids of the new boot do not repeat the old ones.
    const ids = callsOf(h.log, 'RESET').map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  test('Reset Soft without a session reboots too', async () => {
    await station('SOFT');
    expect(await conf('SOFT', 'Reset', { type: 'Soft' })).toEqual({ status: 'Accepted' });
    await until(() => h.sim.get('SOFT').counters.boots === 2, 10_000, 'second boot');
  });

  test('ChangeConfiguration / GetConfiguration round trip over the key store, and the new interval is used', async () => {
    await station('CONF');
    expect(await conf('CONF', 'ChangeConfiguration', { key: 'MeterValueSampleInterval', value: '10' })).toEqual({ status: 'Accepted' });
    expect(await conf('CONF', 'ChangeConfiguration', { key: 'MeterValuesSampledData', value: 'Energy.Active.Import.Register,SoC' })).toEqual({ status: 'Accepted' });
    expect(await conf('CONF', 'ChangeConfiguration', { key: 'NumberOfConnectors', value: '3' })).toEqual({ status: 'Rejected' });
    expect(await conf('CONF', 'ChangeConfiguration', { key: 'HeartbeatInterval', value: 'soon' })).toEqual({ status: 'Rejected' });
    expect(await conf('CONF', 'ChangeConfiguration', { key: 'MeterValuesSampledData', value: 'Frequency' })).toEqual({ status: 'Rejected' });
    expect(await conf('CONF', 'ChangeConfiguration', { key: 'NoSuchKey', value: '1' })).toEqual({ status: 'NotSupported' });
    const got = await conf('CONF', 'GetConfiguration', { key: ['MeterValueSampleInterval', 'MeterValuesSampledData', 'NoSuchKey'] });
    expect(got).toEqual({
      configurationKey: [
        { key: 'MeterValueSampleInterval', readonly: false, value: '10' },
        { key: 'MeterValuesSampledData', readonly: false, value: 'Energy.Active.Import.Register,SoC' },
      ],
      unknownKey: ['NoSuchKey'],
    });
    await h.sim.act('CONF', { type: 'start' });
    await until(() => actions('CONF').filter((a) => a === 'MeterValues').length >= 2, 8000);
    const mvs = callsOf(h.log, 'CONF').filter((c) => c.action === 'MeterValues');
    const mv = mvs.map((m) => (m.payload.meterValue as { timestamp: string; sampledValue: { measurand: string }[] }[])[0]!);
    expect(mv[0]!.sampledValue.map((s) => s.measurand)).toEqual(['Energy.Active.Import.Register', 'SoC']);
    expect(Date.parse(mv[1]!.timestamp) - Date.parse(mv[0]!.timestamp)).toBeGreaterThanOrEqual(9000); // 10 s, not the default 5 s
  });

  test('TriggerMessage: Heartbeat, StatusNotification, MeterValues, BootNotification; unknown connector is Rejected', async () => {
    await station('TRIG');
    const from = callsOf(h.log, 'TRIG').length;
    expect(await conf('TRIG', 'TriggerMessage', { requestedMessage: 'Heartbeat' })).toEqual({ status: 'Accepted' });
    await waitCall(h.log, 'TRIG', (c) => c.action === 'Heartbeat', { from });
    expect(await conf('TRIG', 'TriggerMessage', { requestedMessage: 'StatusNotification', connectorId: 1 })).toEqual({ status: 'Accepted' });
    await waitCall(h.log, 'TRIG', (c) => c.action === 'StatusNotification' && c.payload.connectorId === 1, { from });
    expect(await conf('TRIG', 'TriggerMessage', { requestedMessage: 'MeterValues', connectorId: 1 })).toEqual({ status: 'Accepted' });
    const mv = await waitCall(h.log, 'TRIG', (c) => c.action === 'MeterValues', { from });
    expect((mv.payload.meterValue as { sampledValue: { context: string }[] }[])[0]!.sampledValue[0]!.context).toBe('Trigger');
    expect(await conf('TRIG', 'TriggerMessage', { requestedMessage: 'BootNotification' })).toEqual({ status: 'Accepted' });
    await waitCall(h.log, 'TRIG', (c) => c.action === 'BootNotification', { from });
    expect(await conf('TRIG', 'TriggerMessage', { requestedMessage: 'StatusNotification', connectorId: 7 })).toEqual({ status: 'Rejected' });
  });

  test('ChangeAvailability: Unavailable at once when idle, Scheduled during a session, Operative again', async () => {
    await station('AVAIL');
    expect(await conf('AVAIL', 'ChangeAvailability', { connectorId: 1, type: 'Inoperative' })).toEqual({ status: 'Accepted' });
    await until(() => statuses('AVAIL').at(-1) === 'Unavailable');
    expect((await h.sim.act('AVAIL', { type: 'start' })).ok).toBe(false);
    expect(await conf('AVAIL', 'ChangeAvailability', { connectorId: 1, type: 'Operative' })).toEqual({ status: 'Accepted' });
    await until(() => statuses('AVAIL').at(-1) === 'Preparing' || statuses('AVAIL').at(-1) === 'Available');
    await h.sim.act('AVAIL', { type: 'plugOut' });
    await h.sim.act('AVAIL', { type: 'start' });
    await until(() => status('AVAIL') === 'Charging');
    expect(await conf('AVAIL', 'ChangeAvailability', { connectorId: 0, type: 'Inoperative' })).toEqual({ status: 'Scheduled' });
    await h.sim.act('AVAIL', { type: 'stop' });
    await until(() => statuses('AVAIL').at(-1) === 'Unavailable');
    await until(() => callsOf(h.log, 'AVAIL').some((c) => c.action === 'StatusNotification' && c.payload.connectorId === 0 && c.payload.status === 'Unavailable'));
    expect(await conf('AVAIL', 'ChangeAvailability', { connectorId: 0, type: 'Operative' })).toEqual({ status: 'Accepted' });
    await until(() => statuses('AVAIL').at(-1) === 'Finishing');
  });

  test('UnlockConnector stops the session (UnlockCommand); connector 0 is NotSupported', async () => {
    await station('UNLOCK');
    await h.sim.act('UNLOCK', { type: 'start' });
    await until(() => status('UNLOCK') === 'Charging');
    expect(await conf('UNLOCK', 'UnlockConnector', { connectorId: 0 })).toEqual({ status: 'NotSupported' });
    expect(await conf('UNLOCK', 'UnlockConnector', { connectorId: 1 })).toEqual({ status: 'Unlocked' });
    expect((await waitCall(h.log, 'UNLOCK', (c) => c.action === 'StopTransaction')).payload.reason).toBe('UnlockCommand');
  });

  test('ClearCache, DataTransfer, an unsupported action and an invalid payload', async () => {
    await station('MISC');
    expect(await conf('MISC', 'ClearCache', {})).toEqual({ status: 'Accepted' });
    expect(await conf('MISC', 'DataTransfer', { vendorId: 'Other', messageId: 'x' })).toEqual({ status: 'Rejected' });
    // Firmware updates are the flashCharge firmware's own OTA, not MicroOcpp's FirmwareManagement.
    const update = await double.call('MISC', 'UpdateFirmware', { location: 'http://example.invalid/fw.bin', retrieveDate: new Date().toISOString() });
    expect(update.slice(0, 3)).toEqual([4, update[1], 'NotSupported']);
    const bad = await double.call('MISC', 'ChangeConfiguration', { key: 'HeartbeatInterval' });
    expect(bad.slice(0, 3)).toEqual([4, bad[1], 'OccurenceConstraintViolation']);
    const unknown = await double.call('MISC', 'FlyToTheMoon', {});
    expect(unknown.slice(0, 3)).toEqual([4, unknown[1], 'NotImplemented']);
  });
});

test('every frame the stations produced in this file validates against the OCPP 1.6 schemas', () => {
  expect(h.log.filter((r) => r.dir === 'out').length).toBeGreaterThan(100);
  expect(schemaViolations(h.log)).toEqual([]);
});
