// The event model on a real Bus with real files: wire extraction, source rule, de-duplication, seq and history
// across restarts.
import { appendFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { GatewayEvent } from '../../src/events/catalogue.js';
import { answer, callError, type Harness, startModel, stationCall, steveInput, types } from './helpers.js';

const running: Harness[] = [];
afterEach(async () => {
  for (const h of running.splice(0)) await h.model.stop();
});
async function model(opts: Parameters<typeof startModel>[0] = {}): Promise<Harness> {
  const h = await startModel(opts);
  running.push(h);
  return h;
}
async function restart(h: Harness, opts: Parameters<typeof startModel>[0] = {}): Promise<Harness> {
  await h.model.stop();
  running.splice(running.indexOf(h), 1);
  return model({ ...opts, dataDir: h.dataDir });
}

const encoded = (o: object): string => JSON.stringify(o).replaceAll('"', '&quot;');

describe('wire frames → events', () => {
  it('turns a charging session into events in order, seq +1 each, transactionId from the answer', async () => {
    const h = await model();
    const log = (e: ReturnType<typeof stationCall>) => h.bus.emit('logged', e);
    log(stationCall('CP1', 'b1', 'BootNotification', { chargePointVendor: 'Rivot Motors', chargePointModel: 'Rivot Charger', firmwareVersion: '2.4.0' }));
    log(answer('CP1', 'b1', 'BootNotification', { status: 'Accepted', currentTime: '2026-03-01T10:00:00Z', interval: 60 }));
    log(stationCall('CP1', 's1', 'StatusNotification', { connectorId: 1, status: 'Preparing', errorCode: 'NoError', timestamp: '2026-03-01T10:00:01Z' }));
    log(stationCall('CP1', 'v1', 'DataTransfer', { vendorId: 'RivotMotors', messageId: 'VehicleInfo', data: encoded({ soc: 40, maxCurrent: 35, model: 'Pro', range: 64.8 }) }));
    log(stationCall('CP1', 't1', 'StartTransaction', { connectorId: 1, idTag: 'TEST_TAG', meterStart: 0, timestamp: '2026-03-01T10:00:05Z' }));
    log(answer('CP1', 't1', 'StartTransaction', { transactionId: 77, idTagInfo: { status: 'Accepted' } }));
    log(stationCall('CP1', 'm1', 'MeterValues', {
      connectorId: 1, transactionId: 77,
      meterValue: [
        { timestamp: '2026-03-01T10:00:10Z', sampledValue: [{ value: '120' }, { value: '41', measurand: 'SoC', unit: 'Percent' }] },
        { timestamp: '2026-03-01T10:00:15Z', sampledValue: [{ value: '240', unit: 'Wh' }, { value: '42', measurand: 'SoC', unit: 'Percent' }] },
      ],
    }));
    log(stationCall('CP1', 'h1', 'Heartbeat', {}));
    log(stationCall('CP1', 'x1', 'StopTransaction', { transactionId: 77, meterStop: 500, timestamp: '2026-03-01T10:01:00Z', reason: 'Remote' }));
    log(answer('CP1', 'x1', 'StopTransaction', { idTagInfo: { status: 'Accepted' } }));
    log(stationCall('CP1', 'ss', 'DataTransfer', { vendorId: 'RivotMotors', messageId: 'SessionSummary', data: '{"finalSoc":45,"energyDelivered":500,"durationMinutes":1}' }));

    expect(types(h.events)).toEqual([
      'bootNotification', 'status', 'preChargeData', 'transactionStarted', 'meterValues', 'meterValues', 'heartbeat', 'transactionStopped', 'sessionSummary',
    ]);
    expect(h.events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(h.events.every((e) => e.source === 'station' && e.chargeBoxId === 'CP1')).toBe(true);
    const [boot, status, pre, start, mv1, mv2, , stop] = h.events as GatewayEvent[];
    expect(boot!.data).toMatchObject({ chargePointModel: 'Rivot Charger', firmwareVersion: '2.4.0', registrationStatus: 'Accepted' });
    expect(status).toMatchObject({ connectorId: 1, timestamp: '2026-03-01T10:00:01Z', data: { status: 'Preparing', synthetic: false } });
    expect(pre!.data).toMatchObject({ soc: 40, model: 'Pro', range: 64.8, maxRange: 162, messageId: 'VehicleInfo' });
    expect(start).toMatchObject({ transactionId: 77, connectorId: 1, data: { idTag: 'TEST_TAG', meterStart: 0 } });
    expect(mv1).toMatchObject({ timestamp: '2026-03-01T10:00:10Z', transactionId: 77, data: { sampledValues: [{ value: '120', measurand: 'Energy.Active.Import.Register' }, { measurand: 'SoC' }] } });
    expect(mv2!.timestamp).toBe('2026-03-01T10:00:15Z');
    expect(stop).toMatchObject({ transactionId: 77, connectorId: 1, data: { meterStop: 500, energyWh: 500, reason: 'Remote', idTag: 'TEST_TAG', actor: 'station' } });
    // Ids come from the log entry ids, so the same frame replayed gives the same ids.
    expect(new Set(h.events.map((e) => e.id)).size).toBe(h.events.length);
    expect(h.events[0]!.id).toMatch(/^log:\d+$/);

    const tx = h.model.state.transactions({ chargeBoxId: 'CP1' })[0];
    expect(tx).toMatchObject({ transactionId: 77, open: false, energyWh: 500, stopReason: 'Remote', socStart: 40, socEnd: 45, socGained: 5 });
  });

  it('reports findings, malformed vendor data, CALLERROR answers and unanswered calls', async () => {
    const h = await model();
    h.bus.emit('logged', stationCall('CP2', 'bad', 'StatusNotification', { connectorId: 1, status: 'Sleeping', errorCode: 'NoError' }));
    h.bus.emit('logged', stationCall('CP2', 'v', 'DataTransfer', { vendorId: 'RivotMotors', messageId: 'PreChargeData', data: '{&quot;soc&quot;:' }));
    h.bus.emit('logged', stationCall('CP2', 'st', 'StopTransaction', { transactionId: 5, meterStop: 10, timestamp: '2026-03-01T11:00:00Z' }));
    h.bus.emit('logged', callError('CP2', 'st', 'StopTransaction', 'InternalError', 'db down'));
    h.bus.emit('logged', stationCall('CP2', 'go', 'StartTransaction', { connectorId: 1, idTag: 'T', meterStart: 3, timestamp: '2026-03-01T11:00:01Z' }));
    h.bus.emit('loggedLink', { kind: 'callTimeout', chargeBoxId: 'CP2', leg: 'upstream', action: 'StartTransaction', messageId: 'go', at: new Date().toISOString() });

    const schema = h.events.find((e) => e.type === 'finding' && e.data.rule.startsWith('schema.'));
    expect(schema?.data).toMatchObject({ action: 'StatusNotification', messageId: 'bad' });
    expect(h.events.find((e) => e.type === 'status')?.data).toMatchObject({ status: 'Sleeping' }); // observe mode: flagged, still reported
    const vendor = h.events.find((e) => e.type === 'finding' && e.data.rule === 'vendorData');
    expect(vendor?.data).toMatchObject({ field: 'data', action: 'DataTransfer', messageId: 'v' });
    expect(h.events.some((e) => e.type === 'preChargeData')).toBe(false);
    expect(h.events.find((e) => e.type === 'transactionStopFailed')).toMatchObject({ transactionId: 5, data: { reason: 'InternalError: db down', meterStop: 10 } });
    const started = h.events.find((e) => e.type === 'transactionStarted');
    expect(started).toMatchObject({ connectorId: 1, data: { meterStart: 3 } });
    expect(started?.transactionId).toBeUndefined();
  });

  it('reports station links, with the upstream kind', async () => {
    const h = await model();
    const at = new Date().toISOString();
    h.bus.emit('loggedLink', { kind: 'connected', chargeBoxId: 'CP3', linkKind: 'serial', upstream: 'local', at });
    h.bus.emit('loggedLink', { kind: 'upstream', chargeBoxId: 'CP3', state: 'local', at });
    h.bus.emit('loggedLink', { kind: 'disconnected', chargeBoxId: 'CP3', linkKind: 'serial', code: 1006, reason: 'cable', at });
    expect(h.events.map((e) => [e.type, e.data])).toEqual([
      ['stationConnected', { linkKind: 'serial', upstream: 'local' }],
      ['stationDisconnected', { linkKind: 'serial', code: 1006, reason: 'cable' }],
    ]);
    expect(h.model.state.snapshot('CP3')).toMatchObject({ online: false, linkKind: 'serial', upstream: 'local' });
  });
});

describe('sequencing and de-duplication', () => {
  it('delivers a repeated id once, also after a restart, and seq keeps increasing', async () => {
    let h = await model();
    const input = (id: string) => steveInput({ id, type: 'heartbeat', data: {}, source: 'station' });
    h.bus.emit('eventInput', input('a'));
    h.bus.emit('eventInput', input('a'));
    h.bus.emit('eventInput', input('b'));
    h.bus.emit('eventInput', { ...input('a'), chargeBoxId: 'OTHER' }); // ids are per station
    expect(h.events.map((e) => [e.chargeBoxId, e.id, e.seq])).toEqual([['CP1', 'a', 1], ['CP1', 'b', 2], ['OTHER', 'a', 1]]);

    h = await restart(h);
    h.bus.emit('eventInput', input('b'));
    h.bus.emit('eventInput', input('c'));
    expect(h.events.map((e) => [e.id, e.seq])).toEqual([['c', 3]]);
    expect(h.model.stats().duplicates).toBe(1);
  });

  it('replays history by seq after a restart', async () => {
    let h = await model({ historyPerStation: 10 });
    for (let i = 1; i <= 25; i++) h.bus.emit('eventInput', steveInput({ id: `e${i}`, type: i % 5 === 0 ? 'status' : 'heartbeat', source: 'station', connectorId: 1, data: i % 5 === 0 ? { status: 'Available', errorCode: 'NoError', synthetic: false } : {} }));
    await new Promise((r) => setImmediate(r));
    h = await restart(h, { historyPerStation: 10 });
    expect(h.model.history.since('CP1', 20).map((e) => e.seq)).toEqual([21, 22, 23, 24, 25]);
    expect(h.model.history.since('CP1', 0).map((e) => e.seq)).toEqual([16, 17, 18, 19, 20, 21, 22, 23, 24, 25]);
    expect(h.model.history.firstSeq('CP1')).toBe(16);
    expect(h.model.history.query({ chargeBoxId: 'CP1', type: 'status', limit: 10 }).map((e) => e.id)).toEqual(['e20', 'e25']);
    // The state came back from the history too.
    expect(h.model.state.snapshot('CP1')).toMatchObject({ seq: 25, connectors: [{ connectorId: 1, status: 'Available' }] });
    expect(readdirSync(path.join(h.dataDir, 'events')).every((name) => /^journal-\d+\.jsonl$/.test(name))).toBe(true);
    h.bus.emit('eventInput', steveInput({ id: 'e26', type: 'heartbeat', source: 'station', data: {} }));
    expect(h.events.at(-1)?.seq).toBe(26);
  });

  it('survives a torn last line (crash mid-write)', async () => {
    const h = await model();
    h.bus.emit('eventInput', steveInput({ id: 'x1', type: 'heartbeat', source: 'station', data: {} }));
    await h.model.stop();
    running.splice(running.indexOf(h), 1);
    const dir = path.join(h.dataDir, 'events');
    appendFileSync(path.join(dir, readdirSync(dir).sort().at(-1)!), '{"id":"x2","seq":2,"ty');
    const h2 = await model({ dataDir: h.dataDir });
    h2.bus.emit('eventInput', steveInput({ id: 'x3', type: 'heartbeat', source: 'station', data: {} }));
    expect(h2.events.map((e) => e.seq)).toEqual([2]);
  });
});

describe('source rule', () => {
  const wireStatus = (id: string) => stationCall('CP1', id, 'StatusNotification', { connectorId: 1, status: 'Charging', errorCode: 'NoError' });
  const steveStatus = (id: string) => steveInput({ id, type: 'status', connectorId: 1, data: { status: 'Charging', errorCode: 'NoError', synthetic: false } });

  it('without the binlog: everything from the wire, SteVe events dropped', async () => {
    const h = await model({ binlogConfigured: false });
    h.bus.emit('logged', wireStatus('w1'));
    h.bus.emit('eventInput', steveStatus('row-1'));
    h.bus.emit('eventInput', steveInput({ id: 'row-2', type: 'dataTransfer', data: { vendorId: 'RivotMotors', messageId: 'VehicleInfo', data: '{&#34;soc&#34;:50}' } }));
    expect(h.events.map((e) => [e.type, e.source])).toEqual([['status', 'station']]);
    expect(h.model.stats().suppressed).toBe(2);
  });

  it('with the binlog: SteVe owns status/meter/transactions/heartbeat/boot, the wire keeps the rest', async () => {
    const h = await model({ binlogConfigured: true });
    h.bus.emit('logged', wireStatus('w1'));
    h.bus.emit('logged', stationCall('CP1', 'hb', 'Heartbeat', {}));
    h.bus.emit('logged', stationCall('CP1', 'fw', 'FirmwareStatusNotification', { status: 'Downloading' }));
    h.bus.emit('eventInput', steveStatus('row-1'));
    h.bus.emit('eventInput', steveInput({ id: 'row-2', type: 'transactionStarted', transactionId: 9, connectorId: 1, data: { idTag: 'T', meterStart: 0, startTime: new Date().toISOString() } }));
    h.bus.emit('loggedLink', { kind: 'connected', chargeBoxId: 'CP1', linkKind: 'ws', upstream: 'steve', at: new Date().toISOString() });
    h.bus.emit('loggedLink', { kind: 'upstream', chargeBoxId: 'CP1', state: 'open', at: new Date().toISOString() });
    expect(h.events.map((e) => [e.type, e.source])).toEqual([
      ['firmwareStatus', 'station'], ['status', 'steve'], ['transactionStarted', 'steve'], ['stationConnected', 'station'],
    ]);
  });

  it('with the binlog: vendor DataTransfer from the wire and the data_transfer table is delivered once', async () => {
    const h = await model({ binlogConfigured: true });
    const data = { soc: 44.07, maxCurrent: 35, voltage: 75.74, current: 0, temperature: 25.6 };
    const wire = (id: string) => stationCall('CP1', id, 'DataTransfer', { vendorId: 'RivotMotors', messageId: 'PreChargeData', data: JSON.stringify(data) });
    // SteVe stores the same string OWASP-encoded; the row's time is SteVe's NOW() (seconds).
    const row = (id: string, at: string) => steveInput({ id, type: 'dataTransfer', timestamp: at, data: { vendorId: 'RivotMotors', messageId: 'PreChargeData', data: JSON.stringify(data).replaceAll('"', '&#34;') } });
    const w1 = wire('d1');
    h.bus.emit('logged', w1);
    h.bus.emit('eventInput', row('row-1', new Date(Date.parse(w1.time) - 400).toISOString()));
    // Same content 5 s later (the firmware resends while nothing changes): a new fact, told once again.
    h.bus.emit('eventInput', row('row-2', new Date(Date.parse(w1.time) + 5000).toISOString()));
    const w2 = { ...wire('d2') };
    h.bus.emit('logged', { ...w2, time: new Date(Date.parse(w1.time) + 5100).toISOString() });
    // A station that talks to SteVe directly: only the row exists.
    h.bus.emit('eventInput', { ...row('row-3', new Date().toISOString()), chargeBoxId: 'DIRECT' });
    // A row for a malformed message: the finding twin is dropped too.
    const bad = stationCall('CP1', 'bad', 'DataTransfer', { vendorId: 'RivotMotors', messageId: 'VehicleInfo', data: '{oops' });
    h.bus.emit('logged', bad);
    h.bus.emit('eventInput', steveInput({ id: 'row-4', type: 'dataTransfer', timestamp: bad.time, data: { vendorId: 'RivotMotors', messageId: 'VehicleInfo', data: '{oops' } }));

    expect(h.events.map((e) => [e.chargeBoxId, e.type, e.source])).toEqual([
      ['CP1', 'preChargeData', 'station'],
      ['CP1', 'preChargeData', 'steve'],
      ['DIRECT', 'preChargeData', 'steve'],
      ['CP1', 'finding', 'station'],
    ]);
    expect(h.events[2]!.data).toMatchObject({ soc: 44.07, model: 'Pro', maxRange: 162 });
    expect(h.model.stats().twinsDropped).toBe(3);
  });

  it('remembers delivered vendor events across a restart, so a late binlog twin is dropped', async () => {
    let h = await model({ binlogConfigured: true });
    const w = stationCall('CP1', 'd1', 'DataTransfer', { vendorId: 'RivotMotors', messageId: 'VehicleInfo', data: '{"soc":70}' });
    h.bus.emit('logged', w);
    await new Promise((r) => setImmediate(r));
    h = await restart(h, { binlogConfigured: true });
    h.bus.emit('eventInput', steveInput({ id: 'row-late', type: 'dataTransfer', timestamp: w.time, data: { vendorId: 'RivotMotors', messageId: 'VehicleInfo', data: '{&#34;soc&#34;:70}' } }));
    expect(h.events).toEqual([]);
  });
});
