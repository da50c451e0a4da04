// A station's link events (connected, disconnected) take their place among the events of its frames: a frame the
// station sent just before it closed is an event before its stationDisconnected, not after it.
import { afterEach, describe, expect, it } from 'vitest';
import { startGateway } from '../support/gateway.js';
import { until } from '../support/until.js';
import { connectStation } from '../support/station-client.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('link events in order with the frames around them', () => {
  it('statuses sent right before the close come before stationDisconnected, on every round', async () => {
    const gw = await startGateway({});
    cleanups.push(() => gw.stop());
    for (let round = 0; round < 5; round++) {
      const id = `ORDER_${round}`;
      const st = await connectStation(gw.wsUrl(id));
      await st.call('BootNotification', { chargePointVendor: 'V', chargePointModel: 'M' });
      // Several frames and the close in one turn: they reach the gateway together.
      for (let i = 0; i < 100; i++) {
        st.sendRaw(JSON.stringify([2, `s-${i}`, 'StatusNotification', { connectorId: 1, status: i === 99 ? 'Finishing' : 'Charging', errorCode: 'NoError', info: `${i}` }]));
      }
      st.close();
      const events = await until(() => {
        const all = gw.events.history.recent(id);
        return all.some((e) => e.type === 'stationDisconnected') ? all : undefined;
      });
      const types = events.map((e) => (e.type === 'status' ? `status:${(e.data as { info: string }).info}` : e.type));
      expect(types).toEqual(['stationConnected', 'bootNotification', ...Array.from({ length: 100 }, (_, i) => `status:${i}`), 'stationDisconnected']);
      expect(gw.events.state.snapshot(id)?.online).toBe(false);
    }
  });

  it('a second connection replacing the first: the first one\'s last statuses come before the second\'s stationConnected', async () => {
    const gw = await startGateway({});
    cleanups.push(() => gw.stop());
    const id = 'ORDER_REPLACED';
    const first = await connectStation(gw.wsUrl(id));
    cleanups.push(() => first.close());
    await first.call('BootNotification', { chargePointVendor: 'V', chargePointModel: 'M' });
    for (let i = 0; i < 20; i++) first.sendRaw(JSON.stringify([2, `s-${i}`, 'StatusNotification', { connectorId: 1, status: 'Available', errorCode: 'NoError', info: `first-${i}` }]));
    const second = await connectStation(gw.wsUrl(id));
    cleanups.push(() => second.close());
    await second.call('StatusNotification', { connectorId: 1, status: 'Charging', errorCode: 'NoError', info: 'second' });
    const events = await until(() => {
      const all = gw.events.history.recent(id);
      return all.some((e) => e.type === 'status' && (e.data as { info?: string }).info === 'second') ? all : undefined;
    });
    const connects = events.flatMap((e, i) => (e.type === 'stationConnected' ? [i] : []));
    expect(connects).toHaveLength(2);
    // Whatever of the first connection's statuses became events did so before the second connection's connect.
    const firstStatuses = events.flatMap((e, i) => (e.type === 'status' && String((e.data as { info?: string }).info).startsWith('first-') ? [i] : []));
    expect(firstStatuses.every((i) => i < connects[1]!)).toBe(true);
    expect(gw.events.state.snapshot(id)?.connectors.find((c) => c.connectorId === 1)?.status).toBe('Charging');
  });
});
