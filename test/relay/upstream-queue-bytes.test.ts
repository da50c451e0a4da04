// The frames a station sends while its upstream opens are bounded in bytes as well as in count: over
// UPSTREAM_QUEUE_BYTES the station is closed with 1013, as for the count, and the close is counted.
import { afterEach, describe, expect, it } from 'vitest';
import { startGateway } from '../support/gateway.js';
import { connectStation } from '../support/station-client.js';
import { startSteveDouble } from '../support/steve-double.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('upstream waiting queue budget', () => {
  it('closes a station with 1013 when the frames waiting for its upstream pass UPSTREAM_QUEUE_BYTES', async () => {
    const steve = await startSteveDouble({ getConfigurationOnConnect: false, upgradeDelayMs: 2000 });
    cleanups.push(() => steve.close());
    const gw = await startGateway({ STEVE_WS_URL: steve.url, UPSTREAM_QUEUE_LIMIT: '1000', UPSTREAM_QUEUE_BYTES: '65536' });
    cleanups.push(() => gw.stop());

    // Small frames within the budget wait and are delivered in order.
    const ok = await connectStation(gw.wsUrl('CP-small'));
    cleanups.push(() => ok.close());
    for (let i = 0; i < 5; i++) ok.sendRaw(JSON.stringify([2, `s${i}`, 'Heartbeat', {}]));
    await ok.waitFor((f) => f[1] === 's4', 10_000);

    const big = await connectStation(gw.wsUrl('CP-big'));
    cleanups.push(() => big.close());
    const data = 'x'.repeat(10_000);
    for (let i = 0; i < 10; i++) big.sendRaw(JSON.stringify([2, `b${i}`, 'DataTransfer', { vendorId: 'x', data }]));
    const closed = await big.closed;
    expect(closed.code).toBe(1013);
    expect(closed.reason).toMatch(/more than 65536 bytes waiting/);
    expect(gw.relay.waitingOverflows).toBe(1);
    // Nothing of the closed station's queue reached SteVe.
    expect(steve.received.filter((f) => f.chargeBoxId === 'CP-big')).toHaveLength(0);
  }, 30_000);
});
