// Station state from sequenced events (through the real Bus and sequencer): status order, one SOC stream,
// transactions, the flashCharge summary, resync.
import { afterEach, describe, expect, it } from 'vitest';
import type { EventInput } from '../../src/events/catalogue.js';
import { type Harness, startModel, steveInput } from './helpers.js';

const running: Harness[] = [];
afterEach(async () => {
  for (const h of running.splice(0)) await h.model.stop();
});
async function model(binlogConfigured = false): Promise<Harness> {
  const h = await startModel({ binlogConfigured });
  running.push(h);
  return h;
}

let n = 0;
const at = (s: number): string => new Date(Date.parse('2026-03-01T10:00:00Z') + s * 1000).toISOString();
function input(over: Partial<EventInput> & Pick<EventInput, 'type' | 'data'>): EventInput {
  return steveInput({ id: `i${++n}`, source: 'station', ...over } as Parameters<typeof steveInput>[0]);
}
const status = (s: string, t: number, connectorId = 1) => input({ type: 'status', connectorId, timestamp: at(t), data: { status: s, errorCode: 'NoError', synthetic: false } });
const meter = (t: number, values: Record<string, [string, string?]>, transactionId?: number) =>
  input({
    type: 'meterValues', connectorId: 1, timestamp: at(t), ...(transactionId !== undefined ? { transactionId } : {}),
    data: { sampledValues: Object.entries(values).map(([measurand, [value, unit]]) => ({ measurand, value, ...(unit ? { unit } : {}) })) },
  });
const pre = (t: number, data: Record<string, number | string>) =>
  input({ type: 'preChargeData', timestamp: at(t), data: { messageId: 'VehicleInfo', vendorId: 'RivotMotors', ...data } });

describe('station state', () => {
  it('keeps the newest status per connector; late older reports do not regress it', async () => {
    const h = await model();
    h.bus.emit('eventInput', status('Charging', 20));
    h.bus.emit('eventInput', status('Preparing', 10)); // arrives late
    h.bus.emit('eventInput', status('Available', 5, 0));
    expect(h.model.state.snapshot('CP1')?.connectors.map((c) => [c.connectorId, c.status])).toEqual([[0, 'Available'], [1, 'Charging']]);
    h.bus.emit('eventInput', status('Finishing', 30));
    expect(h.model.state.snapshot('CP1')?.connectors[1]?.status).toBe('Finishing');
  });

  it('merges SOC from PreChargeData and MeterValues into one vehicle, tagged with the source', async () => {
    const h = await model();
    h.bus.emit('eventInput', pre(0, { soc: 40, maxCurrent: 35, model: 'Pro', batteryAh: 60, maxRange: 162, range: 64.8, voltage: 75.7 }));
    let v = h.model.state.snapshot('CP1')?.vehicle;
    expect(v).toMatchObject({ soc: 40, model: 'Pro', range: 64.8, maxRange: 162, source: 'preChargeData', socSource: 'preChargeData' });
    h.bus.emit('eventInput', meter(10, { SoC: ['45', 'Percent'], Voltage: ['76.1', 'V'], 'Current.Import': ['12', 'A'] }));
    v = h.model.state.snapshot('CP1')?.vehicle;
    // Model stays; range follows the new SOC: 45 % of 60 Ah × 2.7 km/Ah.
    expect(v).toMatchObject({ soc: 45, model: 'Pro', range: 72.9, maxRange: 162, voltage: 76.1, current: 12, source: 'meterValues', socSource: 'meterValues', updatedAt: at(10) });
    // An older PreChargeData arriving late changes nothing.
    h.bus.emit('eventInput', pre(5, { soc: 41 }));
    expect(h.model.state.snapshot('CP1')?.vehicle?.soc).toBe(45);
    expect(h.model.state.snapshot('CP1')?.vehicle?.ageMs).toBeGreaterThan(0);
    // Meter values alone: Current.Offered gives the model when nothing else did.
    h.bus.emit('eventInput', { ...meter(1, { SoC: ['50'], 'Current.Offered': ['80', 'A'] }), chargeBoxId: 'CP9' } as EventInput);
    expect(h.model.state.snapshot('CP9')?.vehicle).toMatchObject({ soc: 50, maxCurrent: 80, model: 'Max', batteryAh: 90, range: 121.5, maxRange: 243 });
  });

  it('tracks a transaction: live energy, SOC gained, stop reason; summary shows the SOC screen', async () => {
    const h = await model();
    h.bus.emit('eventInput', status('Preparing', 0));
    h.bus.emit('eventInput', pre(1, { soc: 30, maxCurrent: 20 }));
    h.bus.emit('eventInput', input({ type: 'transactionStarted', connectorId: 1, transactionId: 12, timestamp: at(2), data: { idTag: 'TAG', meterStart: 1000, startTime: at(2) } }));
    h.bus.emit('eventInput', status('Charging', 3));
    h.bus.emit('eventInput', meter(10, { 'Energy.Active.Import.Register': ['1.25', 'kWh'], 'Power.Active.Import': ['0.9', 'kW'], SoC: ['33'], Voltage: ['75'], 'Current.Import': ['12'], Temperature: ['31', 'Celsius'] }, 12));

    const connector = {
      connectorId: 1, status: 'Charging', soc: 33, model: 'Classic', range: 26.73, maxRange: 81,
      voltage: 75, current: 12, power: 900, energy: 250, temperature: 31, transactionId: 12,
    };
    expect(h.model.state.summary('CP1')).toEqual({ chargeBoxId: 'CP1', ...connector, connectorReason: 'transaction', online: true, connectors: [connector], seq: 5 });
    const open = h.model.state.snapshot('CP1')?.openTransactions;
    expect(open).toEqual([expect.objectContaining({ transactionId: 12, idTag: 'TAG', open: true, energyWh: 250, socStart: 30, socEnd: 33, socGained: 3 })]);

    h.bus.emit('eventInput', input({ type: 'transactionStopped', connectorId: 1, transactionId: 12, timestamp: at(60), data: { meterStop: 1400, stopTime: at(60), reason: 'EVDisconnected', actor: 'station' } }));
    h.bus.emit('eventInput', input({ type: 'sessionSummary', timestamp: at(61), data: { finalSoc: 36.5, energyDelivered: 400, durationMinutes: 1 } }));
    const [tx] = h.model.state.transactions({ chargeBoxId: 'CP1' });
    expect(tx).toMatchObject({ transactionId: 12, open: false, energyWh: 400, stopReason: 'EVDisconnected', stopTime: at(60), socEnd: 36.5, socGained: 6.5 });
    expect(h.model.state.transactions({ since: at(100) }).length).toBe(0);
    expect(h.model.state.transactions({ since: at(30) }).length).toBe(1);
    // Unplugged with nothing running: the vehicle is forgotten.
    h.bus.emit('eventInput', status('Available', 70));
    expect(h.model.state.snapshot('CP1')?.vehicle).toBeUndefined();
    // The session's figures stay with its transaction, not on the screen.
    expect(h.model.state.summary('CP1')).toMatchObject({ status: 'Available', soc: null, energy: null, power: null, transactionId: null });
  });

  it('replaces what it knew on a resync from SteVe', async () => {
    const h = await model(true);
    h.bus.emit('eventInput', input({ type: 'transactionStarted', source: 'steve', connectorId: 1, transactionId: 1, timestamp: at(0), data: { idTag: 'A', meterStart: 0, startTime: at(0) } }));
    h.bus.emit('eventInput', { ...status('Charging', 1), source: 'steve' } as EventInput);
    expect(h.model.state.snapshot('CP1')?.openTransactions.map((t) => t.transactionId)).toEqual([1]);
    h.bus.emit('eventInput', input({
      type: 'resync', source: 'steve', timestamp: at(100),
      data: {
        reason: 'no-checkpoint',
        connectors: [{ connectorId: 1, status: 'Charging', errorCode: 'NoError', timestamp: at(90) }],
        openTransactions: [{ transactionId: 2, connectorId: 1, idTag: 'B', meterStart: 50, startTime: at(80) }],
        lastMeterValues: [{ connectorId: 1, transactionId: 2, timestamp: at(95), sampledValues: [{ measurand: 'Energy.Active.Import.Register', value: '150', unit: 'Wh' }] }],
      },
    }));
    const snap = h.model.state.snapshot('CP1');
    expect(snap?.openTransactions.map((t) => [t.transactionId, t.energyWh])).toEqual([[2, 100]]);
    expect(snap?.connectors[0]).toMatchObject({ status: 'Charging', timestamp: at(90) });
  });

  it('tells listeners after the state reflects the event', async () => {
    const h = await model();
    const seen: (string | null | undefined)[] = [];
    h.model.state.onChange((id) => seen.push(h.model.state.summary(id)?.status));
    h.bus.emit('eventInput', status('Faulted', 1));
    expect(seen).toEqual(['Faulted']);
  });
});
