// Station state per connector (issue #13 items 2–4, 12): two-connector stations keep their figures apart, each
// connector's current transaction is the latest started on it (older ones go stale, as after a reboot), figures
// do not outlive their session, and SteVe's whole-second timestamps order things by arrival when they tie.
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
// Whole seconds, as SteVe 3.7 on MariaDB stores them.
const at = (s: number): string => new Date(Date.parse('2026-03-01T10:00:00Z') + s * 1000).toISOString();
function input(over: Partial<EventInput> & Pick<EventInput, 'type' | 'data'>): EventInput {
  return steveInput({ id: `c${++n}`, source: 'station', ...over } as Parameters<typeof steveInput>[0]);
}
const status = (s: string, t: number, connectorId = 1): EventInput =>
  input({ type: 'status', connectorId, timestamp: at(t), data: { status: s, errorCode: 'NoError', synthetic: false } });
const meter = (t: number, connectorId: number, transactionId: number | undefined, values: Record<string, string>, context?: string): EventInput =>
  input({
    type: 'meterValues', connectorId, timestamp: at(t), ...(transactionId !== undefined ? { transactionId } : {}),
    data: { sampledValues: Object.entries(values).map(([measurand, value]) => ({ measurand, value, ...(context ? { context } : {}) })) },
  });
const pre = (t: number, data: Record<string, number | string>): EventInput =>
  input({ type: 'preChargeData', timestamp: at(t), data: { messageId: 'PreChargeData', vendorId: 'RivotMotors', ...data } });
const start = (t: number, connectorId: number, transactionId: number, meterStart = 0): EventInput =>
  input({ type: 'transactionStarted', connectorId, transactionId, timestamp: at(t), data: { idTag: 'TAG', meterStart, startTime: at(t) } });
const stop = (t: number, transactionId: number, meterStop: number, connectorId?: number): EventInput =>
  input({
    type: 'transactionStopped', transactionId, timestamp: at(t), ...(connectorId !== undefined ? { connectorId } : {}),
    data: { meterStop, stopTime: at(t), reason: 'Local', actor: 'station' },
  });

describe('two-connector station', () => {
  it('keeps vehicle, meter and transaction of each connector apart; the station view says which one it shows', async () => {
    const h = await model();
    const send = (e: EventInput): void => h.bus.emit('eventInput', e);
    send(status('Preparing', 0, 1));
    send(pre(1, { soc: 20, maxCurrent: 30, model: 'Classic' }));
    send(start(2, 1, 101, 1000));
    send(status('Charging', 2, 1));
    send(status('Preparing', 3, 2));
    send(pre(4, { soc: 70, maxCurrent: 100, model: 'Max' }));
    send(start(5, 2, 102, 5000));
    send(status('Charging', 5, 2));
    send(meter(10, 1, 101, { SoC: '21', 'Current.Import': '30', Voltage: '60', 'Power.Active.Import': '1800', 'Energy.Active.Import.Register': '1100' }));
    send(meter(11, 2, 102, { SoC: '70.6', 'Current.Import': '100', Voltage: '80', 'Power.Active.Import': '8000', 'Energy.Active.Import.Register': '5500' }));
    send(meter(12, 1, 101, { SoC: '21.5', 'Current.Import': '30', Voltage: '60', 'Power.Active.Import': '1800', 'Energy.Active.Import.Register': '1200' }));

    const s = h.model.state.summary('CP1')!;
    expect(s.connectors.map((c) => [c.connectorId, c.model, c.soc, c.current, c.power, c.energy, c.transactionId, c.status])).toEqual([
      [1, 'Classic', 21.5, 30, 1800, 200, 101, 'Charging'],
      [2, 'Max', 70.6, 100, 8000, 500, 102, 'Charging'],
    ]);
    // Both charge: the station view stays on the latest started one, not on whichever sampled last.
    expect(s).toMatchObject({ connectorId: 2, connectorReason: 'transaction', model: 'Max', soc: 70.6, current: 100, transactionId: 102 });
    expect(h.model.state.summary('CP1', 1)).toMatchObject({ connectorId: 1, connectorReason: 'requested', model: 'Classic', soc: 21.5, current: 30, transactionId: 101 });

    const snap = h.model.state.snapshot('CP1')!;
    expect(snap.vehicles.map((v) => [v.connectorId, v.model, v.soc])).toEqual([[1, 'Classic', 21.5], [2, 'Max', 70.6]]);
    expect(snap.vehicle).toMatchObject({ model: 'Max', soc: 70.6 });
    expect(snap.openTransactions.map((t) => [t.transactionId, t.connectorId, t.socStart, t.socEnd])).toEqual([[101, 1, 20, 21.5], [102, 2, 70, 70.6]]);

    // Connector 2 finishes: the station view moves to the one still charging.
    send(stop(20, 102, 6000, 2));
    send(status('Finishing', 20, 2));
    expect(h.model.state.summary('CP1')).toMatchObject({ connectorId: 1, connectorReason: 'transaction', model: 'Classic', transactionId: 101 });
  });
});

describe('current transaction per connector', () => {
  it('is the latest started; an older one left open goes stale and a late stop still closes it', async () => {
    const h = await model();
    const send = (e: EventInput): void => h.bus.emit('eventInput', e);
    send(start(0, 1, 201, 100)); // its StopTransaction was lost
    send(start(100, 1, 202, 900));
    send(status('Charging', 100));
    send(meter(110, 1, 202, { 'Energy.Active.Import.Register': '1000' }));
    expect(h.model.state.summary('CP1')).toMatchObject({ transactionId: 202, energy: 100 });
    let snap = h.model.state.snapshot('CP1')!;
    expect(snap.openTransactions.map((t) => t.transactionId)).toEqual([202]);
    expect(snap.recentTransactions).toEqual([expect.objectContaining({ transactionId: 201, open: false, stale: true })]);

    send(stop(120, 201, 800, 1)); // the lost stop turns up after all
    snap = h.model.state.snapshot('CP1')!;
    expect(snap.openTransactions.map((t) => t.transactionId)).toEqual([202]);
    expect(snap.recentTransactions.find((t) => t.transactionId === 201)).toMatchObject({ open: false, stopTime: at(120), energyWh: 700 });
    expect(snap.recentTransactions.find((t) => t.transactionId === 201)?.stale).toBeUndefined();
    expect(h.model.state.summary('CP1')).toMatchObject({ transactionId: 202 });
  });

  it('an older start arriving late (offline queue) does not displace the current one', async () => {
    const h = await model();
    h.bus.emit('eventInput', start(100, 1, 302));
    h.bus.emit('eventInput', start(50, 1, 301));
    expect(h.model.state.summary('CP1')?.transactionId).toBe(302);
    expect(h.model.state.snapshot('CP1')?.openTransactions.map((t) => t.transactionId)).toEqual([302]);
  });

  it('two starts in the same whole second: the later one (higher id) is current', async () => {
    const h = await model();
    h.bus.emit('eventInput', start(7, 1, 402));
    h.bus.emit('eventInput', start(7, 1, 401));
    expect(h.model.state.summary('CP1')?.transactionId).toBe(402);
  });

  it('a reboot (BootNotification) leaves no transaction open', async () => {
    const h = await model();
    h.bus.emit('eventInput', start(0, 1, 501));
    h.bus.emit('eventInput', start(0, 2, 502));
    h.bus.emit('eventInput', input({ type: 'bootNotification', timestamp: at(60), data: { chargePointVendor: 'V', chargePointModel: 'M' } }));
    const snap = h.model.state.snapshot('CP1')!;
    expect(snap.openTransactions).toEqual([]);
    expect(snap.recentTransactions.map((t) => [t.transactionId, t.stale])).toEqual([[501, true], [502, true]]);
    expect(h.model.state.summary('CP1')?.transactionId).toBeNull();
    // Meter values of a stale transaction that is still the latest on its connector: it runs after all.
    h.bus.emit('eventInput', meter(70, 1, 501, { 'Energy.Active.Import.Register': '10' }));
    expect(h.model.state.snapshot('CP1')?.openTransactions.map((t) => t.transactionId)).toEqual([501]);
  });
});

describe('figures belong to their session', () => {
  it('after the stop no live power, current, voltage or energy; the final figures stay with the transaction', async () => {
    const h = await model();
    const send = (e: EventInput): void => h.bus.emit('eventInput', e);
    send(status('Preparing', 0));
    send(pre(1, { soc: 30, maxCurrent: 20, voltage: 70 }));
    expect(h.model.state.summary('CP1')).toMatchObject({ voltage: 70, power: null, energy: null });
    send(start(2, 1, 12, 1000));
    send(status('Charging', 2));
    send(meter(10, 1, 12, { 'Energy.Active.Import.Register': '1250', 'Power.Active.Import': '900', Voltage: '75', 'Current.Import': '12', SoC: '33' }));
    expect(h.model.state.summary('CP1')).toMatchObject({ power: 900, voltage: 75, current: 12, energy: 250, transactionId: 12 });
    send(stop(60, 12, 1400, 1));
    // MicroOcpp's Transaction.End sample carries a non-zero power (StopTransaction.transactionData, and SteVe
    // writes it after the stop).
    send(meter(60, 1, 12, { 'Energy.Active.Import.Register': '1400', 'Power.Active.Import': '850', Voltage: '74', 'Current.Import': '11.5' }, 'Transaction.End'));
    send(status('Finishing', 60));
    expect(h.model.state.summary('CP1')).toMatchObject({ status: 'Finishing', transactionId: null, power: null, current: null, voltage: null, energy: null, soc: 33 });
    expect(h.model.state.snapshot('CP1')?.recentTransactions[0]).toMatchObject({
      transactionId: 12, energyWh: 400, finalValues: { power: 850, voltage: 74, current: 11.5 },
    });
  });

  it('a connector no longer charging shows no live power even while its transaction is open', async () => {
    const h = await model();
    h.bus.emit('eventInput', start(0, 1, 13));
    h.bus.emit('eventInput', status('Charging', 0));
    h.bus.emit('eventInput', meter(5, 1, 13, { 'Power.Active.Import': '900', 'Current.Import': '12' }));
    h.bus.emit('eventInput', status('Finishing', 6));
    expect(h.model.state.summary('CP1')).toMatchObject({ transactionId: 13, power: null, current: null });
  });
});

describe('whole-second timestamps', () => {
  it('a status and a meter sample with the same second as the previous one replace it (arrival order)', async () => {
    const h = await model(true);
    const steve = (e: EventInput): void => h.bus.emit('eventInput', { ...e, source: 'steve' } as EventInput);
    steve(status('Charging', 5));
    steve(status('Finishing', 5));
    steve(status('Available', 5));
    expect(h.model.state.snapshot('CP1')?.connectors[0]?.status).toBe('Available');
    steve(start(10, 1, 7));
    steve(meter(20, 1, 7, { 'Energy.Active.Import.Register': '5' }));
    steve(meter(20, 1, 7, { 'Energy.Active.Import.Register': '6' }));
    expect(h.model.state.summary('CP1')?.energy).toBe(6);
  });
});
