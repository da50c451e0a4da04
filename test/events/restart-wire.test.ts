// A gateway restart in the middle of a transaction, events from the wire (embedded central system, and SteVe's
// stand-in): the stop that comes after the restart still knows its connector and energy, its transactionData
// meter values their connector, and the state its start, even when the start has left the kept history.
import { afterEach, describe, expect, it } from 'vitest';
import type { GatewayEvent } from '../../src/events/catalogue.js';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { connectStation } from '../support/station-client.js';
import { startSteveDouble } from '../support/steve-double.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function until<T>(fn: () => T | undefined, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const at = (s: number): string => new Date(Date.parse('2026-03-01T10:00:00Z') + s * 1000).toISOString();

describe.each(['embedded', 'steve'] as const)('restart mid-transaction, wire source (%s central system)', (mode) => {
  it('the transaction opened before the restart is known after it', async () => {
    let env: Record<string, string> = { EVENTS_HISTORY_PER_STATION: '10' };
    if (mode === 'steve') {
      const steve = await startSteveDouble({ getConfigurationOnConnect: false });
      cleanups.push(() => steve.close());
      env = { ...env, STEVE_WS_URL: steve.url };
    }
    const id = `RESTART_${mode}`;
    let gw: TestGateway = await startGateway(env);
    const dataDir = gw.dataDir;
    cleanups.push(() => gw.stop());
    const st = await connectStation(gw.wsUrl(id));
    await st.call('BootNotification', { chargePointVendor: 'Rivot Motors', chargePointModel: 'Rivot Charger' });
    const started = await st.call('StartTransaction', { connectorId: 2, idTag: 'TEST_TAG', meterStart: 100, timestamp: at(0) });
    const transactionId = (started[2] as { transactionId: number }).transactionId;
    expect(transactionId).toBeGreaterThan(0);
    await st.call('StatusNotification', { connectorId: 2, status: 'Charging', errorCode: 'NoError', timestamp: at(0) });
    // More meter values than the history keeps: the start leaves the retained events.
    for (let i = 1; i <= 12; i++) {
      await st.call('MeterValues', { connectorId: 2, transactionId, meterValue: [{ timestamp: at(i * 10), sampledValue: [{ value: String(100 + i * 10), unit: 'Wh' }] }] });
    }
    await until(() => (gw.events.history.recent(id).filter((e) => e.type === 'meterValues').length >= 9 ? true : undefined));
    st.close();
    await until(() => (gw.events.history.recent(id).some((e) => e.type === 'stationDisconnected') ? true : undefined));
    await gw.stop();
    cleanups.pop();

    gw = await startGateway({ ...env, DATA_DIR: dataDir });
    cleanups.push(() => gw.stop());
    expect(gw.events.history.recent(id).some((e) => e.type === 'transactionStarted')).toBe(false);
    expect(gw.events.state.snapshot(id)?.openTransactions).toEqual([
      expect.objectContaining({ transactionId, connectorId: 2, idTag: 'TEST_TAG', meterStart: 100, startTime: at(0), energyWh: 120 }),
    ]);
    expect(gw.events.state.summary(id)).toMatchObject({ connectorId: 2, transactionId, energy: 120 });

    const st2 = await connectStation(gw.wsUrl(id));
    cleanups.push(() => st2.close());
    await st2.call('StopTransaction', {
      transactionId, meterStop: 900, timestamp: at(200), reason: 'Local',
      transactionData: [{ timestamp: at(200), sampledValue: [{ value: '900', unit: 'Wh', context: 'Transaction.End' }] }],
    });
    const stopped = await until(() => gw.events.history.recent(id).find((e): e is GatewayEvent<'transactionStopped'> => e.type === 'transactionStopped'));
    expect(stopped).toMatchObject({ connectorId: 2, transactionId, data: { meterStop: 900, energyWh: 800, idTag: 'TEST_TAG' } });
    const end = gw.events.history.recent(id).filter((e) => e.type === 'meterValues').at(-1)!;
    expect(end).toMatchObject({ connectorId: 2, transactionId, timestamp: at(200) });
    expect(gw.events.state.snapshot(id)?.recentTransactions).toEqual([
      expect.objectContaining({ transactionId, connectorId: 2, startTime: at(0), energyWh: 800, open: false }),
    ]);
    expect(gw.events.state.snapshot(id)?.openTransactions).toEqual([]);
  });
});
