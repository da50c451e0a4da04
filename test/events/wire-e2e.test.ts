// End to end over real sockets: a station → gateway (relay, message log, event model) → SteVe stand-in.
// The events come from the frames the relay really forwarded and the answers SteVe really gave.
import { afterEach, describe, expect, it } from 'vitest';
import type { GatewayEvent } from '../../src/events/catalogue.js';
import { startGateway } from '../support/gateway.js';
import { until } from '../support/until.js';
import { connectStation } from '../support/station-client.js';
import { startSteveDouble } from '../support/steve-double.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('wire → events through the real gateway', () => {
  it('a flashCharge session becomes ordered events with SteVe’s transactionId, and survives a gateway restart', async () => {
    const steve = await startSteveDouble({ getConfigurationOnConnect: false, handlers: { DataTransfer: () => ({ status: 'Accepted' }) } });
    cleanups.push(() => steve.close());
    let gw = await startGateway({ STEVE_WS_URL: steve.url });
    const dataDir = gw.dataDir;
    cleanups.push(() => gw.stop());
    const st = await connectStation(gw.wsUrl('RIVOT_100A_01'));

    await st.call('BootNotification', { chargePointVendor: 'Rivot Motors', chargePointModel: 'Rivot Charger' });
    await st.call('StatusNotification', { connectorId: 1, status: 'Preparing', errorCode: 'NoError', timestamp: new Date().toISOString() });
    // HTML-encoded data as some setups deliver it.
    await st.call('DataTransfer', { vendorId: 'RivotMotors', messageId: 'VehicleInfo', data: '{&quot;soc&quot;:42,&quot;maxCurrent&quot;:2,&quot;model&quot;:&quot;Classic&quot;}' });
    const started = await st.call('StartTransaction', { connectorId: 1, idTag: 'TEST_TAG', meterStart: 0, timestamp: new Date().toISOString() });
    const transactionId = (started[2] as { transactionId: number }).transactionId;
    await st.call('MeterValues', { connectorId: 1, transactionId, meterValue: [{ timestamp: new Date().toISOString(), sampledValue: [{ value: '150', unit: 'Wh' }, { value: '44', measurand: 'SoC', unit: 'Percent' }] }] });
    await st.call('StopTransaction', { transactionId, meterStop: 300, timestamp: new Date().toISOString(), reason: 'Local' });

    const id = 'RIVOT_100A_01';
    const events = await until(() => {
      const all = gw.events.history.recent(id);
      return all.some((e) => e.type === 'transactionStopped') ? [...all] : undefined;
    });
    expect(events.map((e) => e.type)).toEqual([
      'stationConnected', 'bootNotification', 'status', 'preChargeData', 'transactionStarted', 'meterValues', 'transactionStopped',
    ]);
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    const byType = <T extends GatewayEvent['type']>(t: T) => events.find((e) => e.type === t) as GatewayEvent<T>;
    expect(byType('stationConnected').data).toMatchObject({ linkKind: 'ws', upstream: 'steve' });
    expect(byType('bootNotification').data.registrationStatus).toBe('Accepted');
    expect(byType('preChargeData').data).toMatchObject({ soc: 42, model: 'Classic', batteryAh: 30, maxRange: 81, range: 34.02 });
    expect(byType('transactionStarted').transactionId).toBe(transactionId);
    expect(byType('transactionStopped').data).toMatchObject({ energyWh: 300, reason: 'Local' });

    const snap = gw.events.state.snapshot(id);
    expect(snap).toMatchObject({ online: true, linkKind: 'ws', vehicle: { soc: 44, socSource: 'meterValues', model: 'Classic' } });
    expect(snap?.recentTransactions[0]).toMatchObject({ transactionId, energyWh: 300, socStart: 42, socEnd: 44, socGained: 2 });

    // Restart the gateway on the same data dir: replay and seq continue.
    st.close();
    await until(() => (gw.events.history.recent(id).some((e) => e.type === 'stationDisconnected') ? true : undefined));
    await gw.stop();
    cleanups.pop();
    gw = await startGateway({ STEVE_WS_URL: steve.url, DATA_DIR: dataDir });
    cleanups.push(() => gw.stop());
    expect(gw.events.history.since(id, 5).map((e) => e.type)).toEqual(['meterValues', 'transactionStopped', 'stationDisconnected']);
    expect(gw.events.state.snapshot(id)?.online).toBe(false);
    const st2 = await connectStation(gw.wsUrl(id));
    cleanups.push(() => st2.close());
    await st2.call('Heartbeat', {});
    const hb = await until(() => gw.events.history.recent(id).find((e) => e.type === 'heartbeat'));
    expect(hb.seq).toBe(10); // 8 was the disconnect, 9 the new connect
  });
});
